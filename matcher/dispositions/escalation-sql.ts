/**
 * The queries of the escalation sweep (escalation.ts). The confirmation window is worked out
 * in SQL too, from the milliseconds windows.ts gives, so that a query returns only alerts now
 * due however many are still inside their window; the sweep checks each again with windows.ts.
 */
import type pg from 'pg';
import { SCHEMA } from '../store/schema.js';
import { confirmationWindow, type WindowSettings } from './windows.js';

const S = SCHEMA;
const DAY_MS = 86_400_000;

/** The windows of the settings in milliseconds, and how far back the sweep looks. */
export interface WindowBounds {
  lists: string[];
  listMs: number[];
  urgentPriority: number;
  urgentMs: number;
  routineMs: number;
  /** The shortest window: no alert younger than it can be due. */
  minMs: number;
  /**
   * How far back the sweep looks: the longest window and a day. An alert older than that
   * (the store was down longer) is not escalated: it is history, not a pending confirmation.
   */
  lookBackMs: number;
}

/** {@link WindowBounds} of the `escalation` settings. */
export function windowBounds(settings: WindowSettings): WindowBounds {
  const lists = Object.keys(settings.lists);
  const listMs = lists.map((l) => confirmationWindow(l, undefined, settings).ms);
  const urgentMs = confirmationWindow(undefined, 1, settings).ms;
  const routineMs = confirmationWindow(undefined, settings.urgentPriority + 1, settings).ms;
  const all = [urgentMs, routineMs, ...listMs];
  return { lists, listMs, urgentPriority: settings.urgentPriority, urgentMs, routineMs, minMs: Math.min(...all), lookBackMs: Math.max(...all) + DAY_MS };
}

// The alert's window in ms: its list's, else urgent or routine by priority (3 when it has none
// or it is not a number), as windows.ts decides. $3..$7 are the bounds' lists and windows.
const WINDOW_MS = `COALESCE(w.ms, CASE WHEN (CASE WHEN json_typeof(a.alert->'priority') = 'number' THEN (a.alert->>'priority')::float8 ELSE 3 END) <= $5 THEN $6::bigint ELSE $7::bigint END)`;
const FROM_PENDING = `${S}.alerts a
  LEFT JOIN unnest($3::text[], $4::bigint[]) AS w(list, ms) ON w.list = a.list
 WHERE a.ts >= $1 AND a.ts <= $2 AND NOT a.historical
   AND NOT EXISTS (SELECT 1 FROM ${S}.dispositions d WHERE d.alert_id = a.alert_id)
   AND NOT EXISTS (SELECT 1 FROM ${S}.escalations e WHERE e.alert_id = a.alert_id)`;

function windowParams(b: WindowBounds): unknown[] {
  return [b.lists, b.listMs, b.urgentPriority, b.urgentMs, b.routineMs];
}

/** A live alert past its deadline, with nothing recorded for it yet. */
export interface DueAlert {
  alertId: string;
  agency: string | null;
  list: string | null;
  priority: number | null;
  plate: string | null;
  hotlistPlate: string | null;
  cameraId: string | null;
  ts: number;
}

interface DueRow {
  alert_id: string;
  agency: string | null;
  list: string | null;
  priority: number | null;
  plate: string | null;
  hotlist_plate: string | null;
  camera_id: string | null;
  ts: string;
}

/** Up to `limit` alerts due at `now`, oldest first. */
export async function dueAlerts(pool: pg.Pool, b: WindowBounds, now: number, limit: number): Promise<DueAlert[]> {
  const { rows } = await pool.query<DueRow>(
    `SELECT DISTINCT ON (a.ts, a.alert_id) a.alert_id, a.agency, a.list, a.ts::text AS ts,
            CASE WHEN json_typeof(a.alert->'priority') = 'number' THEN (a.alert->>'priority')::float8 END AS priority,
            a.alert->>'plate' AS plate, a.alert->>'hotlistPlate' AS hotlist_plate, a.alert->>'cameraId' AS camera_id
       FROM ${FROM_PENDING}
        AND a.ts + ${WINDOW_MS} <= $8
      ORDER BY a.ts, a.alert_id
      LIMIT $9`,
    [now - b.lookBackMs, now - b.minMs, ...windowParams(b), now, limit],
  );
  return rows.map((r) => ({
    alertId: r.alert_id, agency: r.agency, list: r.list, priority: r.priority, plate: r.plate, hotlistPlate: r.hotlist_plate, cameraId: r.camera_id, ts: Number(r.ts),
  }));
}

/** Live alerts inside their window at `now` with no disposition. */
export async function awaitingCount(pool: pg.Pool, b: WindowBounds, now: number): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    `SELECT count(DISTINCT a.alert_id)::text AS n FROM ${FROM_PENDING} AND a.ts + ${WINDOW_MS} > $8`,
    [now - b.lookBackMs, now, ...windowParams(b), now],
  );
  return Number(rows[0]?.n ?? 0);
}

/** What a claim row records of an escalation. */
export interface ClaimRow {
  alertId: string;
  agency: string | null;
  list: string | null;
  priority: number | null;
  window: 'urgent' | 'routine' | 'list';
  deadline: number;
  escalatedAt: number;
}

/**
 * Inserts the rows of `rows`; returns the alert ids this call inserted. An id another process
 * (or an earlier sweep) holds is left out: its insert waits for that transaction, then does
 * nothing.
 */
export async function claim(pool: pg.Pool, rows: readonly ClaimRow[]): Promise<string[]> {
  if (rows.length === 0) return [];
  const { rows: got } = await pool.query<{ alert_id: string }>(
    `INSERT INTO ${S}.escalations (alert_id, agency, list, priority, kind, deadline, escalated_at)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::integer[], $5::text[], $6::bigint[], $7::bigint[])
     ON CONFLICT (alert_id) DO NOTHING
     RETURNING alert_id`,
    [
      rows.map((r) => r.alertId), rows.map((r) => r.agency), rows.map((r) => r.list),
      // The column is an integer; a fractional priority (none in practice) is kept out of it.
      rows.map((r) => (r.priority !== null && Number.isSafeInteger(r.priority) ? r.priority : null)),
      rows.map((r) => r.window), rows.map((r) => r.deadline), rows.map((r) => r.escalatedAt),
    ],
  );
  return got.map((r) => r.alert_id);
}

/** Deletes this sweep's claims of `alertIds` (those made at `escalatedAt`), for the next sweep to retry. */
export async function unclaim(pool: pg.Pool, alertIds: readonly string[], escalatedAt: number): Promise<void> {
  await pool.query(`DELETE FROM ${S}.escalations WHERE alert_id = ANY($1::text[]) AND escalated_at = $2`, [alertIds, escalatedAt]);
}
