// Cache-line-blocked Bloom filter: a key picks one 64-byte block and sets k bits inside
// it, so a lookup touches one cache line whatever k is. The block index uses
// multiply-shift range reduction, so the filter need not be a power of two in size.
import { mixB } from './hash';

// @ts-ignore: decorator
@inline
function blockOf(h: u64, blocks: u32): usize {
  return <usize>(((h & 0xffffffff) * <u64>blocks) >> 32) << 6;
}

export function bloomAdd(bits: usize, blocks: u32, k: u32, key: u64): void {
  const h = mixB(key);
  const block = bits + blockOf(h, blocks);
  let g = h >> 32 | (h << 32);
  g = g * 0x9e3779b97f4a7c15;
  for (let j: u32 = 0; j < k; j++) {
    const bit = <u32>(g >> <u64>(j * 9)) & 511;
    const w = block + (<usize>(bit >> 6) << 3);
    store<u64>(w, load<u64>(w) | (<u64>1 << <u64>(bit & 63)));
  }
}

export function bloomHas(bits: usize, blocks: u32, k: u32, key: u64): bool {
  const h = mixB(key);
  const block = bits + blockOf(h, blocks);
  let g = h >> 32 | (h << 32);
  g = g * 0x9e3779b97f4a7c15;
  for (let j: u32 = 0; j < k; j++) {
    const bit = <u32>(g >> <u64>(j * 9)) & 511;
    if ((load<u64>(block + (<usize>(bit >> 6) << 3)) & (<u64>1 << <u64>(bit & 63))) == 0) return false;
  }
  return true;
}
