// The hot path: one call matches a whole batch of reads laid out by the host.
//
//   input record, 32 bytes per query (a read's plate or one of its OCR candidates):
//   +------------------------------+--------+------+----------+----------------+
//   | raw plate bytes (Latin-1) 24 | len u8 | -    | state u16| host tag u32   |
//   +------------------------------+--------+------+----------+----------------+
//   0                              24       25     26         28               32
//
//   status: u8 per query (STATUS_* in codec.ts)
//
//   result record, 16 bytes per (query, entry) hit:
//   +------------+--------------+---------+---------+----------+----+----------------+
//   | query u32  | entry u32    | tier u8 | dist u8 | flags u8 | -  | position u32   |
//   +------------+--------------+---------+---------+----------+----+----------------+
//   0            4              8         9         10         11   12               16
//
// Nothing is allocated and nothing throws: bad plates get a status, the host dead-letters.
import { normalize, outKey, outCKey, outLen, collapseKey, STATUS_OK } from './codec';
import { bloomHas, wordFilterHas } from './bloom';
import { mix64 } from './hash';
import { find, findFrom, home, SLOT } from './table';
import { variantsOf, VARIANTS } from './variants';
import { boundedDistance } from './distance';
import {
  POSTING, TIER_EXACT, TIER_OCR, TIER_FUZZY, nEntries, entryKey, entryState, entryTiers,
  entryOrig, tabBits, tab, bloom, bloomBlocks, bloomK, fzBits, fzTab, fzPost, fzFilter, fzFilterWords, maxDist,
  mismatchMatch,
} from './snapshot';

export const QUERY_RECORD: usize = 32;
export const RESULT_RECORD: usize = 16;
export const FLAG_STATE_MISMATCH: u8 = 1;

/** Index of the first query not (fully) processed by the last matchBatch call. */
export let resumeAt: u32 = 0;
/** 1 when the last call stopped at a query whose hits alone overflow the result buffer. */
export let overflow: u32 = 0;

// Fuzzy candidates already emitted for the current query.
const SEEN = memory.data(4 * 256);
const SEEN_CAP: i32 = 256;

/** Fuzzy candidates verified with an edit distance, since the instance started. */
export let fuzzyVerified: u64 = 0;
/** Variant lookups that passed the prefilter. */
export let fuzzyProbes: u64 = 0;

let outPtr: usize = 0;
let outCap: u32 = 0;
let outCount: u32 = 0;

// @ts-ignore: decorator
@inline
function emit(q: u32, pos: u32, tier: u8, dist: u8, flags: u8): bool {
  if (outCount >= outCap) return false;
  const r = outPtr + <usize>outCount * RESULT_RECORD;
  store<u32>(r, q);
  store<u32>(r, load<u32>(entryOrig + (<usize>pos << 2)), 4);
  store<u8>(r, tier, 8);
  store<u8>(r, dist, 9);
  store<u8>(r, flags, 10);
  store<u32>(r, pos, 12);
  outCount++;
  return true;
}

// 0 compatible, 1 compatible with a state mismatch, 2 incompatible.
// @ts-ignore: decorator
@inline
function stateCheck(readState: u16, pos: u32): u8 {
  const es = load<u16>(entryState + (<usize>pos << 1));
  if (es == 0 || readState == 0 || es == readState) return 0;
  return mismatchMatch ? 1 : 2;
}

// Home slots of the current query's variants, looked up together (see matchFuzzy).
const HOME = memory.data(8 * 64);
const FOUND = memory.data(8 * 64);
let touchSink: u64 = 0;
// Posting ranges of the variants that are in the index: start u32, end u32.
const RANGE = memory.data(8 * 64);

// Low bit of each of the 10 sextets of a packed plate.
const SEXTET_LOW: u64 = 0x0041041041041041;

/** Number of positions at which two packed plates of the same length differ. */
// @ts-ignore: decorator
@inline
function hamming(a: u64, b: u64): i32 {
  let x = a ^ b;
  x |= x >> 1;
  x |= x >> 2;
  x |= x >> 2;
  return <i32>popcnt(x & SEXTET_LOW);
}

