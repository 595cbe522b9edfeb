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
import { alloc } from './memory';
import { normalize, outKey, outLen, setClassMap, STATUS_OK } from './codec';
import { insertCount, countsToEnds, takeFromBack, find, SLOT } from './table';
import { base as hotlistBase } from './snapshot';

export const PATTERN_MAGIC: u32 = 0x50535031; // 'PSP1'
export const PROGRAM: usize = 176;
export const MAX_TOKENS: i32 = 10;
export const TIER_PARTIAL: u8 = 8;
export const FLAG_OCR: u8 = 1;
export const PSTATUS_OK: u8 = 0;
export const PSTATUS_BAD: u8 = 1;

const P_HEADER: usize = 128;
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
const VALID_CODES: u64 = ((<u64>1 << 37) - 1) & ~(<u64>1);
const KIND_SHIFT: u32 = 24;
const MODE_SHIFT: u32 = 25;
const OFFSET_SHIFT: u32 = 27;
const MAX_GRAM: i32 = 4;
// Posting: program index (27 bits) | ntok << 27 | 1 << 31 when the program has no `*`.
const POST_LEN_SHIFT: u32 = 27;
const POST_INDEX_MASK: u32 = (<u32>1 << POST_LEN_SHIFT) - 1;
const ANCHOR_FLOAT: u32 = 0;
const ANCHOR_START: u32 = 1;
const ANCHOR_END: u32 = 2;
const INF: i32 = 255;

// @ts-ignore: decorator
@inline
function hget(b: usize, f: i32): u32 {
  return load<u32>(b + (<usize>f << 2));
}

// @ts-ignore: decorator
@inline
function hset(b: usize, f: i32, v: u32): void {
  store<u32>(b + (<usize>f << 2), v);
}

// @ts-ignore: decorator
@inline
function align(x: usize): usize {
  return (x + 63) & ~<usize>63;
}

function bitsForKeys(n: u32): u32 {
  let bits: u32 = 4;
  while (((<u64>1 << <u64>bits) * 7) / 10 < <u64>n) bits++;
  return bits;
}

// ---------------------------------------------------------------------------------------
// Build (once per pattern set, off the hot path; temporaries are never freed, as in build.ts)

let bCap: u32 = 0;
let bAdded: u32 = 0;
let bProgs: usize = 0;
const BMAP = memory.data(64);

/** Prepares to receive `n` programs; `classMap` holds 64 bytes (code -> representative). */
export function beginPatterns(n: u32, classMap: usize): bool {
  if (n > POST_INDEX_MASK) return false;
  bCap = n;
  bAdded = 0;
  memory.copy(BMAP, classMap, 64);
  bProgs = alloc((n > 0 ? <usize>n : 1) * PROGRAM);
  return bProgs != 0;
}

function validProgram(p: usize): bool {
  const ntok = <i32>load<u8>(p, 6);
  if (ntok < 1 || ntok > MAX_TOKENS) return false;
  const star = load<u32>(p, 8);
  if ((star >> <u32>(ntok + 1)) != 0) return false;
  const lit = <u32>load<u16>(p, 12);
  if ((lit >> <u32>ntok) != 0) return false;
  for (let i = 0; i < ntok; i++) {
    const m = load<u64>(p + 16 + (<usize>i << 4));
    if (m == 0 || (m & ~VALID_CODES) != 0) return false;
    if (((lit >> <u32>i) & 1) != 0 && popcnt<u64>(m) != 1) return false;
  }
  return true;
}

