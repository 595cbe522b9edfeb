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

// Register-blocked Bloom filter (one 64-bit word per key, WORD_K bits set in it) for the
// fuzzy index's variants. A read looks up about eight variants, most absent: a check is one
// load and a compare, with no loop and no branch to mispredict, which is what the 512-bit
// blocks above cannot offer. It takes the hash the table lookup computes anyway (mix64).
const WORD_K = 4;

// @ts-ignore: decorator
@inline
function wordMask(h: u64): u64 {
  const g = h * 0x9e3779b97f4a7c15;
  return (<u64>1 << (g >> 58)) | (<u64>1 << ((g >> 52) & 63)) | (<u64>1 << ((g >> 46) & 63)) | (<u64>1 << ((g >> 40) & 63));
}

// @ts-ignore: decorator
@inline
function wordOf(h: u64, words: u32): usize {
  return <usize>(((h & 0xffffffff) * <u64>words) >> 32) << 3;
}

/** Words of a word filter for `keys` keys at `bitsPerKey` bits each (WORD_K = 4 suits 8-16). */
export function wordFilterWords(keys: u64, bitsPerKey: u32): u32 {
  const words = <u32>((keys * <u64>bitsPerKey + 63) >> 6);
  return words > 0 ? words : 1;
}

export function wordFilterAdd(bits: usize, words: u32, h: u64): void {
  const w = bits + wordOf(h, words);
  store<u64>(w, load<u64>(w) | wordMask(h));
}

// @ts-ignore: decorator
@inline
export function wordFilterHas(bits: usize, words: u32, h: u64): bool {
  const m = wordMask(h);
  return (load<u64>(bits + wordOf(h, words)) & m) == m;
}