/**
 * Edit distance of a fuzzy candidate that shares a deletion variant with the query (or
 * maxDist + 1). Plates of equal length are within one edit only by a substitution, which the
 * Hamming distance counts; at maxDist 1, plates whose lengths differ can share a variant only
 * when one is the other with one character deleted, so they are at distance 1 by
 * construction. The dynamic program runs only for the rest (maxDist 2).
 */
// @ts-ignore: decorator
@inline
function candidateDistance(ck: u64, len: i32, eck: u64): i32 {
  // Characters of a packed plate from its highest set bit (its last sextet is not 0).
  const same = (<i32>(64 - clz(eck)) + 5) / 6 == len;
  if (same) {
    const h = hamming(ck, eck);
    if (h <= 1 || maxDist == 1) return h;
  } else if (maxDist == 1) {
    return 1;
  }
  return boundedDistance(ck, eck, maxDist);
}

/**
 * Fuzzy tier of one query: looks up every deletion variant of its collapsed plate and
 * verifies each candidate entry. Memory latency dominates on a big list, so the loads are
 * issued in waves whose cache misses overlap instead of queueing one behind the other: the
 * variants' home slots first, then the first posting of each variant found, then the
 * candidates themselves, which by then mostly resolve from cache. Returns false when the
 * result buffer filled up.
 */
function matchFuzzy(q: u32, key: u64, ck: u64, rs: u16): bool {
  const len = outLen;
  const nv = variantsOf(ck, len, maxDist);
  // Most variants of a read are in no entry's neighbourhood: the variant filter (a byte per
  // posting, cache-resident on lists of a few hundred thousand entries) keeps them off the
  // table. No filter (prefilter off): every variant goes to the table.
  let nf = 0;
  for (let v = 0; v < nv; v++) {
    const vk = load<u64>(VARIANTS + (<usize>v << 3));
    const mixed = mix64(vk);
    if (fzFilterWords != 0 && !wordFilterHas(fzFilter, fzFilterWords, mixed)) continue;
    const h = <u32>(mixed >> <u64>(64 - fzBits));
    store<u64>(VARIANTS + (<usize>nf << 3), vk);
    store<u32>(HOME + (<usize>nf << 2), h);
    store<u64>(FOUND + (<usize>nf << 3), load<u64>(fzTab + <usize>h * SLOT));
    nf++;
  }
  let nr = 0;
  let touch: u64 = 0;
  for (let v = 0; v < nf; v++) {
    const vk = load<u64>(VARIANTS + (<usize>v << 3));
    const first = load<u64>(FOUND + (<usize>v << 3));
    if (first == 0) continue;
    fuzzyProbes++;
    const h = load<u32>(HOME + (<usize>v << 2));
    const p = first == vk ? fzTab + <usize>h * SLOT : findFrom(fzTab, fzBits, vk, h);
    if (p == 0) continue;
    const lo = load<u32>(p, 8);
    store<u32>(RANGE + (<usize>nr << 3), lo);
    store<u32>(RANGE + (<usize>nr << 3), lo + load<u32>(p, 12), 4);
    nr++;
    // Start the miss on the variant's postings now; the value itself is not needed.
    touch |= load<u64>(fzPost + <usize>lo * POSTING);
  }
  touchSink = touch; // keeps the wave of loads from being optimized away
  let seen = 0;
  for (let r = 0; r < nr; r++) {
    const lo = load<u32>(RANGE + (<usize>r << 3));
    const hi = load<u32>(RANGE + (<usize>r << 3), 4);
    for (let i = lo; i < hi; i++) {
      const rec = fzPost + <usize>i * POSTING;
      const t = load<u8>(rec, 12);
      if ((t & TIER_FUZZY) == 0) continue;
      const eck = load<u64>(rec);
      const pos = load<u32>(rec, 8);
      // Found by the exact/ocr pass already.
      if (eck == ck && ((t & TIER_OCR) != 0 || ((t & TIER_EXACT) != 0 && load<u64>(entryKey + (<usize>pos << 3)) == key))) continue;
      fuzzyVerified++;
      const d = eck == ck ? 0 : candidateDistance(ck, len, eck);
      if (d > maxDist) continue;
      const es = load<u16>(rec, 14);
      let flags: u8 = 0;
      if (es != 0 && rs != 0 && es != rs) {
        if (!mismatchMatch) continue;
        flags = FLAG_STATE_MISMATCH;
      }
      let dup = false;
      for (let j = 0; j < seen; j++) {
        if (load<u32>(SEEN + (<usize>j << 2)) == pos) { dup = true; break; }
      }
      if (dup) continue;
      if (seen < SEEN_CAP) { store<u32>(SEEN + (<usize>seen << 2), pos); seen++; }
      if (!emit(q, pos, TIER_FUZZY, <u8>d, flags)) return false;
    }
  }
  return true;
}

