// Plate codec. A normalized plate (A-Z0-9, 1..10 characters) packs into a u64, six bits a
// character, the first character in the lowest bits. Codes run 1..36 ('0'-'9' then 'A'-'Z'),
// so no packed plate has a zero character inside it and the length is implied by the
// highest non-zero sextet; 0 is free to mean "empty slot" in the tables.

export const MAX_LEN: i32 = 10;

// Byte -> code: 1..36 for A-Z/a-z/0-9, SEP for the separators space - . and U+00B7 (the
// host writes Latin-1 bytes; any code point above 0xFF arrives as 0xFF), 0 for anything else.
export const SEP: u8 = 0xff;
const CHAR_TABLE = memory.data(256);
// Code -> OCR class representative code, 64 entries (set per snapshot).
let classMapPtr: usize = 0;

export const STATUS_OK: u8 = 0;
export const STATUS_EMPTY: u8 = 1;
export const STATUS_TOO_LONG: u8 = 2;
export const STATUS_INVALID_CHAR: u8 = 3;
export const STATUS_JUNK: u8 = 4;

let tableReady = false;

function initCharTable(): void {
  memory.fill(CHAR_TABLE, 0, 256);
  for (let c = 0; c < 10; c++) store<u8>(CHAR_TABLE + 0x30 + c, <u8>(1 + c));
  for (let c = 0; c < 26; c++) {
    store<u8>(CHAR_TABLE + 0x41 + c, <u8>(11 + c));
    store<u8>(CHAR_TABLE + 0x61 + c, <u8>(11 + c));
  }
  store<u8>(CHAR_TABLE + 0x20, SEP);
  store<u8>(CHAR_TABLE + 0x2d, SEP);
  store<u8>(CHAR_TABLE + 0x2e, SEP);
  store<u8>(CHAR_TABLE + 0xb7, SEP);
  tableReady = true;
}

export function setClassMap(ptr: usize): void {
  classMapPtr = ptr;
  if (!tableReady) initCharTable();
}

// Results of normalize(), read by the caller: module globals instead of a returned struct,
// so the hot path allocates nothing.
export let outKey: u64 = 0;
export let outCKey: u64 = 0;
export let outLen: i32 = 0;

/**
 * Normalizes the raw bytes at `ptr` (length `len`) into outKey (the plate) and outCKey (the
 * plate with every character mapped to its OCR class representative). Returns a status.
 * An invalid character anywhere wins over a length problem, as in the host's normalizePlate.
 */
export function normalize(ptr: usize, len: i32): u8 {
  let key: u64 = 0;
  let ckey: u64 = 0;
  let n: i32 = 0;
  const cmap = classMapPtr;
  for (let i = 0; i < len; i++) {
    const code = load<u8>(CHAR_TABLE + <usize>load<u8>(ptr + <usize>i));
    if (code == SEP) continue;
    if (code == 0) return STATUS_INVALID_CHAR;
    if (n < MAX_LEN) {
      const shift = <u64>(n * 6);
      key |= (<u64>code) << shift;
      ckey |= (<u64>load<u8>(cmap + <usize>code)) << shift;
    }
    n++;
  }
  if (n == 0) return STATUS_EMPTY;
  if (n > MAX_LEN) return STATUS_TOO_LONG;
  outKey = key;
  outCKey = ckey;
  outLen = n;
  return STATUS_OK;
}

/** Collapses a packed plate to its OCR-class form. */
export function collapseKey(key: u64): u64 {
  let out: u64 = 0;
  const cmap = classMapPtr;
  for (let shift: u64 = 0; shift < 60; shift += 6) {
    const code = (key >> shift) & 63;
    if (code == 0) break;
    out |= (<u64>load<u8>(cmap + <usize>code)) << shift;
  }
  return out;
}

/** Number of characters of a packed plate. */
export function keyLength(key: u64): i32 {
  let n: i32 = 0;
  while (n < MAX_LEN && ((key >> <u64>(n * 6)) & 63) != 0) n++;
  return n;
}

/** True for the placeholder plates `0`, `00`, `000`, ... that hotlist extracts carry. */
export function isJunk(key: u64): bool {
  // '0' has code 1: a junk plate is a run of 000001 sextets.
  let k = key;
  while (k != 0) {
    if ((k & 63) != 1) return false;
    k >>= 6;
  }
  return true;
}

/** Deletes the character at position i (0-based) of a packed plate. */
// @ts-ignore: decorator
@inline
export function deleteAt(key: u64, i: i32): u64 {
  const s = <u64>(i * 6);
  const low = key & ((<u64>1 << s) - 1);
  const high = key >> (s + 6);
  return low | (high << s);
}
