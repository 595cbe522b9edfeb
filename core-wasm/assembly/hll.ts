// HyperLogLog distinct count (2^14 one-byte registers, about 0.8% standard error), used once
// per build to size the fuzzy index by its distinct variants, which are known only after
// they are all inserted (about 0.6 of the variant count on generated lists). Sizing by the
// variant count instead leaves the table less than a third full: twice the memory, and
// twice the cache misses, for nothing.
const P: u32 = 14;
const M: u32 = 1 << P;
const REG = memory.data(<i32>M);

export function hllReset(): void {
  memory.fill(REG, 0, M);
}

/** Adds a well-mixed 64-bit hash. */
export function hllAdd(h: u64): void {
  const idx = <usize>(h >> <u64>(64 - P));
  // Rank of the first set bit of the remaining bits (a guard bit caps it).
  const rank = <u8>(clz((h << <u64>P) | (<u64>1 << <u64>(P - 1))) + 1);
  if (rank > load<u8>(REG + idx)) store<u8>(REG + idx, rank);
}

/** Estimated number of distinct hashes added since hllReset. */
export function hllEstimate(): u64 {
  let sum: f64 = 0;
  let zeros: u32 = 0;
  for (let i: u32 = 0; i < M; i++) {
    const r = load<u8>(REG + <usize>i);
    if (r == 0) zeros++;
    sum += 1.0 / <f64>(<u64>1 << <u64>r);
  }
  const m = <f64>M;
  let e = (0.7213 / (1.0 + 1.079 / m)) * m * m / sum;
  // Small counts: linear counting of the empty registers is the better estimate.
  if (e <= 2.5 * m && zeros > 0) e = m * Math.log(m / <f64>zeros);
  return <u64>Math.ceil(e);
}
