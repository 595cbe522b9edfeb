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
import {
  FLAG_STATE_MISMATCH, QUERY_LEN, QUERY_RECORD, QUERY_STATE, RESULT_DIST, RESULT_ENTRY, RESULT_FLAGS,
  RESULT_POSITION, RESULT_QUERY, RESULT_RECORD, RESULT_TIER,
} from './layout';

/** Index of the first query not (fully) processed by the last matchBatch call. */
export let resumeAt: u32 = 0;
/** 1 when the last call stopped at a query whose hits alone overflow the result buffer. */
export let overflow: u32 = 0;

/** Fuzzy candidates verified (distance, state), since the instance started. */
export let fuzzyVerified: u64 = 0;
/** Variants that passed the variant filter and found an occupied home slot. */
export let fuzzyProbes: u64 = 0;

let outPtr: usize = 0;
let outCap: u32 = 0;
let outCount: u32 = 0;

// @ts-ignore: decorator
@inline
function emit(q: u32, pos: u32, tier: u8, dist: u8, flags: u8): bool {
  if (outCount >= outCap) return false;
  const r = outPtr + <usize>outCount * RESULT_RECORD;
  store<u32>(r + RESULT_QUERY, q);
  store<u32>(r + RESULT_ENTRY, load<u32>(entryOrig + (<usize>pos << 2)));
  store<u8>(r + RESULT_TIER, tier);
  store<u8>(r + RESULT_DIST, dist);
  store<u8>(r + RESULT_FLAGS, flags);
  store<u32>(r + RESULT_POSITION, pos);
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

// Queries are matched in groups of GROUP, in three passes, so that the cache misses of a
// whole group overlap instead of queueing behind one another (memory latency, not
// arithmetic, bounds the fuzzy tier on a big list):
//   1. normalize each query, check the prefilters, and load the home slots of its exact/ocr
//      key and of the fuzzy variants that pass the variant filter;
//   2. resolve each variant to its posting range and load the range's first posting;
//   3. in query order, emit exact/ocr hits, verify fuzzy candidates, load their entries'
//      input indexes together, then emit.
// Passes 1 and 2 only read and fill these scratch arrays (and the status bytes), so a
// group that stops in pass 3 (result buffer full) is simply redone from that query.
const GROUP: i32 = 8;
const VSLOTS: i32 = 64; // variants of one query: 1 + 10 + 45 at distance 2
const Q_KEY = memory.data(8 * GROUP);
const Q_CK = memory.data(8 * GROUP);
const Q_LEN = memory.data(4 * GROUP);
const Q_STATUS = memory.data(GROUP);
const Q_EXACT = memory.data(GROUP); // 1: passed the prefilter
const Q_NV = memory.data(4 * GROUP); // variants that passed the variant filter
const Q_NR = memory.data(4 * GROUP); // of which are in the index
const G_VARIANT = memory.data(8 * VSLOTS * GROUP);
const G_HOME = memory.data(4 * VSLOTS * GROUP);
const G_FOUND = memory.data(8 * VSLOTS * GROUP);
const G_RANGE = memory.data(8 * VSLOTS * GROUP); // posting range: start u32, end u32
// Candidates of the current query that passed verification: position u32, distance u8, flags u8.
const CAND = memory.data(8 * 256);

let touchSink: u64 = 0;

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
 * Pass 1 of the fuzzy tier for group slot g: the deletion variants of the collapsed plate,
 * kept with their home slot numbers when the variant filter passes them (most variants of a
 * read are in no entry's neighbourhood). No filter (prefilter off): all are kept.
 */
function fuzzyVariants(g: i32, ck: u64, len: i32): i32 {
  const nv = variantsOf(ck, len, maxDist);
  const vs = G_VARIANT + <usize>(g * VSLOTS) * 8;
  const hs = G_HOME + <usize>(g * VSLOTS) * 4;
  let nf = 0;
  for (let v = 0; v < nv; v++) {
    const vk = load<u64>(VARIANTS + (<usize>v << 3));
    const mixed = mix64(vk);
    if (fzFilterWords != 0 && !wordFilterHas(fzFilter, fzFilterWords, mixed)) continue;
    const h = <u32>(mixed >> <u64>(64 - fzBits));
    store<u64>(vs + (<usize>nf << 3), vk);
    store<u32>(hs + (<usize>nf << 2), h);
    nf++;
  }
  return nf;
}

/** Pass 2 for group slot g: posting ranges of the variants in the index, first postings loaded. */
function fuzzyRanges(g: i32, nf: i32): i32 {
  const vs = G_VARIANT + <usize>(g * VSLOTS) * 8;
  const hs = G_HOME + <usize>(g * VSLOTS) * 4;
  const fs = G_FOUND + <usize>(g * VSLOTS) * 8;
  const rs = G_RANGE + <usize>(g * VSLOTS) * 8;
  let nr = 0;
  let touch: u64 = 0;
  for (let v = 0; v < nf; v++) {
    const first = load<u64>(fs + (<usize>v << 3));
    if (first == 0) continue;
    fuzzyProbes++;
    const vk = load<u64>(vs + (<usize>v << 3));
    const h = load<u32>(hs + (<usize>v << 2));
    const p = first == vk ? fzTab + <usize>h * SLOT : findFrom(fzTab, fzBits, vk, h);
    if (p == 0) continue;
    const lo = load<u32>(p, 8);
    store<u32>(rs + (<usize>nr << 3), lo);
    store<u32>(rs + (<usize>nr << 3), lo + load<u32>(p, 12), 4);
    nr++;
    // Start the miss on the variant's postings now; the value itself is not needed.
    touch |= load<u64>(fzPost + <usize>lo * POSTING);
  }
  touchSink += touch; // keeps the loads from being optimized away
  return nr;
}

/**
 * Pass 3 of the fuzzy tier for group slot g (query q): verifies every candidate of the
 * posting ranges, then emits the survivors. Returns false when the result buffer filled up.
 */
function fuzzyEmit(g: i32, q: u32, key: u64, ck: u64, len: i32, rs: u16): bool {
  const ranges = G_RANGE + <usize>(g * VSLOTS) * 8;
  const nr = load<i32>(Q_NR + (<usize>g << 2));
  let nc = 0;
  let flushed = 0;
  let touch: u64 = 0;
  for (let r = 0; r < nr; r++) {
    const lo = load<u32>(ranges + (<usize>r << 3));
    const hi = load<u32>(ranges + (<usize>r << 3), 4);
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
      // One entry can share several variants with the query: keep its first sighting.
      let dup = false;
      for (let j = 0; j < nc; j++) {
        if (load<u32>(CAND + (<usize>j << 3)) == pos) { dup = true; break; }
      }
      if (dup) continue;
      if (nc == 256) {
        // More candidates than CAND holds (dense lists at distance 2): emit the held ones,
        // then the rest as they come, so hits keep the order they were found in.
        if (flushed < nc) {
          if (!emitHeld(q, flushed, nc)) return false;
          flushed = nc;
        }
        if (!emit(q, pos, TIER_FUZZY, <u8>d, flags)) return false;
        continue;
      }
      const c = CAND + (<usize>nc << 3);
      store<u32>(c, pos);
      store<u8>(c, <u8>d, 4);
      store<u8>(c, flags, 5);
      nc++;
      touch |= <u64>load<u32>(entryOrig + (<usize>pos << 2));
    }
  }
  touchSink += touch;
  return flushed < nc ? emitHeld(q, flushed, nc) : true;
}

/** Emits the held candidates [from, to) of CAND. */
function emitHeld(q: u32, from: i32, to: i32): bool {
  for (let j = from; j < to; j++) {
    const c = CAND + (<usize>j << 3);
    if (!emit(q, load<u32>(c), TIER_FUZZY, load<u8>(c, 4), load<u8>(c, 5))) return false;
  }
  return true;
}

/** Exact and ocr hits of a query whose collapsed plate passed the prefilter. */
function exactEmit(q: u32, key: u64, ck: u64, rs: u16): bool {
  const p = find(tab, tabBits, ck);
  if (p == 0) return true;
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
    if (!emit(q, pos, tier, 0, sc)) return false;
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
      store<u8>(status + <usize>q, normalize(rec, <i32>load<u8>(rec + QUERY_LEN)));
    }
    return 0;
  }
  const fuzzy = fzBits != 0;
  for (let g0 = start; g0 < n; g0 += <u32>GROUP) {
    const gn = <i32>min(<u32>GROUP, n - g0);
    // Pass 1.
    let touch: u64 = 0;
    for (let g = 0; g < gn; g++) {
      const rec = input + <usize>(g0 + <u32>g) * QUERY_RECORD;
      const st = normalize(rec, <i32>load<u8>(rec + QUERY_LEN));
      store<u8>(status + <usize>(g0 + <u32>g), st);
      store<u8>(Q_STATUS + <usize>g, st);
      if (st != STATUS_OK) continue;
      const ck = outCKey;
      const len = outLen;
      store<u64>(Q_KEY + (<usize>g << 3), outKey);
      store<u64>(Q_CK + (<usize>g << 3), ck);
      store<i32>(Q_LEN + (<usize>g << 2), len);
      const pass = bloomHas(bloom, bloomBlocks, bloomK, ck);
      store<u8>(Q_EXACT + <usize>g, pass ? 1 : 0);
      if (pass) touch |= load<u64>(tab + <usize>home(ck, tabBits) * SLOT);
      store<i32>(Q_NV + (<usize>g << 2), fuzzy ? fuzzyVariants(g, ck, len) : 0);
    }
    touchSink += touch;
    // The home slots of the group's variants, loaded in a loop that does nothing else, so
    // that as many of these misses as the core can track are in flight at once.
    if (fuzzy) {
      for (let g = 0; g < gn; g++) {
        if (load<u8>(Q_STATUS + <usize>g) != STATUS_OK) continue;
        const nv = load<i32>(Q_NV + (<usize>g << 2));
        const hs = G_HOME + <usize>(g * VSLOTS) * 4;
        const fs = G_FOUND + <usize>(g * VSLOTS) * 8;
        for (let v = 0; v < nv; v++) store<u64>(fs + (<usize>v << 3), load<u64>(fzTab + <usize>load<u32>(hs + (<usize>v << 2)) * SLOT));
      }
    }
    // Pass 2.
    if (fuzzy) {
      for (let g = 0; g < gn; g++) {
        const nv = load<u8>(Q_STATUS + <usize>g) == STATUS_OK ? load<i32>(Q_NV + (<usize>g << 2)) : 0;
        store<i32>(Q_NR + (<usize>g << 2), nv > 0 ? fuzzyRanges(g, nv) : 0);
      }
    }
    // Pass 3.
    for (let g = 0; g < gn; g++) {
      if (load<u8>(Q_STATUS + <usize>g) != STATUS_OK) continue;
      const q = g0 + <u32>g;
      const key = load<u64>(Q_KEY + (<usize>g << 3));
      const ck = load<u64>(Q_CK + (<usize>g << 3));
      const rs = load<u16>(input + <usize>q * QUERY_RECORD + QUERY_STATE);
      const mark = outCount;
      let ok = load<u8>(Q_EXACT + <usize>g) == 0 || exactEmit(q, key, ck, rs);
      if (ok && fuzzy) ok = fuzzyEmit(g, q, key, ck, load<i32>(Q_LEN + (<usize>g << 2)), rs);
      if (!ok) {
        // Drop this query's partial hits; the host drains the buffer (or, when this query
        // alone overflows it, allocates a bigger one) and calls again from this query.
        outCount = mark;
        resumeAt = q;
        if (mark == 0) overflow = 1;
        return outCount;
      }
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
