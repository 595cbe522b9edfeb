// Hashing of packed plates: the murmur3 64-bit finalizer, which spreads every input bit
// over the whole word; table slots take the high bits, filters take a second mix.

// @ts-ignore: decorator
@inline
export function mix64(x: u64): u64 {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccd;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53;
  x ^= x >> 33;
  return x;
}

// @ts-ignore: decorator
@inline
export function mixB(x: u64): u64 {
  return mix64(x ^ 0x9e3779b97f4a7c15);
}
