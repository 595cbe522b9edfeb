// Walking msgpack values in linear memory for the read scanner (reads.ts): where a value
// ends, and whether the fast path may take the read it belongs to. A read this code is not
// sure to treat exactly as msgpackr + JSON.stringify would (non-ASCII, binary or extension
// values; duplicate, non-string, `__proto__` or array-index keys such as "3", which a
// JavaScript object lists first; ...) or that breaks an input bound (values nested
// more than MAX_NESTING deep, strings over MAX_STRING_BYTES, containers over MAX_ITEMS
// elements) is marked `unsupported` and left to the host's object path, which rejects it
// with its code (matcher/service/bounds.ts holds the same limits).

import { be16, be32, isAscii, strHead, strLen } from './msgpack';

/** Containers nested below a read at most (the read itself is level 0). */
export const MAX_NESTING: i32 = 16;
/** Longest string, key or value, in bytes. */
export const MAX_STRING_BYTES: u32 = 4096;
/** Most elements of an array (maps over MAX_KEYS are left to the host anyway). */
export const MAX_ITEMS: u32 = 1024;

// A read sits at depth 0 or 1 and nests at most MAX_NESTING below itself, so every
// scanned container is shallower than MAX_DEPTH; deeper values are skipped flat.
export const MAX_DEPTH: i32 = 32;
export const MAX_KEYS: i32 = 32;

// Key offsets and lengths of the maps being scanned, per depth (duplicate-key check).
const keyStarts = memory.data(MAX_DEPTH * MAX_KEYS * 4);
const keyLengths = memory.data(MAX_DEPTH * MAX_KEYS * 4);

let unsupported = false;
let deep = false;
let base: i32 = 0;
// msgpackr reads some extension types (0x62, 0x65, 0x69, 0x70, 0x72, 0x73, 0x78) as markers
// that take the next value or move its position, so the reads of a message holding any
// extension need not be where the msgpack spec puts them: reads.ts hands it to the host whole.
let extension = false;

/** Starts the walk of a message: no extension seen yet. */
export function beginMessage(): void {
  extension = false;
}

/** Some value of the current message is an extension. */
@inline export function sawExtension(): bool {
  return extension;
}

/** Starts the walk of an item at depth `itemDepth`: nothing unsupported, nothing too deep. */
export function beginItem(itemDepth: i32): void {
  unsupported = false;
  deep = false;
  base = itemDepth;
}

/** Something of the current item is left to the host. */
@inline export function isUnsupported(): bool {
  return unsupported;
}

/** The current item nests deeper than MAX_NESTING (the host rejects it without decoding it). */
@inline export function isDeep(): bool {
  return deep;
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

/**
 * The n bytes at s are an array index as JavaScript reads a property key: the canonical
 * decimal text of an integer from 0 to 2^32 - 2 ("0", "7", "4294967294"; not "01", "-1",
 * "4294967295"). An object lists such keys first, in ascending order, whatever the order
 * they were set in, so JSON.stringify of msgpackr's object does not keep the msgpack order
 * the fast path writes; left to the host.
 */
function isArrayIndex(s: usize, n: u32): bool {
  if (n == 0 || n > 10) return false;
  if (n > 1 && load<u8>(s) == 0x30) return false;
  let v: u64 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const c = <u32>load<u8>(s + i);
    if (c < 0x30 || c > 0x39) return false;
    v = v * 10 + <u64>(c - 0x30);
  }
  return v <= 4294967294;
}

