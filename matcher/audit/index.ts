/** The audit log: append-only, hash-chained, the agency's own. See docs/audit.md. */
export { AuditLog, type AuditLogOptions } from './log.js';
export {
  AUDIT_TABLE,
  PgAuditLog,
  exportPgAudit,
  readPgAudit,
  streamPgAudit,
  verifyPgAudit,
  type PgAuditFilter,
  type PgAuditLogOptions,
  type PgVerifyOptions,
} from './pg-log.js';
export {
  ANOMALY_KINDS,
  auditReport,
  formatAuditReport,
  type AnomalyKind,
  type AuditAnomaly,
  type AuditReport,
  type AuditReportOptions,
  type AuditUserRow,
} from './report.js';
export {
  exportAudit,
  exportAuditArray,
  isAuditAction,
  verify,
  verifyAuditFile,
  type ExportFilter,
  type VerifyOptions,
} from './verify.js';
export {
  AUDIT_ACTIONS,
  AUDIT_FORMAT,
  GENESIS_ACTION,
  type AuditAction,
  type AuditEvent,
  type AuditOutcome,
  type AuditRecord,
  type AuditSink,
  type AuditSubject,
  type AuditVerifyResult,
  type JsonValue,
} from './types.js';
