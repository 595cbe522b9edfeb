/**
 * msgpack decoding as the service does it, the small string cache of the fast path, and the
 * items of a message found without decoding it (for reads nested too deep to decode).
 */
import { addExtension, Unpackr } from 'msgpackr';
import { MAX_NESTING } from './bounds.js';

/**
 * msgpackr set up as the service decodes every payload: maps as plain objects, and 64-bit
 * integers as numbers (other languages' encoders write epoch milliseconds as uint64, which
 * msgpackr would otherwise turn into a BigInt that no JSON encoder takes).
 */
export const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

// msgpackr's own BigInt extension (type 0x42, a signed big-endian integer of any length) would
// decode to a BigInt as well, and JSON.stringify of its record then threw out of processTask
// (a 14-byte message, found by `npm run fuzz`). A number, like the 64-bit integers above.
// msgpackr's extension table is global: this holds for every Unpackr of the process.
addExtension({
  type: 0x42,
  unpack(data: Uint8Array): number {
    let v = 0n;
    for (const b of data) v = (v << 8n) | BigInt(b);
    if (data.length > 0 && data[0] >= 0x80) v -= 1n << BigInt(8 * data.length);
    return Number(v);
  },
});

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

// ---------------------------------------------------------------------------------------------
// The items of a msgpack message without decoding them: where each read starts and ends, and
// whether it nests deeper than a read may. msgpackr decodes recursively, so a 10 000-deep
// value overflows the stack and throws for the whole message; the object path walks the
// message first (iteratively) and decodes the reads one by one when one is too deep.
// core-wasm/assembly/skip.ts walks the same way on the fast path.

const SCALAR = 0;
const ARRAY = 1;
const MAP = 2;
const INVALID = -1;
/** The data ends inside the value (what msgpackr calls incomplete: TRUNCATED). */
const SHORT = -2;
// Set by head(): header bytes, and payload bytes (scalars) or element count (containers).
let headLen = 0;
let headCount = 0;

function be(b: Uint8Array, p: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) v = v * 256 + b[p + i];
  return v;
}

/** The kind of the value at p (< end), its header length and count into headLen/headCount. */
function head(b: Uint8Array, p: number, end: number): number {
  const t = b[p];
  headLen = 1;
  headCount = 0;
  if (t <= 0x7f || t >= 0xe0) return SCALAR;
  if (t <= 0x8f) return ((headCount = t & 0x0f), MAP);
  if (t <= 0x9f) return ((headCount = t & 0x0f), ARRAY);
  if (t <= 0xbf) return ((headCount = t & 0x1f), SCALAR);
  // Sized values: the size's bytes, and extra header bytes (an extension's type).
  let size = 0;
  let extra = 0;
  let kind = SCALAR;
  switch (t) {
    case 0xc0: case 0xc2: case 0xc3: return SCALAR;
    case 0xc4: case 0xd9: size = 1; break;
    case 0xc5: case 0xda: size = 2; break;
    case 0xc6: case 0xdb: size = 4; break;
    case 0xc7: size = 1; extra = 1; break;
    case 0xc8: size = 2; extra = 1; break;
    case 0xc9: size = 4; extra = 1; break;
    case 0xca: case 0xce: case 0xd2: headCount = 4; return SCALAR;
    case 0xcb: case 0xcf: case 0xd3: headCount = 8; return SCALAR;
    case 0xcc: case 0xd0: headCount = 1; return SCALAR;
    case 0xcd: case 0xd1: headCount = 2; return SCALAR;
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
      headLen = 2;
      headCount = 1 << (t - 0xd4);
      return SCALAR;
    case 0xdc: size = 2; kind = ARRAY; break;
    case 0xdd: size = 4; kind = ARRAY; break;
    case 0xde: size = 2; kind = MAP; break;
    case 0xdf: size = 4; kind = MAP; break;
    default: return INVALID; // 0xc1
  }
  if (p + 1 + size + extra > end) return SHORT;
  headCount = be(b, p + 1, size);
  headLen = 1 + size + extra;
  return kind;
}

