/**
 * Audit record types. One record per line of the log (JSON lines); see docs/audit.md.
 */

import type { PurposeRefusal } from '../policy/purpose.js';

/** A JSON value, as stored in the log. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * Audited operator actions. `hotlist.refused` is a hotlist file or entry refused at load (for
 * example a forbidden list type); `purpose.refused` is any other action refused by a purpose
 * rule; `live.*` are live changes a service applied from the bucket, or refused
 * (`live.refused`). `log.created` is written by the log itself as its first line.
 */
export const AUDIT_ACTIONS = [
  'hotlist.load',
  'hotlist.refused',
  'entry.add',
  'entry.remove',
  'partial.add',
  'partial.cancel',
  'hold.add',
  'hold.release',
  'search',
  'export',
  // The store's retention job deleted (or, dry run, counted) due records: counts, never plates.
  'retention.delete',
  'purpose.refused',
  // Live changes a service applied from the key-value bucket (matcher/service/live-audit.ts);
  // the actor is the writer named by the change's Platesieve-Actor header.
  'live.add',
  'live.remove',
  'live.cancel',
  'live.cancel.lift',
  // A live change the service did not apply: no (valid) writer identity, or malformed.
  'live.refused',
  // People (operations API): logins and sessions, accounts. `login` with outcome `refused` is
  // a failed attempt (wrong password or code, locked, disabled); `session.refused` a request
  // whose session was missing, expired or lacked the role.
  'login',
  'logout',
  'session.refused',
  'user.add',
  'user.disable',
  'user.enable',
  'user.reset',
  'user.roles',
  // Reading stored data other than a search: hold lists, the audit log and its reports.
  'hold.list',
  'audit.read',
  'audit.report',
  // A person's direct connection to the database or the key-value bucket (admin only).
  'access.direct',
  // Sharing with other agencies (matcher/sharing/, docs/sharing.md); the export itself is `export`.
  'share.request',
  'share.list',
  'share.approve',
  'share.deny',
  // A candidate matching setting replayed over stored reads (matcher/replay/, docs/replay.md).
  'replay',
  // Alert verification (matcher/dispositions/): a disposition recorded (API or NATS) or refused,
  // alert lists and statistics read, the live alert stream opened, an alert escalated.
  'alert.disposition',
  'disposition.refused',
  'alert.list',
  'alert.stats',
  'alert.live',
  'alert.escalate',
  // Sensitive places (camera tags): access requested, approved or denied by a supervisor, and
  // tagged reads returned (or withheld) by a search or an export.
  'sensitive.request',
  'sensitive.approve',
  'sensitive.deny',
  'sensitive.access',
  'sensitive.withheld',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** The first record of every log. */
export const GENESIS_ACTION = 'log.created';

/** Format tag of the log, part of the genesis value. */
export const AUDIT_FORMAT = 'platesieve-audit/1';

/** Whether the action was done or refused. */
export type AuditOutcome = 'ok' | 'refused';

/**
 * Which data elements the action touched (El Centro 464.5(3): "the license plate number or
 * other data elements used to query"). Known keys are typed; others are kept as given.
 */
export interface AuditSubject {
  plate?: string;
  plates?: string[];
  pattern?: string;
  state?: string;
  list?: string;
  source?: string;
  file?: string;
  entryId?: string;
  entryIds?: string[];
  holdId?: string;
  query?: string;
  from?: string | number;
  to?: string | number;
  count?: number;
  [key: string]: JsonValue | undefined;
}

/** What a caller appends. `actor` defaults to the log's `actor` option. */
export interface AuditEvent {
  action: AuditAction;
  /** Default `ok`. */
  outcome?: AuditOutcome;
  /** Who: the authenticated user name (El Centro 464.5(1)). */
  actor?: string;
  /** Structured purpose code (matcher/policy/purpose.ts). */
  purpose?: string;
  case?: string;
  subject?: AuditSubject;
  /** Free-text reason, or why it was refused. */
  reason?: string;
  details?: { [key: string]: JsonValue | undefined };
}

/**
 * Where audited events go: the file log ({@link AuditLog}, embedded use) or the PostgreSQL
 * log of the services (one chain, the same records). Every writer of audit events takes this.
 */
export interface AuditSink {
  /** Appends one event; resolves once it is durable. */
  append(event: AuditEvent): Promise<AuditRecord>;
  /** Appends the refusal of an action by a purpose rule (see AuditLog.refused). */
  refused(event: Omit<AuditEvent, 'action'> & { action?: AuditEvent['action'] }, refusal: PurposeRefusal): Promise<AuditRecord>;
  close(): Promise<void>;
}

/** One line of the log, as written. */
export interface AuditRecord {
  /** 0 for the genesis record, then 1, 2, ... */
  seq: number;
  /** Epoch milliseconds, never decreasing within a log. */
  at: number;
  actor: string;
  action: AuditAction | typeof GENESIS_ACTION;
  outcome: AuditOutcome;
  purpose?: string;
  case?: string;
  subject?: { [key: string]: JsonValue };
  reason?: string;
  details?: { [key: string]: JsonValue };
  /** Hash of the previous record; for the genesis record, sha256 of the format tag and the log id. */
  prev: string;
  /** sha256(prev + canonical JSON of this record without `hash`), hex. */
  hash: string;
}

/** The result of verifying a log file. */
export interface AuditVerifyResult {
  ok: boolean;
  /** Records that verified (all of them when `ok`). */
  records: number;
  /** 1-based line of the first problem (for the PostgreSQL log: the row's place in seq order). */
  badLine?: number;
  /** PostgreSQL log: the seq of the first row that does not verify (the one that was altered, or the first after a gap). */
  badSeq?: number;
  reason?: string;
  /** The log id from the genesis record. */
  logId?: string;
  /** Hash of the last record that verified: anchor it elsewhere to detect removal of whole last lines. */
  head?: string;
  firstAt?: number;
  lastAt?: number;
}
