// The service's fast path for msgpack reads: a batch of messages is copied into linear
// memory once; scanTask finds every read and the fields matching needs, packQueries turns
// them into query records for matchBatch, and writeRecords writes the JSON records of the
// reads that hit nothing straight from their bytes. The host versions of the same rules
// (matcher/service/msgpack-scan.ts, record-json.ts) are the reference the tests hold this to.
//
// A read this code is not sure to treat exactly as msgpackr + JSON.stringify would (non-ASCII
// or binary or extension values, duplicate or non-string keys, a `ts` that is not a number,
// no `id`, `candidates`, an unusual state, ...) is left to the host's object path.

// Non-integer numbers are formatted by the host (JavaScript's shortest round-trip form).
@external("env", "formatFloat")
declare function formatFloat(v: f64, out: usize): i32;

/** Bytes of a message record: +0 i32 status, +4 u32 first item, +8 u32 items, +12 u32 single. */
export const MSG_RECORD: u32 = 16;
/**
 * Bytes of an item record: +0 u32 start, +4 u32 end, +8 u32 flags, +12 u32 plate start,
 * +16 u32 agency start, +20 u16 plate length, +22 u16 agency length, +24 f64 ts,
 * and the state's letter pair at +20.. see ITEM_* offsets.
 */
export const ITEM_RECORD: u32 = 40;
const I_START = 0;
const I_END = 4;
const I_FLAGS = 8;
const I_PLATE = 12;
const I_AGENCY = 16;
const I_PLATE_LEN = 20;
const I_AGENCY_LEN = 22;
const I_TS = 24;
const I_STATE = 32; // u16: 0 none, 1 + 26 * a + b for a two-letter state
const I_INDEX = 34; // u16: position of the read in its message
const I_MSG = 36; // u32: its message

/** The read is taken by this fast path. */
export const F_FAST: u32 = 1;
/** The read has no `ts` (its record gets the receive time). */
export const F_TS_MISSING: u32 = 2;
/** The read has no `id` (its record gets `<message key>-<index>`). */
export const F_ID_MISSING: u32 = 8;
/** The read has an `agency` string. */
export const F_AGENCY: u32 = 4;

/** Message status: scanned. */
export const M_OK: i32 = 0;
/** Not well-formed msgpack (or not ending where the message does): the host decides. */
export const M_MALFORMED: i32 = -1;
/** Not a map or an array at the top: the host decides. */
export const M_OTHER: i32 = -2;

const MAX_DEPTH: i32 = 32;
const MAX_KEYS: i32 = 32;
const RAW_PLATE_CAPACITY: u32 = 24;

// Key offsets and lengths of the maps being scanned, per depth (duplicate-key check).
const keyStarts = memory.data(MAX_DEPTH * MAX_KEYS * 4);
const keyLengths = memory.data(MAX_DEPTH * MAX_KEYS * 4);

let unsupported = false;

@inline function be16(p: usize): u32 {
  return <u32>bswap<u16>(load<u16>(p));
}

@inline function be32(p: usize): u32 {
  return bswap<u32>(load<u32>(p));
}

function isAscii(s: usize, e: usize): bool {
  for (let p = s; p < e; p++) if (load<u8>(p) > 0x7f) return false;
  return true;
}

/** Length of the string at p, or -1 when it is not a string. */
@inline function strLen(p: usize): i64 {
  const b = <u32>load<u8>(p);
  if (b >= 0xa0 && b <= 0xbf) return b & 0x1f;
  if (b == 0xd9) return load<u8>(p + 1);
  if (b == 0xda) return be16(p + 1);
  if (b == 0xdb) return be32(p + 1);
  return -1;
}

@inline function strHead(b: u32): usize {
  return b == 0xd9 ? 2 : b == 0xda ? 3 : b == 0xdb ? 5 : 1;
}

function sameBytes(a: usize, b: usize, n: u32): bool {
  for (let i: u32 = 0; i < n; i++) if (load<u8>(a + i) != load<u8>(b + i)) return false;
  return true;
}

