/**
 * Types of hotlist file loading (see docs/hotlists.md).
 */
import type { HotlistEntry } from '../types.js';

/**
 * Hotlist file formats: CSV with a header naming entry fields, NDJSON, a delimited extract
 * (any delimiter, columns by position or header name), or a fixed-width extract.
 */
export type HotlistFormat = 'csv' | 'ndjson' | 'delimited' | 'ncic-fixed';

/** Built-in extract layouts (see `HOTLIST_LAYOUTS` and docs/hotlists.md). */
export type HotlistLayoutName = 'ncic-fixed' | 'ncic-pipe' | 'state-csv';

/** A fixed-width field: characters `start` (0-based, inclusive) to `end` (exclusive). */
export interface FixedColumn {
  start: number;
  end: number;
}

/**
 * Where an entry field is in a row: a 0-based field position or a header name (delimited),
 * or a character range (fixed width). Keys are entry field names (`plate`, `state`, `list`,
 * `ref`, `ori`, `entered`, `make`, ...), `code` (a file or reason code translated to a list
 * type through the code table), or any other name, kept in `notes` as `name=value`.
 */
export type ColumnMapping = Readonly<Record<string, number | string | FixedColumn>>;

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
  /** A partial-plate (`pattern`) entry without its `case`, `enteredBy`, `purpose` or `expires`. */
  | 'PARTIAL_INCOMPLETE'
  /** A partial-plate pattern that does not parse (or constrains no character). */
  | 'INVALID_PATTERN'
  /** A partial entry's purpose is not one of the allowed purpose codes. */
  | 'INVALID_PURPOSE'
  /** A field has the wrong type (NDJSON), for example an object where text is expected. */
  | 'BAD_FIELD'
  /** An NDJSON line is not valid JSON. */
  | 'BAD_JSON'
  /** An NDJSON line is valid JSON but not an object. */
  | 'NOT_AN_OBJECT'
  /** A CSV row has a different number of fields than the header. */
  | 'COLUMN_COUNT'
  /** A CSV row cannot be parsed (misplaced quote). */
  | 'CSV_SYNTAX'
  /** A fixed-width row is shorter than its layout needs. */
  | 'SHORT_ROW'
  /** A file or reason code that the code table does not know. */
  | 'UNKNOWN_CODE'
  /** The list type, notes or purpose name a purpose the policies forbid (civil immigration enforcement, ...). */
  | 'FORBIDDEN_PURPOSE';

/** A row that was not loaded, with where and why. */
export interface RejectedRow {
  file: string;
  /** Physical line of the file, 1-based (the first line of a multi-line CSV record). */
  line: number;
  code: HotlistRejectCode;
  reason: string;
}

/**
 * Why a loaded entry deserves a second look. Stable codes. A warning never drops the entry:
 * local list types are allowed, and the file's state column may be right for its readers.
 */
export type HotlistWarningCode =
  /**
   * The list type is none of the documented ones (STOLEN_VEHICLE, ..., BOLO), no code of the
   * code table maps to it, and it is not `defaultList`: a typo, or an undeclared local list.
   */
  | 'UNKNOWN_LIST'
  /** The state is not a two-letter code (`COLORADO`): the entry never matches a read of `CO`. */
  | 'INVALID_STATE';

/** A row that was loaded but looks wrong, with where and why. */
export interface HotlistWarning {
  file: string;
  /** Physical line of the file, 1-based. */
  line: number;
  code: HotlistWarningCode;
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
  /** Rejected rows, which count toward the refusal threshold. */
  invalid: number;
  /**
   * Loaded entries that look wrong (an unknown list type, a state that is not a two-letter
   * code), in file order: the first 1000 (`MAX_KEPT_WARNINGS`), so a column wrong in every row
   * of a huge file cannot fill memory. `warningCount` counts them all.
   */
  warnings: HotlistWarning[];
  /** Every warning, kept or not. */
  warningCount: number;
  /** The built-in layout used, if any. */
  layout?: HotlistLayoutName;
  /**
   * Why the file would be refused (too many invalid rows). Only set with
   * `throwOnRefusal: false`; otherwise a refused file throws.
   */
  refusal?: string;
}

/** Options of {@link loadHotlistFile}. */
export interface LoadHotlistOptions {
  /** Refuse the file when more than this fraction of its rows is invalid. 0..1, default 0.05. */
  maxInvalidFraction?: number;
  /** List type of rows that name none. */
  defaultList?: string;
  /** Source of rows that name none. */
  defaultSource?: string;
  /** Priority (1 highest .. 5) of rows that name none. */
  defaultPriority?: number;
  /**
   * Format; default from the layout, else from the extension (.csv, .ndjson, .jsonl), else
   * sniffed from the content (`{` means NDJSON, anything else CSV).
   */
  format?: HotlistFormat;
  /** A built-in extract layout: sets the format, delimiter, columns, code table and default source. */
  layout?: HotlistLayoutName;
  /** Column mapping of a `delimited` or `ncic-fixed` file; replaces the layout's. */
  columns?: ColumnMapping;
  /** Field delimiter of a `delimited` file, one character. Default `,` (`|` for `ncic-pipe`). */
  delimiter?: string;
  /**
   * Whether the first row of a `delimited` file names the columns. Default: true when the
   * mapping names columns by header, else false; `ncic-pipe` detects an `LIC` header.
   */
  hasHeader?: boolean;
  /** File / reason codes to list types, added to (and overriding) the built-in code table. */
  codes?: Readonly<Record<string, string>>;
  /** Current time (epoch ms) for dropping expired entries. Default `Date.now()`. */
  now?: number;
  /** When false, a file over `maxInvalidFraction` is returned with `refusal` set instead of throwing. Default true. */
  throwOnRefusal?: boolean;
  /** Called as the file is read (about once a megabyte), for progress bars. */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
}
