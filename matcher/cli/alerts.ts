/**
 * `platesieve alerts list|disposition|stats`: alert verification from the command line
 * (docs/operations.md "Verifying alerts"). Through the operations API as the logged-in user, who
 * becomes the disposition's `by`; with `--db`, an administrator's direct access, audited as
 * `access.direct` first, with the operating-system actor as `by`.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import pg from 'pg';
import { AuditLog } from '../audit/index.js';
import type { AuditEvent } from '../audit/types.js';
import { AlertQueryError, listAlerts, MAX_ALERT_LIMIT, statsRows, type AlertView } from '../dispositions/query.js';
import { recordDisposition, type RecordedDisposition } from '../dispositions/record.js';
import { computeAlertStats, type AlertStats, type GroupStats } from '../dispositions/stats.js';
import { InvalidDispositionError, OUTCOMES, REJECT_REASONS } from '../dispositions/validate.js';
import { DEFAULT_WINDOWS } from '../dispositions/windows.js';
import { osActor } from '../store/open.js';
import { apiClientFor } from './api-client.js';
import { auditFileOf, dbUrlOf, type DbCliOptions } from './db-options.js';
import { UsageError } from './errors.js';
import { timeArg } from './hold.js';
import type { CommandIo } from './match.js';

const DAY = 86_400_000;

/** The statistics with the window they cover (the API's answer). */
export type WindowedStats = AlertStats & { from: number; to: number };

interface AccessOptions extends DbCliOptions {
  api?: string;
}

function keepArg(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 1) throw new InvalidArgumentError('expected a share of confirmed alerts to keep, more than 0 and at most 1 (0.95).');
  return n;
}

function limitArg(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > MAX_ALERT_LIMIT) throw new InvalidArgumentError(`expected a whole number from 1 to ${MAX_ALERT_LIMIT}.`);
  return n;
}

function windowOf(opts: { from?: number; to?: number }, days: number): { from: number; to: number } {
  const to = opts.to ?? Date.now();
  const from = opts.from ?? to - days * DAY;
  if (from >= to) throw new UsageError('--from must be before --to');
  return { from, to };
}

const iso = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString());
const pct = (r: number | null): string => (r === null ? '-' : `${(r * 100).toFixed(1)}%`);

/** Rows as columns padded to their widest cell (the last left ragged). */
function table(rows: readonly string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n');
}

function stateOf(a: AlertView): string {
  if (a.disposition !== null) return `${a.disposition.outcome}${a.disposition.reason !== undefined ? ` (${a.disposition.reason})` : ''} by ${a.disposition.by}`;
  if (a.escalatedAt !== null) return `ESCALATED ${iso(a.escalatedAt)}`;
  if (a.deadline === null) return 'open (historical: no window)';
  return `${a.overdue ? 'OVERDUE since' : 'due'} ${iso(a.deadline)} (${a.windowKind ?? ''})`;
}

/** The alert list as a table. */
export function formatAlertList(alerts: readonly AlertView[]): string {
  const rows = [['TIME', 'ALERT', 'PLATE', 'LISTED', 'LIST', 'PRI', 'MATCH', 'SCORE', 'CAMERA', 'STATE']];
  for (const a of alerts) {
    const al = a.alert;
    const text = (k: string): string => (typeof al[k] === 'string' ? al[k] : '');
    rows.push([iso(a.ts), a.alertId, text('plate'), text('hotlistPlate') || text('pattern'), a.list ?? '', a.priority === null ? '' : String(a.priority), a.match, a.score === null ? '' : a.score.toFixed(2), text('cameraId'), stateOf(a)]);
  }
  return table(rows);
}

function groupTable(title: string, groups: Record<string, GroupStats>): string {
  const rows = [[title, 'ALERTS', 'DISPOSITIONED', 'CONFIRMED', 'REJECTED', 'NO ACTION', 'CONFIRMED%', 'REJECTED%']];
  for (const key of Object.keys(groups).sort()) {
    const g = groups[key];
    rows.push([key === '' ? '(none)' : key, String(g.alerts), String(g.dispositioned), String(g.confirmed), String(g.rejected), String(g.noAction), pct(g.confirmedRate), pct(g.rejectedRate)]);
  }
  return table(rows);
}

