// The compiled hotlist is one position-independent block of linear memory: a header of
// u32 fields (offsets relative to the block) followed by the arrays. A worker copies the
// block anywhere into its own instance and calls attach(); nothing is recompiled.
//
//   +----------------------+ base
//   | header  u32[32]      |  H_* fields below
//   | class map u8[64]     |  code -> OCR representative code
//   | entryKey  u64[n]     |  entries grouped by OCR-collapsed plate (table order)
//   | entryState u16[n]    |  0 = no state
//   | entryTiers u8[n]     |  bit 0 exact, 1 ocr, 2 fuzzy; 0 = merged duplicate
//   | entryOrig u32[n]     |  index of the entry in the host's list
//   | table slots[cap]     |  16 bytes: collapsed plate u64, start u32, count u32 (table.ts)
//   | bloom    u8[64*b]    |  blocked Bloom filter over the collapsed plates
//   | fuzzy index          |  optional: deletion variants of collapsed plates
//   |   slots[fcap]        |  16 bytes each, as above
//   |   postings[m]        |  16 bytes: entry's collapsed plate u64, position u32, tiers u8,
//   |                      |  -, state u16
//   |   filter u64[w]      |  Bloom filter over the variants, one word per key (bloom.ts);
//   |                      |  w = 0 when the prefilter is off
//   +----------------------+ base + H_SIZE

export const MAGIC: u32 = 0x50534e32; // 'PSN2' (2: postings carry the state, variant filter)
export const HEADER_BYTES: usize = 128;
export const POSTING: usize = 16;

export const H_MAGIC = 0;
export const H_ENTRIES = 1;
export const H_TAB_BITS = 2;
export const H_OFF_KEY = 3;
export const H_OFF_STATE = 4;
export const H_OFF_TIERS = 5;
export const H_OFF_ORIG = 6;
export const H_OFF_TAB = 7;
export const H_BLOOM_BLOCKS = 8;
export const H_BLOOM_K = 9;
export const H_OFF_BLOOM = 10;
export const H_FZ_BITS = 11;
export const H_OFF_FZ_TAB = 12;
export const H_OFF_FZ_POST = 13;
export const H_FZ_POSTINGS = 14;
export const H_MAX_DIST = 15;
export const H_MISMATCH_MATCH = 16;
export const H_OFF_CLASSMAP = 17;
export const H_SIZE = 18;
export const H_UNIQUE_KEYS = 19;
export const H_DUPLICATES = 20;
export const H_FZ_ENTRIES = 21;
export const H_FZ_UNIQUE = 22;
export const H_FZ_FILTER_WORDS = 23;
export const H_OFF_FZ_FILTER = 24;

export const TIER_EXACT: u8 = 1;
export const TIER_OCR: u8 = 2;
export const TIER_FUZZY: u8 = 4;

// Attached snapshot, resolved to absolute pointers once so the hot loop reads plain globals.
export let base: usize = 0;
export let nEntries: u32 = 0;
export let entryKey: usize = 0;
export let entryState: usize = 0;
export let entryTiers: usize = 0;
export let entryOrig: usize = 0;
export let tabBits: u32 = 0;
export let tab: usize = 0;
export let bloomBlocks: u32 = 0;
export let bloomK: u32 = 0;
export let bloom: usize = 0;
export let fzBits: u32 = 0;
export let fzTab: usize = 0;
export let fzPost: usize = 0;
export let fzFilterWords: u32 = 0;
export let fzFilter: usize = 0;
export let maxDist: i32 = 0;
export let mismatchMatch: bool = false;

// @ts-ignore: decorator
@inline
export function hget(b: usize, field: i32): u32 {
  return load<u32>(b + (<usize>field << 2));
}

// @ts-ignore: decorator
@inline
export function hset(b: usize, field: i32, v: u32): void {
  store<u32>(b + (<usize>field << 2), v);
}

/** Points the matcher at the snapshot at `b`; returns false when it is not one. */
export function attachAt(b: usize): bool {
  if (hget(b, H_MAGIC) != MAGIC) return false;
  base = b;
  nEntries = hget(b, H_ENTRIES);
  tabBits = hget(b, H_TAB_BITS);
  entryKey = b + hget(b, H_OFF_KEY);
  entryState = b + hget(b, H_OFF_STATE);
  entryTiers = b + hget(b, H_OFF_TIERS);
  entryOrig = b + hget(b, H_OFF_ORIG);
  tab = b + hget(b, H_OFF_TAB);
  bloomBlocks = hget(b, H_BLOOM_BLOCKS);
  bloomK = hget(b, H_BLOOM_K);
  bloom = b + hget(b, H_OFF_BLOOM);
  fzBits = hget(b, H_FZ_BITS);
  fzTab = b + hget(b, H_OFF_FZ_TAB);
  fzPost = b + hget(b, H_OFF_FZ_POST);
  fzFilterWords = hget(b, H_FZ_FILTER_WORDS);
  fzFilter = b + hget(b, H_OFF_FZ_FILTER);
  maxDist = <i32>hget(b, H_MAX_DIST);
  mismatchMatch = hget(b, H_MISMATCH_MATCH) != 0;
  return true;
}