/** Checks the key at p (of map level `depth`, index k); returns where its value starts, 0 when malformed. */
export function checkKey(p: usize, end: usize, depth: i32, k: i32): usize {
  const len = strLen(p);
  if (len < 0) {
    unsupported = true;
    return skip(p, end, depth + 1);
  }
  const s = p + strHead(load<u8>(p));
  // In 64 bits: a 32-bit length near 2^32 must not wrap around to an address inside the buffer.
  if (<u64>s + <u64>len > <u64>end) return 0;
  const v = s + <usize>len;
  if (!isAscii(s, v) || isProto(s, <u32>len) || isArrayIndex(s, <u32>len) || <u64>len > <u64>MAX_STRING_BYTES) unsupported = true;
  if (k < MAX_KEYS) {
    const at = (depth * MAX_KEYS) << 2;
    for (let j = 0; j < k; j++) {
      if (load<u32>(keyLengths + at + (j << 2)) == <u32>len && sameBytes(load<u32>(keyStarts + at + (j << 2)), s, <u32>len)) unsupported = true;
    }
    store<u32>(keyStarts + at + (k << 2), <u32>s);
    store<u32>(keyLengths + at + (k << 2), <u32>len);
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
  if (n > MAX_ITEMS) unsupported = true;
  for (let k: u32 = 0; k < n; k++) {
    if (p >= end) return 0;
    p = skip(p, end, depth + 1);
    if (p == 0) return 0;
  }
  return p;
}

@inline function over(p: usize, h: usize, n: usize, end: usize): usize {
  // In 64 bits, as in checkKey: a str32 or bin32 claiming ~4 GiB must not wrap to before p.
  const e = <u64>p + <u64>h + <u64>n;
  return e > <u64>end ? 0 : <usize>e;
}

/** End of the scalar at p whose first byte is b (0 when malformed or past end); marks what the host must take. */
function scalarEnd(p: usize, end: usize, b: u32): usize {
  if ((b >= 0xc7 && b <= 0xc9) || (b >= 0xd4 && b <= 0xd8)) extension = true;
  if (b <= 0x7f || b >= 0xe0) return p + 1;
  if (b >= 0xa0 && b <= 0xbf) {
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
      const len = <usize>strLen(p);
      const e = over(p, h, len, end);
      if (e != 0 && (len > <usize>MAX_STRING_BYTES || !isAscii(p + h, e))) unsupported = true;
      return e;
    }
    default: return 0; // 0xc1
  }
}

/**
 * End of `pending` values from p without recursion, for values nested deeper than any read
 * may be (a 10 000-deep field must cost its read, not the stack or the message): a count of
 * values still to skip replaces the call stack. 0 when malformed.
 */
function skipFlat(p: usize, end: usize, pending: u64): usize {
  while (pending > 0) {
    if (p >= end) return 0;
    pending--;
    const b = <u32>load<u8>(p);
    if (b >= 0x80 && b <= 0x8f) {
      pending += <u64>(b & 0x0f) << 1;
      p += 1;
    } else if (b >= 0x90 && b <= 0x9f) {
      pending += <u64>(b & 0x0f);
      p += 1;
    } else if (b == 0xdc || b == 0xde) {
      if (p + 2 >= end) return 0;
      pending += <u64>be16(p + 1) << (b == 0xde ? 1 : 0);
      p += 3;
    } else if (b == 0xdd || b == 0xdf) {
      if (p + 4 >= end) return 0;
      pending += <u64>be32(p + 1) << (b == 0xdf ? 1 : 0);
      p += 5;
    } else {
      p = scalarEnd(p, end, b);
      if (p == 0) return 0;
    }
    // Every value takes a byte at least: a count beyond the bytes left is malformed.
    if (pending > <u64>(end - p)) return 0;
  }
  return p;
}

/** End of the value at p (0 when malformed or past end); marks values left to the host. */
export function skip(p: usize, end: usize, depth: i32): usize {
  if (p >= end) return 0;
  const b = <u32>load<u8>(p);
  const container = (b >= 0x80 && b <= 0x9f) || (b >= 0xdc && b <= 0xdf);
  if (!container) return scalarEnd(p, end, b);
  if (depth - base > MAX_NESTING || depth >= MAX_DEPTH) {
    deep = true;
    unsupported = true;
    return skipFlat(p, end, 1);
  }
  if (b <= 0x8f) return skipMap(p + 1, end, b & 0x0f, depth);
  if (b <= 0x9f) return skipArray(p + 1, end, b & 0x0f, depth);
  switch (b) {
    case 0xdc: return p + 2 < end ? skipArray(p + 3, end, be16(p + 1), depth) : 0;
    case 0xdd: return p + 4 < end ? skipArray(p + 5, end, be32(p + 1), depth) : 0;
    case 0xde: return p + 2 < end ? skipMap(p + 3, end, be16(p + 1), depth) : 0;
    default: return p + 4 < end ? skipMap(p + 5, end, be32(p + 1), depth) : 0; // 0xdf
  }
}