/** Copies `count` host-packed programs; one status byte each (0 ok, 1 malformed). Returns programs taken. */
export function addPatterns(input: usize, count: u32, status: usize): u32 {
  let i: u32 = 0;
  for (; i < count && bAdded < bCap; i++) {
    const src = input + <usize>i * PROGRAM;
    const dst = bProgs + <usize>bAdded * PROGRAM;
    memory.copy(dst, src, PROGRAM);
    let st = PSTATUS_OK;
    if (!validProgram(dst)) {
      st = PSTATUS_BAD;
      store<u8>(dst, 0, 6); // ntok 0: never matches
    } else {
      // OCR-aware literals: every code of the literal's class, exact code excluded.
      const ocr = (load<u8>(dst, 7) & FLAG_OCR) != 0;
      const ntok = <i32>load<u8>(dst, 6);
      const lit = <u32>load<u16>(dst, 12);
      for (let t = 0; t < ntok; t++) {
        const tp = dst + 16 + (<usize>t << 4);
        let om: u64 = 0;
        if (ocr && ((lit >> <u32>t) & 1) != 0) {
          const c = <u32>ctz<u64>(load<u64>(tp));
          const rep = load<u8>(BMAP + <usize>c);
          for (let k: u32 = 1; k <= 36; k++) {
            if (k != c && load<u8>(BMAP + <usize>k) == rep) om |= <u64>1 << <u64>k;
          }
        }
        store<u64>(tp, om, 8);
      }
    }
    store<u8>(status + <usize>i, st);
    bAdded++;
  }
  return i;
}

// Candidate fragments of one program (longest available length only), into CAND.
const CAND = memory.data(4 * 16);
const OFFS = memory.data(4 * 8);

function candidates(p: usize, cmap: usize): i32 {
  const ntok = <i32>load<u8>(p, 6);
  const star = load<u32>(p, 8);
  const lit = <u32>load<u16>(p, 12);
  const ocr = (load<u8>(p, 7) & FLAG_OCR) != 0;
  for (let L = MAX_GRAM; L >= 1; L--) {
    let nc = 0;
    for (let i = 0; i + L <= ntok; i++) {
      let key: u32 = 0;
      let ok = true;
      for (let j = 0; j < L; j++) {
        const t = i + j;
        if (((lit >> <u32>t) & 1) == 0 || (j > 0 && ((star >> <u32>t) & 1) != 0)) { ok = false; break; }
        let c = <u32>ctz<u64>(load<u64>(p + 16 + (<usize>t << 4)));
        if (ocr) c = <u32>load<u8>(cmap + <usize>c);
        key |= c << <u32>(j * 6);
      }
      if (!ok) continue;
      if (ocr) key |= <u32>1 << KIND_SHIFT;
      // Anchor: no `*` up to the fragment fixes its read position from the start; none
      // after it, from the end. Anchored keys are far more selective than floating ones.
      if ((star & ((<u32>2 << <u32>i) - 1)) == 0) key |= (ANCHOR_START << MODE_SHIFT) | (<u32>i << OFFSET_SHIFT);
      else if ((star >> <u32>(i + L)) == 0) key |= (ANCHOR_END << MODE_SHIFT) | (<u32>(ntok - i - L) << OFFSET_SHIFT);
      store<u32>(CAND + (<usize>nc << 2), key);
      nc++;
    }
    if (nc > 0) return nc;
  }
  return 0;
}

// @ts-ignore: decorator
@inline
function gramLen(key: u32): i32 {
  const k = key & 0xffffff;
  return k >= (<u32>1 << 18) ? 4 : k >= (<u32>1 << 12) ? 3 : k >= (<u32>1 << 6) ? 2 : 1;
}

// Bitmap bit of a fragment key: Fibonacci hashing, one multiply (the bitmap is checked
// for every fragment of every read; the table's full mix runs only on the rare pass).
// @ts-ignore: decorator
@inline
function bmBit(key: u32, bits: u32): u32 {
  return (key * 0x9e3779b1) >> (32 - bits);
}

// Bit of P_PRESENT for fragments of length L (1..3): presentBit(kind, mode) + L.
// @ts-ignore: decorator
@inline
function presentBit(kind: u32, mode: u32): u32 {
  return (kind * 3 + mode) * 5;
}

