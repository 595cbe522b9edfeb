/**
 * The layout of every record the host and the WebAssembly core both read or write in linear
 * memory: the batch ABI (query and result records, status codes, tier bits; docs/architecture.md
 * "The batch ABI") and the service's fast path (item and message records of
 * core-wasm/assembly/reads.ts, their flag bits and message statuses). This module is the
 * host's one copy; nothing else in the host spells these numbers.
 *
 * The core exports the same constants as globals (core-wasm/assembly/index.ts, from
 * layout.ts, codec.ts, snapshot.ts, patterns.ts and reads.ts there), and instantiateCore
 * (wasm.ts) checks them against {@link LAYOUT} with {@link checkLayout}: a module built from
 * other sources than the host is refused with a CoreError naming every field that differs,
 * instead of reading records at the wrong offsets.
 */
import { CoreError } from '../errors.js';

// --- The batch ABI (core-wasm/assembly/layout.ts) -------------------------------------------

/** Bytes of a query record (a read's plate or a candidate; also an entry staging record). */
export const QUERY_RECORD = 32;
/** Longest raw plate (separators included) that fits a query record; its bytes start at 0. */
export const RAW_PLATE_CAPACITY = 24;
/** u8: the raw plate's length. */
export const QUERY_LEN = 24;
/** u8: tier mask (entry staging records only). */
export const QUERY_TIERS = 25;
/** u16: state code (0 none). */
export const QUERY_STATE = 26;
/** u32: host tag (entry staging records: the list id). */
export const QUERY_TAG = 28;

/** Bytes of a result record, one per (query, entry) hit. */
export const RESULT_RECORD = 16;
/** u32: the query's index in the batch. */
export const RESULT_QUERY = 0;
/** u32: the entry's index in the host's list. */
export const RESULT_ENTRY = 4;
/** u8: tier bit (TIER_*). */
export const RESULT_TIER = 8;
/** u8: edit distance, or literals matched only through OCR (partial). */
export const RESULT_DIST = 9;
/** u8: FLAG_* bits. */
export const RESULT_FLAGS = 10;
/** u32: the entry's table position, or the pattern's index. */
export const RESULT_POSITION = 12;
/** Result flag: the read's state differs from the entry's (stateMismatch 'match'). */
export const FLAG_STATE_MISMATCH = 1;

/** Status codes the core writes per query (codec.ts). */
export const STATUS_OK = 0;
export const STATUS_EMPTY = 1;
export const STATUS_TOO_LONG = 2;
export const STATUS_INVALID_CHAR = 3;
export const STATUS_JUNK = 4;

/** Tier bits of entries and result records (snapshot.ts, patterns.ts). */
export const TIER_EXACT = 1;
export const TIER_OCR = 2;
export const TIER_FUZZY = 4;
export const TIER_PARTIAL = 8;

// --- The service's fast path (core-wasm/assembly/reads.ts) -----------------------------------

/** Bytes of a message record: +0 i32 status, +4 u32 first item, +8 u32 items, +12 u32 single. */
export const MSG_RECORD = 16;
/** Bytes of an item record (one per read): the I_* fields. */
export const ITEM_RECORD = 40;
/** u32: the read's first byte (an address in the core). */
export const I_START = 0;
/** u32: past its last byte. */
export const I_END = 4;
/** u32: F_* bits. */
export const I_FLAGS = 8;
/** u32: address of the plate's bytes. */
export const I_PLATE = 12;
/** u32: address of the agency's bytes. */
export const I_AGENCY = 16;
/** u16: the plate's length in bytes. */
export const I_PLATE_LEN = 20;
/** u16: the agency's length in bytes (0 when none). */
export const I_AGENCY_LEN = 22;
/** f64: `ts` (stays in the core). */
export const I_TS = 24;
/** u16: the state's letter pair, 0 none, 1 + 26 * a + b. */
export const I_STATE = 32;
/** u16: position of the read in its message. */
export const I_INDEX = 34;
/** u32: its message. */
export const I_MSG = 36;
/** Entries of packQueries' state table: u16 state codes by I_STATE letter pair. */
export const STATE_PAIRS = 1 + 26 * 26;

/** Item flag: the read takes the fast path. */
export const F_FAST = 1;
/** Item flag: the read has no `ts` (its record gets the receive time). */
export const F_TS_MISSING = 2;
/** Item flag: the read has an `agency` string. */
export const F_AGENCY = 4;
/** Item flag: the read has no `id` (its record gets `<message key>-<index>`). */
export const F_ID_MISSING = 8;
/** Item flag: the item nests too deep: rejected as TOO_DEEP without being decoded. */
export const F_DEEP = 16;

/** Message status: scanned. */
export const M_OK = 0;
/** Message status: not well-formed msgpack (the host decides). */
export const M_MALFORMED = -1;
/** Message status: not a map or an array at the top (the host decides). */
export const M_OTHER = -2;

/** Every constant above by name: the names the core exports them under. */
export const LAYOUT = {
  QUERY_RECORD, RAW_PLATE_CAPACITY, QUERY_LEN, QUERY_TIERS, QUERY_STATE, QUERY_TAG,
  RESULT_RECORD, RESULT_QUERY, RESULT_ENTRY, RESULT_TIER, RESULT_DIST, RESULT_FLAGS, RESULT_POSITION, FLAG_STATE_MISMATCH,
  STATUS_OK, STATUS_EMPTY, STATUS_TOO_LONG, STATUS_INVALID_CHAR, STATUS_JUNK,
  TIER_EXACT, TIER_OCR, TIER_FUZZY, TIER_PARTIAL,
  MSG_RECORD, ITEM_RECORD, I_START, I_END, I_FLAGS, I_PLATE, I_AGENCY, I_PLATE_LEN, I_AGENCY_LEN, I_TS, I_STATE, I_INDEX, I_MSG,
  STATE_PAIRS, F_FAST, F_TS_MISSING, F_AGENCY, F_ID_MISSING, F_DEEP, M_OK, M_MALFORMED, M_OTHER,
} as const satisfies Readonly<Record<string, number>>;

/** The value of an exported numeric global, or undefined when `value` is not one. */
function globalValue(value: unknown): number | bigint | undefined {
  if (!(value instanceof WebAssembly.Global)) return undefined;
  const v: unknown = value.value;
  return typeof v === 'number' || typeof v === 'bigint' ? v : undefined;
}

/**
 * Checks the layout constants a core instance exports against the host's (`expected`, by
 * default {@link LAYOUT}).
 * @throws CoreError naming every constant the core lacks or has another value for.
 */
export function checkLayout(exports: WebAssembly.Exports, expected: Readonly<Record<string, number>> = LAYOUT): void {
  const problems: string[] = [];
  for (const [name, want] of Object.entries(expected)) {
    const got = globalValue(exports[name]);
    if (got === undefined) problems.push(`${name} is not exported by the core (the host has ${want})`);
    else if (got !== want) problems.push(`${name} is ${String(got)} in the core, ${want} in the host`);
  }
  if (problems.length > 0) {
    throw new CoreError(
      `the WebAssembly core and the host disagree on the linear-memory layout: ${problems.join('; ')}. ` +
        'Rebuild the core from the same sources as the host (`npm run build`, or set PLATESIEVE_WASM to a matching module).',
    );
  }
}
