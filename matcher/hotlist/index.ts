/** Hotlist files: parsing, validation, refusal rules (see docs/hotlists.md). */
export { loadHotlistFile, DEFAULT_MAX_INVALID_FRACTION } from './load.js';
export { BUILTIN_CODES, HOTLIST_LAYOUTS, type HotlistLayout } from './layouts.js';
export { parseHotlistDate } from './fields.js';
export type {
  ColumnMapping, FixedColumn, HotlistFormat, HotlistLayoutName, HotlistLoadResult, HotlistRejectCode, HotlistWarning, HotlistWarningCode,
  LoadHotlistOptions, RejectedRow,
} from './types.js';
export { MAX_KEPT_WARNINGS } from './warnings.js';