function isProto(s: usize, n: u32): bool {
  // "__proto__": msgpackr renames it; left to the host.
  if (n != 9) return false;
  return load<u64>(s) == 0x5f6f746f72705f5f && load<u8>(s + 8) == 0x5f;
}

/** Checks the key at p (of map level `depth`, index k); returns where its value starts, 0 when malformed. */
function checkKey(p: usize, end: usize, depth: i32, k: i32): usize {
  const len = strLen(p);
  if (len < 0) {
    unsupported = true;
    return skip(p, end, depth + 1);
  }
  const s = p + strHead(load<u8>(p));
  const v = s + <usize>len;
  if (v > end) return 0;
  if (!isAscii(s, v) || isProto(s, <u32>len)) unsupported = true;
  if (k < MAX_KEYS) {
    const base = (depth * MAX_KEYS) << 2;
    for (let j = 0; j < k; j++) {
      if (load<u32>(keyLengths + base + (j << 2)) == <u32>len && sameBytes(load<u32>(keyStarts + base + (j << 2)), s, <u32>len)) unsupported = true;
    }
    store<u32>(keyStarts + base + (k << 2), <u32>s);
    store<u32>(keyLengths + base + (k << 2), <u32>len);
  }
  return v;
}

function skipMap(p: usize, end: usize, n: u32, depth: i32): usize {
  if (n > <u32>MAX_KEYS) unsupported = true;
  for (let k: u32 = 0; k < n; k++) {
    if (p >= end) return 0;
    p = checkKey(p, end, depth, <i32>k);
    if (p == 0) return 0;
    p = skip(p, end, depth + 1);
    if (p == 0) return 0;
  }
  return p;
}

function skipArray(p: usize, end: usize, n: u32, depth: i32): usize {
  for (let k: u32 = 0; k < n; k++) {
    if (p >= end) return 0;
    p = skip(p, end, depth + 1);
    if (p == 0) return 0;
  }
  return p;
}

@inline function over(p: usize, h: usize, n: usize, end: usize): usize {
  const e = p + h + n;
  return e > end ? 0 : e;
}

/** End of the value at p (0 when malformed or past end); sets `unsupported` as msgpack-scan.ts does. */
function skip(p: usize, end: usize, depth: i32): usize {
  if (p >= end) return 0;
  if (depth >= MAX_DEPTH) unsupported = true;
  const b = <u32>load<u8>(p);
  if (b <= 0x7f || b >= 0xe0) return p + 1;
  if (b <= 0x8f) return depth >= MAX_DEPTH ? 0 : skipMap(p + 1, end, b & 0x0f, depth);
  if (b <= 0x9f) return depth >= MAX_DEPTH ? 0 : skipArray(p + 1, end, b & 0x0f, depth);
  if (b <= 0xbf) {
    const e = over(p, 1, b & 0x1f, end);
    if (e != 0 && !isAscii(p + 1, e)) unsupported = true;
    return e;
  }
  switch (b) {
    case 0xc0: case 0xc2: case 0xc3: return p + 1;
    case 0xc4: unsupported = true; return p + 1 < end ? over(p, 2, load<u8>(p + 1), end) : 0;
    case 0xc5: unsupported = true; return p + 2 < end ? over(p, 3, be16(p + 1), end) : 0;
    case 0xc6: unsupported = true; return p + 4 < end ? over(p, 5, be32(p + 1), end) : 0;
    case 0xc7: unsupported = true; return p + 1 < end ? over(p, 3, load<u8>(p + 1), end) : 0;
    case 0xc8: unsupported = true; return p + 2 < end ? over(p, 4, be16(p + 1), end) : 0;
    case 0xc9: unsupported = true; return p + 4 < end ? over(p, 6, be32(p + 1), end) : 0;
    case 0xca: return over(p, 1, 4, end);
    case 0xcb: return over(p, 1, 8, end);
    case 0xcc: case 0xd0: return over(p, 1, 1, end);
    case 0xcd: case 0xd1: return over(p, 1, 2, end);
    case 0xce: case 0xd2: return over(p, 1, 4, end);
    case 0xcf: case 0xd3: return over(p, 1, 8, end);
    case 0xd4: unsupported = true; return over(p, 2, 1, end);
    case 0xd5: unsupported = true; return over(p, 2, 2, end);
    case 0xd6: unsupported = true; return over(p, 2, 4, end);
    case 0xd7: unsupported = true; return over(p, 2, 8, end);
    case 0xd8: unsupported = true; return over(p, 2, 16, end);
    case 0xd9: case 0xda: case 0xdb: {
      const h = strHead(b);
      if (p + h > end) return 0;
      const e = over(p, h, <usize>strLen(p), end);
      if (e != 0 && !isAscii(p + h, e)) unsupported = true;
      return e;
    }
    case 0xdc: return p + 2 < end && depth < MAX_DEPTH ? skipArray(p + 3, end, be16(p + 1), depth) : 0;
    case 0xdd: return p + 4 < end && depth < MAX_DEPTH ? skipArray(p + 5, end, be32(p + 1), depth) : 0;
    case 0xde: return p + 2 < end && depth < MAX_DEPTH ? skipMap(p + 3, end, be16(p + 1), depth) : 0;
    case 0xdf: return p + 4 < end && depth < MAX_DEPTH ? skipMap(p + 5, end, be32(p + 1), depth) : 0;
    default: return 0; // 0xc1
  }
}

