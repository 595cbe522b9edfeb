/**
 * Small integer codes shared by the host and the core: plate characters, tiers, states.
 */
import type { AlertTier, MatchTier } from '../types.js';
import { normalizeState } from './plate.js';
import { TIER_EXACT, TIER_FUZZY, TIER_OCR, TIER_PARTIAL } from './layout.js';

/** Tier bits of an entry (layout.ts; core-wasm/assembly/snapshot.ts). */
export const TIER_BITS: Readonly<Record<MatchTier, number>> = { exact: TIER_EXACT, ocr: TIER_OCR, fuzzy: TIER_FUZZY };
export const TIER_BY_BIT: Readonly<Record<number, AlertTier>> = { [TIER_EXACT]: 'exact', [TIER_OCR]: 'ocr', [TIER_FUZZY]: 'fuzzy', [TIER_PARTIAL]: 'partial' };

/** Code of a plate character: '0'-'9' -> 1..10, 'A'-'Z' -> 11..36. */
export function charCode(ch: string): number {
  const c = ch.charCodeAt(0);
  return c <= 0x39 ? c - 0x30 + 1 : c - 0x41 + 11;
}

/** The core's class map: 64 bytes, code -> code of its class representative. */
export function classMapBytes(classes: readonly string[]): Uint8Array {
  const map = new Uint8Array(64);
  for (let c = 0; c < 64; c++) map[c] = c;
  for (const cls of classes) {
    const rep = charCode(cls[0]);
    for (const ch of cls) map[charCode(ch)] = rep;
  }
  return map;
}

/** Read state that no entry has: differs from every entry state. */
export const OTHER_STATE = 0xffff;

/**
 * State strings interned to u16 codes (0 = unknown/none). Entries define the codes; a read
 * state no entry has maps to OTHER_STATE. Raw read strings are memoized so the common case
 * costs one Map lookup.
 */
export class StateCodes {
  private readonly codes = new Map<string, number>();
  private readonly raw = new Map<string, number>();

  /** Code of an entry's state, allocating one when new. */
  intern(state: string | undefined): number {
    const s = normalizeState(state);
    if (s === '') return 0;
    let code = this.codes.get(s);
    if (code === undefined) {
      code = this.codes.size + 1;
      if (code >= OTHER_STATE) throw new RangeError('more than 65534 distinct states');
      this.codes.set(s, code);
      this.raw.clear();
      this.lastRaw = '';
    }
    return code;
  }

  // The last state looked up: most reads of a feed carry the home state.
  private lastRaw = '';
  private lastCode = 0;

  /** Code of a read's state. */
  lookup(state: unknown): number {
    if (typeof state !== 'string' || state === '') return 0;
    if (state === this.lastRaw) return this.lastCode;
    let code = this.raw.get(state);
    if (code === undefined) {
      const s = normalizeState(state);
      code = s === '' ? 0 : (this.codes.get(s) ?? OTHER_STATE);
      if (this.raw.size < 4096) this.raw.set(state, code);
    }
    this.lastRaw = state;
    this.lastCode = code;
    return code;
  }

  /** Entries of the table, for a snapshot that travels to another thread. */
  toJSON(): Array<[string, number]> {
    return [...this.codes];
  }

  static from(pairs: ReadonlyArray<readonly [string, number]>): StateCodes {
    const s = new StateCodes();
    for (const [k, v] of pairs) s.codes.set(k, v);
    return s;
  }
}

const CODE_CHARS = '?0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/**
 * The plate of a packed key given as its low and high 32-bit words (six bits a character,
 * first character lowest), as the host reads it from linear memory: no BigInt.
 */
export function unpackPlate(lo: number, hi: number): string {
  const c = UNPACKED;
  let n = 0;
  for (let shift = 0; shift < 60; shift += 6) {
    const code = (shift <= 26 ? lo >>> shift : shift >= 32 ? hi >>> (shift - 32) : (lo >>> shift) | (hi << (32 - shift))) & 63;
    if (code === 0) break;
    c[n++] = CHAR_OF_CODE[code];
  }
  // One string per call (a character at a time would allocate one per character).
  switch (n) {
    case 0: return '';
    case 1: return String.fromCharCode(c[0]);
    case 2: return String.fromCharCode(c[0], c[1]);
    case 3: return String.fromCharCode(c[0], c[1], c[2]);
    case 4: return String.fromCharCode(c[0], c[1], c[2], c[3]);
    case 5: return String.fromCharCode(c[0], c[1], c[2], c[3], c[4]);
    case 6: return String.fromCharCode(c[0], c[1], c[2], c[3], c[4], c[5]);
    case 7: return String.fromCharCode(c[0], c[1], c[2], c[3], c[4], c[5], c[6]);
    case 8: return String.fromCharCode(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]);
    case 9: return String.fromCharCode(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]);
    default: return String.fromCharCode(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9]);
  }
}

const UNPACKED = new Uint8Array(10);
const CHAR_OF_CODE = Uint8Array.from(CODE_CHARS, (ch) => ch.charCodeAt(0));
