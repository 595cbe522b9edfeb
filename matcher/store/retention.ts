/**
 * The retention job: drops every daily partition whose day has passed, after copying into
 * evidence any row an active hold covers that is not there yet. A row falls due on its
 * `expires_at`; search and holds stop seeing it at that moment (they filter on it), and the
 * job removes it physically once its whole day has passed, so nothing goes before its time and
 * nothing outlives its day. The report counts rows per table, policy and class, never plates.
 */
import type { Pool } from 'pg';
import { listPartitions, PARTITIONED, type PartitionedTable } from './partitions.js';
import { SCHEMA } from './schema.js';
import { utcDay } from './copy-text.js';

/** Rows deleted (or due, in a dry run) per policy and class. */
export interface RetentionCount {
  table: PartitionedTable;
  policy: string;
  class?: string;
  rows: number;
}

/** What a retention run did. */
export interface RetentionReport {
  dryRun: boolean;
  /** Partitions of days before this one (UTC) were due. */
  beforeDay: string;
  partitions: string[];
  deleted: RetentionCount[];
  /** Held rows copied into evidence just before their partition went. */
  evidenceCopied: number;
  totalRows: number;
  /** Another process was running the job: this one did nothing. */
  skipped?: boolean;
}

// One retention run at a time across every store process and CLI.
const RETENTION_LOCK = 7_140_222;

// A hold covers a row by plate (and window) or by read id; only active holds count.
const HELD = (part: string) => `
  INSERT INTO ${SCHEMA}.evidence (hold_id, read_id, ts, plate_norm, plate_key, record)
  SELECT h.hold_id, r.id, r.ts, r.plate_norm, r.plate_key, r.record
  FROM ${SCHEMA}.${part} r JOIN ${SCHEMA}.holds h ON h.released_at IS NULL AND (
    (h.plate_norm = r.plate_norm AND (h.from_ts IS NULL OR r.ts >= h.from_ts) AND (h.to_ts IS NULL OR r.ts <= h.to_ts))
    OR r.id = ANY(h.read_ids))
  ON CONFLICT DO NOTHING`;

/**
 * Runs the job at `now`: every partition of a day before today (UTC) is due.
 * `dryRun` counts what would go and deletes nothing.
 */
export async function runRetention(pool: Pool, options: { dryRun?: boolean; now?: number; actor?: string } = {}): Promise<RetentionReport> {
  const now = options.now ?? Date.now();
  const beforeDay = utcDay(now);
  const report: RetentionReport = { dryRun: options.dryRun === true, beforeDay, partitions: [], deleted: [], evidenceCopied: 0, totalRows: 0 };
  const client = await pool.connect();
  const { rows: lock } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [RETENTION_LOCK]);
  if (lock[0]?.ok !== true) {
    client.release();
    return { ...report, skipped: true };
  }
  try {
    for (const table of PARTITIONED) {
      for (const p of await listPartitions(client, table)) {
        if (p.day >= beforeDay) continue;
        report.partitions.push(p.name);
        await client.query('BEGIN');
        try {
          const byClass = table === 'reads' ? 'policy, class' : 'policy';
          const { rows } = await client.query<{ policy: string; class?: string; n: string }>(
            `SELECT ${byClass}, count(*) AS n FROM ${SCHEMA}.${p.name} GROUP BY ${byClass}`,
          );
          for (const r of rows) report.deleted.push({ table, policy: r.policy, ...(r.class === undefined ? {} : { class: r.class }), rows: Number(r.n) });
          if (table === 'reads' && !report.dryRun) report.evidenceCopied += (await client.query(HELD(p.name))).rowCount ?? 0;
          if (!report.dryRun) await client.query(`DROP TABLE ${SCHEMA}.${p.name}`);
          await client.query(report.dryRun ? 'ROLLBACK' : 'COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
      }
    }
    report.deleted = merge(report.deleted);
    report.totalRows = report.deleted.reduce((n, d) => n + d.rows, 0);
    await client.query(`INSERT INTO ${SCHEMA}.retention_runs (actor, dry_run, through_day, report) VALUES ($1, $2, $3, $4)`, [
      options.actor ?? 'platesieve-store', report.dryRun, beforeDay, JSON.stringify(report),
    ]);
    return report;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [RETENTION_LOCK]).catch(() => undefined);
    client.release();
  }
}

function merge(counts: RetentionCount[]): RetentionCount[] {
  const m = new Map<string, RetentionCount>();
  for (const c of counts) {
    const k = `${c.table}\u0000${c.policy}\u0000${c.class ?? ''}`;
    const seen = m.get(k);
    if (seen === undefined) m.set(k, { ...c });
    else seen.rows += c.rows;
  }
  return [...m.values()].sort((a, b) => a.table.localeCompare(b.table) || a.policy.localeCompare(b.policy) || (a.class ?? '').localeCompare(b.class ?? ''));
}

/** One line per table, policy and class, for the CLI. */
export function formatRetention(r: RetentionReport): string {
  const head = `${r.dryRun ? 'dry run: would delete' : 'deleted'} ${r.totalRows} rows in ${r.partitions.length} partitions due before ${r.beforeDay}` +
    (r.evidenceCopied > 0 ? ` (${r.evidenceCopied} held rows copied into evidence first)` : '');
  return [head, ...r.deleted.map((d) => `  ${d.table.padEnd(12)} ${d.policy}${d.class === undefined ? '' : ` ${d.class}`}: ${d.rows}`)].join('\n') + '\n';
}