@inline function isNumber(b: u32): bool {
  return b <= 0x7f || b >= 0xe0 || (b >= 0xca && b <= 0xd3);
}

/** The number at p as msgpackr decodes it (64-bit integers as numbers). */
function numberAt(p: usize): f64 {
  const b = <u32>load<u8>(p);
  if (b <= 0x7f) return <f64>b;
  if (b >= 0xe0) return <f64>(<i32>b - 0x100);
  switch (b) {
    case 0xca: return <f64>reinterpret<f32>(be32(p + 1));
    case 0xcb: return reinterpret<f64>(bswap<u64>(load<u64>(p + 1)));
    case 0xcc: return <f64>load<u8>(p + 1);
    case 0xcd: return <f64>be16(p + 1);
    case 0xce: return <f64>be32(p + 1);
    case 0xcf: return <f64>be32(p + 1) * 4294967296.0 + <f64>be32(p + 5);
    case 0xd0: return <f64>load<i8>(p + 1);
    case 0xd1: return <f64>(<i16>be16(p + 1));
    case 0xd2: return <f64>(<i32>be32(p + 1));
    case 0xd3: return <f64>(<i32>be32(p + 1)) * 4294967296.0 + <f64>be32(p + 5);
    default: return NaN;
  }
}

// Field names by length and bytes.
const FIELD_OTHER = 0;
const FIELD_ID = 1;
const FIELD_PLATE = 2;
const FIELD_STATE = 3;
const FIELD_TS = 4;
const FIELD_AGENCY = 5;
const FIELD_CONFIDENCE = 6;
const FIELD_CANDIDATES = 7;
const FIELD_RESERVED = 8;

function fieldOf(s: usize, n: u32): i32 {
  const c = <u32>load<u8>(s);
  switch (n) {
    case 2: {
      const w = <u32>load<u16>(s);
      if (w == 0x6469) return FIELD_ID; // "id"
      if (w == 0x7374) return FIELD_TS; // "ts"
      return FIELD_OTHER;
    }
    case 3: return c == 0x68 && load<u8>(s + 1) == 0x69 && load<u8>(s + 2) == 0x74 ? FIELD_RESERVED : FIELD_OTHER; // hit
    case 5: {
      const w = load<u32>(s + 1);
      if (c == 0x70 && w == 0x6574616c) return FIELD_PLATE; // p-late
      if (c == 0x73 && w == 0x65746174) return FIELD_STATE; // s-tate
      return FIELD_OTHER;
    }
    case 6: return c == 0x61 && load<u32>(s + 1) == 0x636e6567 && load<u8>(s + 5) == 0x79 ? FIELD_AGENCY : FIELD_OTHER; // a-genc-y
    case 8: return load<u64>(s) == 0x7364497472656c61 ? FIELD_RESERVED : FIELD_OTHER; // alertIds
    case 9: return load<u64>(s) == 0x6f69746e65746572 && load<u8>(s + 8) == 0x6e ? FIELD_RESERVED : FIELD_OTHER; // retention
    case 10: {
      const w = load<u64>(s);
      const t = <u32>load<u16>(s + 8);
      if (w == 0x6e656469666e6f63 && t == 0x6563) return FIELD_CONFIDENCE; // confidence
      if (w == 0x74616469646e6163 && t == 0x7365) return FIELD_CANDIDATES; // candidates
      return FIELD_OTHER;
    }
    default: return FIELD_OTHER;
  }
}