/** End of `pending` values from p, counting instead of recursing; INVALID or SHORT when malformed. */
function skipFlat(b: Uint8Array, p: number, end: number, pending: number): number {
  while (pending > 0) {
    if (p >= end) return SHORT;
    pending--;
    const kind = head(b, p, end);
    if (kind < 0) return kind;
    p += headLen;
    if (kind === SCALAR) p += headCount;
    else pending += kind === MAP ? 2 * headCount : headCount;
    // Every value takes a byte at least.
    if (p > end || pending > end - p) return SHORT;
  }
  return p;
}

// Values still to read per open container; a read nests at most MAX_NESTING below itself.
const left = new Float64Array(MAX_NESTING + 2);
let walkedDeep = false;

/**
 * End of the value at p, or INVALID or SHORT when it is malformed; `walkedDeep` tells
 * whether some container in it (before the fault, if any) sits more than MAX_NESTING levels
 * below it.
 */
function walkValue(b: Uint8Array, p: number, end: number): number {
  walkedDeep = false;
  let level = 0;
  left[0] = 1;
  for (;;) {
    while (left[level] === 0) {
      if (level === 0) return p;
      level--;
    }
    left[level]--;
    if (p >= end) return SHORT;
    const kind = head(b, p, end);
    if (kind < 0) return kind;
    p += headLen;
    if (kind === SCALAR) {
      p += headCount;
      if (p > end) return SHORT;
      continue;
    }
    const n = kind === MAP ? 2 * headCount : headCount;
    if (n > end - p) return SHORT;
    // This container is `level` levels below the value walked.
    if (level > MAX_NESTING) {
      walkedDeep = true;
      p = skipFlat(b, p, end, n);
      if (p < 0) return p;
      continue;
    }
    left[++level] = n;
  }
}

/** The reads of a msgpack message as spans, and which nest too deep. */
export interface MsgpackItems {
  /** False when the message is not well-formed (`truncated`: it ends inside a value); no spans then. */
  ok: boolean;
  truncated: boolean;
  single: boolean;
  /** Item i is bytes[starts[i], starts[i + 1]). */
  starts: number[];
  deep: boolean[];
  /** Some item nests too deep (when not ok: some container before the fault does). */
  anyDeep: boolean;
}

function malformed(fault: number, anyDeep: boolean, single: boolean): MsgpackItems {
  return { ok: false, truncated: fault === SHORT, single, starts: [], deep: [], anyDeep };
}

/**
 * The items of a msgpack message that is one map (a read) or an array; undefined for any
 * other value (the caller decodes it whole). A message with bytes after its value is
 * malformed, not truncated.
 */
export function msgpackItems(bytes: Uint8Array): MsgpackItems | undefined {
  const end = bytes.length;
  if (end === 0) return undefined;
  const kind = head(bytes, 0, end);
  if (kind === MAP) {
    const e = walkValue(bytes, 0, end);
    if (e < 0) return malformed(e, walkedDeep, true);
    if (e !== end) return malformed(INVALID, walkedDeep, true);
    return { ok: true, truncated: false, single: true, starts: [0, end], deep: [walkedDeep], anyDeep: walkedDeep };
  }
  if (kind === SHORT) return malformed(SHORT, false, false);
  if (kind !== ARRAY) return undefined;
  const n = headCount;
  let p = headLen;
  if (n > end - p) return malformed(SHORT, false, false);
  const starts: number[] = [p];
  const deep: boolean[] = [];
  let anyDeep = false;
  for (let i = 0; i < n; i++) {
    p = walkValue(bytes, p, end);
    anyDeep ||= walkedDeep;
    if (p < 0) return malformed(p, anyDeep, false);
    starts.push(p);
    deep.push(walkedDeep);
  }
  return p === end ? { ok: true, truncated: false, single: false, starts, deep, anyDeep } : malformed(INVALID, anyDeep, false);
}
