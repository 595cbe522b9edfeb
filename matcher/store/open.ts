/**
 * `openStore`: the records store as a library (docs/store.md). Every call that touches people's
 * data (search, holds, retention) applies the purpose rules and is audited with its actor: the
 * logged-in user when the operations API calls it (one view per session, `store.as(...)`), the
 * operating-system user when a person connects directly (the CLI with `--db`, audited as
 * `access.direct` as well), or the one the caller names. The database is the one
 * `platesieve store` writes; its schema must be migrated (`platesieve store migrate`, or
 * `migrate()` here).
 */
import { hostname, userInfo } from 'node:os';
import pg from 'pg';
import type { Logger } from 'pino';
import { AuditLog } from '../audit/index.js';
import { redactUrl } from '../service/redact.js';
import type { AuditEvent, AuditSink, AuditSubject, JsonValue } from '../audit/types.js';
import { DEFAULT_OCR_CLASSES } from '../core/plate.js';
import { PurposeRefusedError } from '../errors.js';
import { checkPurpose, purposeError, type PurposeRefusal } from '../policy/purpose.js';
import { SensitivePlaces, type SensitivePlacesInput } from '../policy/sensitive.js';
import { approvalRefusal, loadApproval } from '../sensitive/approvals.js';
import { SensitiveGate } from '../sensitive/gate.js';
import type { ReadRecord, StateMismatchPolicy } from '../types.js';
import { addHold, listHolds, releaseHold, type Hold, type HoldRequest } from './holds.js';
import { runRetention, type RetentionReport } from './retention.js';
import { migrate, schemaVersion, SCHEMA, SCHEMA_VERSION, type MigrateResult } from './schema.js';
import { searchReads, type SearchQuery, type SearchResult } from './search.js';

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  /** PostgreSQL URL (`postgres://user@host:5432/db`); or give `pool`. */
  url?: string;
  /** A pool of the caller's (the operations API shares its own); `close()` then leaves it open. */
  pool?: pg.Pool;
  /** Who acts (audit `actor`); default the operating-system user as `user@host`. */
  actor?: string;
  /** Roles of the actor, written to `details.roles` of every record (the audit report groups by them). */
  roles?: readonly string[];
  /**
   * Where every call is audited: an audit log file (opened for each call, so several CLI
   * processes take turns), or an open {@link AuditSink} (the PostgreSQL log, or a file log the
   * caller holds open). An empty path refuses every audited call (nothing unaudited).
   */
  audit: string | AuditSink;
  /**
   * A person connecting to the database directly (not through the operations API): every
   * audited call also writes an `access.direct` record naming the actor, just before its own.
   */
  direct?: boolean;
  /** Matching settings searches use (the service's `matching` section). */
  partialOcr?: boolean;
  stateMismatch?: StateMismatchPolicy;
  /**
   * Camera tags and their rules (the `sensitivePlaces` section, or resolved). Absent: the ones
   * the operations API last started with (store_meta `sensitivePlaces`), else the default tags
   * with no camera tagged. docs/sensitive-places.md.
   */
  sensitivePlaces?: SensitivePlacesInput | SensitivePlaces;
  /** Database connections. Default 2. */
  poolSize?: number;
  /** Clock (epoch ms), for tests. */
  now?: () => number;
}

/** Who a store view acts for: the operations API opens one view per request's session. */
export interface StoreActor {
  /** The audit actor: the logged-in user. */
  actor: string;
  /** Written to `details.roles` of every record. */
  roles?: readonly string[];
  /** More context for every record (session id, client address). */
  details?: { [key: string]: JsonValue | undefined };
}

/** A search as an operator asks it: the query and why. */
export interface SearchRequest extends SearchQuery {
  purpose: string;
  case?: string;
  /** Required when the window reaches reads older than one year (Lakewood PP-9126 C.5). */
  reason?: string;
  /** The id of a supervisor's approval to see reads of sensitive places (docs/sensitive-places.md). */
  sensitiveApproval?: string;
  onProgress?: (done: number, total: number) => void;
}

