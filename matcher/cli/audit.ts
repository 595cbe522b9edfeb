/**
 * `platesieve audit verify | export | report`: check an audit log's hash chain, export its
 * records, and write the periodic audit report, on a log file (embedded use) or on the
 * services' log in PostgreSQL (`--db`). Reading the PostgreSQL log here is a person's direct
 * access, so it is itself appended to that log first (`audit.read`, `audit.report`, actor the
 * operating-system user), and nothing is read when that append fails. See docs/audit.md.
 */
import { stat } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import pg from 'pg';
import { AuditError } from '../errors.js';
import { canonicalJson } from '../audit/canonical.js';
import { exportPgAudit, PgAuditLog, streamPgAudit, verifyPgAudit } from '../audit/pg-log.js';
import { auditReport, formatAuditReport, type AuditReportOptions } from '../audit/report.js';
import { exportAudit, verifyAuditFile } from '../audit/verify.js';
import { AUDIT_ACTIONS, GENESIS_ACTION, type AuditEvent, type AuditRecord, type AuditVerifyResult, type JsonValue } from '../audit/types.js';
import { redactUrl } from '../service/redact.js';
import { osActor } from '../store/open.js';
import { dbUrlOf } from './db-options.js';
import { UsageError } from './errors.js';
import type { CommandIo } from './match.js';
import { LineWriter } from './output.js';

/** The chain does not verify: exit 1 with one line on standard error. */
export class AuditCheckFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditCheckFailed';
  }
}

function timeArg(value: string): number {
  const ms = /^\d+$/.test(value.trim()) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw new InvalidArgumentError('expected an ISO 8601 time (2025-01-31 or 2025-01-31T08:00:00Z) or epoch milliseconds.');
  return ms;
}

function actionArg(value: string, previous: string[] | undefined): string[] {
  const known = [...AUDIT_ACTIONS, GENESIS_ACTION];
  const names = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const n of names) {
    if (!known.some((a) => a === n || a.startsWith(`${n}.`))) {
      throw new InvalidArgumentError(`unknown action ${JSON.stringify(n)}; expected one of ${AUDIT_ACTIONS.join(', ')} or a prefix such as "hold".`);
    }
  }
  return [...(previous ?? []), ...names];
}

async function checkReadable(file: string): Promise<void> {
  try {
    const st = await stat(file);
    if (st.isDirectory()) throw new UsageError(`cannot read audit log ${file}: is a directory`);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (err as Error).message;
    throw new UsageError(`cannot read audit log ${file}: ${why}`, { cause: err });
  }
}

const iso = (ms: number | undefined): string => (ms === undefined ? '?' : new Date(ms).toISOString());

/** Human summary of a verification. */
export function formatVerify(file: string, r: AuditVerifyResult): string {
  if (r.ok) {
    return (
      `${file}: OK, ${r.records} records (${r.records - 1} action${r.records === 2 ? '' : 's'}) from ${iso(r.firstAt)} to ${iso(r.lastAt)}\n` +
      `  log id ${r.logId}\n  head   ${r.head}\n`
    );
  }
  const before = r.records === 0 ? 'no record verified' : `${r.records} record${r.records === 1 ? '' : 's'} verified before it, head ${r.head}`;
  const where = r.badSeq !== undefined ? `seq ${r.badSeq} (row ${r.badLine})` : `line ${r.badLine}`;
  return `${file}: FAILED at ${where}: ${r.reason}\n  ${before}\n`;
}

function formatRecord(r: AuditRecord): string {
  const parts = [iso(r.at), `#${r.seq}`, r.actor, r.action, r.outcome];
  if (r.purpose !== undefined) parts.push(`purpose=${r.purpose}`);
  if (r.case !== undefined) parts.push(`case=${r.case}`);
  if (r.subject !== undefined) parts.push(`subject=${JSON.stringify(r.subject)}`);
  if (r.reason !== undefined) parts.push(`reason=${JSON.stringify(r.reason)}`);
  return `${parts.join('  ')}\n`;
}


function countArg(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > 3650) throw new InvalidArgumentError('expected a whole number from 1 to 3650.');
  return n;
}

function factorArg(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || value.trim() === '') throw new InvalidArgumentError('expected a positive number.');
  return n;
}

/** Where the log is: a file, or the services' table in PostgreSQL. */
type Source = { kind: 'file'; file: string; label: string } | { kind: 'db'; url: string; label: string };

function sourceOf(file: string | undefined, opts: { db?: string }): Source {
  if (file !== undefined && opts.db !== undefined) throw new UsageError('give either an audit log FILE or --db, not both');
  if (file !== undefined) return { kind: 'file', file, label: file };
  if (opts.db === undefined && (process.env.PLATESIEVE_DB_URL ?? '').trim() === '') {
    throw new UsageError('give an audit log FILE, or --db postgres://... (or PLATESIEVE_DB_URL) for the services\' log');
  }
  const url = dbUrlOf(opts);
  return { kind: 'db', url, label: redactUrl(url) };
}

