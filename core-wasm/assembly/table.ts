// Open-addressing hash table from a packed key to a group of postings, linear probing.
//
//   keys:  u64[cap]     0 = empty slot (no packed plate is 0)
//   start: u32[cap + 1] postings of slot s are [start[s], start[s + 1])
//
// Postings are laid out in slot order, so start[] doubles as the end of the previous
// slot's group and no count array is kept. Build: insert() counting into start[], then
// finishCounts() turns counts into starts and fill() places each posting.
import { mix64 } from './hash';

// @ts-ignore: decorator
@inline
function home(key: u64, bits: u32): u32 {
  return <u32>(mix64(key) >> <u64>(64 - bits));
}

/** Slot of `key`, or -1. */
export function find(keys: usize, bits: u32, key: u64): i32 {
  const mask: u32 = (<u32>1 << bits) - 1;
  let s = home(key, bits);
  while (true) {
    const k = load<u64>(keys + (<usize>s << 3));
    if (k == key) return <i32>s;
    if (k == 0) return -1;
    s = (s + 1) & mask;
  }
  return -1;
}

/** Slot of `key`, inserting it when absent; counts one posting into start[]. */
export function insertCount(keys: usize, start: usize, bits: u32, key: u64): u32 {
  const mask: u32 = (<u32>1 << bits) - 1;
  let s = home(key, bits);
  while (true) {
    const p = keys + (<usize>s << 3);
    const k = load<u64>(p);
    if (k == 0) {
      store<u64>(p, key);
      break;
    }
    if (k == key) break;
    s = (s + 1) & mask;
  }
  const c = start + (<usize>s << 2);
  store<u32>(c, load<u32>(c) + 1);
  return s;
}

/** Turns per-slot counts into end cursors (inclusive prefix sums). */
export function countsToEnds(start: usize, cap: u32): void {
  let sum: u32 = 0;
  for (let s: u32 = 0; s < cap; s++) {
    const p = start + (<usize>s << 2);
    sum += load<u32>(p);
    store<u32>(p, sum);
  }
  store<u32>(start + (<usize>cap << 2), sum);
}

/** Takes the next position of slot s, filling its group from the back. */
// @ts-ignore: decorator
@inline
export function takeFromBack(start: usize, s: u32): u32 {
  const p = start + (<usize>s << 2);
  const v = load<u32>(p) - 1;
  store<u32>(p, v);
  return v;
}
