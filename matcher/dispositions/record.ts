/**
 * Recording a disposition: the one path the operations API and the NATS consumer share, so a
 * disposition is checked, stored and audited the same way whichever way it came. One
 * disposition per alert (the table's primary key): the record a person made is never replaced.
 */
import type pg from 'pg';
import type { AuditSink } from '../audit/types.js';
import { PlatesieveError } from '../errors.js';
import { agencyToken } from '../service/subjects.js';
import { SCHEMA } from '../store/schema.js';
import { InvalidDispositionError, validateDisposition, type Disposition } from './validate.js';

const S = SCHEMA;

/** Why a valid disposition was not recorded. */
export type DispositionRefusal = 'ALERT_NOT_FOUND' | 'ALREADY_DISPOSITIONED' | 'AGENCY_MISMATCH';

/** A well-formed disposition that cannot be recorded; `problem` says why. */
export class DispositionRefusedError extends PlatesieveError {
  readonly problem: DispositionRefusal;
  constructor(problem: DispositionRefusal, message: string) {
    super(problem === 'ALERT_NOT_FOUND' ? 'ERR_ALERT_NOT_FOUND' : problem === 'ALREADY_DISPOSITIONED' ? 'ERR_ALREADY_DISPOSITIONED' : 'ERR_AGENCY_MISMATCH', message);
    this.problem = problem;
  }
}

/** Where a disposition came from. */
export type DispositionSource = 'api' | 'nats';

/** A stored disposition with the alert facts it was recorded against. */
export interface RecordedDisposition extends Disposition {
  agency: string | null;
  list: string | null;
  source: DispositionSource;
}

/** What recording needs. */
export interface RecordDeps {
  pool: pg.Pool;
  audit: AuditSink;
}

/** How one disposition is recorded. */
export interface RecordOptions {
  source: DispositionSource;
  /**
   * The audit actor: the logged-in user (API, which also sets `by` to it: a typed name is
   * never the actor) or the consuming service's identity (NATS, where `by` is the publisher's).
   */
  actor: string;
  /**
   * NATS: the agency token of the subject (`alpr.dispositions.<agency>`); the alert must be that
   * agency's, compared as its alert subject spells it (`UNKNOWN` for an alert without agency).
   */
  agency?: string;
}

interface AlertFacts {
  agency: string | null;
  list: string | null;
  plate: string | null;
}

/**
 * Validates, stores and audits one disposition. Refusals (invalid, unknown alert, second
 * disposition, wrong agency) are audited as `disposition.refused` and thrown.
 * @throws InvalidDispositionError, DispositionRefusedError.
 */
export async function recordDisposition(deps: RecordDeps, input: unknown, options: RecordOptions): Promise<RecordedDisposition> {
  let d: Disposition;
  try {
    d = validateDisposition(input);
  } catch (err) {
    if (err instanceof InvalidDispositionError) await refused(deps, options, alertIdOf(input), err.problem, err.message);
    throw err;
  }
  const { rows } = await deps.pool.query<AlertFacts>(`SELECT agency, list, alert->>'plate' AS plate FROM ${S}.alerts WHERE alert_id = $1 LIMIT 1`, [d.alertId]);
  const alert = rows[0];
  if (alert === undefined) return refuse(deps, options, d.alertId, 'ALERT_NOT_FOUND', `no stored alert ${d.alertId}`);
  // The token as the alert was published (`alpr.alerts.<token>`): an alert without agency is
  // `UNKNOWN` there, and an ORI with characters NATS gives meaning to has them as `_`.
  if (options.agency !== undefined && agencyToken(alert.agency ?? undefined) !== options.agency) {
    return refuse(deps, options, d.alertId, 'AGENCY_MISMATCH', `alert ${d.alertId} is not agency ${options.agency}'s`);
  }
  const inserted = await deps.pool.query(
    `INSERT INTO ${S}.dispositions (alert_id, agency, outcome, reason, note, by, at, verified_with, source)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (alert_id) DO NOTHING`,
    [d.alertId, alert.agency, d.outcome, d.reason ?? null, d.note ?? null, d.by, d.at, d.verifiedWith ?? null, options.source],
  );
  if (inserted.rowCount === 0) return refuse(deps, options, d.alertId, 'ALREADY_DISPOSITIONED', `alert ${d.alertId} already has a disposition`);
  await deps.audit.append({
    action: 'alert.disposition',
    actor: options.actor,
    subject: { alertId: d.alertId, ...(alert.plate !== null ? { plate: alert.plate } : {}), ...(alert.list !== null ? { list: alert.list } : {}) },
    reason: d.note,
    details: { outcome: d.outcome, reason: d.reason, by: d.by, at: d.at, verifiedWith: d.verifiedWith, source: options.source, agency: alert.agency ?? undefined },
  });
  return { ...d, agency: alert.agency, list: alert.list, source: options.source };
}

function alertIdOf(input: unknown): string | undefined {
  const id = (input as { alertId?: unknown } | null)?.alertId;
  return typeof id === 'string' && id.length <= 200 ? id : undefined;
}

async function refused(deps: RecordDeps, options: RecordOptions, alertId: string | undefined, problem: string, message: string): Promise<void> {
  await deps.audit.append({
    action: 'disposition.refused',
    outcome: 'refused',
    actor: options.actor,
    ...(alertId !== undefined ? { subject: { alertId } } : {}),
    reason: message,
    details: { problem, source: options.source, agency: options.agency },
  });
}

async function refuse(deps: RecordDeps, options: RecordOptions, alertId: string, problem: DispositionRefusal, message: string): Promise<never> {
  await refused(deps, options, alertId, problem, message);
  throw new DispositionRefusedError(problem, message);
}
