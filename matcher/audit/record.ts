/**
 * Building records, shared by every writer of the chain (the file log, log.ts, and the
 * PostgreSQL log, pg-log.ts): one validation and one way to chain an event, so both logs hold
 * records of the same shape that the same checker (verify.ts) verifies.
 */
import type { PurposeRefusal } from '../policy/purpose.js';
import { canonicalJson, chainHash, genesisPrev, toJsonValue } from './canonical.js';
import { AUDIT_FORMAT, GENESIS_ACTION, type AuditEvent, type AuditRecord, type JsonValue } from './types.js';
import { isAuditAction } from './verify.js';

/** Longest actor name accepted. */
export const MAX_ACTOR = 256;

/** Where the chain stands: the next record links to this. */
export interface ChainState {
  /** seq of the next record. */
  nextSeq: number;
  /** hash of the last record. */
  lastHash: string;
  /** at of the last record: the next is never earlier. */
  lastAt: number;
}

/** A record and its canonical JSON text (what the file holds as a line, the table as `line`). */
export interface BuiltRecord {
  record: AuditRecord;
  /** Canonical JSON of the record, without a newline. */
  text: string;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Why `e` cannot be appended (with `defaultActor` standing in for a missing actor), or undefined. */
export function auditEventProblem(e: AuditEvent, defaultActor: string | undefined): string | undefined {
  if (!isPlainObject(e)) return 'event must be an object';
  if (typeof e.action !== 'string' || !isAuditAction(e.action)) return `event.action must be an audited action, got ${JSON.stringify(e.action)}`;
  if (e.outcome !== undefined && e.outcome !== 'ok' && e.outcome !== 'refused') return 'event.outcome must be ok or refused';
  const actor = e.actor ?? defaultActor;
  if (typeof actor !== 'string' || actor.trim() === '' || actor.length > MAX_ACTOR) {
    return `event.actor must be a non-empty string of at most ${MAX_ACTOR} characters (or open the log with options.actor)`;
  }
  for (const key of ['purpose', 'case', 'reason'] as const) {
    if (e[key] !== undefined && typeof e[key] !== 'string') return `event.${key} must be a string`;
  }
  for (const key of ['subject', 'details'] as const) {
    if (e[key] !== undefined && !isPlainObject(e[key])) return `event.${key} must be an object`;
  }
  return undefined;
}

/** Whether an `actor` option is acceptable (undefined is: events then name their actor). */
export function actorOptionProblem(actor: unknown): string | undefined {
  if (actor !== undefined && (typeof actor !== 'string' || actor.trim() === '')) return 'options.actor must be a non-empty string';
  return undefined;
}

/**
 * Chains a validated event after `state` at time `now` (raised to the last record's time so
 * that `at` never decreases). Does not change `state`: the caller advances it once the record
 * is durable.
 */
export function buildAuditRecord(e: AuditEvent, state: ChainState, now: number, defaultActor: string | undefined): BuiltRecord {
  const at = Math.max(now, state.lastAt);
  const body: { [key: string]: JsonValue } = {
    seq: state.nextSeq,
    at,
    actor: (e.actor ?? defaultActor) as string,
    action: e.action,
    outcome: e.outcome ?? 'ok',
    prev: state.lastHash,
  };
  if (e.purpose !== undefined) body.purpose = e.purpose;
  if (e.case !== undefined) body.case = e.case;
  if (e.reason !== undefined) body.reason = e.reason;
  const subject = toJsonValue(e.subject);
  if (subject !== undefined && subject !== null) body.subject = subject;
  const details = toJsonValue(e.details);
  if (details !== undefined && details !== null) body.details = details;
  const record = { ...body, hash: chainHash(state.lastHash, body) };
  // canonicalJson, not JSON.stringify: objects put integer-like keys first whatever their order.
  return { record: record as unknown as AuditRecord, text: canonicalJson(record) };
}

/** The first record of a log with id `logId`: seq 0, `log.created`, prev derived from the id. */
export function buildGenesisRecord(logId: string, at: number, actor: string): BuiltRecord {
  const prev = genesisPrev(AUDIT_FORMAT, logId);
  const body: { [key: string]: JsonValue } = {
    seq: 0,
    at,
    actor,
    action: GENESIS_ACTION,
    outcome: 'ok',
    details: { logId, format: AUDIT_FORMAT },
    prev,
  };
  const record = { ...body, hash: chainHash(prev, body) };
  return { record: record as unknown as AuditRecord, text: canonicalJson(record) };
}

/** The event a purpose rule's refusal is recorded as (see AuditSink.refused). */
export function refusalEvent(event: Omit<AuditEvent, 'action'> & { action?: AuditEvent['action'] }, refusal: PurposeRefusal): AuditEvent {
  return {
    ...event,
    action: event.action ?? 'purpose.refused',
    outcome: 'refused',
    reason: refusal.reason,
    details: { ...event.details, category: refusal.category, code: refusal.code, citation: refusal.citation },
  };
}