/** Lays out the pattern block, attaches it and returns its base (0: out of memory). */
export function finishPatterns(): usize {
  const n = bAdded;
  // 1. How many programs offer each candidate fragment (so each picks its rarest).
  const cBits = bitsForKeys(n * 10 + 1);
  const cTab = alloc(<usize>SLOT << cBits);
  const chosen = alloc((n > 0 ? <usize>n : 1) << 2);
  if (cTab == 0 || chosen == 0) return 0;
  memory.fill(cTab, 0, <usize>SLOT << cBits);
  for (let i: u32 = 0; i < n; i++) {
    const nc = candidates(bProgs + <usize>i * PROGRAM, BMAP);
    for (let c = 0; c < nc; c++) insertCount(cTab, cBits, <u64>load<u32>(CAND + (<usize>c << 2)));
  }
  let nIndexed: u32 = 0;
  let nScan: u32 = 0;
  let nQuad: u32 = 0, nTri: u32 = 0, nBi: u32 = 0, nUni: u32 = 0;
  let present: u32 = 0;
  memory.fill(OFFS, 0, 32);
  for (let i: u32 = 0; i < n; i++) {
    const p = bProgs + <usize>i * PROGRAM;
    const nc = candidates(p, BMAP);
    let best: u32 = 0;
    let bestCount: u32 = 0xffffffff;
    for (let c = 0; c < nc; c++) {
      const k = load<u32>(CAND + (<usize>c << 2));
      const cnt = load<u32>(find(cTab, cBits, <u64>k), 12);
      if (cnt < bestCount) { bestCount = cnt; best = k; }
    }
    store<u32>(chosen + (<usize>i << 2), best);
    if (load<u8>(p, 6) == 0) continue; // malformed program: neither indexed nor scanned
    if (best == 0) { nScan++; continue; }
    nIndexed++;
    const L = gramLen(best);
    if (L == 4) nQuad++; else if (L == 3) nTri++; else if (L == 2) nBi++; else nUni++;
    present |= <u32>1 << (presentBit((best >> KIND_SHIFT) & 1, (best >> MODE_SHIFT) & 3) + <u32>L);
    const mode = (best >> MODE_SHIFT) & 3;
    if (mode != ANCHOR_FLOAT) {
      const f = OFFS + (<usize>(((best >> KIND_SHIFT) & 1) * 4 + <u32>L - 1) << 2);
      store<u32>(f, load<u32>(f) | (<u32>1 << ((best >> OFFSET_SHIFT) + (mode == ANCHOR_END ? 16 : 0))));
    }
  }
  // 2. Sizes and one allocation for the whole block.
  const tabBits = bitsForKeys(nIndexed > 0 ? nIndexed : 1);
  let bmBits: u32 = 10;
  while ((<u64>1 << <u64>bmBits) < <u64>nIndexed * 16 && bmBits < 24) bmBits++;
  const offMap = P_HEADER;
  const offProgs = align(offMap + 64);
  const offTab = align(offProgs + <usize>n * PROGRAM);
  const offPost = align(offTab + (<usize>SLOT << tabBits));
  const offBm = align(offPost + (<usize>nIndexed << 2));
  const offScan = align(offBm + ((<usize>1 << bmBits) >> 3));
  const size = align(offScan + (<usize>nScan << 2));
  const b = alloc(size);
  if (b == 0) return 0;
  memory.fill(b, 0, size);
  hset(b, P_MAGIC, PATTERN_MAGIC);
  hset(b, P_COUNT, n);
  hset(b, P_SIZE, <u32>size);
  hset(b, P_OFF_CLASSMAP, <u32>offMap);
  hset(b, P_OFF_PROGS, <u32>offProgs);
  hset(b, P_TAB_BITS, tabBits);
  hset(b, P_OFF_TAB, <u32>offTab);
  hset(b, P_OFF_POST, <u32>offPost);
  hset(b, P_BM_BITS, bmBits);
  hset(b, P_OFF_BM, <u32>offBm);
  hset(b, P_SCAN, nScan);
  hset(b, P_OFF_SCAN, <u32>offScan);
  hset(b, P_PRESENT, present);
  hset(b, P_N_TRI, nTri);
  hset(b, P_N_BI, nBi);
  hset(b, P_N_UNI, nUni);
  hset(b, P_N_QUAD, nQuad);
  memory.copy(b + (<usize>P_OFFS << 2), OFFS, 32);
  memory.copy(b + offMap, BMAP, 64);
  memory.copy(b + offProgs, bProgs, <usize>n * PROGRAM);
  // 3. Fragment table (count, prefix sums, fill from the back), bitmap and scan list.
  const tb = b + offTab;
  const bm = b + offBm;
  let keys: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const k = load<u32>(chosen + (<usize>i << 2));
    if (k == 0 || load<u8>(bProgs + <usize>i * PROGRAM, 6) == 0) continue;
    const s = insertCount(tb, tabBits, <u64>k);
    if (load<u32>(s, 12) == 1) keys++;
    const bit = bmBit(k, bmBits);
    const w = bm + <usize>(bit >> 3);
    store<u8>(w, <u8>(<u32>load<u8>(w) | (<u32>1 << <u32>(bit & 7))));
  }
  hset(b, P_KEYS, keys);
  countsToEnds(tb, <u32>1 << tabBits);
  const post = b + offPost;
  const scan = b + offScan;
  let si: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const k = load<u32>(chosen + (<usize>i << 2));
    if (load<u8>(bProgs + <usize>i * PROGRAM, 6) == 0) continue;
    if (k == 0) {
      store<u32>(scan + (<usize>si << 2), i);
      si++;
      continue;
    }
    const at = takeFromBack(find(tb, tabBits, <u64>k));
    const pp = bProgs + <usize>i * PROGRAM;
    const fixed: u32 = load<u32>(pp, 8) == 0 ? 1 : 0;
    store<u32>(post + (<usize>at << 2), i | (<u32>load<u8>(pp, 6) << POST_LEN_SHIFT) | (fixed << 31));
  }
  attachPatterns(b);
  return b;
}

