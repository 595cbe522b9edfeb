/**
 * Retention tagging: every read leaves the service as one record carrying the retention
 * policy of its agency (docs/contracts.md "Record"). The tag says when the record falls due for
 * deletion; deletion itself is done downstream by JetStream streams whose `max_age` is the
 * policy's, one stream per class (see docs/operations.md "Retention").
 *
 * `hold` (evidence holds) is chosen by {@link heldRetention} for a read whose plate an active
 * hold covers (held.ts): the holds are placed on stored records by an operator, and the
 * store publishes the active ones to the service.
 */
import type { PlateRead, ReadRecord, Retention, RetentionClass } from '../types.js';

export type { ReadRecord, Retention, RetentionClass } from '../types.js';

/** The retention policy of one agency. */
export interface RetentionPolicy {
  /** Short name carried on every record, e.g. `lakewood-co-1y`. */
  policy: string;
  /** Days a read that raised no alert is kept. */
  nonhitDays: number;
  /** Days a read that raised an alert is kept. */
  hitDays: number;
  /** Legal basis text, e.g. "Lakewood PD ALPR policy 4.a; C.R.S. 24-72-113". */
  basis: string;
}

/** Retention policies by agency (ORI); `default` for reads of any other or no agency. */
export interface RetentionConfig {
  default: RetentionPolicy;
  agencies: Record<string, RetentionPolicy>;
}

/** One day in milliseconds. */
export const DAY_MS = 86_400_000;

/** The policy of an agency: its own, or the default for an agency not configured (or none). */
export function policyFor(agency: string | undefined, config: RetentionConfig): RetentionPolicy {
  return (agency !== undefined && Object.hasOwn(config.agencies, agency) && config.agencies[agency]) || config.default;
}

/**
 * The retention tag of a read. `agency` not configured (or absent) takes the default policy;
 * `expiresAt = readTs + days * DAY_MS`, from the read time, not the time it was processed, so
 * a backlog drained late expires when the read would have.
 */
export function retentionFor(
  agency: string | undefined,
  hit: boolean,
  readTs: number,
  config: RetentionConfig,
): Retention {
  const policy = policyFor(agency, config);
  const cls: RetentionClass = hit ? 'hit' : 'nonhit';
  return {
    policy: policy.policy,
    class: cls,
    expiresAt: readTs + (hit ? policy.hitDays : policy.nonhitDays) * DAY_MS,
    basis: policy.basis,
  };
}

/** The retention tag of a held read: its own period (hit or not), class `hold`, and the holds. */
export function heldRetention(agency: string | undefined, hit: boolean, readTs: number, config: RetentionConfig, holdIds: string[]): Retention {
  return { ...retentionFor(agency, hit, readTs, config), class: 'hold', holdIds };
}

/**
 * Epoch ms of a read's `ts` (a number, or an ISO 8601 string), or `fallback` when it is absent
 * or unparseable (the service passes its receive time).
 */
export function readTimeMs(ts: number | string | undefined, fallback: number): number {
  if (typeof ts === 'number') return Number.isFinite(ts) ? ts : fallback;
  if (typeof ts === 'string') {
    const ms = Date.parse(ts);
    return Number.isNaN(ms) ? fallback : ms;
  }
  return fallback;
}

/**
 * The record of a read, made from the read itself (which it modifies and returns): its `ts`
 * as epoch ms, `hit`, its alert ids and its retention tag. `hit` is true when the read has alert ids or its retention class is `hit`:
 * a read whose only alert was suppressed as a repeat (see suppression.ts) publishes no alert
 * but is still a sighting of a hotlisted vehicle, so the service tags it with
 * `retentionFor(agency, true, ...)` and passes no alert ids.
 */
export function buildRecord(read: PlateRead & { id: string }, alertIds: string[], retention: Retention, hit = false): ReadRecord {
  // The decoded read belongs to the service: it becomes the record in place (no copy per
  // read on the hot path of the service).
  const record = read as unknown as ReadRecord & { ts?: number | string };
  if (record.ts !== undefined) {
    const ms = readTimeMs(record.ts, NaN);
    if (Number.isNaN(ms)) delete record.ts;
    else record.ts = ms;
  }
  // A held read that hit (its alert a suppressed repeat) is class `hold`: `hit` says it hit.
  record.hit = hit || alertIds.length > 0 || retention.class === 'hit';
  record.alertIds = alertIds;
  record.retention = retention;
  return record;
}