/**
 * Appends `event` (actor: the operating-system user) to the PostgreSQL log, then runs `read`.
 * The append comes first: when it fails, nothing is read.
 */
async function auditedDbRead<T>(url: string, event: AuditEvent, read: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = new pg.Pool({ connectionString: url, max: 2, application_name: 'platesieve audit' });
  // A dropped connection (idle, or checked out between queries) must not end the process with
  // an unhandled 'error' event: the query in flight rejects, and that is reported.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  try {
    try {
      const log = await PgAuditLog.open(pool, { actor: osActor() });
      await log.append(event);
      await log.close();
    } catch (err) {
      if (err instanceof AuditError) throw new UsageError(`${redactUrl(url)}: ${err.message} (nothing was read: reading the audit log is itself audited)`, { cause: err });
      throw err;
    }
    return await read(pool);
  } finally {
    await pool.end().catch(() => undefined);
  }
}

const SOURCE_HELP = '\nThe log is a FILE (JSON lines, the embedded use) or, with --db URL or PLATESIEVE_DB_URL, the services\' log in PostgreSQL; reading the latter is recorded in it first (audit.read, audit.report), with the operating-system user as the actor.';

interface VerifyOpts {
  head?: string;
  db?: string;
}

interface ExportOpts {
  from?: number;
  to?: number;
  action?: string[];
  format: 'ndjson' | 'text';
  verify: boolean;
  db?: string;
}

interface ReportOpts {
  from: number;
  to: number;
  format: 'text' | 'json';
  baselineDays?: number;
  spikeFactor?: number;
  emptySearches?: number;
  failedLogins?: number;
  db?: string;
}