@inline function upper(c: u32): u32 {
  return c >= 0x61 && c <= 0x7a ? c - 0x20 : c;
}

/**
 * Scans the item at p (a read when it is a map) into the item record at `rec`; returns its
 * end, 0 when malformed.
 */
function scanRead(p: usize, end: usize, depth: i32, rec: usize): usize {
  unsupported = false;
  const start = p;
  const b = <u32>load<u8>(p);
  let n: u32;
  if (b >= 0x80 && b <= 0x8f) {
    n = b & 0x0f;
    p += 1;
  } else if (b == 0xde && p + 2 < end) {
    n = be16(p + 1);
    p += 3;
  } else {
    const e = skip(p, end, depth);
    store<u32>(rec + I_START, <u32>start);
    store<u32>(rec + I_END, <u32>e);
    store<u32>(rec + I_FLAGS, 0);
    return e;
  }
  let slow = n > <u32>MAX_KEYS;
  let plate: usize = 0;
  let plateLen: u32 = 0;
  let hasPlate = false;
  let hasId = false;
  let agency: usize = 0;
  let agencyLen: u32 = 0;
  let hasAgency = false;
  let state: u32 = 0;
  let ts: f64 = 0;
  let hasTs = false;
  for (let k: u32 = 0; k < n; k++) {
    if (p >= end) return 0;
    const len = strLen(p);
    const v = checkKey(p, end, depth, <i32>k);
    if (v == 0) return 0;
    const next = skip(v, end, depth + 1);
    if (next == 0) return 0;
    if (!slow && !unsupported && len >= 0) {
      const field = fieldOf(v - <usize>len, <u32>len);
      const vb = <u32>load<u8>(v);
      switch (field) {
        case FIELD_PLATE: {
          const pl = strLen(v);
          if (pl < 0 || <u32>pl > RAW_PLATE_CAPACITY) slow = true;
          else {
            plate = v + strHead(vb);
            plateLen = <u32>pl;
            hasPlate = true;
          }
          break;
        }
        case FIELD_STATE: {
          const sl = strLen(v);
          if (sl == 0) state = 0;
          else if (sl == 2) {
            const a = upper(load<u8>(v + 1));
            const c = upper(load<u8>(v + 2));
            if (a >= 0x41 && a <= 0x5a && c >= 0x41 && c <= 0x5a) state = 1 + 26 * (a - 0x41) + (c - 0x41);
            else slow = true;
          } else slow = true;
          break;
        }
        case FIELD_AGENCY: {
          const al = strLen(v);
          if (al < 0 || al > 0xffff) slow = true;
          else {
            agency = v + strHead(vb);
            agencyLen = <u32>al;
            hasAgency = true;
          }
          break;
        }
        case FIELD_ID:
          if (strLen(v) <= 0) slow = true;
          hasId = true;
          break;
        case FIELD_TS:
          if (!isNumber(vb)) slow = true;
          else {
            ts = numberAt(v);
            if (!isFinite(ts)) slow = true;
            hasTs = true;
          }
          break;
        case FIELD_CONFIDENCE:
          if (!isNumber(vb)) slow = true;
          else {
            const c = numberAt(v);
            if (!(c >= 0 && c <= 1)) slow = true;
          }
          break;
        case FIELD_CANDIDATES:
        case FIELD_RESERVED:
          slow = true;
          break;
        default:
          break;
      }
    }
    p = next;
  }
  let flags: u32 = 0;
  if (!slow && !unsupported && hasPlate) {
    flags = F_FAST | (hasTs ? 0 : F_TS_MISSING) | (hasAgency ? F_AGENCY : 0) | (hasId ? 0 : F_ID_MISSING);
  }
  store<u32>(rec + I_START, <u32>start);
  store<u32>(rec + I_END, <u32>p);
  store<u32>(rec + I_FLAGS, flags);
  store<u32>(rec + I_PLATE, <u32>plate);
  store<u16>(rec + I_PLATE_LEN, <u16>plateLen);
  store<u32>(rec + I_AGENCY, <u32>agency);
  store<u16>(rec + I_AGENCY_LEN, <u16>agencyLen);
  store<f64>(rec + I_TS, ts);
  store<u16>(rec + I_STATE, <u16>state);
  return p;
}

