/**
 * `platesieve hold add|list|release`: evidence holds on stored records (docs/store.md
 * "Evidence holds"). Through the operations API when logged in (api-client.ts); with --db, a
 * direct connection as every store command (db-options.ts), audited as direct access.
 */
import { Command, InvalidArgumentError } from 'commander';
import { openStore } from '../store/open.js';
import type { Hold } from '../store/holds.js';
import { apiClientFor } from './api-client.js';
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
  c.option('--api <url>', 'the operations API (default: the one you logged in to with platesieve login)')
    .option('--db <url>', 'PostgreSQL URL (or PLATESIEVE_DB_URL): direct access, for admins, audited as such')
    .option('--audit <file>', 'with --db: audit log (or PLATESIEVE_AUDIT_FILE); required');

type HoldCliOptions = DbCliOptions & { api?: string };

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
  ).action(async (opts: HoldCliOptions & { case: string; purpose: string; reason: string; plate?: string; from?: number; to?: number; read?: string[]; json?: boolean }) => {
    if ((opts.plate === undefined) === (opts.read === undefined)) throw new UsageError('give either --plate P or --read ID (one or more), not both');
    if (opts.read !== undefined && (opts.from !== undefined || opts.to !== undefined)) throw new UsageError('--from and --to go with --plate');
    if (opts.from !== undefined && opts.to !== undefined && opts.from > opts.to) throw new UsageError('--from is after --to');
    const req = { case: opts.case, purpose: opts.purpose, reason: opts.reason, plate: opts.plate, from: opts.from, to: opts.to, readIds: opts.read };
    const client = apiClientFor(opts);
    let h: Hold;
    if (client !== undefined) h = await client.request<Hold>('POST', '/api/holds', req);
    else {
      const s = await openStore({ url: dbUrlOf(opts), audit: auditFileOf(opts), direct: true });
      try {
        h = await s.holds.add(req);
      } finally {
        await s.close();
      }
    }
    io.stdout.write(opts.json === true ? `${JSON.stringify(h)}\n` : `hold ${h.holdId}: ${h.records} records copied into evidence\n`);
  });

  dbOptions(
    hold
      .command('list')
      .description('list active holds (with --all, released ones too)')
      .option('--all', 'include released holds')
      .option('--case <number>', 'only this case')
      .option('--json', 'one JSON object per line'),
  ).action(async (opts: HoldCliOptions & { all?: boolean; case?: string; json?: boolean }) => {
    const client = apiClientFor(opts);
    let holds: Hold[];
    if (client !== undefined) {
      const q = new URLSearchParams();
      if (opts.all === true) q.set('all', 'true');
      if (opts.case !== undefined) q.set('case', opts.case);
      holds = (await client.request<{ holds: Hold[] }>('GET', `/api/holds${q.size > 0 ? `?${q.toString()}` : ''}`)).holds;
    } else {
      const s = await openStore({ url: dbUrlOf(opts), audit: opts.audit ?? process.env.PLATESIEVE_AUDIT_FILE ?? '', direct: true });
      try {
        holds = await s.holds.list({ all: opts.all === true, case: opts.case });
      } finally {
        await s.close();
      }
    }
    for (const h of holds) io.stdout.write(opts.json === true ? `${JSON.stringify(h)}\n` : formatHold(h));
    if (holds.length === 0 && opts.json !== true) io.stdout.write('no holds\n');
  });

  dbOptions(
    hold
      .command('release <holdId>')
      .description('release a hold: its evidence copies are deleted; records still in their period stay until it ends')
      .requiredOption('--reason <text>', 'why the hold ends'),
  ).action(async (holdId: string, opts: HoldCliOptions & { reason: string }) => {
    const client = apiClientFor(opts);
    let h: Hold;
    if (client !== undefined) h = await client.request<Hold>('POST', `/api/holds/${encodeURIComponent(holdId)}/release`, { reason: opts.reason });
    else {
      const s = await openStore({ url: dbUrlOf(opts), audit: auditFileOf(opts), direct: true });
      try {
        h = await s.holds.release(holdId, opts.reason);
      } finally {
        await s.close();
      }
    }
    io.stdout.write(`hold ${h.holdId} released: ${h.records} evidence copies deleted\n`);
  });
}