/** The statistics as readable tables: totals, the five breakdowns, per-list thresholds. */
export function formatAlertStats(s: WindowedStats): string {
  const t = s.total;
  const parts = [
    `alerts ${iso(s.from)} .. ${iso(s.to)}: ${t.alerts} alerts, ${t.dispositioned} dispositioned (${t.confirmed} confirmed, ${t.rejected} rejected, ${t.noAction} no action); confirmed ${pct(t.confirmedRate)}, rejected ${pct(t.rejectedRate)}`,
    groupTable('LIST', s.byList),
    groupTable('TIER', s.byTier),
    groupTable('SCORE BAND', s.byScoreBand),
    groupTable('CAMERA', s.byCamera),
    Object.keys(s.byConfusion).length > 0 ? groupTable('CONFUSION (read>listed)', s.byConfusion) : 'CONFUSION: none (no misread characters among these alerts)',
  ];
  // Exact thresholds: a rounded one could sit above the lowest score it is meant to keep.
  const rows = [['LIST', 'THRESHOLD', 'CONFIRMED KEPT', 'REJECTED REMOVED']];
  for (const th of s.thresholds) {
    rows.push([th.list, th.threshold === null ? '- (no confirmed alerts)' : String(th.threshold), `${th.confirmedKept}/${th.confirmed}`, `${th.rejectedRemoved}/${th.rejected}`]);
  }
  parts.push(`per-list score thresholds keeping ${pct(s.keep)} of confirmed alerts (matching.listMinScore):\n${table(rows)}`);
  return `${parts.join('\n\n')}\n`;
}

/**
 * Opens the database and the audit file for a direct command, records the direct access, runs
 * `work` with them, and closes both.
 */
async function direct<T>(opts: DbCliOptions, command: string, work: (pool: pg.Pool, audit: AuditLog, actor: string) => Promise<T>): Promise<T> {
  const url = dbUrlOf(opts);
  const auditFile = auditFileOf(opts);
  const actor = osActor();
  const pool = new pg.Pool({ connectionString: url, max: 2, application_name: 'platesieve' });
  pool.on('error', () => undefined);
  const audit = await AuditLog.open(auditFile, { actor });
  try {
    await audit.append({ action: 'access.direct', actor, details: { via: 'database', for: `alerts ${command}` } });
    return await work(pool, audit, actor);
  } catch (err) {
    if (err instanceof AlertQueryError) throw new UsageError(err.message, { cause: err });
    if (err instanceof InvalidDispositionError) throw new UsageError(`${err.message} (${err.problem})`, { cause: err });
    throw err;
  } finally {
    await audit.close();
    await pool.end();
  }
}

function access(c: Command): Command {
  return c
    .option('--api <url>', 'the operations API (default: the one you logged in to with platesieve login)')
    .option('--db <url>', 'PostgreSQL URL (or PLATESIEVE_DB_URL): direct access, for admins, audited as such')
    .option('--audit <file>', 'with --db: audit log (or PLATESIEVE_AUDIT_FILE); required');
}

/** Without a session, direct access needs a database named: say both ways out. */
function requireDb(opts: DbCliOptions, command: string): void {
  if ((opts.db ?? process.env.PLATESIEVE_DB_URL ?? '') === '') throw new UsageError(`alerts ${command}: log in first (platesieve login --api <url>) or give --db`);
}

