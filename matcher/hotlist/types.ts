/**
 * Types of hotlist file loading (see docs/hotlists.md).
 */
import type { HotlistEntry } from '../types.js';

/** Hotlist file formats. */
export type HotlistFormat = 'csv' | 'ndjson';

/** Why a row of a hotlist file was rejected. Stable codes; callers switch on them. */
export type HotlistRejectCode =
  /** No plate (and no pattern) in the row. */
  | 'MISSING_PLATE'
  /** The plate does not normalize (bad character, too long, empty after removing separators). */
  | 'INVALID_PLATE'
  /** No list type in the row and no `defaultList` given. */
  | 'MISSING_LIST'
  /** Priority is not an integer 1..5. */
  | 'INVALID_PRIORITY'
  /** `entered` or `expires` is not an ISO 8601 date, YYYYMMDD or epoch milliseconds. */
  | 'INVALID_DATE'
  /** A partial-plate (`pattern`) entry: not matched by this version. */
  | 'PARTIAL_UNSUPPORTED'
  /** A field has the wrong type (NDJSON), for example an object where text is expected. */
  | 'BAD_FIELD'
  /** An NDJSON line is not valid JSON. */
  | 'BAD_JSON'
  /** An NDJSON line is valid JSON but not an object. */
  | 'NOT_AN_OBJECT'
  /** A CSV row has a different number of fields than the header. */
  | 'COLUMN_COUNT'
  /** A CSV row cannot be parsed (misplaced quote). */
  | 'CSV_SYNTAX';

/** A row that was not loaded, with where and why. */
export interface RejectedRow {
  file: string;
  /** Physical line of the file, 1-based (the first line of a multi-line CSV record). */
  line: number;
  code: HotlistRejectCode;
  reason: string;
}

/** What {@link loadHotlistFile} returns. */
export interface HotlistLoadResult {
  file: string;
  format: HotlistFormat;
  /** Valid, unexpired, non-junk entries, plates normalized, dates as epoch milliseconds. */
  entries: HotlistEntry[];
  rejected: RejectedRow[];
  /** Data rows read (header and blank lines not counted). */
  rows: number;
  /** Placeholder plates (`0`, `00`, ...) skipped. */
  junk: number;
  /** Entries whose `expires` is in the past, dropped. */
  expired: number;
}

/** Options of {@link loadHotlistFile}. */
export interface LoadHotlistOptions {
  /** Refuse the file when more than this fraction of its rows is invalid. 0..1, default 0.05. */
  maxInvalidFraction?: number;
  /** List type of rows that name none. */
  defaultList?: string;
  /** Source of rows that name none. */
  defaultSource?: string;
  /** Format; default from the extension (.csv, .ndjson, .jsonl), else sniffed from the content. */
  format?: HotlistFormat;
  /** Current time (epoch ms) for dropping expired entries. Default `Date.now()`. */
  now?: number;
}
