// Symmetric-delete neighbourhoods: the variants of a plate with up to `d` characters
// deleted. Two plates are within edit distance d only if some variant of one equals some
// variant of the other, so an index of variants finds every fuzzy candidate without
// scanning the list; each candidate is then verified with a true edit distance.
//
// A deletion inside a run of equal characters gives the same plate wherever it falls in
// the run, so only the first position of a run is deleted. At distance 2 a few duplicates
// remain (the matcher deduplicates candidates); enumerating them exactly costs more than
// it saves.
import { deleteAt } from './codec';

// A plate of at most d characters has the empty plate among its variants. Packed, that is
// 0, the tables' empty-slot marker, so it is stored as EMPTY (all sextets 63: no plate).
export const EMPTY: u64 = 0xffffffffffffffff;

// @ts-ignore: decorator
@inline
function orEmpty(v: u64): u64 {
  return v == 0 ? EMPTY : v;
}

// Up to 1 + 10 + 45 variants of a 10-character plate.
export const VARIANTS = memory.data(8 * 64);

// @ts-ignore: decorator
@inline
function charAt(key: u64, i: i32): u64 {
  return (key >> <u64>(i * 6)) & 63;
}

/** Writes the variants of `key` (length `len`) into VARIANTS; returns how many. */
export function variantsOf(key: u64, len: i32, d: i32): i32 {
  let n = 0;
  store<u64>(VARIANTS, key);
  n++;
  if (d < 1) return n;
  for (let i = 0; i < len; i++) {
    if (i > 0 && charAt(key, i) == charAt(key, i - 1)) continue;
    store<u64>(VARIANTS + (<usize>n << 3), orEmpty(deleteAt(key, i)));
    n++;
  }
  if (d < 2) return n;
  for (let j = 1; j < len; j++) {
    const once = deleteAt(key, j);
    for (let i = 0; i < j; i++) {
      if (i > 0 && charAt(key, i) == charAt(key, i - 1)) continue;
      store<u64>(VARIANTS + (<usize>n << 3), orEmpty(deleteAt(once, i)));
      n++;
    }
  }
  return n;
}