/** Registers `platesieve alerts`. */
export function registerAlertsCommand(program: Command, io: CommandIo): void {
  const alerts = program.command('alerts').description('alert verification: recent alerts and their deadlines, dispositions, false-alert statistics (audited)');

  access(alerts.command('list')
    .description('stored alerts of a window (default: the last 24 hours), newest first, with disposition or confirmation deadline')
    .option('--from <time>', 'first alert time (ISO 8601 or epoch ms)', timeArg)
    .option('--to <time>', 'end of the window, exclusive (default: now)', timeArg)
    .option('--undispositioned', 'only alerts nobody has dispositioned')
    .option('--list <type>', 'only this list type')
    .option('--limit <n>', `most alerts (default 200, at most ${MAX_ALERT_LIMIT})`, limitArg)
    .option('--json', 'one JSON object per alert'))
    .action(async (opts: AccessOptions & { from?: number; to?: number; undispositioned?: boolean; list?: string; limit?: number; json?: boolean }) => {
      const { from, to } = windowOf(opts, 1);
      const limit = opts.limit ?? 200;
      const undispositioned = opts.undispositioned === true;
      const client = apiClientFor(opts);
      let rows: AlertView[];
      if (client !== undefined) {
        const q = new URLSearchParams({ from: String(from), to: String(to), limit: String(limit), ...(undispositioned ? { undispositioned: 'true' } : {}), ...(opts.list !== undefined ? { list: opts.list } : {}) });
        rows = (await client.request<{ alerts: AlertView[] }>('GET', `/api/alerts?${q.toString()}`)).alerts;
      } else {
        requireDb(opts, 'list');
        rows = await direct(opts, 'list', async (pool, audit, actor) => {
          const now = Date.now();
          const found = await listAlerts(pool, { from, to, undispositioned, limit, list: opts.list }, DEFAULT_WINDOWS, now);
          const event: AuditEvent = { action: 'alert.list', actor, subject: { from, to, count: found.length }, details: { undispositioned, direct: true } };
          await audit.append(event);
          return found;
        });
      }
      if (opts.json === true) for (const a of rows) io.stdout.write(`${JSON.stringify(a)}\n`);
      else if (rows.length > 0) io.stdout.write(`${formatAlertList(rows)}\n`);
      io.stderr.write(`alerts: ${rows.length} alerts, ${rows.filter((a) => a.disposition === null).length} open, ${rows.filter((a) => a.overdue).length} overdue\n`);
    });

  access(alerts.command('disposition <alertId>')
    .description('record what checking the alert found (operator, supervisor); you are `by`, now is `at`; once per alert')
    .addOption(new Option('--outcome <outcome>', 'the outcome').choices([...OUTCOMES]).makeOptionMandatory())
    .addOption(new Option('--reason <reason>', 'why it was rejected (required with rejected)').choices([...REJECT_REASONS]))
    .option('--note <text>', 'free text; required with --reason other')
    .option('--verified-with <source>', 'what it was checked against: NCIC, the state record, the image'))
    .action(async (alertId: string, opts: AccessOptions & { outcome: string; reason?: string; note?: string; verifiedWith?: string }) => {
      const body = { outcome: opts.outcome, reason: opts.reason, note: opts.note, verifiedWith: opts.verifiedWith };
      const client = apiClientFor(opts);
      let d: RecordedDisposition;
      if (client !== undefined) {
        d = await client.request<RecordedDisposition>('POST', `/api/alerts/${encodeURIComponent(alertId)}/disposition`, body);
      } else {
        requireDb(opts, 'disposition');
        d = await direct(opts, 'disposition', (pool, audit, actor) => recordDisposition({ pool, audit }, { ...body, alertId, by: actor, at: Date.now() }, { source: 'api', actor }));
      }
      io.stdout.write(`${d.alertId}  ${d.outcome}${d.reason !== undefined ? ` (${d.reason})` : ''}  by ${d.by} at ${iso(d.at)}${d.list !== null ? `  list ${d.list}` : ''}\n`);
    });

  access(alerts.command('stats')
    .description('false-alert statistics of a window (default: the last 30 days): rates by list, tier, score band, camera, confusion; per-list thresholds')
    .option('--from <time>', 'first alert time (ISO 8601 or epoch ms)', timeArg)
    .option('--to <time>', 'end of the window, exclusive (default: now)', timeArg)
    .option('--keep <share>', 'share of confirmed alerts a list threshold keeps (default 0.95)', keepArg)
    .option('--json', 'the statistics as one JSON object'))
    .action(async (opts: AccessOptions & { from?: number; to?: number; keep?: number; json?: boolean }) => {
      const { from, to } = windowOf(opts, 30);
      const keep = opts.keep ?? 0.95;
      const client = apiClientFor(opts);
      let stats: WindowedStats;
      if (client !== undefined) {
        stats = await client.request<WindowedStats>('GET', `/api/alerts/stats?${new URLSearchParams({ from: String(from), to: String(to), keep: String(keep) }).toString()}`);
      } else {
        requireDb(opts, 'stats');
        stats = await direct(opts, 'stats', async (pool, audit, actor) => {
          const s = computeAlertStats(await statsRows(pool, { from, to }), keep);
          await audit.append({ action: 'alert.stats', actor, subject: { from, to, count: s.total.alerts }, details: { keep, dispositioned: s.total.dispositioned, direct: true } });
          return { from, to, ...s };
        });
      }
      io.stdout.write(opts.json === true ? `${JSON.stringify(stats)}\n` : formatAlertStats(stats));
    });
}
