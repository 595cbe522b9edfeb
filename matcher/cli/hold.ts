/**
 * `platesieve hold add|list|release`: evidence holds on stored records (docs/store.md
 * "Evidence holds"). Database and audit log as every store command (db-options.ts).
 */
import { Command, InvalidArgumentError } from 'commander';
import { openStore } from '../store/open.js';
import type { Hold } from '../store/holds.js';
import { UsageError } from './errors.js';
import type { CommandIo } from './match.js';
import { auditFileOf, dbUrlOf, type DbCliOptions } from './db-options.js';

/** ISO 8601 or epoch milliseconds. */
export function timeArg(value: string): number {
  const ms = /^\d+$/.test(value.trim()) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw new InvalidArgumentError('expected an ISO 8601 time (2025-01-31 or 2025-01-31T08:00:00Z) or epoch milliseconds.');
  return ms;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

const dbOptions = (c: Command): Command =>
  c.option('--db <url>', 'PostgreSQL URL (or PLATESIEVE_DB_URL)').option('--audit <file>', 'audit log (or PLATESIEVE_AUDIT_FILE); required');

function formatHold(h: Hold): string {
  const what = h.plate !== undefined ? `plate ${h.plate}${h.from !== undefined || h.to !== undefined ? ` ${h.from === undefined ? '…' : new Date(h.from).toISOString()} to ${h.to === undefined ? '…' : new Date(h.to).toISOString()}` : ''}` : `${h.readIds?.length ?? 0} reads`;
  const state = h.releasedAt === undefined ? 'active' : `released ${h.releasedAt} by ${h.releasedBy ?? '?'}`;
  return `${h.holdId}  case ${h.case}  ${h.purpose}  ${what}  ${h.records} records  by ${h.createdBy} ${h.createdAt}  ${state}\n`;
}

export function registerHoldCommand(program: Command, io: CommandIo): void {
  const hold = program.command('hold').description('evidence holds: stored records kept out of deletion for a case (audited)');

  dbOptions(
    hold
      .command('add')
      .description('hold the stored records of a plate (optionally in a time window) or of read ids; future reads of the plate are held too, until release')
      .requiredOption('--case <number>', 'case number')
      .requiredOption('--purpose <code>', 'purpose code (docs/audit.md)')
      .requiredOption('--reason <text>', 'why the records are evidence')
      .option('--plate <plate>', 'plate to hold')
      .option('--from <time>', 'first read time held (ISO 8601 or epoch ms)', timeArg)
      .option('--to <time>', 'last read time held (ISO 8601 or epoch ms)', timeArg)
      .option('--read <id>', 'a stored read id, repeatable', collect)
      .option('--json', 'print the hold as JSON'),
  ).action(async (opts: DbCliOptions & { case: string; purpose: string; reason: string; plate?: string; from?: number; to?: number; read?: string[]; json?: boolean }) => {
    if ((opts.plate === undefined) === (opts.read === undefined)) throw new UsageError('give either --plate P or --read ID (one or more), not both');
    if (opts.read !== undefined && (opts.from !== undefined || opts.to !== undefined)) throw new UsageError('--from and --to go with --plate');
    if (opts.from !== undefined && opts.to !== undefined && opts.from > opts.to) throw new UsageError('--from is after --to');
    const s = await openStore({ url: dbUrlOf(opts), audit: auditFileOf(opts) });
    try {
      const h = await s.holds.add({ case: opts.case, purpose: opts.purpose, reason: opts.reason, plate: opts.plate, from: opts.from, to: opts.to, readIds: opts.read });
      io.stdout.write(opts.json === true ? `${JSON.stringify(h)}\n` : `hold ${h.holdId}: ${h.records} records copied into evidence\n`);
    } finally {
      await s.close();
    }
  });

  dbOptions(
    hold
      .command('list')
      .description('list active holds (with --all, released ones too)')
      .option('--all', 'include released holds')
      .option('--case <number>', 'only this case')
      .option('--json', 'one JSON object per line'),
  ).action(async (opts: DbCliOptions & { all?: boolean; case?: string; json?: boolean }) => {
    const s = await openStore({ url: dbUrlOf(opts), audit: opts.audit ?? process.env.PLATESIEVE_AUDIT_FILE ?? '' });
    try {
      const holds = await s.holds.list({ all: opts.all === true, case: opts.case });
      for (const h of holds) io.stdout.write(opts.json === true ? `${JSON.stringify(h)}\n` : formatHold(h));
      if (holds.length === 0 && opts.json !== true) io.stdout.write('no holds\n');
    } finally {
      await s.close();
    }
  });

  dbOptions(
    hold
      .command('release <holdId>')
      .description('release a hold: its evidence copies are deleted; records still in their period stay until it ends')
      .requiredOption('--reason <text>', 'why the hold ends'),
  ).action(async (holdId: string, opts: DbCliOptions & { reason: string }) => {
    const s = await openStore({ url: dbUrlOf(opts), audit: auditFileOf(opts) });
    try {
      const h = await s.holds.release(holdId, opts.reason);
      io.stdout.write(`hold ${h.holdId} released: ${h.records} evidence copies deleted\n`);
    } finally {
      await s.close();
    }
  });
}
