/** The audit log: append-only, hash-chained, the agency's own. See docs/audit.md. */
export { AuditLog, type AuditLogOptions } from './log.js';
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
  type AuditSubject,
  type AuditVerifyResult,
  type JsonValue,
} from './types.js';
