/**
 * Reading stored alerts for verification: recent alerts with their disposition, confirmation
 * deadline and escalation (the operations API's alert list, the console, `platesieve alerts
 * list`), and the rows the false-alert statistics are computed from. Every query is bounded by
 * a time window over `alerts.ts` (indexed, migration 8) and a row limit, so a console polling
 * the list never scans the store.
 */
import type pg from 'pg';
import { normalizePlate } from '../core/plate.js';
import { PlatesieveError } from '../errors.js';
import { SCHEMA } from '../store/schema.js';
import type { StatsRow } from './stats.js';
import type { DispositionOutcome, RejectReason } from './validate.js';
import { confirmationWindow, type WindowKind, type WindowSettings } from './windows.js';

const S = SCHEMA;

/** Most alerts one list returns. */
export const MAX_ALERT_LIMIT = 1000;
/** Longest window the statistics read (a year and a day: one annual report). */
export const MAX_STATS_WINDOW_MS = 366 * 86_400_000;
/** Most alerts one statistics call reads; past it the caller narrows the window. */
export const MAX_STATS_ROWS = 1_000_000;

/** A window or limit the alert queries refuse. */
export class AlertQueryError extends PlatesieveError {
  constructor(message: string) {
    super('ERR_ALERT_QUERY', message);
  }
}

/** Which alerts {@link listAlerts} returns. */
export interface AlertListQuery {
  /** Alert time (epoch ms), inclusive. */
  from: number;
  /** Alert time (epoch ms), exclusive. */
  to: number;
  /** Only alerts nobody has dispositioned yet. */
  undispositioned?: boolean;
  /** 1..{@link MAX_ALERT_LIMIT}. */
  limit: number;
  /** Only this agency's alerts. */
  agency?: string;
  /** Only alerts of this list type. */
  list?: string;
}

/** A recorded disposition as the lists show it. */
export interface AlertDispositionView {
  outcome: DispositionOutcome;
  reason?: RejectReason;
  note?: string;
  by: string;
  at: number;
  verifiedWith?: string;
  source: string;
}

/** One stored alert for verification. */
export interface AlertView {
  alertId: string;
  readId: string;
  ts: number;
  agency: string | null;
  list: string | null;
  priority: number | null;
  /** The tier that matched. */
  match: string;
  score: number | null;
  /** Published by the historical check (a read older than the entry), not live. */
  historical: boolean;
  /** The alert as published (plate, matchedPlate, hotlistPlate, verify, imageRef, ...). */
  alert: Record<string, unknown>;
  disposition: AlertDispositionView | null;
  /** When the confirmation window closes (epoch ms); null for historical alerts, which have none. */
  deadline: number | null;
  windowKind: WindowKind | null;
  /** When the store escalated it (epoch ms), or null. */
  escalatedAt: number | null;
  /** No disposition and the deadline has passed (as of the `now` given). */
  overdue: boolean;
}

interface AlertRowSql {
  alert_id: string;
  read_id: string;
  ts: string;
  agency: string | null;
  list: string | null;
  match: string;
  historical: boolean;
  alert: Record<string, unknown>;
  outcome: DispositionOutcome | null;
  reason: RejectReason | null;
  note: string | null;
  by: string | null;
  at: string | null;
  verified_with: string | null;
  source: string | null;
  escalated_at: string | null;
}

const SELECT_ALERTS = `SELECT a.alert_id, a.read_id, a.ts, a.agency, a.list, a.match, a.historical, a.alert,
         d.outcome, d.reason, d.note, d.by, d.at, d.verified_with, d.source, e.escalated_at
    FROM ${S}.alerts a
    LEFT JOIN ${S}.dispositions d ON d.alert_id = a.alert_id
    LEFT JOIN ${S}.escalations e ON e.alert_id = a.alert_id`;

function checkWindow(from: number, to: number, maxMs?: number): void {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0) throw new AlertQueryError('from and to must be epoch milliseconds');
  if (from >= to) throw new AlertQueryError('from must be before to');
  if (maxMs !== undefined && to - from > maxMs) throw new AlertQueryError(`the window is longer than ${Math.round(maxMs / 86_400_000)} days: narrow it`);
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function viewOf(r: AlertRowSql, windows: WindowSettings, now: number): AlertView {
  const ts = Number(r.ts);
  const priority = num(r.alert.priority);
  // The json score, not the real column: a float4 would move a threshold by 1e-8.
  const score = num(r.alert.score);
  const list = r.list ?? undefined;
  const window = r.historical ? undefined : confirmationWindow(list, priority ?? undefined, windows);
  const deadline = window === undefined ? null : ts + window.ms;
  let disposition: AlertDispositionView | null = null;
  if (r.outcome !== null && r.by !== null && r.at !== null) {
    disposition = { outcome: r.outcome, by: r.by, at: Number(r.at), source: r.source ?? 'api' };
    if (r.reason !== null) disposition.reason = r.reason;
    if (r.note !== null) disposition.note = r.note;
    if (r.verified_with !== null) disposition.verifiedWith = r.verified_with;
  }
  return {
    alertId: r.alert_id, readId: r.read_id, ts, agency: r.agency, list: r.list, priority, match: r.match, score, historical: r.historical, alert: r.alert,
    disposition, deadline, windowKind: window?.kind ?? null, escalatedAt: r.escalated_at === null ? null : Number(r.escalated_at),
    overdue: disposition === null && deadline !== null && now > deadline,
  };
}

