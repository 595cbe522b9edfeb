// Partial-plate patterns (`7AB?12?`, `*X4K*`, `[8B]RT*`): a fragment index verified by a
// glob matcher over character codes. The host parses a pattern into a fixed 176-byte
// program (matcher/core/patterns.ts); the core indexes every program under ONE literal
// fragment (its rarest 4-gram, else trigram, bigram, single character; anchored to the
// start or end of the plate where no `*` precedes or follows it) and, per read, looks
// up the read's own fragments, so a read verifies only the few programs that share one.
// Programs with no literal at all (`[AB]?[12]*`) sit on a scan list verified for every read.
//
//   program, 176 bytes (host-packed; the core fills omask):
//   +-----------+----------+--------+----------+--------------+------------+----+
//   | entry u32 | state u16| ntok u8| flags u8 | starMask u32 | litMask u16| -  |
//   +-----------+----------+--------+----------+--------------+------------+----+
//   0           4          6        7          8              12           14   16
//   | token[0]: mask u64 (bit c = code c accepted) | omask u64 (codes accepted via OCR) |
//   | ... token[ntok-1]; 10 token slots, 16 bytes each                                  |
//   +-------------------------------------------------------------------------+ 176
//   flags bit 0: OCR-aware literals. starMask bit i: a `*` before token i (bit ntok: a
//   trailing `*`). litMask bit i: token i is a literal (one code, indexable).
//
//   pattern block (position-independent, like the hotlist snapshot):
//   +-----------------------+ base
//   | header u32[32]        |  P_* fields below
//   | class map u8[64]      |  code -> OCR representative code
//   | programs [n] 176 B    |  in the host's order: result `position` = program index
//   | table slots [1<<bits] |  16 B: fragment key u64, start u32, count u32 (table.ts)
//   | postings u32[m]       |  index | ntok << 27 | no-star << 31, grouped by fragment
//   | bitmap u8[1<<bm>>3]   |  one bit per hashed fragment key: skips most absent lookups
//   | scan u32[s]           |  programs without any literal
//   +-----------------------+ base + P_SIZE
//
//   fragment key (u32): codes c0 | c1 << 6 | c2 << 12 | c3 << 18 (1 to 4 codes, length
//   implied as in a packed plate) | kind << 24 (1: codes OCR-collapsed, for OCR-aware
//   programs) | anchor << 25 (0 floating, 1 from the start, 2 from the end) | offset << 27 (the
//   fragment's read position counted from that end; programs with no `*` before, or
//   after, the fragment fix it, and such keys are far more selective).
//
// matchPatterns reads the same 32-byte query records as matchBatch and writes the same
// 16-byte result records (tier TIER_PARTIAL, dist = literals matched only through OCR
// equivalence, position = program index), with its own resume/overflow globals.
//
// This file holds the block's format and attaches a block; patterns-build.ts builds one and
// patterns-match.ts matches reads against the attached one.
import { setClassMap } from './codec';
import { base as hotlistBase } from './snapshot';

export const PATTERN_MAGIC: u32 = 0x50535031; // 'PSP1'
export const PROGRAM: usize = 176;
export const MAX_TOKENS: i32 = 10;
export const TIER_PARTIAL: u8 = 8;
export const FLAG_OCR: u8 = 1;
export const PSTATUS_OK: u8 = 0;
export const PSTATUS_BAD: u8 = 1;

export const P_HEADER: usize = 128;
export const P_MAGIC = 0;
export const P_COUNT = 1;
export const P_SIZE = 2;
export const P_OFF_CLASSMAP = 3;
export const P_OFF_PROGS = 4;
export const P_TAB_BITS = 5;
export const P_OFF_TAB = 6;
export const P_OFF_POST = 7;
export const P_BM_BITS = 8;
export const P_OFF_BM = 9;
export const P_SCAN = 10;
export const P_OFF_SCAN = 11;
export const P_PRESENT = 12;
export const P_N_TRI = 13;
export const P_N_BI = 14;
export const P_N_UNI = 15;
export const P_KEYS = 16;
// P_OFFS + kind * 4 + L - 1: offsets of anchored fragments in the index, bit o (0..15)
// from the start, bit 16 + o from the end; a read checks only those positions.
export const P_OFFS = 17; // 8 fields, 17..24
export const P_N_QUAD = 25;

