/**
 * `platesieve hotlist add | cancel | remove | list`: live single-entry changes through the
 * JetStream key-value bucket every service instance follows (matcher/service/live.ts).
 * Every change, and every refusal, is written to the agency's audit log first, and every write
 * names its author in the `Platesieve-Actor` header, without which the services refuse it. The
 * author is the NATS identity the command connects with, or the OS user@host (actor.ts); a
 * name typed with `--actor` is kept as a note (`statedActor`), never taken as the actor.
 *
 * When logged in (`platesieve login`) or given `--api`, add, cancel and remove go through the
 * operations API instead, which writes the same change with the session's user as the actor.
 * A direct write to the bucket is a person's direct access: audited as `access.direct` too.
 */
import { Command } from 'commander';
import type { JetStreamClient, KV, NatsConnection } from 'nats';
import { createMatcher } from '../matcher.js';
import { AuditLog } from '../audit/index.js';
import { checkEntryPurpose } from '../policy/index.js';
import type { HotlistEntry, VehicleDescription } from '../types.js';
import { CANCEL_PREFIX, ENTRY_PREFIX } from '../service/live.js';
import { lapseTime } from '../service/expiry.js';
import { deleteLive, putLive, type LiveAttribution } from '../service/live-write.js';
import { changeAuthor, type ChangeAuthor } from './actor.js';
import { UsageError } from './errors.js';
import type { CommandIo } from './match.js';
import { addNatsOptions, connectCli, NATS_SECRETS_HELP, natsFlagsOf, type NatsCliOptions } from './nats-options.js';
import { ApiClient, apiClientFor } from './api-client.js';

interface Common extends NatsCliOptions {
  api?: string;
  /** The service's configuration file; only its `nats` section is read. */
  config?: string;
  bucket: string;
  audit?: string;
  /** A typed name: a note on the change, not its actor. */
  actor?: string;
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
  // Same connection flags, environment and file as `platesieve serve` (nats-options.ts).
  return addNatsOptions(cmd.option('--config <file>', "the service's configuration file (YAML or JSON): its nats section is used"))
    .addHelpText('after', NATS_SECRETS_HELP)
    .option('--bucket <name>', 'key-value bucket the services follow (liveUpdates.bucket)', 'alpr-hotlist')
    .option('--audit <file>', 'audit log to append to (or PLATESIEVE_AUDIT_FILE); required for changes', process.env.PLATESIEVE_AUDIT_FILE)
    .option('--actor <name>', 'a name to note on the change (or PLATESIEVE_ACTOR); recorded as statedActor, never as the actor, which is the NATS identity or OS user@host', process.env.PLATESIEVE_ACTOR)
    .option('--api <url>', 'through the operations API (default when logged in with platesieve login and no --config or --nats* option is given): the actor is your session\'s user');
}

/**
 * The API client when the change goes through the operations API: `--api`, or a saved session
 * and no option that names a NATS connection (which means a direct write to the bucket).
 */
function apiFor(opts: Common): ApiClient | undefined {
  const direct = opts.config !== undefined || Object.values(natsFlagsOf(opts)).some((v) => v !== undefined);
  if (opts.api !== undefined && direct) throw new UsageError('give --api or the NATS connection options (--config, --nats...), not both');
  if (direct) return undefined;
  return apiClientFor({ api: opts.api });
}

/** A person's direct write to the bucket is recorded as such, just before the change's own record. */
function directAccess(audit: AuditLog, author: ChangeAuthor, action: string): Promise<unknown> {
  return audit.append({ action: 'access.direct', details: { via: 'bucket', for: action, ...author.details } });
}

async function openBucket(opts: Common): Promise<{ nc: NatsConnection; kv: KV }> {
  const nc = await connectCli(opts, 'platesieve-hotlist');
  try {
    return { nc, kv: await nc.jetstream().views.kv(opts.bucket, { history: 10 }) };
  } catch (err) {
    await nc.close();
    throw new UsageError(`cannot open bucket ${opts.bucket}: ${(err as Error).message}`);
  }
}