/**
 * Scans `n` messages of the buffer at `buf` (message i is [offsets[i], offsets[i + 1]))
 * into message records at `msgs` and item records at `items` (at most `cap`). Returns the
 * items written, or -1 when `cap` is too small (the host grows the region and calls again).
 */
export function scanTask(buf: usize, offsets: usize, n: u32, msgs: usize, items: usize, cap: u32): i32 {
  let count: u32 = 0;
  for (let m: u32 = 0; m < n; m++) {
    const from = buf + load<u32>(offsets + (m << 2));
    const to = buf + load<u32>(offsets + ((m + 1) << 2));
    const mr = msgs + m * MSG_RECORD;
    store<u32>(mr + 4, count);
    store<u32>(mr + 8, 0);
    store<u32>(mr + 12, 0);
    if (from >= to) {
      store<i32>(mr, M_OTHER);
      continue;
    }
    const b = <u32>load<u8>(from);
    let k: u32;
    let p: usize;
    let single = false;
    if ((b >= 0x80 && b <= 0x8f) || b == 0xde || b == 0xdf) {
      single = true;
      k = 1;
      p = from;
    } else if (b >= 0x90 && b <= 0x9f) {
      k = b & 0x0f;
      p = from + 1;
    } else if (b == 0xdc && from + 2 < to) {
      k = be16(from + 1);
      p = from + 3;
    } else if (b == 0xdd && from + 4 < to) {
      k = be32(from + 1);
      p = from + 5;
    } else {
      store<i32>(mr, M_OTHER);
      continue;
    }
    if (<usize>k > to - p) {
      store<i32>(mr, M_MALFORMED);
      continue;
    }
    if (count + k > cap) return -1;
    let ok = true;
    for (let i: u32 = 0; i < k; i++) {
      const rec = items + (count + i) * ITEM_RECORD;
      const e = scanRead(p, to, single ? 0 : 1, rec);
      if (e == 0) {
        ok = false;
        break;
      }
      store<u16>(rec + I_INDEX, <u16>i);
      store<u32>(rec + I_MSG, m);
      p = e;
    }
    if (!ok || p != to) {
      store<i32>(mr, M_MALFORMED);
      continue;
    }
    store<i32>(mr, M_OK);
    store<u32>(mr + 8, k);
    store<u32>(mr + 12, single ? 1 : 0);
    count += k;
  }
  return <i32>count;
}

/**
 * Query records (match.ts layout) for `n` fast items listed by index at `list`: raw plate
 * bytes, length, and the state code from `states` (u16 by letter pair, 677 entries).
 */
export function packQueries(items: usize, list: usize, n: u32, states: usize, queries: usize): void {
  for (let i: u32 = 0; i < n; i++) {
    const rec = items + load<u32>(list + (i << 2)) * ITEM_RECORD;
    const q = queries + (i << 5);
    const plate = <usize>load<u32>(rec + I_PLATE);
    const len = <u32>load<u16>(rec + I_PLATE_LEN);
    memory.copy(q, plate, len);
    store<u8>(q + 24, <u8>len);
    store<u16>(q + 26, load<u16>(states + ((<usize>load<u16>(rec + I_STATE)) << 1)));
  }
}

