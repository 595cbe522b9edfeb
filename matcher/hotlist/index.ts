/** Hotlist files: parsing, validation, refusal rules (see docs/hotlists.md). */
export { loadHotlistFile, DEFAULT_MAX_INVALID_FRACTION } from './load.js';
export { parseHotlistDate } from './fields.js';
export type { HotlistFormat, HotlistLoadResult, HotlistRejectCode, LoadHotlistOptions, RejectedRow } from './types.js';
