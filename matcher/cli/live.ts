/**
 * `platesieve hotlist add | cancel | remove | list`: live single-entry changes through the
 * JetStream key-value bucket every service instance follows (matcher/service/live.ts).
 * Every change, and every refusal, is written to the agency's audit log first.
 */
import { Command } from 'commander';
import { connect, type KV, type NatsConnection } from 'nats';
import { createMatcher } from '../matcher.js';
import { AuditLog } from '../audit/index.js';
import { checkEntryPurpose } from '../policy/index.js';
import { parseHotlistDate } from '../hotlist/index.js';
import type { HotlistEntry, VehicleDescription } from '../types.js';
import { CANCEL_PREFIX, ENTRY_PREFIX } from '../service/live.js';
import { UsageError } from './errors.js';
import type { CommandIo } from './match.js';

interface Common {
  nats: string;
  bucket: string;
  audit?: string;
  actor: string;
}

interface AddOpts extends Common {
  id: string;
  plate?: string;
  pattern?: string;
  list: string;
  state?: string;
  priority?: string;
  source: string;
  case?: string;
  enteredBy?: string;
  purpose?: string;
  expires?: string;
  make?: string;
  model?: string;
  colour?: string;
  type?: string;
  notes?: string;
}

const ID_RE = /^[-_A-Za-z0-9=]+$/;

function common(cmd: Command): Command {
  return cmd
    .option('--nats <url>', 'NATS server', process.env.PLATESIEVE_NATS_URL ?? 'nats://127.0.0.1:4222')
    .option('--bucket <name>', 'key-value bucket the services follow (liveUpdates.bucket)', 'alpr-hotlist')
    .option('--audit <file>', 'audit log to append to (or PLATESIEVE_AUDIT_FILE); required for changes', process.env.PLATESIEVE_AUDIT_FILE)
    .option('--actor <name>', 'who makes the change (unique user name)', process.env.PLATESIEVE_ACTOR ?? process.env.USER ?? '');
}

async function openBucket(opts: Common): Promise<{ nc: NatsConnection; kv: KV }> {
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: opts.nats, timeout: 5000 });
  } catch (err) {
    throw new UsageError(`cannot connect to NATS at ${opts.nats}: ${(err as Error).message}`);
  }
  try {
    return { nc, kv: await nc.jetstream().views.kv(opts.bucket, { history: 10 }) };
  } catch (err) {
    await nc.close();
    throw new UsageError(`cannot open bucket ${opts.bucket}: ${(err as Error).message}`);
  }
}

function requireAudit(opts: Common): { file: string; actor: string } {
  if (opts.audit === undefined || opts.audit === '') throw new UsageError('--audit FILE (or PLATESIEVE_AUDIT_FILE) is required: every change is audited');
  if (opts.actor.trim() === '') throw new UsageError('--actor NAME (or PLATESIEVE_ACTOR) is required: every change names who made it');
  return { file: opts.audit, actor: opts.actor.trim() };
}

/** Runs a change with the audit log open and the bucket connected, closing both after. */
async function change(opts: Common, fn: (audit: AuditLog, kv: KV) => Promise<void>): Promise<void> {
  const who = requireAudit(opts);
  const audit = await AuditLog.open(who.file, { actor: who.actor });
  try {
    const { nc, kv } = await openBucket(opts);
    try {
      await fn(audit, kv);
    } finally {
      await nc.close();
    }
  } finally {
    await audit.close();
  }
}

function checkId(id: string): void {
  if (!ID_RE.test(id)) throw new UsageError(`--id ${JSON.stringify(id)}: use letters, digits, "-", "_" or "="`);
}

function entryOf(opts: AddOpts): HotlistEntry {
  if ((opts.plate === undefined) === (opts.pattern === undefined)) throw new UsageError('give exactly one of --plate and --pattern');
  const entry: HotlistEntry = { id: opts.id, list: opts.list, source: opts.source };
  if (opts.plate !== undefined) entry.plate = opts.plate;
  if (opts.pattern !== undefined) entry.pattern = opts.pattern;
  if (opts.state !== undefined) entry.state = opts.state;
  if (opts.priority !== undefined) {
    const p = Number(opts.priority);
    if (!Number.isInteger(p) || p < 1 || p > 5) throw new UsageError('--priority must be 1..5');
    entry.priority = p;
  }
  for (const key of ['case', 'enteredBy', 'purpose', 'notes'] as const) if (opts[key] !== undefined) entry[key] = opts[key];
  if (opts.expires !== undefined) {
    const d = parseHotlistDate(opts.expires);
    if (!d.ok) throw new UsageError(`--expires ${JSON.stringify(opts.expires)}: expected an ISO 8601 date`);
    entry.expires = d.ms;
  }
  const vehicle: VehicleDescription = {};
  for (const key of ['make', 'model', 'colour', 'type'] as const) if (opts[key] !== undefined) vehicle[key] = opts[key];
  if (Object.keys(vehicle).length > 0) entry.vehicle = vehicle;
  entry.entered = Date.now();
  return entry;
}