// ---------------------------------------------------------------------------------------
// Attached block, resolved to absolute pointers.

let pBase: usize = 0;
let pN: u32 = 0;
let pCmap: usize = 0;
let pProgs: usize = 0;
let pTabBits: u32 = 0;
let pTab: usize = 0;
let pPost: usize = 0;
let pBmBits: u32 = 0;
let pBm: usize = 0;
let pScanN: u32 = 0;
let pScan: usize = 0;
let pPresent: u32 = 0;
let pOffs: usize = 0;

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

// ---------------------------------------------------------------------------------------
// Matching: allocation-free; results and counters in module globals.

/** Index of the first query not (fully) processed by the last matchPatterns call. */
export let patResumeAt: u32 = 0;
/** 1 when the last call stopped at a query whose pattern hits alone overflow the buffer. */
export let patOverflow: u32 = 0;
/** Programs verified since the instance started (index quality: verifications per read). */
export let patVerified: u64 = 0;

let oPtr: usize = 0;
let oCap: u32 = 0;
let oCount: u32 = 0;

const RC = memory.data(16); // the read's codes
const RCC = memory.data(16); // the read's codes, OCR-collapsed
const DP = memory.data(16);
const SEEN = memory.data(4 * 16); // fragment keys already looked up for this read

/**
 * Literal characters matched only through OCR equivalence when the program at `p` matches
 * a read of `len` codes (in RC), or INF when it does not. `*` runs make it a small dynamic
 * program over (token, read position) keeping the fewest OCR substitutions.
 */
