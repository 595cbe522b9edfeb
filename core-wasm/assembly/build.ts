// Snapshot builder. The host streams entries in chunks through a staging buffer
// (addEntries), then finishBuild() lays out the whole snapshot in one allocation:
// count pass, prefix sums, fill pass, so entries end up grouped by collapsed plate
// without a sort. Runs once per hotlist version, off the hot path.
import { alloc } from './memory';
import { normalize, outKey, collapseKey, isJunk, keyLength, setClassMap, STATUS_OK, STATUS_JUNK } from './codec';
import { bloomAdd, wordFilterAdd, wordFilterWords } from './bloom';
import { mix64 } from './hash';
import { hllReset, hllAdd, hllEstimate } from './hll';
import { insertCount, countsToEnds, takeFromBack, find, SLOT } from './table';
import { variantsOf, VARIANTS } from './variants';
import {
  HEADER_BYTES, MAGIC, POSTING, TIER_FUZZY, attachAt, hset,
  H_MAGIC, H_ENTRIES, H_TAB_BITS, H_OFF_KEY, H_OFF_STATE, H_OFF_TIERS, H_OFF_ORIG, H_OFF_TAB,
  H_BLOOM_BLOCKS, H_BLOOM_K, H_OFF_BLOOM, H_FZ_BITS, H_OFF_FZ_TAB, H_OFF_FZ_POST,
  H_FZ_POSTINGS, H_MAX_DIST, H_MISMATCH_MATCH, H_OFF_CLASSMAP, H_SIZE, H_UNIQUE_KEYS,
  H_DUPLICATES, H_FZ_ENTRIES, H_FZ_UNIQUE, H_FZ_FILTER_WORDS, H_OFF_FZ_FILTER,
} from './snapshot';
import { QUERY_LEN, QUERY_RECORD, QUERY_STATE, QUERY_TAG, QUERY_TIERS } from './layout';

// Entry staging record, 32 bytes (a query record, layout.ts):
//   0..23 raw plate bytes | 24 length | 25 tier mask | 26 state u16 | 28 list id u32
export const ENTRY_RECORD: usize = QUERY_RECORD;

let cap: u32 = 0;
let added: u32 = 0;
let classIn: usize = 0;
let tKey: usize = 0;
let tState: usize = 0;
let tTiers: usize = 0;
let tList: usize = 0;
let tSlot: usize = 0;

/** Prepares to receive `n` entries; `classMap` holds 64 bytes (code -> representative). */
export function beginBuild(n: u32, classMap: usize): bool {
  cap = n;
  added = 0;
  classIn = classMap;
  setClassMap(classMap);
  const m: usize = n > 0 ? <usize>n : 1;
  tKey = alloc(m << 3);
  tState = alloc(m << 1);
  tTiers = alloc(m);
  tList = alloc(m << 2);
  tSlot = alloc(m << 2);
  return tKey != 0 && tState != 0 && tTiers != 0 && tList != 0 && tSlot != 0;
}

/** Normalizes `count` staged entries; writes one status byte each. Returns entries taken. */
export function addEntries(input: usize, count: u32, status: usize): u32 {
  let i: u32 = 0;
  for (; i < count && added < cap; i++) {
    const rec = input + <usize>i * ENTRY_RECORD;
    let st = normalize(rec, <i32>load<u8>(rec + QUERY_LEN));
    const at = <usize>added;
    store<u64>(tKey + (at << 3), 0);
    store<u8>(tTiers + at, 0);
    if (st == STATUS_OK && isJunk(outKey)) st = STATUS_JUNK;
    if (st == STATUS_OK) {
      store<u64>(tKey + (at << 3), outKey);
      store<u8>(tTiers + at, load<u8>(rec + QUERY_TIERS));
      store<u16>(tState + (at << 1), load<u16>(rec + QUERY_STATE));
      store<u32>(tList + (at << 2), load<u32>(rec + QUERY_TAG));
    }
    store<u8>(status + <usize>i, st);
    added++;
  }
  return i;
}

// Bits of the variant filter per distinct variant: about 0.5% false positives (bloom.ts).
const FZ_FILTER_BITS: u32 = 13;

function bitsFor(n: u64): u32 {
  // Smallest power of two with load factor at most 0.7.
  let bits: u32 = 4;
  while (((<u64>1 << <u64>bits) * 7) / 10 < n) bits++;
  return bits;
}

// @ts-ignore: decorator
@inline
function align(x: usize): usize {
  return (x + 63) & ~<usize>63;
}

function bloomBlocksFor(keys: u64, bitsPerKey16: u32): u32 {
  const bits = (keys * <u64>bitsPerKey16) >> 4;
  const blocks = <u32>((bits + 511) >> 9);
  return blocks > 0 ? blocks : 1;
}