export function registerLiveCommands(hotlist: Command, io: CommandIo): void {
  common(hotlist.command('add').description('add or replace a live hotlist entry (plate or partial pattern) in the bucket every service follows'))
    .requiredOption('--id <id>', 'entry id (key in the bucket)')
    .option('--plate <plate>', 'plate')
    .option('--pattern <pattern>', 'partial plate: ? one character, * any run, [AB8] one of a set')
    .requiredOption('--list <type>', 'list type (STOLEN_VEHICLE, WANTED, BOLO, ...)')
    .option('--state <code>', 'state')
    .option('--priority <n>', '1 (highest) .. 5')
    .option('--source <source>', 'source', 'LOCAL')
    .option('--case <number>', 'case number (required with --pattern)')
    .option('--entered-by <name>', 'officer entering it (required with --pattern)')
    .option('--purpose <code>', 'purpose code (required with --pattern; docs/audit.md)')
    .option('--expires <date>', 'when the entry lapses, ISO 8601 (required with --pattern)')
    .option('--make <make>').option('--model <model>').option('--colour <colour>').option('--type <type>', 'vehicle attributes')
    .option('--notes <text>')
    .action(async (opts: AddOpts) => {
      checkId(opts.id);
      const who = requireAudit(opts);
      const entry = entryOf(opts);
      if (entry.pattern !== undefined) entry.enteredBy ??= who.actor;
      const audit = await AuditLog.open(who.file, { actor: who.actor });
      const action = entry.pattern !== undefined ? 'partial.add' : 'entry.add';
      const subject = { entryId: opts.id, plate: entry.plate, pattern: entry.pattern, list: entry.list, state: entry.state };
      try {
        const verdict = checkEntryPurpose({ list: entry.list, notes: entry.notes, purpose: entry.purpose, case: entry.case });
        if (!verdict.ok) {
          await audit.refused({ action, purpose: entry.purpose, case: entry.case, subject }, verdict);
          throw new UsageError(`refused: ${verdict.reason} (${verdict.citation}); the refusal is audited`);
        }
        try {
          createMatcher({ entries: [entry] });
        } catch (err) {
          throw new UsageError((err as Error).message.replace(/^hotlist entry 0: /, ''));
        }
        const { nc, kv } = await openBucket(opts);
        try {
          await audit.append({ action, purpose: entry.purpose, case: entry.case, subject });
          const revision = await kv.put(`${ENTRY_PREFIX}${opts.id}`, JSON.stringify(entry));
          io.stdout.write(`added ${opts.id} (${entry.plate ?? entry.pattern}, ${entry.list}) at revision ${revision}\n`);
        } finally {
          await nc.close();
        }
      } finally {
        await audit.close();
      }
    });

  common(hotlist.command('cancel').description('cancel an entry (from a file or live) in every service: its hits stop alerting'))
    .requiredOption('--id <id>', 'entry id')
    .requiredOption('--reason <text>', 'why (recovered, cleared, entered in error, ...)')
    .option('--case <number>', 'case number')
    .action(async (opts: Common & { id: string; reason: string; case?: string }) => {
      checkId(opts.id);
      await change(opts, async (audit, kv) => {
        const live = await kv.get(`${ENTRY_PREFIX}${opts.id}`);
        const isPartial = live !== null && live.operation === 'PUT' && typeof live.json<HotlistEntry>().pattern === 'string';
        await audit.append({ action: isPartial ? 'partial.cancel' : 'entry.remove', case: opts.case, reason: opts.reason, subject: { entryId: opts.id } });
        const revision = await kv.put(`${CANCEL_PREFIX}${opts.id}`, JSON.stringify({ by: opts.actor.trim(), reason: opts.reason, at: Date.now() }));
        io.stdout.write(`cancelled ${opts.id} at revision ${revision}\n`);
      });
    });

  common(hotlist.command('remove').description('remove a live entry from the bucket (entries from files: use cancel)'))
    .requiredOption('--id <id>', 'entry id')
    .requiredOption('--reason <text>', 'why')
    .action(async (opts: Common & { id: string; reason: string }) => {
      checkId(opts.id);
      await change(opts, async (audit, kv) => {
        await audit.append({ action: 'entry.remove', reason: opts.reason, subject: { entryId: opts.id } });
        await kv.delete(`${ENTRY_PREFIX}${opts.id}`);
        io.stdout.write(`removed ${opts.id}\n`);
      });
    });

  common(hotlist.command('list').description('list the live entries and cancellations in the bucket'))
    .option('--json', 'one JSON object a line')
    .action(async (opts: Common & { json?: boolean }) => {
      const { nc, kv } = await openBucket(opts);
      try {
        const keys: string[] = [];
        for await (const k of await kv.keys()) keys.push(k);
        keys.sort();
        for (const key of keys) {
          const e = await kv.get(key);
          if (e === null || e.operation !== 'PUT') continue;
          const value = e.json<Record<string, unknown>>();
          if (opts.json) io.stdout.write(`${JSON.stringify({ key, revision: e.revision, value })}\n`);
          else if (key.startsWith(ENTRY_PREFIX)) {
            io.stdout.write(`entry   ${key.slice(ENTRY_PREFIX.length)}  ${String(value.plate ?? value.pattern)}  ${String(value.list)}${value.case ? `  case ${String(value.case)}` : ''}\n`);
          } else io.stdout.write(`cancel  ${key.slice(CANCEL_PREFIX.length)}  by ${String(value.by)}: ${String(value.reason)}\n`);
        }
      } finally {
        await nc.close();
      }
    });
}