function verify(p: usize, len: i32): i32 {
  const ntok = <i32>load<u8>(p, 6);
  const star = load<u32>(p, 8);
  if (star == 0) {
    if (len != ntok) return INF;
    let d = 0;
    for (let t = 0; t < ntok; t++) {
      const tp = p + 16 + (<usize>t << 4);
      const bit = <u64>1 << <u64>load<u8>(RC + <usize>t);
      if ((load<u64>(tp) & bit) != 0) continue;
      if ((load<u64>(tp, 8) & bit) == 0) return INF;
      d++;
    }
    return d;
  }
  if (len < ntok) return INF;
  // dp[j]: fewest OCR literals matching tokens so far against the first j codes.
  store<u8>(DP, 0);
  for (let j = 1; j <= len; j++) store<u8>(DP + <usize>j, <u8>INF);
  for (let t = 0; t < ntok; t++) {
    if (((star >> <u32>t) & 1) != 0) {
      let m = <i32>load<u8>(DP);
      for (let j = 1; j <= len; j++) {
        const v = <i32>load<u8>(DP + <usize>j);
        if (v < m) m = v; else store<u8>(DP + <usize>j, <u8>m);
      }
    }
    const tp = p + 16 + (<usize>t << 4);
    const mask = load<u64>(tp);
    const omask = load<u64>(tp, 8);
    let any = false;
    for (let j = len; j >= 1; j--) {
      const prev = <i32>load<u8>(DP + <usize>(j - 1));
      let v = INF;
      if (prev < INF) {
        const bit = <u64>1 << <u64>load<u8>(RC + <usize>(j - 1));
        if ((mask & bit) != 0) v = prev;
        else if ((omask & bit) != 0) v = prev + 1;
      }
      if (v < INF) any = true;
      store<u8>(DP + <usize>j, <u8>v);
    }
    store<u8>(DP, <u8>INF);
    if (!any) return INF;
  }
  if (((star >> <u32>ntok) & 1) != 0) {
    let m = INF;
    for (let j = 0; j <= len; j++) {
      const v = <i32>load<u8>(DP + <usize>j);
      if (v < m) m = v;
    }
    return m;
  }
  return <i32>load<u8>(DP + <usize>len);
}

/** Verifies program `i` for query `q`; false only when the result buffer is full. */
function tryProgram(q: u32, i: u32, len: i32, rs: u16): bool {
  const p = pProgs + <usize>i * PROGRAM;
  const ps = load<u16>(p, 4);
  if (ps != 0 && rs != 0 && ps != rs) return true;
  patVerified++;
  const d = verify(p, len);
  if (d >= INF) return true;
  if (oCount >= oCap) return false;
  const r = oPtr + <usize>oCount * 16;
  store<u32>(r, q);
  store<u32>(r, load<u32>(p), 4);
  store<u8>(r, TIER_PARTIAL, 8);
  store<u8>(r, <u8>d, 9);
  store<u8>(r, 0, 10);
  store<u8>(r, 0, 11);
  store<u32>(r, i, 12);
  oCount++;
  return true;
}

/** Verifies the programs filed under fragment `key`, when any. */
function lookup(q: u32, key: u32, len: i32, rs: u16): bool {
  const sl = find(pTab, pTabBits, <u64>key);
  if (sl == 0) return true;
  const lo = load<u32>(sl, 8);
  const hi = lo + load<u32>(sl, 12);
  for (let x = lo; x < hi; x++) {
    // The posting's length bits reject most candidates without touching their program.
    const e = load<u32>(pPost + (<usize>x << 2));
    const ntok = <i32>((e >> POST_LEN_SHIFT) & 15);
    if (len < ntok || ((e >> 31) != 0 && len != ntok)) continue;
    if (!tryProgram(q, e & POST_INDEX_MASK, len, rs)) return false;
  }
  return true;
}

/**
 * Looks up the read's fragments of length L over `codes` (kind 0 exact, 1 collapsed) under
 * each anchor the index holds (`modes`: bit 0 floating, 1 from the start, 2 from the end).
 */