/**
 * Builds the snapshot from the entries added so far. `bitsPerKey16` is the prefilter size
 * in sixteenths of a bit per key. Returns its address (0 when out of memory).
 */
export function finishBuild(bitsPerKey16: u32, k: u32, maxDist: i32, mismatchMatch: bool): usize {
  const n = added;
  let valid: u32 = 0;
  let fzCount: u32 = 0;
  let fzTotal: u64 = 0;
  hllReset();
  for (let i: u32 = 0; i < n; i++) {
    const t = load<u8>(tTiers + <usize>i);
    if (t == 0) continue;
    valid++;
    // Built at distance 0 too: with the ocr tier off, fuzzy 0 is how collapse-equal matches.
    if ((t & TIER_FUZZY) != 0) {
      fzCount++;
      const ck = collapseKey(load<u64>(tKey + (<usize>i << 3)));
      const nv = variantsOf(ck, keyLength(ck), maxDist);
      fzTotal += <u64>nv;
      for (let v = 0; v < nv; v++) hllAdd(mix64(load<u64>(VARIANTS + (<usize>v << 3))));
    }
  }
  // Distinct variants, with room for the estimate's error (5 standard errors).
  const fzDistinct: u64 = fzCount > 0 ? min(fzTotal, hllEstimate() + hllEstimate() / 25 + 64) : 0;
  const tabBits = bitsFor(<u64>valid);
  const tabCap = <u32>1 << tabBits;
  const blocks = bloomBlocksFor(<u64>valid, bitsPerKey16);
  const fzBits: u32 = fzCount > 0 ? bitsFor(fzDistinct) : 0;
  const fzCap: u32 = fzCount > 0 ? <u32>1 << fzBits : 0;
  const fzWords: u32 = fzCount > 0 && k > 0 ? wordFilterWords(fzDistinct, FZ_FILTER_BITS) : 0;

  let off: usize = HEADER_BYTES;
  const oClass = off; off = align(off + 64);
  const oKey = off; off = align(off + (<usize>valid << 3));
  const oState = off; off = align(off + (<usize>valid << 1));
  const oTiers = off; off = align(off + <usize>valid);
  const oOrig = off; off = align(off + (<usize>valid << 2));
  const oTab = off; off = align(off + <usize>tabCap * SLOT);
  const oBloom = off; off = align(off + (<usize>blocks << 6));
  const oFzTab = off; off = align(off + <usize>fzCap * SLOT);
  const oFzPost = off; off = align(off + <usize>fzTotal * POSTING);
  const oFzFilter = off; off = align(off + (<usize>fzWords << 3));
  const size = off;
  const b = alloc(size);
  if (b == 0) return 0;

  memory.copy(b + oClass, classIn, 64);
  const eKey = b + oKey, eState = b + oState, eTiers = b + oTiers, eOrig = b + oOrig;
  const tab = b + oTab;

  // Count pass: one slot per collapsed plate; remember each entry's slot.
  for (let i: u32 = 0; i < n; i++) {
    if (load<u8>(tTiers + <usize>i) == 0) continue;
    const ck = collapseKey(load<u64>(tKey + (<usize>i << 3)));
    store<u32>(tSlot + (<usize>i << 2), <u32>(insertCount(tab, tabBits, ck) - tab));
  }
  countsToEnds(tab, tabCap);
  // Fill pass, backwards, so each group keeps the entries' input order.
  for (let i = <i32>n - 1; i >= 0; i--) {
    const at = <usize>i;
    if (load<u8>(tTiers + at) == 0) continue;
    const pos = <usize>takeFromBack(tab + <usize>load<u32>(tSlot + (at << 2)));
    store<u64>(eKey + (pos << 3), load<u64>(tKey + (at << 3)));
    store<u16>(eState + (pos << 1), load<u16>(tState + (at << 1)));
    store<u8>(eTiers + pos, load<u8>(tTiers + at));
    store<u32>(eOrig + (pos << 2), <u32>i);
  }
  // tSlot is free after the fill pass: reuse it as position -> list id.
  const list = tSlot;
  for (let pos: u32 = 0; pos < valid; pos++) {
    const orig = load<u32>(eOrig + (<usize>pos << 2));
    store<u32>(list + (<usize>pos << 2), load<u32>(tList + (<usize>orig << 2)));
  }

  // Merge duplicates (same plate, state and list) into the first; mark the rest tier 0.
  let dups: u32 = 0;
  let unique: u32 = 0;
  for (let s: u32 = 0; s < tabCap; s++) {
    const p = tab + <usize>s * SLOT;
    const k0 = load<u64>(p);
    if (k0 == 0) continue;
    unique++;
    bloomAdd(b + oBloom, blocks, k, k0);
    const lo = load<u32>(p, 8);
    const hi = lo + load<u32>(p, 12);
    for (let a = lo; a < hi; a++) {
      if (load<u8>(eTiers + <usize>a) == 0) continue;
      for (let c = a + 1; c < hi; c++) {
        if (load<u8>(eTiers + <usize>c) == 0) continue;
        if (load<u64>(eKey + (<usize>a << 3)) == load<u64>(eKey + (<usize>c << 3)) &&
            load<u16>(eState + (<usize>a << 1)) == load<u16>(eState + (<usize>c << 1)) &&
            load<u32>(list + (<usize>a << 2)) == load<u32>(list + (<usize>c << 2))) {
          store<u8>(eTiers + <usize>c, 0);
          dups++;
        }
      }
    }
  }

  // Fuzzy index over the deletion variants of the collapsed plates. A posting carries the
  // entry's collapsed plate, tiers and state, so verifying a candidate touches no other
  // array (each would be one more cache miss per candidate on a big list).
  let fzEntries: u32 = 0;
  let fzUnique: u32 = 0;
  let fzPostings: u32 = 0;
  if (fzBits > 0) {
    const ft = b + oFzTab, fp = b + oFzPost;
    for (let pos: u32 = 0; pos < valid; pos++) {
      if ((load<u8>(eTiers + <usize>pos) & TIER_FUZZY) == 0) continue;
      fzEntries++;
      const ck = collapseKey(load<u64>(eKey + (<usize>pos << 3)));
      const nv = variantsOf(ck, keyLength(ck), maxDist);
      for (let v = 0; v < nv; v++) insertCount(ft, fzBits, load<u64>(VARIANTS + (<usize>v << 3)));
    }
    fzPostings = countsToEnds(ft, fzCap);
    for (let p = <i32>valid - 1; p >= 0; p--) {
      const pos = <u32>p;
      const t = load<u8>(eTiers + <usize>pos);
      if ((t & TIER_FUZZY) == 0) continue;
      const ck = collapseKey(load<u64>(eKey + (<usize>pos << 3)));
      const nv = variantsOf(ck, keyLength(ck), maxDist);
      for (let v = nv - 1; v >= 0; v--) {
        const slot = find(ft, fzBits, load<u64>(VARIANTS + (<usize>v << 3)));
        const rec = fp + <usize>takeFromBack(slot) * POSTING;
        store<u64>(rec, ck);
        store<u32>(rec, pos, 8);
        store<u8>(rec, t, 12);
        store<u16>(rec, load<u16>(eState + (<usize>pos << 1)), 14);
      }
    }
    for (let s: u32 = 0; s < fzCap; s++) {
      const vk = load<u64>(ft + <usize>s * SLOT);
      if (vk == 0) continue;
      fzUnique++;
      if (fzWords > 0) wordFilterAdd(b + oFzFilter, fzWords, mix64(vk));
    }
  }

  hset(b, H_MAGIC, MAGIC);
  hset(b, H_ENTRIES, valid);
  hset(b, H_TAB_BITS, tabBits);
  hset(b, H_OFF_CLASSMAP, <u32>oClass);
  hset(b, H_OFF_KEY, <u32>oKey);
  hset(b, H_OFF_STATE, <u32>oState);
  hset(b, H_OFF_TIERS, <u32>oTiers);
  hset(b, H_OFF_ORIG, <u32>oOrig);
  hset(b, H_OFF_TAB, <u32>oTab);
  hset(b, H_BLOOM_BLOCKS, blocks);
  hset(b, H_BLOOM_K, k);
  hset(b, H_OFF_BLOOM, <u32>oBloom);
  hset(b, H_FZ_BITS, fzBits);
  hset(b, H_OFF_FZ_TAB, <u32>oFzTab);
  hset(b, H_OFF_FZ_POST, <u32>oFzPost);
  hset(b, H_FZ_POSTINGS, fzPostings);
  hset(b, H_FZ_FILTER_WORDS, fzWords);
  hset(b, H_OFF_FZ_FILTER, <u32>oFzFilter);
  hset(b, H_MAX_DIST, <u32>maxDist);
  hset(b, H_MISMATCH_MATCH, mismatchMatch ? 1 : 0);
  hset(b, H_SIZE, <u32>size);
  hset(b, H_UNIQUE_KEYS, unique);
  hset(b, H_DUPLICATES, dups);
  hset(b, H_FZ_ENTRIES, fzEntries);
  hset(b, H_FZ_UNIQUE, fzUnique);
  attachAt(b);
  setClassMap(b + oClass);
  return b;
}