/** How a search is made on someone's behalf (the sharing export). */
export interface SearchCallOptions {
  /**
   * Whose approval `sensitiveApproval` must be: default the store's actor. The sharing export
   * runs as the exporting supervisor on the requester's approval.
   */
  approvalHolder?: string;
  /** Added to the details of the search's sensitive-place audit records (`via`, `requestId`). */
  context?: { [key: string]: JsonValue };
}

/** A hold as an operator asks it. */
export interface HoldAddRequest extends HoldRequest {
  purpose: string;
}

/** An open store. */
export interface Store {
  readonly actor: string;
  search(req: SearchRequest, call?: SearchCallOptions): Promise<SearchResult>;
  holds: {
    add(req: HoldAddRequest): Promise<Hold>;
    /** Audited as `hold.list` when the store has an audit target. */
    list(options?: { all?: boolean; case?: string }): Promise<Hold[]>;
    release(holdId: string, reason: string): Promise<Hold>;
  };
  retention: { run(options?: { dryRun?: boolean }): Promise<RetentionReport> };
  /** Brings the schema up to date. */
  migrate(): Promise<MigrateResult>;
  /**
   * The same store (pool, audit target, settings) acting for another user: every record it
   * writes names that user and roles. Its `close()` does nothing; close the store itself.
   */
  as(who: StoreActor): Store;
  close(): Promise<void>;
}

const YEAR_MS = 365 * 86_400_000;
const C5 = 'Lakewood PD PP-9126 C.5: data accessed beyond one year after its creation needs the person and the reason documented';

/** The OS user as `user@host`: the actor until logins exist. */
export function osActor(): string {
  let user = process.env.USER ?? 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers): keep $USER
  }
  return `${user}@${hostname()}`;
}

/**
 * Migrates if needed, and records (or checks) the OCR classes the search keys are computed
 * with: keys written under other classes would make searches miss.
 */
export async function prepareDatabase(pool: pg.Pool, ocrClasses: readonly string[], log?: Logger): Promise<void> {
  const client = await pool.connect();
  try {
    const m = await migrate(client);
    if (m.applied.length > 0) log?.info({ from: m.from, to: m.to, applied: m.applied }, 'store schema migrated');
    const want = JSON.stringify([...ocrClasses]);
    await client.query(`INSERT INTO ${SCHEMA}.store_meta (key, value) VALUES ('ocrClasses', $1::jsonb) ON CONFLICT (key) DO NOTHING`, [want]);
    const { rows } = await client.query<{ value: string[] }>(`SELECT value FROM ${SCHEMA}.store_meta WHERE key = 'ocrClasses'`);
    const have = JSON.stringify(rows[0]?.value ?? []);
    if (have !== want) {
      throw new Error(`matching.ocrClasses ${want} differ from the classes the stored search keys were made with (${have}): keep them, or store into a new database`);
    }
  } finally {
    client.release();
  }
}

/** Opens the store for searches, holds and retention runs. */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  let pool = options.pool;
  const ownPool = pool === undefined;
  if (pool === undefined) {
    if (options.url === undefined) throw new TypeError('openStore: give options.url or options.pool');
    pool = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 2, application_name: 'platesieve' });
    // A dropped connection (idle, or checked out between queries): the next query reconnects,
    // and without these listeners the 'error' event would end the process.
    pool.on('error', () => undefined);
    pool.on('connect', (client) => client.on('error', () => undefined));
    try {
      await pool.query('SELECT 1');
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw new Error(`cannot connect to PostgreSQL at ${redactUrl(options.url)}: ${(err as Error).message}`, { cause: err });
    }
  }
  const sp = options.sensitivePlaces;
  const ctx: StoreContext = { pool, options, now: options.now ?? Date.now, ocrClasses: undefined, places: sp === undefined || sp instanceof SensitivePlaces ? sp : new SensitivePlaces(sp) };
  const store = storeFor(ctx, { actor: options.actor ?? osActor(), roles: options.roles });
  return { ...store, close: () => (ownPool ? pool.end() : Promise.resolve()) };
}

interface StoreContext {
  pool: pg.Pool;
  options: OpenStoreOptions;
  now: () => number;
  ocrClasses: string[] | undefined;
  places: SensitivePlaces | undefined;
}