// ------------------------------------------------------------------------------- writing

@inline function hexDigit(d: u32): u8 {
  return <u8>(d < 10 ? 0x30 + d : 0x57 + d);
}

function putEscape(o: usize, c: u32): usize {
  store<u8>(o, 0x5c);
  switch (c) {
    case 0x22: case 0x5c: store<u8>(o + 1, <u8>c); return o + 2;
    case 0x08: store<u8>(o + 1, 0x62); return o + 2;
    case 0x09: store<u8>(o + 1, 0x74); return o + 2;
    case 0x0a: store<u8>(o + 1, 0x6e); return o + 2;
    case 0x0c: store<u8>(o + 1, 0x66); return o + 2;
    case 0x0d: store<u8>(o + 1, 0x72); return o + 2;
    default:
      store<u8>(o + 1, 0x75);
      store<u8>(o + 2, 0x30);
      store<u8>(o + 3, 0x30);
      store<u8>(o + 4, hexDigit(c >> 4));
      store<u8>(o + 5, hexDigit(c & 15));
      return o + 6;
  }
}

const ONES: u64 = 0x0101010101010101;
const HIGHS: u64 = 0x8080808080808080;

// Word-at-a-time byte tests (Bit Twiddling Hacks): exact as to whether some byte qualifies.
@inline function hasZeroByte(v: u64): bool {
  return ((v - ONES) & ~v & HIGHS) != 0;
}

@inline function hasByteBelow(v: u64, n: u64): bool {
  return ((v - ONES * n) & ~v & HIGHS) != 0;
}

/** Some byte of w (ASCII bytes) is a control character, `"` or a backslash: it needs escaping. */
@inline function needsEscape(w: u64): bool {
  return hasByteBelow(w, 0x20) || hasZeroByte(w ^ 0x2222222222222222) || hasZeroByte(w ^ 0x5c5c5c5c5c5c5c5c);
}

function putString(o: usize, s: usize, n: usize): usize {
  store<u8>(o++, 0x22);
  const e = s + n;
  let p = s;
  // Eight bytes at a time while none needs escaping (most strings), then byte by byte.
  while (p + 8 <= e) {
    const w = load<u64>(p);
    if (needsEscape(w)) break;
    store<u64>(o, w);
    o += 8;
    p += 8;
  }
  for (; p < e; p++) {
    const c = <u32>load<u8>(p);
    if (c >= 0x20 && c != 0x22 && c != 0x5c) store<u8>(o++, <u8>c);
    else o = putEscape(o, c);
  }
  store<u8>(o++, 0x22);
  return o;
}

const digitBuf = memory.data(24);

/** Digits of a u32, `pad` wide at least (zeros in front); u32 arithmetic only. */
function putU32(o: usize, v: u32, pad: u32): usize {
  let k: u32 = 0;
  do {
    const q = v / 10;
    store<u8>(digitBuf + k++, <u8>(0x30 + v - q * 10));
    v = q;
  } while (v != 0);
  while (k < pad) store<u8>(digitBuf + k++, 0x30);
  while (k > 0) store<u8>(o++, load<u8>(digitBuf + --k));
  return o;
}

/** Digits of an integer up to 2^53, without a 64-bit division per digit. */
function putUint(o: usize, v: u64): usize {
  if (v <= 0xffffffff) return putU32(o, <u32>v, 0);
  const hi = v / 100000000;
  return putU32(putU32(o, <u32>hi, 0), <u32>(v - hi * 100000000), 8);
}

const SAFE: f64 = 9007199254740991.0;
// Powers of ten exactly representable as doubles (10^0 .. 10^22).
const POW10: StaticArray<f64> = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/**
 * A non-integer double as JavaScript prints it, when it has at most 15 significant digits and
 * 1e-6 <= |v| < 1e15 (plain decimal notation); 0 otherwise (the host formats it). The
 * fewest decimals d with m / 10^d == v (both exact, the division correctly rounded, as
 * parsing m·10^-d is) round-trips, and with 15 digits or fewer no other candidate of as
 * few digits does, so it is the shortest round-trip form JavaScript prints.
 */