function requireAudit(opts: Common): { file: string; actor: string; author: ChangeAuthor } {
  if (opts.audit === undefined || opts.audit === '') throw new UsageError('--audit FILE (or PLATESIEVE_AUDIT_FILE) is required: every change is audited');
  const author = changeAuthor(opts);
  return { file: opts.audit, actor: author.identity.actor, author };
}

/** The headers of a write by `author` (live-write.ts). */
function attribution(author: ChangeAuthor, extra: Omit<LiveAttribution, 'actor' | 'statedActor'> = {}): LiveAttribution {
  return { actor: author.identity.actor, statedActor: author.statedActor, ...extra };
}

/** Runs a change with the audit log open and the bucket connected, closing both after. */
async function change(opts: Common, fn: (audit: AuditLog, kv: KV, js: JetStreamClient, author: ChangeAuthor) => Promise<void>): Promise<void> {
  const who = requireAudit(opts);
  const audit = await AuditLog.open(who.file, { actor: who.actor });
  try {
    const { nc, kv } = await openBucket(opts);
    try {
      await fn(audit, kv, nc.jetstream(), who.author);
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

function entryOf(opts: AddOpts, now = Date.now()): HotlistEntry {
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
    // A date-only value means "through that day", as in hotlist files (docs/hotlists.md).
    const at = lapseTime(opts.expires);
    if (at === null || at === undefined) throw new UsageError(`--expires ${JSON.stringify(opts.expires)}: expected an ISO 8601 date`);
    // The service refuses it anyway; saying so here keeps a dead entry out of the bucket and the audit log.
    if (at <= now) throw new UsageError(`--expires ${JSON.stringify(opts.expires)}: ${new Date(at).toISOString()} is already past; an entry must expire in the future`);
    entry.expires = at;
  }
  const vehicle: VehicleDescription = {};
  for (const key of ['make', 'model', 'colour', 'type'] as const) if (opts[key] !== undefined) vehicle[key] = opts[key];
  if (Object.keys(vehicle).length > 0) entry.vehicle = vehicle;
  entry.entered = now;
  return entry;
}

/** The body of POST /api/hotlist/entries; the server checks it as entryOf does here. */
function apiEntryOf(opts: AddOpts): Record<string, unknown> {
  if ((opts.plate === undefined) === (opts.pattern === undefined)) throw new UsageError('give exactly one of --plate and --pattern');
  const body: Record<string, unknown> = { id: opts.id, list: opts.list, source: opts.source };
  for (const key of ['plate', 'pattern', 'state', 'case', 'enteredBy', 'purpose', 'expires', 'notes'] as const) if (opts[key] !== undefined) body[key] = opts[key];
  if (opts.priority !== undefined) {
    const p = Number(opts.priority);
    if (!Number.isInteger(p) || p < 1 || p > 5) throw new UsageError('--priority must be 1..5');
    body.priority = p;
  }
  const vehicle: VehicleDescription = {};
  for (const key of ['make', 'model', 'colour', 'type'] as const) if (opts[key] !== undefined) vehicle[key] = opts[key];
  if (Object.keys(vehicle).length > 0) body.vehicle = vehicle;
  return body;
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
    .option('--expires <date>', 'when the entry lapses, ISO 8601, in the future; a date alone means through that day (required with --pattern)')
    .option('--make <make>').option('--model <model>').option('--colour <colour>').option('--type <type>', 'vehicle attributes')
    .option('--notes <text>')
    .action(async (opts: AddOpts) => {
      checkId(opts.id);
      const client = apiFor(opts);
      if (client !== undefined) {
        const r = await client.request<{ id: string; revision: number; entry: HotlistEntry }>('POST', '/api/hotlist/entries', apiEntryOf(opts));
        io.stdout.write(`added ${r.id} (${r.entry.plate ?? r.entry.pattern ?? ''}, ${r.entry.list}) at revision ${r.revision} as ${client.user ?? 'the session user'}\n`);
        return;
      }
      const who = requireAudit(opts);
      const entry = entryOf(opts);
      if (entry.pattern !== undefined) entry.enteredBy ??= who.actor;
      const audit = await AuditLog.open(who.file, { actor: who.actor });
      const action = entry.pattern !== undefined ? 'partial.add' : 'entry.add';
      const subject = { entryId: opts.id, plate: entry.plate, pattern: entry.pattern, list: entry.list, state: entry.state };
      try {
        const verdict = checkEntryPurpose({ list: entry.list, notes: entry.notes, purpose: entry.purpose, case: entry.case });
        if (!verdict.ok) {
          await directAccess(audit, who.author, action);
          await audit.refused({ action, purpose: entry.purpose, case: entry.case, subject, details: who.author.details }, verdict);
          throw new UsageError(`refused: ${verdict.reason} (${verdict.citation}); the refusal is audited`);
        }
        try {
          createMatcher({ entries: [entry] });
        } catch (err) {
          throw new UsageError((err as Error).message.replace(/^hotlist entry 0: /, ''));
        }
        // Opens (creates) the bucket; the write itself is published with its headers, which kv.put cannot send.
        const { nc } = await openBucket(opts);
        try {
          await directAccess(audit, who.author, action);
          await audit.append({ action, purpose: entry.purpose, case: entry.case, subject, details: who.author.details });
          const revision = await putLive(nc.jetstream(), opts.bucket, `${ENTRY_PREFIX}${opts.id}`, JSON.stringify(entry), attribution(who.author, { purpose: entry.purpose, case: entry.case }));
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
      const client = apiFor(opts);
      if (client !== undefined) {
        const r = await client.request<{ revision: number }>('POST', `/api/hotlist/entries/${opts.id}/cancel`, { reason: opts.reason, ...(opts.case !== undefined ? { case: opts.case } : {}) });
        io.stdout.write(`cancelled ${opts.id} at revision ${r.revision} as ${client.user ?? 'the session user'}\n`);
        return;
      }
      await change(opts, async (audit, kv, js, author) => {
        const live = await kv.get(`${ENTRY_PREFIX}${opts.id}`);
        const isPartial = live !== null && live.operation === 'PUT' && typeof live.json<HotlistEntry>().pattern === 'string';
        await directAccess(audit, author, isPartial ? 'partial.cancel' : 'entry.remove');
        await audit.append({ action: isPartial ? 'partial.cancel' : 'entry.remove', case: opts.case, reason: opts.reason, subject: { entryId: opts.id }, details: author.details });
        const value = JSON.stringify({ by: author.identity.actor, reason: opts.reason, at: Date.now() });
        const revision = await putLive(js, opts.bucket, `${CANCEL_PREFIX}${opts.id}`, value, attribution(author, { reason: opts.reason, case: opts.case }));
        io.stdout.write(`cancelled ${opts.id} at revision ${revision}\n`);
      });
    });

  common(hotlist.command('remove').description('remove a live entry from the bucket (entries from files: use cancel)'))
    .requiredOption('--id <id>', 'entry id')
    .requiredOption('--reason <text>', 'why')
    .action(async (opts: Common & { id: string; reason: string }) => {
      checkId(opts.id);
      const client = apiFor(opts);
      if (client !== undefined) {
        await client.request('DELETE', `/api/hotlist/entries/${opts.id}`, { reason: opts.reason });
        io.stdout.write(`removed ${opts.id} as ${client.user ?? 'the session user'}\n`);
        return;
      }
      await change(opts, async (audit, _kv, js, author) => {
        await directAccess(audit, author, 'entry.remove');
        await audit.append({ action: 'entry.remove', reason: opts.reason, subject: { entryId: opts.id }, details: author.details });
        await deleteLive(js, opts.bucket, `${ENTRY_PREFIX}${opts.id}`, attribution(author, { reason: opts.reason }));
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
          const value = e.json<Partial<HotlistEntry> & Record<string, unknown>>();
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
