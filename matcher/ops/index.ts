/** The operations API (docs/ops.md): the server, its options and the audit log readers. */
export { createOpsServer, type OpsServer, type OpsServerOptions, type OpsSessionSettings } from './server.js';
export { startOps, type RunningOps } from './start.js';
export { fileAuditSource, pgAuditSource, type AuditQuery, type AuditSource } from './audit-source.js';
export { OpsError, OPS_ERROR_CODES, statusOf, type OpsErrorCode } from './errors.js';
export { ENDPOINT_ROLES } from './roles.js';