/** Adds `audit verify`, `audit export` and `audit report` to `program`. */
export function registerAuditCommand(program: Command, io: CommandIo): Command {
  const audit = program
    .command('audit')
    .description('verify and export the tamper-evident audit log, and write the periodic audit report (see docs/audit.md)')
    .helpCommand(false);

  audit
    .command('verify')
    .description('check the hash chain of an audit log: edited, deleted, moved or inserted records and a truncated last line')
    .argument('[file]', 'audit log (JSON lines); omit with --db')
    .option('--db <url>', 'the services\' audit log in PostgreSQL (or PLATESIEVE_DB_URL)')
    .option('--head <hash>', 'a head hash kept elsewhere: fail if the log does not contain it (records removed from its end)')
    .addHelpText('after', `\nExit status: 0 when the chain verifies; 1 when it does not (the line or seq and the reason are printed); 2 on bad arguments or an unreadable log.${SOURCE_HELP}`)
    .action(async (file: string | undefined, opts: VerifyOpts) => {
      if (opts.head !== undefined && !/^[0-9a-f]{64}$/.test(opts.head)) throw new UsageError('--head must be a sha256 hex digest (64 lowercase hex digits)');
      const src = sourceOf(file, opts);
      let r: AuditVerifyResult;
      try {
        if (src.kind === 'file') {
          await checkReadable(src.file);
          r = await verifyAuditFile(src.file, { head: opts.head });
        } else {
          const event: AuditEvent = { action: 'audit.read', subject: { query: 'verify' }, details: { command: 'audit verify', head: opts.head } };
          r = await auditedDbRead(src.url, event, (pool) => verifyPgAudit(pool, { head: opts.head }));
        }
      } catch (err) {
        if (err instanceof AuditError) throw new UsageError(err.message, { cause: err });
        throw err;
      }
      io.stdout.write(formatVerify(src.label, r));
      if (!r.ok) throw new AuditCheckFailed(`audit log ${src.label} does not verify: ${r.badSeq !== undefined ? `seq ${r.badSeq}` : `line ${r.badLine}`}: ${r.reason}`);
    });

  audit
    .command('export')
    .description('write the records of an audit log, filtered, as NDJSON (or text), verifying the chain while reading')
    .argument('[file]', 'audit log (JSON lines); omit with --db')
    .option('--db <url>', 'the services\' audit log in PostgreSQL (or PLATESIEVE_DB_URL)')
    .option('--from <time>', 'first time to include, ISO 8601 or epoch ms (inclusive)', timeArg)
    .option('--to <time>', 'end of the period, ISO 8601 or epoch ms (exclusive)', timeArg)
    .option('--action <action>', `actions to include, comma-separated or repeated; a prefix such as "hold" includes hold.add and hold.release (actions: ${AUDIT_ACTIONS.join(', ')})`, actionArg)
    .addOption(new Option('--format <format>', 'output: one record per line as JSON, or one line of text').choices(['ndjson', 'text']).default('ndjson'))
    .option('--no-verify', 'export even when the chain does not verify (forensics)')
    .addHelpText('after', `\nExit status: 0 on success; 1 when the chain breaks (the records before the break are written); 2 on bad arguments or an unreadable log.${SOURCE_HELP}`)
    .action(async (file: string | undefined, opts: ExportOpts) => {
      if (opts.from !== undefined && opts.to !== undefined && opts.from >= opts.to) throw new UsageError('--from must be before --to');
      const src = sourceOf(file, opts);
      const filter = { from: opts.from, to: opts.to, action: opts.action, verify: opts.verify };
      const writer = new LineWriter(io.stdout);
      let count = 0;
      const write = async (records: AsyncIterable<AuditRecord>): Promise<void> => {
        for await (const r of records) {
          await writer.write(opts.format === 'text' ? formatRecord(r) : `${canonicalJson(r as unknown as JsonValue)}\n`);
          count++;
        }
      };
      try {
        if (src.kind === 'file') {
          await checkReadable(src.file);
          await write(exportAudit(src.file, filter));
        } else {
          const event: AuditEvent = { action: 'audit.read', subject: { query: 'export', from: opts.from, to: opts.to, ...(opts.action !== undefined ? { action: opts.action.join(',') } : {}) }, details: { command: 'audit export', verify: opts.verify } };
          await auditedDbRead(src.url, event, (pool) => write(exportPgAudit(pool, filter)));
        }
      } catch (err) {
        if (!(err instanceof AuditError)) throw err; // OutputClosed, write errors, UsageError
        await writer.end(false).catch(() => undefined); // flush what was exported before the break
        if (err.line !== undefined) throw new AuditCheckFailed(`${err.message} (${count} records exported before it)`);
        throw new UsageError(err.message, { cause: err });
      }
      await writer.end(false);
    });

  audit
    .command('report')
    .description('the periodic audit: actions by user, purpose and role; searches, exports, holds, refusals, logins; anomalies; the chain head to keep elsewhere')
    .argument('[file]', 'audit log (JSON lines); omit with --db')
    .option('--db <url>', 'the services\' audit log in PostgreSQL (or PLATESIEVE_DB_URL)')
    .requiredOption('--from <time>', 'start of the period, ISO 8601 or epoch ms (inclusive)', timeArg)
    .requiredOption('--to <time>', 'end of the period, ISO 8601 or epoch ms (exclusive)', timeArg)
    .addOption(new Option('--format <format>', 'text for a person, or json').choices(['text', 'json']).default('text'))
    .option('--baseline-days <n>', 'days before --from that give each user\'s usual daily volume (default 30)', countArg)
    .option('--spike-factor <x>', 'flag a user whose daily volume exceeds x times the usual (default 3)', factorArg)
    .option('--empty-searches <n>', 'flag a user with at least n searches that found nothing (default 5)', countArg)
    .option('--failed-logins <n>', 'flag a user with at least n failed logins (default 3)', countArg)
    .addHelpText('after', `\nExit status: 0 when the report is written and the chain verifies; 1 when the chain does not verify (the report is still written, saying so); 2 on bad arguments or an unreadable log.${SOURCE_HELP}`)
    .action(async (file: string | undefined, opts: ReportOpts) => {
      if (opts.from >= opts.to) throw new UsageError('--from must be before --to');
      const src = sourceOf(file, opts);
      const options: AuditReportOptions = { from: opts.from, to: opts.to, baselineDays: opts.baselineDays, spikeFactor: opts.spikeFactor, emptySearchThreshold: opts.emptySearches, failedLoginThreshold: opts.failedLogins };
      let report;
      try {
        if (src.kind === 'file') {
          await checkReadable(src.file);
          // Unverified read: the report checks the chain itself and says where it breaks.
          report = await auditReport(exportAudit(src.file, { verify: false }), options);
        } else {
          const event: AuditEvent = { action: 'audit.report', subject: { from: opts.from, to: opts.to }, details: { command: 'audit report', format: opts.format } };
          report = await auditedDbRead(src.url, event, (pool) => auditReport(streamPgAudit(pool, { to: opts.to }), options));
        }
      } catch (err) {
        if (err instanceof AuditError) throw err.line !== undefined ? new AuditCheckFailed(err.message) : new UsageError(err.message, { cause: err });
        throw err;
      }
      io.stdout.write(opts.format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatAuditReport(report));
      if (!report.chain.verified) throw new AuditCheckFailed(`audit log ${src.label}: the chain does not verify: ${report.chain.problem ?? 'unknown problem'}`);
    });

  return audit;
}
