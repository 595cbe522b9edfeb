// Writing the JSON records of reads that hit nothing, straight from their msgpack bytes
// (the service's fast path; the item records are reads.ts's). Byte for byte what
// JSON.stringify of the decoded read plus its retention tag would give: the host's
// test/unit/service-fastpath.test.ts holds the two together.

import { be16, be32, numberAt, strHead, strLen } from './msgpack';
import { ITEM_RECORD, I_END, I_FLAGS, I_INDEX, I_MSG, I_START, I_TS, F_ID_MISSING, F_TS_MISSING } from './reads';

// Non-integer numbers the core does not print are formatted by the host (JavaScript's
// shortest round-trip form).
@external("env", "formatFloat")
declare function formatFloat(v: f64, out: usize): i32;

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