function putShortDecimal(o: usize, v: f64): usize {
  const a = Math.abs(v);
  if (!(a >= 1e-6 && a < 1e15)) return 0;
  for (let d = 1; d <= 21; d++) {
    const scaled = a * unchecked(POW10[d]);
    if (scaled >= 1e15) return 0;
    const m = Math.round(scaled);
    if (m / unchecked(POW10[d]) != a) continue;
    // m has at most 15 digits: print it with a point d digits from the right.
    let p = o;
    if (v < 0) store<u8>(p++, 0x2d);
    const im = <u64>m;
    const int = im / <u64>unchecked(POW10[d]);
    const frac = im - int * <u64>unchecked(POW10[d]);
    p = putUint(p, int);
    store<u8>(p++, 0x2e);
    // The fraction, d digits with leading zeros.
    if (frac <= 0xffffffff) return putU32(p, <u32>frac, <u32>d);
    const hi = frac / 100000000;
    return putU32(putU32(p, <u32>hi, <u32>d - 8), <u32>(frac - hi * 100000000), 8);
  }
  return 0;
}

/** A number as JSON.stringify writes it. */
function putNumber(o: usize, v: f64): usize {
  if (!isFinite(v)) {
    store<u32>(o, 0x6c6c756e); // null
    return o + 4;
  }
  if (v == Math.floor(v) && Math.abs(v) <= SAFE) {
    if (v < 0) {
      store<u8>(o++, 0x2d);
      v = -v;
    }
    return putUint(o, <u64>v);
  }
  const e = putShortDecimal(o, v);
  if (e != 0) return e;
  return o + <usize>formatFloat(v, o);
}

let cur: usize = 0;

function putPairs(o: usize, n: u32): usize {
  for (let i: u32 = 0; i < n; i++) {
    if (i > 0) store<u8>(o++, 0x2c);
    const b = <u32>load<u8>(cur);
    const len = <usize>strLen(cur);
    const s = cur + strHead(b);
    o = putString(o, s, len);
    store<u8>(o++, 0x3a);
    cur = s + len;
    o = putValue(o);
  }
  return o;
}

function putArray(o: usize, n: u32): usize {
  store<u8>(o++, 0x5b);
  for (let i: u32 = 0; i < n; i++) {
    if (i > 0) store<u8>(o++, 0x2c);
    o = putValue(o);
  }
  store<u8>(o++, 0x5d);
  return o;
}

function putValue(o: usize): usize {
  const at = cur;
  const b = <u32>load<u8>(at);
  if (b <= 0x7f) {
    cur = at + 1;
    return putUint(o, b);
  }
  if (b >= 0xa0 && b <= 0xbf) {
    const n = <usize>(b & 0x1f);
    cur = at + 1 + n;
    return putString(o, at + 1, n);
  }
  if (b <= 0x8f) {
    cur = at + 1;
    store<u8>(o++, 0x7b);
    o = putPairs(o, b & 0x0f);
    store<u8>(o++, 0x7d);
    return o;
  }
  if (b <= 0x9f) {
    cur = at + 1;
    return putArray(o, b & 0x0f);
  }
  if (b >= 0xe0) {
    cur = at + 1;
    store<u8>(o++, 0x2d);
    return putUint(o, 0x100 - b);
  }
  switch (b) {
    case 0xc0: cur = at + 1; store<u32>(o, 0x6c6c756e); return o + 4;
    case 0xc2: cur = at + 1; store<u32>(o, 0x736c6166); store<u8>(o + 4, 0x65); return o + 5;
    case 0xc3: cur = at + 1; store<u32>(o, 0x65757274); return o + 4;
    case 0xd9: case 0xda: case 0xdb: {
      const h = strHead(b);
      const n = <usize>strLen(at);
      cur = at + h + n;
      return putString(o, at + h, n);
    }
    case 0xdc: cur = at + 3; return putArray(o, be16(at + 1));
    case 0xdd: cur = at + 5; return putArray(o, be32(at + 1));
    case 0xde: case 0xdf: {
      const n = b == 0xde ? be16(at + 1) : be32(at + 1);
      cur = at + (b == 0xde ? 3 : 5);
      store<u8>(o++, 0x7b);
      o = putPairs(o, n);
      store<u8>(o++, 0x7d);
      return o;
    }
    default: {
      const size: usize = b == 0xca || b == 0xce || b == 0xd2 ? 5 : b == 0xcc || b == 0xd0 ? 2 : b == 0xcd || b == 0xd1 ? 3 : 9;
      cur = at + size;
      return putNumber(o, numberAt(at));
    }
  }
}

