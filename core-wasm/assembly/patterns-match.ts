// Matching reads against the attached pattern block (patterns.ts has its format):
// allocation-free; results and counters in module globals.
import { normalize, outKey, outLen, STATUS_OK } from './codec';
import { find } from './table';
import {
  QUERY_LEN, QUERY_RECORD, QUERY_STATE, RESULT_DIST, RESULT_ENTRY, RESULT_FLAGS, RESULT_POSITION, RESULT_QUERY, RESULT_RECORD, RESULT_TIER,
} from './layout';
import {
  ANCHOR_END, ANCHOR_START, INF, KIND_SHIFT, MAX_GRAM, MODE_SHIFT, OFFSET_SHIFT, POST_INDEX_MASK, POST_LEN_SHIFT, PROGRAM, TIER_PARTIAL,
  bmBit, presentBit, pBm, pBmBits, pCmap, pN, pOffs, pPost, pPresent, pProgs, pScan, pScanN, pTab, pTabBits,
} from './patterns';

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
  const r = oPtr + <usize>oCount * RESULT_RECORD;
  store<u32>(r + RESULT_QUERY, q);
  store<u32>(r + RESULT_ENTRY, load<u32>(p));
  store<u8>(r + RESULT_TIER, TIER_PARTIAL);
  store<u8>(r + RESULT_DIST, <u8>d);
  store<u8>(r + RESULT_FLAGS, 0);
  store<u8>(r + RESULT_FLAGS + 1, 0);
  store<u32>(r + RESULT_POSITION, i);
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
    const rec = input + <usize>q * QUERY_RECORD;
    const st = normalize(rec, <i32>load<u8>(rec + QUERY_LEN));
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
    const rs = load<u16>(rec + QUERY_STATE);
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
