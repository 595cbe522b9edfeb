/**
 * `openStore`: the records store as a library (docs/store.md). Every call that touches people's
 * data (search, holds, retention) applies the purpose rules and is audited with its actor:
 * until logins exist, the actor is the operating-system user (the CLI) or the one the caller
 * names. The database is the one `platesieve store` writes; its schema must be migrated
 * (`platesieve store migrate`, or `migrate()` here).
 */
import { hostname, userInfo } from 'node:os';
import pg from 'pg';
import type { Logger } from 'pino';
import { AuditLog } from '../audit/index.js';
import { redactUrl } from '../service/redact.js';
import type { AuditEvent } from '../audit/types.js';
import { DEFAULT_OCR_CLASSES } from '../core/plate.js';
import { PurposeRefusedError } from '../errors.js';
import { checkPurpose, purposeError, type PurposeRefusal } from '../policy/purpose.js';
import type { StateMismatchPolicy } from '../types.js';
import { addHold, listHolds, releaseHold, type Hold, type HoldRequest } from './holds.js';
import { runRetention, type RetentionReport } from './retention.js';
import { migrate, schemaVersion, SCHEMA, SCHEMA_VERSION, type MigrateResult } from './schema.js';
import { searchReads, type SearchQuery, type SearchResult } from './search.js';

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  /** PostgreSQL URL (`postgres://user@host:5432/db`). */
  url: string;
  /** Who acts (audit `actor`); default the operating-system user as `user@host`. */
  actor?: string;
  /** Audit log file every call is appended to; without it calls are refused (nothing unaudited). */
  audit: string;
  /** Matching settings searches use (the service's `matching` section). */
  partialOcr?: boolean;
  stateMismatch?: StateMismatchPolicy;
  /** Database connections. Default 2. */
  poolSize?: number;
  /** Clock (epoch ms), for tests. */
  now?: () => number;
}

/** A search as an operator asks it: the query and why. */
export interface SearchRequest extends SearchQuery {
  purpose: string;
  case?: string;
  /** Required when the window reaches reads older than one year (Lakewood PP-9126 C.5). */
  reason?: string;
  onProgress?: (done: number, total: number) => void;
}

/** A hold as an operator asks it. */
export interface HoldAddRequest extends HoldRequest {
  purpose: string;
}

/** An open store. */
export interface Store {
  readonly actor: string;
  search(req: SearchRequest): Promise<SearchResult>;
  holds: {
    add(req: HoldAddRequest): Promise<Hold>;
    list(options?: { all?: boolean; case?: string }): Promise<Hold[]>;
    release(holdId: string, reason: string): Promise<Hold>;
  };
  retention: { run(options?: { dryRun?: boolean }): Promise<RetentionReport> };
  /** Brings the schema up to date. */
  migrate(): Promise<MigrateResult>;
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
  const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 2, application_name: 'platesieve' });
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
  const actor = options.actor ?? osActor();
  const now = options.now ?? Date.now;
  const audited = async <T>(act: (log: AuditLog) => Promise<T>): Promise<T> => {
    const log = await AuditLog.open(options.audit, { actor });
    try {
      return await act(log);
    } finally {
      await log.close();
    }
  };
  const refuse = async (event: Omit<AuditEvent, 'action'> & { action: AuditEvent['action'] }, refusal: PurposeRefusal | PurposeRefusedError): Promise<never> => {
    const r: PurposeRefusal = refusal instanceof PurposeRefusedError
      ? { ok: false, category: refusal.category as PurposeRefusal['category'], code: refusal.refusal as PurposeRefusal['code'], reason: refusal.reason, citation: refusal.citation }
      : refusal;
    await audited((log) => log.refused(event, r));
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
  let ocrClasses: string[] | undefined;
  const classes = async (): Promise<string[]> => {
    if (ocrClasses !== undefined) return ocrClasses;
    const { rows } = await pool.query<{ value: string[] }>(`SELECT value FROM ${SCHEMA}.store_meta WHERE key = 'ocrClasses'`);
    ocrClasses = rows[0]?.value ?? [...DEFAULT_OCR_CLASSES];
    return ocrClasses;
  };

  return {
    actor,
    async search(req) {
      const subject = { ...(req.plate !== undefined ? { plate: req.plate } : {}), ...(req.pattern !== undefined ? { pattern: req.pattern } : {}), from: req.from, to: req.to, ...(req.state !== undefined ? { state: req.state } : {}), ...(req.cameraId !== undefined ? { cameraId: req.cameraId } : {}) };
      const event = { action: 'search' as const, purpose: req.purpose, case: req.case, reason: req.reason, subject, details: { tiers: req.tiers ?? null, maxDistance: req.maxDistance ?? null } };
      const check = checkPurpose({ purpose: req.purpose, case: req.case, reason: req.reason });
      if (!check.ok) return refuse(event, check);
      if (req.from < now() - YEAR_MS && (req.reason ?? '').trim() === '') {
        return refuse(event, new PurposeRefusedError({ category: 'UNDOCUMENTED', refusal: 'MISSING_REASON', reason: 'the window reaches reads older than one year: give --reason', citation: C5 }));
      }
      await ready();
      const result = await searchReads(pool, req, { ocrClasses: await classes(), partialOcr: options.partialOcr ?? false, stateMismatch: options.stateMismatch ?? 'reject' }, { now: now(), onProgress: req.onProgress });
      await audited((log) => log.append({ ...event, subject: { ...subject, count: result.hits.length } }));
      return result;
    },
    holds: {
      async add(req) {
        const subject = { ...(req.plate !== undefined ? { plate: req.plate } : {}), ...(req.readIds !== undefined ? { readIds: req.readIds } : {}), ...(req.from !== undefined ? { from: req.from } : {}), ...(req.to !== undefined ? { to: req.to } : {}) };
        const event = { action: 'hold.add' as const, purpose: req.purpose, case: req.case, reason: req.reason, subject };
        const check = checkPurpose({ purpose: req.purpose, case: req.case, reason: req.reason }, { requireCase: true });
        if (!check.ok) return refuse(event, check);
        await ready();
        const hold = await addHold(pool, req, actor, now());
        await audited((log) => log.append({ ...event, subject: { ...subject, holdId: hold.holdId, count: hold.records } }));
        return hold;
      },
      async list(opts) {
        await ready();
        return listHolds(pool, opts);
      },
      async release(holdId, reason) {
        if (reason.trim() === '') throw new Error('a reason is required to release a hold');
        await ready();
        const hold = await releaseHold(pool, holdId, reason, actor);
        await audited((log) => log.append({ action: 'hold.release', purpose: hold.purpose, case: hold.case, reason, subject: { holdId, count: hold.records, ...(hold.plate !== undefined ? { plate: hold.plate } : {}) } }));
        return hold;
      },
    },
    retention: {
      async run(opts = {}) {
        await ready();
        const report = await runRetention(pool, { dryRun: opts.dryRun, now: now(), actor });
        if (report.skipped === true) throw new Error('another retention run is in progress; nothing was done');
        await audited((log) => log.append({ action: 'retention.delete', subject: { count: report.totalRows }, details: { dryRun: report.dryRun, beforeDay: report.beforeDay, deleted: report.deleted.map((d) => ({ ...d })), evidenceCopied: report.evidenceCopied } }));
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
    close: () => pool.end(),
  };
}