/**
 * Writes the non-hit records of `n` fast items listed at `list`, comma-separated, at `out`
 * (at most `cap` bytes); record i ends at ends[i] (offset from `out`, its comma excluded).
 * Each is the read's fields, `,"ts":<receivedAt>` when it had none, then `head`
 * (`,"hit":false,...,"expiresAt":`), the read time plus `days`, and `tail` (basis and closing
 * braces). Returns the bytes written, or -1 when `cap` might not hold them.
 */
export function writeRecords(
  items: usize, list: usize, n: u32, receivedAt: f64,
  head: usize, headLen: u32, tail: usize, tailLen: u32, daysMs: f64,
  out: usize, cap: u32, ends: usize, keys: usize, keyEnds: usize,
): i32 {
  // Worst case: 6 bytes of JSON per byte of msgpack, plus the fixed parts and a generated id.
  let need: u64 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const rec = items + load<u32>(list + (i << 2)) * ITEM_RECORD;
    need += 6 * <u64>(load<u32>(rec + I_END) - load<u32>(rec + I_START)) + <u64>headLen + <u64>tailLen + 64;
    if (load<u32>(rec + I_FLAGS) & F_ID_MISSING) {
      const m = load<u32>(rec + I_MSG);
      need += 16 + <u64>(load<u32>(keyEnds + ((m + 1) << 2)) - load<u32>(keyEnds + (m << 2)));
    }
  }
  if (need > <u64>cap) return -1;
  let o = out;
  for (let i: u32 = 0; i < n; i++) {
    if (i > 0) store<u8>(o++, 0x2c);
    const rec = items + load<u32>(list + (i << 2)) * ITEM_RECORD;
    const start = <usize>load<u32>(rec + I_START);
    const b = <u32>load<u8>(start);
    let k: u32;
    if (b <= 0x8f) {
      k = b & 0x0f;
      cur = start + 1;
    } else {
      k = be16(start + 1);
      cur = start + 3;
    }
    store<u8>(o++, 0x7b);
    o = putPairs(o, k);
    const flags = load<u32>(rec + I_FLAGS);
    if (flags & F_ID_MISSING) {
      // `,"id":"<message key>-<index>"`: the host checked the keys need no escaping.
      const m = load<u32>(rec + I_MSG);
      const ks = load<u32>(keyEnds + (m << 2));
      const ke = load<u32>(keyEnds + ((m + 1) << 2));
      store<u32>(o, 0x6469222c); // ,"id
      store<u32>(o + 4, 0x22223a22); // ":"
      o += 7;
      memory.copy(o, keys + ks, ke - ks);
      o += ke - ks;
      store<u8>(o++, 0x2d);
      o = putU32(o, <u32>load<u16>(rec + I_INDEX), 0);
      store<u8>(o++, 0x22);
    }
    let ts = load<f64>(rec + I_TS);
    if (flags & F_TS_MISSING) {
      ts = receivedAt;
      store<u32>(o, 0x7374222c); // ,"ts
      store<u16>(o + 4, 0x3a22); // ":
      o = putNumber(o + 6, ts);
    }
    memory.copy(o, head, headLen);
    o = putNumber(o + headLen, ts + daysMs);
    memory.copy(o, tail, tailLen);
    o += tailLen;
    store<u32>(ends + (i << 2), <u32>(o - out));
  }
  return <i32>(o - out);
}