/**
 * Stored alerts of [from, to), newest first, each with its disposition (or null), confirmation
 * deadline and escalation.
 * @throws AlertQueryError for a bad window or limit.
 */
export async function listAlerts(pool: pg.Pool, query: AlertListQuery, windows: WindowSettings, now: number): Promise<AlertView[]> {
  checkWindow(query.from, query.to);
  if (!Number.isSafeInteger(query.limit) || query.limit < 1 || query.limit > MAX_ALERT_LIMIT) throw new AlertQueryError(`limit must be a whole number from 1 to ${MAX_ALERT_LIMIT}`);
  const where = ['a.ts >= $1', 'a.ts < $2'];
  const params: unknown[] = [query.from, query.to];
  if (query.undispositioned === true) where.push('d.alert_id IS NULL');
  if (query.agency !== undefined) where.push(`a.agency = $${params.push(query.agency)}`);
  if (query.list !== undefined) where.push(`a.list = $${params.push(query.list)}`);
  const sql = `${SELECT_ALERTS} WHERE ${where.join(' AND ')} ORDER BY a.ts DESC, a.alert_id LIMIT $${params.push(query.limit)}`;
  const { rows } = await pool.query<AlertRowSql>(sql, params);
  return rows.map((r) => viewOf(r, windows, now));
}

/** One stored alert with its disposition, or undefined when there is none with that id. */
export async function getAlert(pool: pg.Pool, alertId: string, windows: WindowSettings, now: number): Promise<AlertView | undefined> {
  const { rows } = await pool.query<AlertRowSql>(`${SELECT_ALERTS} WHERE a.alert_id = $1 ORDER BY a.ts LIMIT 1`, [alertId]);
  return rows[0] === undefined ? undefined : viewOf(rows[0], windows, now);
}

interface StatsRowSql {
  list: string | null;
  match: string;
  score: number | null;
  camera_id: string | null;
  plate: string | null;
  matched_plate: string | null;
  hotlist_plate: string | null;
  outcome: DispositionOutcome | null;
}

function normalized(plate: string): string {
  const n = normalizePlate(plate);
  return n.ok ? n.plate : plate.toUpperCase();
}

/**
 * The statistics rows of the alerts of [from, to) (historical ones included: they are leads
 * like any other), with their outcome or null.
 * @throws AlertQueryError for a bad or over-long window, or more than {@link MAX_STATS_ROWS} alerts.
 */
export async function statsRows(pool: pg.Pool, window: { from: number; to: number }): Promise<StatsRow[]> {
  checkWindow(window.from, window.to, MAX_STATS_WINDOW_MS);
  const { rows } = await pool.query<StatsRowSql>(
    `SELECT a.list, a.match, (a.alert->>'score')::float8 AS score, a.alert->>'cameraId' AS camera_id, a.alert->>'plate' AS plate,
            a.alert->>'matchedPlate' AS matched_plate, a.alert->>'hotlistPlate' AS hotlist_plate, d.outcome
       FROM ${S}.alerts a LEFT JOIN ${S}.dispositions d ON d.alert_id = a.alert_id
      WHERE a.ts >= $1 AND a.ts < $2
      ORDER BY a.ts, a.alert_id
      LIMIT ${MAX_STATS_ROWS + 1}`,
    [window.from, window.to],
  );
  if (rows.length > MAX_STATS_ROWS) throw new AlertQueryError(`more than ${MAX_STATS_ROWS} alerts in the window: narrow it`);
  return rows.map((r) => {
    const plate = normalized(r.plate ?? r.matched_plate ?? '');
    // A partial entry has no listed plate: its alerts join no confusion pair.
    const hotlistPlate = r.hotlist_plate ?? plate;
    return { list: r.list ?? '', tier: r.match, score: r.score ?? 0, cameraId: r.camera_id ?? '', plate, hotlistPlate, outcome: r.outcome };
  });
}
