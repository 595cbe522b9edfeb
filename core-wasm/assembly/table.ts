// Open-addressing hash table from a packed key to a group of postings, linear probing.
// One 16-byte slot holds everything a lookup needs, so a hit costs one cache miss:
//
//   slot: +0 key u64 (0 = empty; no packed plate is 0) | +8 start u32 | +12 count u32
//
// Postings live in a separate array in slot order. Build: insertCount() for every
// posting, countsToEnds() turns counts into end cursors, takeFromBack() places each
// posting (leaving start at the group's first posting).
import { mix64 } from './hash';

export const SLOT: usize = 16;

// @ts-ignore: decorator
@inline
export function home(key: u64, bits: u32): u32 {
  return <u32>(mix64(key) >> <u64>(64 - bits));
}

/** Address of the slot of `key`, or 0. */
export function find(slots: usize, bits: u32, key: u64): usize {
  const mask: u32 = (<u32>1 << bits) - 1;
  let s = home(key, bits);
  while (true) {
    const p = slots + <usize>s * SLOT;
    const k = load<u64>(p);
    if (k == key) return p;
    if (k == 0) return 0;
    s = (s + 1) & mask;
  }
  return 0;
}

/** Continues a lookup whose home slot `s` held another key. */
export function findFrom(slots: usize, bits: u32, key: u64, s: u32): usize {
  const mask: u32 = (<u32>1 << bits) - 1;
  while (true) {
    s = (s + 1) & mask;
    const p = slots + <usize>s * SLOT;
    const k = load<u64>(p);
    if (k == key) return p;
    if (k == 0) return 0;
  }
  return 0;
}

/** Inserts `key` when absent and counts one posting for it; returns its slot address. */
export function insertCount(slots: usize, bits: u32, key: u64): usize {
  const mask: u32 = (<u32>1 << bits) - 1;
  let s = home(key, bits);
  while (true) {
    const p = slots + <usize>s * SLOT;
    const k = load<u64>(p);
    if (k == 0) {
      store<u64>(p, key);
      store<u32>(p, 1, 12);
      return p;
    }
    if (k == key) {
      store<u32>(p, load<u32>(p, 12) + 1, 12);
      return p;
    }
    s = (s + 1) & mask;
  }
  return 0;
}

/** Sets each slot's start to the end of its group (prefix sums of counts); returns the total. */
export function countsToEnds(slots: usize, cap: u32): u32 {
  let sum: u32 = 0;
  for (let s: u32 = 0; s < cap; s++) {
    const p = slots + <usize>s * SLOT;
    sum += load<u32>(p, 12);
    store<u32>(p, sum, 8);
  }
  return sum;
}

/** Takes the next posting position of the slot at `p`, filling its group from the back. */
// @ts-ignore: decorator
@inline
export function takeFromBack(p: usize): u32 {
  const v = load<u32>(p, 8) - 1;
  store<u32>(p, v, 8);
  return v;
}
