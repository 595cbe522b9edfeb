/**
 * msgpack decoding as the service does it, and the small string cache of the fast path.
 */
import { Unpackr } from 'msgpackr';

/**
 * msgpackr set up as the service decodes every payload: maps as plain objects, and 64-bit
 * integers as numbers (other languages' encoders write epoch milliseconds as uint64, which
 * msgpackr would otherwise turn into a BigInt that no JSON encoder takes).
 */
export const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

// Agencies repeat from read to read: a small cache of their strings, keyed by their bytes,
// saves making the same short string again for every read.
const INTERN_SLOTS = 512;
const INTERN_MAX = 16;
const internBytes = new Uint8Array(INTERN_SLOTS * INTERN_MAX);
const internLength = new Int8Array(INTERN_SLOTS).fill(-1);
const internStrings: string[] = new Array<string>(INTERN_SLOTS).fill('');
const latin1 = new TextDecoder('latin1');

/** The string of the `n` ASCII bytes at `s` of `u8`, from the cache when it was seen before. */
export function interned(u8: Uint8Array, s: number, n: number): string {
  if (n > INTERN_MAX) return latin1.decode(u8.subarray(s, s + n));
  let h = 0x811c9dc5 ^ n;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ u8[s + i], 0x01000193);
  const slot = (h >>> 0) & (INTERN_SLOTS - 1);
  const base = slot * INTERN_MAX;
  if (internLength[slot] === n) {
    let same = true;
    for (let i = 0; i < n; i++) {
      if (internBytes[base + i] !== u8[s + i]) {
        same = false;
        break;
      }
    }
    if (same) return internStrings[slot];
  }
  const str = latin1.decode(u8.subarray(s, s + n));
  internBytes.set(u8.subarray(s, s + n), base);
  internLength[slot] = n;
  internStrings[slot] = str;
  return str;
}
