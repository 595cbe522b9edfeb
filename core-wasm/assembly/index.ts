// Exports of the platesieve core. Layouts are documented in snapshot.ts (the compiled
// hotlist) and match.ts (the batch ABI); docs/architecture.md has both.
import { alloc, usedBytes } from './memory';
import { attachAt, H_SIZE, hget, entryKey } from './snapshot';
import { setClassMap } from './codec';
import { H_OFF_CLASSMAP } from './snapshot';

export { alloc, usedBytes };
export { beginBuild, addEntries, finishBuild } from './build';
export { matchBatch, emptyBatch, prefilterProbe, getProbeNegatives } from './match';
import { resumeAt as _resumeAt, overflow as _overflow, fuzzyVerified, fuzzyProbes } from './match';

/** Attaches a snapshot copied to `b` (from another instance). */
export function attach(b: usize): bool {
  if (!attachAt(b)) return false;
  setClassMap(b + hget(b, H_OFF_CLASSMAP));
  return true;
}

export function snapshotSize(b: usize): u32 {
  return hget(b, H_SIZE);
}

export function getResumeAt(): u32 {
  return _resumeAt;
}

export function getOverflow(): u32 {
  return _overflow;
}

/** 64-bit hash of a region (multiply-xor over words): labels a hotlist version by its tables. */
export function hashRegion(ptr: usize, len: usize): u64 {
  let h: u64 = 0x243f6a8885a308d3 ^ <u64>len;
  const end = ptr + (len & ~<usize>7);
  for (let p = ptr; p < end; p += 8) {
    h = (h ^ load<u64>(p)) * 0x9e3779b97f4a7c15;
    h ^= h >> 29;
  }
  for (let p = end; p < ptr + len; p++) h = (h ^ <u64>load<u8>(p)) * 0x100000001b3;
  return h ^ (h >> 32);
}

export function getFuzzyVerified(): u64 {
  return fuzzyVerified;
}

export function getFuzzyProbes(): u64 {
  return fuzzyProbes;
}

/** Address of the packed plates of the attached snapshot's entries, u64 per table position. */
export function entryKeys(): usize {
  return entryKey;
}


// Partial-plate patterns (patterns.ts): a fragment index over glob programs, matched with
// the same query and result records as matchBatch (tier 8 = partial).
export { beginPatterns, addPatterns, finishPatterns } from './patterns-build';
export { attachPatterns, patternsSize } from './patterns';
export { matchPatterns } from './patterns-match';
import { patResumeAt as _patResumeAt, patOverflow as _patOverflow, patVerified as _patVerified } from './patterns-match';

/** Index of the first query not (fully) processed by the last matchPatterns call. */
export function getPatternResumeAt(): u32 {
  return _patResumeAt;
}

/** 1 when the last matchPatterns call stopped at a query whose hits alone overflow the buffer. */
export function getPatternOverflow(): u32 {
  return _patOverflow;
}

/** Pattern programs verified since the instance started. */
export function getPatternVerified(): u64 {
  return _patVerified;
}

// The service's fast path for msgpack reads (reads.ts): scan a batch of messages, pack the
// reads' query records, write the records of reads that hit nothing as JSON.
export { scanTask, packQueries } from './reads';
export { writeRecords } from './records';

// The layout of every record the host reads or writes, exported as globals: the host checks
// its copy (matcher/core/layout.ts) against them when it instantiates the module.
export {
  QUERY_RECORD, RAW_PLATE_CAPACITY, QUERY_LEN, QUERY_TIERS, QUERY_STATE, QUERY_TAG,
  RESULT_RECORD, RESULT_QUERY, RESULT_ENTRY, RESULT_TIER, RESULT_DIST, RESULT_FLAGS, RESULT_POSITION, FLAG_STATE_MISMATCH,
} from './layout';
export { STATUS_OK, STATUS_EMPTY, STATUS_TOO_LONG, STATUS_INVALID_CHAR, STATUS_JUNK } from './codec';
export { TIER_EXACT, TIER_OCR, TIER_FUZZY } from './snapshot';
export { TIER_PARTIAL } from './patterns';
export {
  MSG_RECORD, ITEM_RECORD, I_START, I_END, I_FLAGS, I_PLATE, I_AGENCY, I_PLATE_LEN, I_AGENCY_LEN, I_TS, I_STATE, I_INDEX, I_MSG,
  STATE_PAIRS, F_FAST, F_TS_MISSING, F_AGENCY, F_ID_MISSING, F_DEEP, M_OK, M_MALFORMED, M_OTHER,
} from './reads';