/** Matches queries [start, n); returns the number of result records written. */
export function matchBatch(input: usize, n: u32, start: u32, status: usize, out: usize, cap: u32): u32 {
  outPtr = out;
  outCap = cap;
  outCount = 0;
  resumeAt = n;
  overflow = 0;
  if (nEntries == 0) {
    for (let q = start; q < n; q++) {
      const rec = input + <usize>q * QUERY_RECORD;
      store<u8>(status + <usize>q, normalize(rec, <i32>load<u8>(rec + 24)));
    }
    return 0;
  }
  for (let q = start; q < n; q++) {
    const rec = input + <usize>q * QUERY_RECORD;
    const st = normalize(rec, <i32>load<u8>(rec + 24));
    store<u8>(status + <usize>q, st);
    if (st != STATUS_OK) continue;
    const key = outKey;
    const ck = outCKey;
    const rs = load<u16>(rec + 26);
    const mark = outCount;
    let full = false;

    if (bloomHas(bloom, bloomBlocks, bloomK, ck)) {
      const p = find(tab, tabBits, ck);
      if (p != 0) {
        const lo = load<u32>(p, 8);
        const hi = lo + load<u32>(p, 12);
        for (let pos = lo; pos < hi; pos++) {
          const t = load<u8>(entryTiers + <usize>pos);
          if (t == 0) continue;
          const sc = stateCheck(rs, pos);
          if (sc == 2) continue;
          let tier: u8 = 0;
          if ((t & TIER_EXACT) != 0 && load<u64>(entryKey + (<usize>pos << 3)) == key) tier = TIER_EXACT;
          else if ((t & TIER_OCR) != 0) tier = TIER_OCR;
          else continue;
          if (!emit(q, pos, tier, 0, sc)) { full = true; break; }
        }
      }
    }

    if (!full && fzBits != 0) full = !matchFuzzy(q, key, ck, rs);

    if (full) {
      // Drop this query's partial hits; the host drains the buffer (or, when this query
      // alone overflows it, allocates a bigger one) and calls again from this query.
      outCount = mark;
      resumeAt = q;
      if (mark == 0) overflow = 1;
      return outCount;
    }
  }
  return outCount;
}

/** Empty-call baseline: crosses the boundary with a batch and does no work. */
export function emptyBatch(input: usize, n: u32): u32 {
  return n + <u32>(input & 0);
}

let probeNegatives: u32 = 0;

/** Queries `samples` random 7-character plates absent from the list; returns how many the prefilter passed. */
export function prefilterProbe(samples: u32, seed: u64): u32 {
  let x: u64 = seed | 1;
  let fp: u32 = 0;
  probeNegatives = 0;
  for (let i: u32 = 0; i < samples; i++) {
    let key: u64 = 0;
    for (let c = 0; c < 7; c++) {
      x ^= x << 13; x ^= x >> 7; x ^= x << 17;
      key |= (<u64>(1 + <u32>((x >> 32) % 36))) << <u64>(c * 6);
    }
    const ck = collapseKey(key);
    if (nEntries > 0 && find(tab, tabBits, ck) != 0) continue;
    probeNegatives++;
    if (bloomHas(bloom, bloomBlocks, bloomK, ck)) fp++;
  }
  return fp;
}

export function getProbeNegatives(): u32 {
  return probeNegatives;
}
