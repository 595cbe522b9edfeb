/**
 * platesieve: license-plate-read stream matching against hotlists.
 *
 * ```ts
 * import { createMatcher } from 'platesieve';
 * const matcher = createMatcher({ entries: [{ plate: 'ABC1234', state: 'CA', list: 'STOLEN_VEHICLE' }] });
 * matcher.match({ plate: 'ABC 1234', state: 'CA' }); // -> [{ match: 'exact', score: 0.98, ... }]
 * ```
 * @packageDocumentation
 */
export { createMatcher, createMatcherFromSnapshot } from './matcher.js';
export type {
  Alert, BatchResult, HotlistEntry, InvalidRead, InvalidReadCode, Matcher, MatcherOptions,
  AlertTier, MatcherSnapshot, MatcherStats, MatchTier, OcrCandidate, PartialFilter, SnapshotSettings, PlateRead, StateMismatchPolicy, VehicleDescription,
  ReadRecord, Retention, RetentionClass,
} from './types.js';
export { MATCH_TIERS } from './types.js';
export {
  PlatesieveError, OptionsError, InvalidReadError, InvalidEntryError, HotlistFileError, CoreError, ConfigError, PurposeRefusedError,
} from './errors.js';
export type { ConfigIssue, HotlistFileProblem } from './errors.js';
export { normalizePlate, collapsePlate, ocrClassMap, DEFAULT_OCR_CLASSES, MAX_PLATE_LENGTH } from './core/plate.js';
export type { NormalizeResult } from './core/plate.js';
export { DEFAULT_TIERS, DEFAULT_MAX_DISTANCE } from './options.js';
export { DEFAULT_CONFIDENCE } from './core/score.js';
export { loadHotlistFile } from './hotlist/index.js';
export { DEFAULT_MAX_INVALID_FRACTION, MAX_KEPT_WARNINGS } from './hotlist/index.js';
export type {
  ColumnMapping, FixedColumn, HotlistFormat, HotlistLayoutName, HotlistLoadResult, HotlistRejectCode, HotlistWarning,
  HotlistWarningCode, LoadHotlistOptions, RejectedRow,
} from './hotlist/index.js';
// The records store on PostgreSQL (docs/store.md): searches, evidence holds, retention runs.
export { openStore } from './store/open.js';
export type { OpenStoreOptions, Store, StoreActor, SearchRequest, HoldAddRequest } from './store/open.js';
export { SearchError, DEFAULT_SEARCH_LIMIT } from './store/search.js';
export type { SearchQuery, SearchHit, SearchResult, SearchErrorCode } from './store/search.js';
export type { Hold, HoldRequest } from './store/holds.js';
export type { RetentionReport, RetentionCount } from './store/retention.js';
export type { MigrateResult } from './store/schema.js';

// The operations API (docs/ops.md): an HTTP server over the store, accounts and the audit log,
// and what it is built from: the audit sinks (a file, or the PostgreSQL log) and the accounts.
export { AuditLog, PgAuditLog } from './audit/index.js';
export type { AuditSink, AuditEvent, AuditRecord, AuditAction, AuditVerifyResult } from './audit/index.js';
export { People, AuthError, ROLES, hasRole, requiresMfa } from './people/index.js';
export type { Role, Account, Session, PeopleOptions, AuthErrorCode } from './people/index.js';
export { createOpsServer, startOps, fileAuditSource, pgAuditSource, OpsError, OPS_ERROR_CODES, ENDPOINT_ROLES } from './ops/index.js';
export type { OpsServer, OpsServerOptions, OpsSessionSettings, RunningOps, AuditSource, AuditQuery, OpsErrorCode } from './ops/index.js';