// Codes 1..36 (bit 0 and bits above 36 never set in a mask).
export const VALID_CODES: u64 = ((<u64>1 << 37) - 1) & ~(<u64>1);
export const KIND_SHIFT: u32 = 24;
export const MODE_SHIFT: u32 = 25;
export const OFFSET_SHIFT: u32 = 27;
export const MAX_GRAM: i32 = 4;
// Posting: program index (27 bits) | ntok << 27 | 1 << 31 when the program has no `*`.
export const POST_LEN_SHIFT: u32 = 27;
export const POST_INDEX_MASK: u32 = (<u32>1 << POST_LEN_SHIFT) - 1;
export const ANCHOR_FLOAT: u32 = 0;
export const ANCHOR_START: u32 = 1;
export const ANCHOR_END: u32 = 2;
export const INF: i32 = 255;

// @ts-ignore: decorator
@inline
export function hget(b: usize, f: i32): u32 {
  return load<u32>(b + (<usize>f << 2));
}

// @ts-ignore: decorator
@inline
export function hset(b: usize, f: i32, v: u32): void {
  store<u32>(b + (<usize>f << 2), v);
}

// @ts-ignore: decorator
@inline
export function align(x: usize): usize {
  return (x + 63) & ~<usize>63;
}

export function bitsForKeys(n: u32): u32 {
  let bits: u32 = 4;
  while (((<u64>1 << <u64>bits) * 7) / 10 < <u64>n) bits++;
  return bits;
}


// Bitmap bit of a fragment key: Fibonacci hashing, one multiply (the bitmap is checked
// for every fragment of every read; the table's full mix runs only on the rare pass).
// @ts-ignore: decorator
@inline
export function bmBit(key: u32, bits: u32): u32 {
  return (key * 0x9e3779b1) >> (32 - bits);
}

// Bit of P_PRESENT for fragments of length L (1..3): presentBit(kind, mode) + L.
// @ts-ignore: decorator
@inline
export function presentBit(kind: u32, mode: u32): u32 {
  return (kind * 3 + mode) * 5;
}

// ---------------------------------------------------------------------------------------
// Attached block, resolved to absolute pointers.

export let pBase: usize = 0;
export let pN: u32 = 0;
export let pCmap: usize = 0;
export let pProgs: usize = 0;
export let pTabBits: u32 = 0;
export let pTab: usize = 0;
export let pPost: usize = 0;
export let pBmBits: u32 = 0;
export let pBm: usize = 0;
export let pScanN: u32 = 0;
export let pScan: usize = 0;
export let pPresent: u32 = 0;
export let pOffs: usize = 0;

/** Points the pattern matcher at the block at `b` (copied from another instance, or just built). */
export function attachPatterns(b: usize): bool {
  if (hget(b, P_MAGIC) != PATTERN_MAGIC) return false;
  pBase = b;
  pN = hget(b, P_COUNT);
  pCmap = b + hget(b, P_OFF_CLASSMAP);
  pProgs = b + hget(b, P_OFF_PROGS);
  pTabBits = hget(b, P_TAB_BITS);
  pTab = b + hget(b, P_OFF_TAB);
  pPost = b + hget(b, P_OFF_POST);
  pBmBits = hget(b, P_BM_BITS);
  pBm = b + hget(b, P_OFF_BM);
  pScanN = hget(b, P_SCAN);
  pScan = b + hget(b, P_OFF_SCAN);
  pPresent = hget(b, P_PRESENT);
  pOffs = b + (<usize>P_OFFS << 2);
  // normalize() needs the codec's character table; a hotlist snapshot sets it (with the
  // same classes) when one is attached, otherwise the block's own map does.
  if (hotlistBase == 0) setClassMap(pCmap);
  return true;
}

export function patternsSize(b: usize): u32 {
  return hget(b, P_SIZE);
}