type Event = Omit<AuditEvent, 'action'> & { action: AuditEvent['action'] };

/** The store acting for `who`: every audited call names them (and their roles). */
function storeFor(ctx: StoreContext, who: StoreActor): Store {
  const { pool, options, now } = ctx;
  const actor = who.actor;
  const stamp = (e: Event): AuditEvent => {
    const details = { ...e.details, ...who.details, ...(who.roles !== undefined ? { roles: [...who.roles] } : {}) };
    return { ...e, actor, ...(Object.keys(details).length > 0 ? { details } : {}) };
  };
  const withSink = async <T>(act: (sink: AuditSink) => Promise<T>): Promise<T> => {
    if (typeof options.audit !== 'string') return act(options.audit);
    const log = await AuditLog.open(options.audit, { actor });
    try {
      return await act(log);
    } finally {
      await log.close();
    }
  };
  // A direct connection is recorded as such just before the action's own record, in the same chain.
  const direct = (sink: AuditSink, e: Event): Promise<unknown> =>
    options.direct === true ? sink.append(stamp({ action: 'access.direct', details: { via: 'database', for: e.action } })) : Promise.resolve();
  const append = (e: Event): Promise<unknown> => withSink(async (sink) => {
    await direct(sink, e);
    return sink.append(stamp(e));
  });
  const refuse = async (event: Event, refusal: PurposeRefusal | PurposeRefusedError): Promise<never> => {
    const r: PurposeRefusal = refusal instanceof PurposeRefusedError
      ? { ok: false, category: refusal.category as PurposeRefusal['category'], code: refusal.refusal as PurposeRefusal['code'], reason: refusal.reason, citation: refusal.citation }
      : refusal;
    await withSink(async (sink) => {
      await direct(sink, event);
      await sink.refused(stamp(event), r);
    });
    throw refusal instanceof PurposeRefusedError ? refusal : purposeError(refusal);
  };
  const ready = async (): Promise<void> => {
    const client = await pool.connect();
    try {
      const v = await schemaVersion(client);
      if (v !== SCHEMA_VERSION) throw new Error(`the store database is at schema version ${v}, this platesieve needs ${SCHEMA_VERSION}: run \`platesieve store migrate\``);
    } finally {
      client.release();
    }
  };
  const classes = async (): Promise<string[]> => {
    if (ctx.ocrClasses !== undefined) return ctx.ocrClasses;
    const { rows } = await pool.query<{ value: string[] }>(`SELECT value FROM ${SCHEMA}.store_meta WHERE key = 'ocrClasses'`);
    ctx.ocrClasses = rows[0]?.value ?? [...DEFAULT_OCR_CLASSES];
    return ctx.ocrClasses;
  };
  const hasAudit = typeof options.audit !== 'string' || options.audit !== '';
  const places = async (): Promise<SensitivePlaces> => {
    if (ctx.places !== undefined) return ctx.places;
    const { rows } = await pool.query<{ value: SensitivePlacesInput }>(`SELECT value FROM ${SCHEMA}.store_meta WHERE key = 'sensitivePlaces'`);
    ctx.places = new SensitivePlaces(rows[0]?.value ?? {});
    return ctx.places;
  };
  // The gate of one search, or undefined when no camera is tagged and no approval is named. A
  // named approval that cannot be used refuses the search (audited): asking for sensitive reads
  // on a stale or borrowed approval is an error to fix, not something to answer around.
  const gateFor = async (req: SearchRequest, call: SearchCallOptions, subject: AuditSubject): Promise<SensitiveGate | undefined> => {
    const sp = await places();
    const id = req.sensitiveApproval;
    if (id === undefined) return sp.active ? new SensitiveGate(sp, req) : undefined;
    const approval = await loadApproval(pool, id);
    // A direct database user is an OS account, not a people account that could hold an approval.
    const holder = options.direct === true ? undefined : (call.approvalHolder ?? actor);
    const refusal = approvalRefusal(id, approval, { now: now(), holder });
    if (refusal !== undefined) {
      await append({ action: 'sensitive.access', outcome: 'refused', purpose: req.purpose, case: req.case, reason: refusal.message, subject: { ...subject, approvalId: id }, details: { ...call.context, refusal: refusal.refusal } });
      throw refusal;
    }
    return new SensitiveGate(sp, req, approval);
  };

  return {
    actor,
    async search(req, call = {}) {
      const subject = { ...(req.plate !== undefined ? { plate: req.plate } : {}), ...(req.pattern !== undefined ? { pattern: req.pattern } : {}), from: req.from, to: req.to, ...(req.state !== undefined ? { state: req.state } : {}), ...(req.cameraId !== undefined ? { cameraId: req.cameraId } : {}) };
      const event = { action: 'search' as const, purpose: req.purpose, case: req.case, reason: req.reason, subject, details: { tiers: req.tiers ?? null, maxDistance: req.maxDistance ?? null } };
      const check = checkPurpose({ purpose: req.purpose, case: req.case, reason: req.reason });
      if (!check.ok) return refuse(event, check);
      if (req.from < now() - YEAR_MS && (req.reason ?? '').trim() === '') {
        return refuse(event, new PurposeRefusedError({ category: 'UNDOCUMENTED', refusal: 'MISSING_REASON', reason: 'the window reaches reads older than one year: give --reason', citation: C5 }));
      }
      await ready();
      const gate = await gateFor(req, call, subject);
      const admit = gate !== undefined ? (r: ReadRecord): boolean => gate.admit(r) : undefined;
      const result = await searchReads(pool, req, { ocrClasses: await classes(), partialOcr: options.partialOcr ?? false, stateMismatch: options.stateMismatch ?? 'reject' }, { now: now(), onProgress: req.onProgress, admit });
      await append({ ...event, subject: { ...subject, count: result.hits.length }, ...(req.sensitiveApproval !== undefined ? { details: { ...event.details, sensitiveApproval: req.sensitiveApproval } } : {}) });
      for (const e of gate?.events(subject, call.context) ?? []) await append(e);
      return gate?.anyWithheld === true ? { ...result, withheld: { sensitive: true } } : result;
    },
    holds: {
      async add(req) {
        const subject = { ...(req.plate !== undefined ? { plate: req.plate } : {}), ...(req.readIds !== undefined ? { readIds: req.readIds } : {}), ...(req.from !== undefined ? { from: req.from } : {}), ...(req.to !== undefined ? { to: req.to } : {}) };
        const event = { action: 'hold.add' as const, purpose: req.purpose, case: req.case, reason: req.reason, subject };
        const check = checkPurpose({ purpose: req.purpose, case: req.case, reason: req.reason }, { requireCase: true });
        if (!check.ok) return refuse(event, check);
        await ready();
        const hold = await addHold(pool, req, actor, now());
        await append({ ...event, subject: { ...subject, holdId: hold.holdId, count: hold.records } });
        return hold;
      },
      async list(opts) {
        await ready();
        const holds = await listHolds(pool, opts);
        if (hasAudit) await append({ action: 'hold.list', case: opts?.case, subject: { count: holds.length }, details: { all: opts?.all === true } });
        return holds;
      },
      async release(holdId, reason) {
        if (reason.trim() === '') throw new Error('a reason is required to release a hold');
        await ready();
        const hold = await releaseHold(pool, holdId, reason, actor);
        await append({ action: 'hold.release', purpose: hold.purpose, case: hold.case, reason, subject: { holdId, count: hold.records, ...(hold.plate !== undefined ? { plate: hold.plate } : {}) } });
        return hold;
      },
    },
    retention: {
      async run(opts = {}) {
        await ready();
        const report = await runRetention(pool, { dryRun: opts.dryRun, now: now(), actor });
        if (report.skipped === true) throw new Error('another retention run is in progress; nothing was done');
        await append({ action: 'retention.delete', subject: { count: report.totalRows }, details: { dryRun: report.dryRun, beforeDay: report.beforeDay, deleted: report.deleted.map((d) => ({ ...d })), evidenceCopied: report.evidenceCopied } });
        return report;
      },
    },
    async migrate() {
      const client = await pool.connect();
      try {
        return await migrate(client);
      } finally {
        client.release();
      }
    },
    as: (next) => storeFor(ctx, next),
    close: () => Promise.resolve(),
  };
}
