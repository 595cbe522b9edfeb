/**
 * `platesieve audit verify FILE` and `platesieve audit export FILE`: check an audit log's hash
 * chain, and export its records (the log is the agency's; see docs/audit.md).
 */
import { stat } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { AuditError } from '../errors.js';
import { canonicalJson } from '../audit/canonical.js';
import { exportAudit, verifyAuditFile } from '../audit/verify.js';
import { AUDIT_ACTIONS, GENESIS_ACTION, type AuditRecord, type AuditVerifyResult, type JsonValue } from '../audit/types.js';
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
  return `${file}: FAILED at line ${r.badLine}: ${r.reason}\n  ${before}\n`;
}

function formatRecord(r: AuditRecord): string {
  const parts = [iso(r.at), `#${r.seq}`, r.actor, r.action, r.outcome];
  if (r.purpose !== undefined) parts.push(`purpose=${r.purpose}`);
  if (r.case !== undefined) parts.push(`case=${r.case}`);
  if (r.subject !== undefined) parts.push(`subject=${JSON.stringify(r.subject)}`);
  if (r.reason !== undefined) parts.push(`reason=${JSON.stringify(r.reason)}`);
  return `${parts.join('  ')}\n`;
}

interface VerifyOpts {
  head?: string;
}

interface ExportOpts {
  from?: number;
  to?: number;
  action?: string[];
  format: 'ndjson' | 'text';
  verify: boolean;
}

/** Adds `audit verify` and `audit export` to `program`. */
export function registerAuditCommand(program: Command, io: CommandIo): Command {
  const audit = program
    .command('audit')
    .description('verify and export the tamper-evident audit log (see docs/audit.md)')
    .helpCommand(false);

  audit
    .command('verify')
    .description('check the hash chain of an audit log: edited, deleted, moved or inserted lines and a truncated last line')
    .argument('<file>', 'audit log (JSON lines)')
    .option('--head <hash>', 'a head hash kept elsewhere: fail if the log does not contain it (lines removed from its end)')
    .addHelpText('after', '\nExit status: 0 when the chain verifies; 1 when it does not (the line and the reason are printed); 2 on bad arguments or an unreadable file.')
    .action(async (file: string, opts: VerifyOpts) => {
      await checkReadable(file);
      if (opts.head !== undefined && !/^[0-9a-f]{64}$/.test(opts.head)) throw new UsageError('--head must be a sha256 hex digest (64 lowercase hex digits)');
      let r: AuditVerifyResult;
      try {
        r = await verifyAuditFile(file, { head: opts.head });
      } catch (err) {
        if (err instanceof AuditError) throw new UsageError(err.message, { cause: err });
        throw err;
      }
      io.stdout.write(formatVerify(file, r));
      if (!r.ok) throw new AuditCheckFailed(`audit log ${file} does not verify: line ${r.badLine}: ${r.reason}`);
    });

  audit
    .command('export')
    .description('write the records of an audit log, filtered, as NDJSON (or text), verifying the chain while reading')
    .argument('<file>', 'audit log (JSON lines)')
    .option('--from <time>', 'first time to include, ISO 8601 or epoch ms (inclusive)', timeArg)
    .option('--to <time>', 'end of the period, ISO 8601 or epoch ms (exclusive)', timeArg)
    .option('--action <action>', `actions to include, comma-separated or repeated; a prefix such as "hold" includes hold.add and hold.release (actions: ${AUDIT_ACTIONS.join(', ')})`, actionArg)
    .addOption(new Option('--format <format>', 'output: one record per line as JSON, or one line of text').choices(['ndjson', 'text']).default('ndjson'))
    .option('--no-verify', 'export even when the chain does not verify (forensics)')
    .addHelpText('after', '\nExit status: 0 on success; 1 when the chain breaks (the records before the break are written); 2 on bad arguments or an unreadable file.')
    .action(async (file: string, opts: ExportOpts) => {
      await checkReadable(file);
      if (opts.from !== undefined && opts.to !== undefined && opts.from >= opts.to) throw new UsageError('--from must be before --to');
      const writer = new LineWriter(io.stdout);
      let count = 0;
      try {
        for await (const r of exportAudit(file, { from: opts.from, to: opts.to, action: opts.action, verify: opts.verify })) {
          await writer.write(opts.format === 'text' ? formatRecord(r) : `${canonicalJson(r as unknown as JsonValue)}\n`);
          count++;
        }
      } catch (err) {
        if (!(err instanceof AuditError)) throw err; // OutputClosed, write errors
        await writer.end(false).catch(() => undefined); // flush what was exported before the break
        if (err.line !== undefined) throw new AuditCheckFailed(`${err.message} (${count} records exported before it)`);
        throw new UsageError(err.message, { cause: err });
      }
      await writer.end(false);
    });

  return audit;
}
