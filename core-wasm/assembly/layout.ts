// The records the host and the core both read and write: the batch ABI of match.ts and
// patterns.ts (query and result records, docs/architecture.md "The batch ABI") and the
// entry staging record of build.ts. The host's copy is matcher/core/layout.ts: index.ts
// exports these (and reads.ts's item and message records) as globals, and the host checks
// its copy against them when it instantiates the module.

/** Bytes of a query record (a read's plate or a candidate): raw plate bytes first. */
export const QUERY_RECORD: usize = 32;
/** Longest raw plate (separators included) that fits a query record. */
export const RAW_PLATE_CAPACITY: u32 = 24;
/** u8: the raw plate's length. */
export const QUERY_LEN: usize = 24;
/** u8: tier mask (entry staging records only). */
export const QUERY_TIERS: usize = 25;
/** u16: state code (0 none). */
export const QUERY_STATE: usize = 26;
/** u32: host tag (entry staging records: the list id). */
export const QUERY_TAG: usize = 28;

/** Bytes of a result record, one per (query, entry) hit. */
export const RESULT_RECORD: usize = 16;
/** u32: the query's index in the batch. */
export const RESULT_QUERY: usize = 0;
/** u32: the entry's index in the host's list. */
export const RESULT_ENTRY: usize = 4;
/** u8: tier bit (TIER_* in snapshot.ts, 8 partial). */
export const RESULT_TIER: usize = 8;
/** u8: edit distance, or literals matched only through OCR (partial). */
export const RESULT_DIST: usize = 9;
/** u8: FLAG_* bits. */
export const RESULT_FLAGS: usize = 10;
/** u32: the entry's table position, or the pattern's index. */
export const RESULT_POSITION: usize = 12;
/** Result flag: the read's state differs from the entry's (stateMismatch 'match'). */
export const FLAG_STATE_MISMATCH: u8 = 1;