function probe(q: u32, codes: usize, len: i32, L: i32, kind: u32, modes: u32, rs: u16): bool {
  let seen = 0;
  const offs = load<u32>(pOffs + (<usize>(kind * 4 + <u32>L - 1) << 2));
  const bmBits = pBmBits;
  for (let s = 0; s + L <= len; s++) {
    let gram: u32 = kind << KIND_SHIFT;
    for (let j = 0; j < L; j++) gram |= (<u32>load<u8>(codes + <usize>(s + j))) << <u32>(j * 6);
    if ((modes & 1) != 0) {
      const bit = bmBit(gram, bmBits);
      if (((<u32>load<u8>(pBm + <usize>(bit >> 3)) >> (bit & 7)) & 1) != 0) {
        // A floating fragment repeated in the read is looked up once (each program is
        // filed under one key). Anchored keys differ by position, so never repeat.
        let dup = false;
        for (let k = 0; k < seen; k++) {
          if (load<u32>(SEEN + (<usize>k << 2)) == gram) { dup = true; break; }
        }
        if (!dup) {
          store<u32>(SEEN + (<usize>seen << 2), gram);
          seen++;
          if (!lookup(q, gram, len, rs)) return false;
        }
      }
    }
    if ((modes & 2) != 0 && ((offs >> <u32>s) & 1) != 0) {
      const key = gram | (ANCHOR_START << MODE_SHIFT) | (<u32>s << OFFSET_SHIFT);
      const bit = bmBit(key, bmBits);
      if (((<u32>load<u8>(pBm + <usize>(bit >> 3)) >> (bit & 7)) & 1) != 0 && !lookup(q, key, len, rs)) return false;
    }
    if ((modes & 4) != 0 && ((offs >> <u32>(16 + len - s - L)) & 1) != 0) {
      const key = gram | (ANCHOR_END << MODE_SHIFT) | (<u32>(len - s - L) << OFFSET_SHIFT);
      const bit = bmBit(key, bmBits);
      if (((<u32>load<u8>(pBm + <usize>(bit >> 3)) >> (bit & 7)) & 1) != 0 && !lookup(q, key, len, rs)) return false;
    }
  }
  return true;
}

/**
 * Matches queries [start, n) (32-byte records, as matchBatch) against the attached
 * patterns; returns the number of 16-byte result records written to `out` (at most `cap`).
 * Writes each query's status byte (the same value matchBatch writes), so it can run alone
 * or right after matchBatch on the same batch. On a full buffer the query's hits are
 * dropped, getPatternResumeAt() names it, and getPatternOverflow() is 1 when it alone
 * overflowed an empty buffer (the host grows the buffer and calls again from there).
 */
export function matchPatterns(input: usize, n: u32, start: u32, status: usize, out: usize, cap: u32): u32 {
  oPtr = out;
  oCap = cap;
  oCount = 0;
  patResumeAt = n;
  patOverflow = 0;
  for (let q = start; q < n; q++) {
    const rec = input + <usize>q * 32;
    const st = normalize(rec, <i32>load<u8>(rec + 24));
    store<u8>(status + <usize>q, st);
    if (st != STATUS_OK || pN == 0) continue;
    const len = outLen;
    let key = outKey;
    const cmap = pCmap;
    for (let j = 0; j < len; j++) {
      const c = <u8>(key & 63);
      store<u8>(RC + <usize>j, c);
      store<u8>(RCC + <usize>j, load<u8>(cmap + <usize>c));
      key >>= 6;
    }
    const rs = load<u16>(rec + 26);
    const mark = oCount;
    let full = false;
    for (let s: u32 = 0; s < pScanN; s++) {
      if (!tryProgram(q, load<u32>(pScan + (<usize>s << 2)), len, rs)) { full = true; break; }
    }
    const present = pPresent;
    for (let kind: u32 = 0; kind < 2 && !full; kind++) {
      const codes = kind == 0 ? RC : RCC;
      for (let L = MAX_GRAM; L >= 1; L--) {
        let modes: u32 = 0;
        for (let mode: u32 = 0; mode < 3; mode++) modes |= ((present >> (presentBit(kind, mode) + <u32>L)) & 1) << mode;
        if (modes == 0) continue;
        if (!probe(q, codes, len, L, kind, modes, rs)) { full = true; break; }
      }
    }
    if (full) {
      oCount = mark;
      patResumeAt = q;
      if (mark == 0) patOverflow = 1;
      return oCount;
    }
  }
  return oCount;
}
