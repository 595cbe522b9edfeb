/**
 * The audit log of the services, in PostgreSQL: the table `platesieve.audit` (migration 4),
 * one row per record, the same records and hash chain as the file log (log.ts), which stays
 * for the embedded use.
 *
 *   row seq 0   log.created {logId, format}  prev H0      line = canonical JSON, hash h0
 *   row seq 1   search ...                   prev h0      hash h1
 *   row seq 2   ...                          prev h1      hash h2
 *
 * Several processes append to one chain: each batch of appends runs in one transaction that
 * first takes a transaction-level advisory lock, then reads the last row and chains after it,
 * so seq goes up by exactly one and `at` never decreases whoever writes. Within a process,
 * appends queued while a transaction is in flight are chained in call order and committed
 * together (group commit), as in the file log. A transaction that fails writes nothing, so
 * the log stays open: only the appends of that batch reject.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { AuditError } from '../errors.js';
import type { PurposeRefusal } from '../policy/purpose.js';
import { AUDIT_TABLE, PG_AUDIT_LABEL } from './pg-read.js';
import { actorOptionProblem, auditEventProblem, buildAuditRecord, buildGenesisRecord, refusalEvent, type BuiltRecord, type ChainState } from './record.js';
import type { AuditEvent, AuditRecord, AuditSink } from './types.js';

export { AUDIT_TABLE, PG_AUDIT_LABEL, exportPgAudit, readPgAudit, streamPgAudit, verifyPgAudit, type PgAuditFilter, type PgVerifyOptions } from './pg-read.js';

/** Options of {@link PgAuditLog.open}. */
export interface PgAuditLogOptions {
  /** Default actor of appended events (the service's identity); events may name their own. */
  actor?: string;
  /** Clock, epoch ms; for tests. */
  now?: () => number;
}

// Any constant: the one lock every writer of a database's audit chain takes.
const CHAIN_LOCK = 7_140_404;

interface Pending {
  event: AuditEvent;
  resolve: (r: AuditRecord) => void;
  reject: (e: Error) => void;
}

function insertRow(client: pg.PoolClient, b: BuiltRecord): Promise<pg.QueryResult> {
  const r = b.record;
  return client.query(
    `INSERT INTO ${AUDIT_TABLE} (seq, at, actor, action, outcome, purpose, case_no, subject, reason, details, prev, hash, line)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
    [r.seq, r.at, r.actor, r.action, r.outcome, r.purpose ?? null, r.case ?? null, r.subject === undefined ? null : JSON.stringify(r.subject), r.reason ?? null, r.details === undefined ? null : JSON.stringify(r.details), r.prev, r.hash, b.text],
  );
}

async function rollback(client: pg.PoolClient): Promise<void> {
  await client.query('ROLLBACK').catch(() => undefined);
}

/** Runs `work` in a transaction holding the chain lock; the chain's last row is passed in (undefined: empty table). */
async function underChainLock<T>(pool: pg.Pool, work: (client: pg.PoolClient, last: ChainState | undefined) => Promise<T>): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw new AuditError(PG_AUDIT_LABEL, `cannot connect: ${(err as Error).message}`, { cause: err });
  }
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [CHAIN_LOCK]);
    const { rows } = await client.query<{ seq: string; at: string; hash: string }>(`SELECT seq, at, hash FROM ${AUDIT_TABLE} ORDER BY seq DESC LIMIT 1`);
    const last = rows[0] === undefined ? undefined : { nextSeq: Number(rows[0].seq) + 1, lastHash: rows[0].hash, lastAt: Number(rows[0].at) };
    const out = await work(client, last);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    await rollback(client);
    if (err instanceof AuditError) throw err;
    throw new AuditError(PG_AUDIT_LABEL, `write failed: ${(err as Error).message}`, { cause: err });
  } finally {
    client.release();
  }
}

/** The PostgreSQL audit log. Create with {@link PgAuditLog.open}; close with {@link PgAuditLog.close}. */
export class PgAuditLog implements AuditSink {
  private queue: Pending[] = [];
  private writing: Promise<void> | undefined;
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    /** The random id of this log, from its genesis record. */
    readonly logId: string,
    private readonly actor: string | undefined,
    private readonly now: () => number,
  ) {}

  /**
   * Opens the log in the database of `pool` (schema migrated to version 4 or later), writing
   * the genesis record when the table is empty. Rejects with {@link AuditError} when the table
   * is missing, or holds rows but no genesis record. The chain is not verified here (it can be
   * long): {@link verifyPgAudit} and the periodic report do that.
   */
  static async open(pool: pg.Pool, options: PgAuditLogOptions = {}): Promise<PgAuditLog> {
    const problem = actorOptionProblem(options.actor);
    if (problem !== undefined) throw new AuditError(PG_AUDIT_LABEL, problem);
    const now = options.now ?? Date.now;
    let exists: boolean;
    try {
      const { rows } = await pool.query<{ t: string | null }>(`SELECT to_regclass('${AUDIT_TABLE}')::text AS t`);
      exists = rows[0]?.t !== null && rows[0]?.t !== undefined;
    } catch (err) {
      throw new AuditError(PG_AUDIT_LABEL, `cannot connect: ${(err as Error).message}`, { cause: err });
    }
    if (!exists) throw new AuditError(PG_AUDIT_LABEL, 'the audit table does not exist: migrate the store (platesieve store migrate)');
    const logId = await underChainLock(pool, async (client, last) => {
      if (last === undefined) {
        const genesis = buildGenesisRecord(randomUUID(), now(), options.actor ?? 'platesieve');
        await insertRow(client, genesis);
        return (genesis.record.details as { logId: string }).logId;
      }
      const { rows } = await client.query<{ line: string }>(`SELECT line FROM ${AUDIT_TABLE} WHERE seq = 0`);
      const first = rows[0] === undefined ? undefined : (JSON.parse(rows[0].line) as AuditRecord);
      const id = first?.details?.logId;
      if (first?.action !== 'log.created' || typeof id !== 'string') {
        throw new AuditError(PG_AUDIT_LABEL, 'the table holds records but no genesis record (seq 0, log.created): keep it as evidence and verify it');
      }
      return id;
    });
    return new PgAuditLog(pool, logId, options.actor, now);
  }

  /**
   * Appends one event; resolves with the record once committed. Rejects with
   * {@link AuditError} for an invalid event, a closed log, or a failed transaction (then
   * nothing of its batch was written).
   */
  append(event: AuditEvent): Promise<AuditRecord> {
    if (this.closed) return Promise.reject(new AuditError(PG_AUDIT_LABEL, 'the log is closed'));
    const problem = auditEventProblem(event, this.actor);
    if (problem !== undefined) return Promise.reject(new AuditError(PG_AUDIT_LABEL, problem));
    return new Promise<AuditRecord>((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      if (this.writing === undefined) this.writing = this.drain();
    });
  }

  /**
   * Appends the refusal of an action by a purpose rule: outcome `refused`, the reason, and the
   * rule's category, code and citation in `details`. `action` defaults to `purpose.refused`.
   */
  refused(event: Omit<AuditEvent, 'action'> & { action?: AuditEvent['action'] }, refusal: PurposeRefusal): Promise<AuditRecord> {
    return this.append(refusalEvent(event, refusal));
  }

  /** Hash of the last record in the table (whoever wrote it): keep a copy elsewhere. */
  async head(): Promise<string> {
    try {
      const { rows } = await this.pool.query<{ hash: string }>(`SELECT hash FROM ${AUDIT_TABLE} ORDER BY seq DESC LIMIT 1`);
      if (rows[0] === undefined) throw new AuditError(PG_AUDIT_LABEL, 'the audit table is empty');
      return rows[0].hash;
    } catch (err) {
      if (err instanceof AuditError) throw err;
      throw new AuditError(PG_AUDIT_LABEL, `cannot read: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Waits for queued appends, then refuses new ones. Does not end the pool: the caller owns it. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.writing !== undefined) await this.writing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0);
        let built: BuiltRecord[];
        try {
          built = await underChainLock(this.pool, async (client, last) => {
            if (last === undefined) throw new AuditError(PG_AUDIT_LABEL, 'the audit table is empty: its genesis record is gone');
            const state = { ...last };
            const out: BuiltRecord[] = [];
            for (const p of batch) {
              const b = buildAuditRecord(p.event, state, this.now(), this.actor);
              await insertRow(client, b);
              out.push(b);
              state.nextSeq++;
              state.lastHash = b.record.hash;
              state.lastAt = b.record.at;
            }
            return out;
          });
        } catch (err) {
          for (const p of batch) p.reject(err as Error);
          continue;
        }
        batch.forEach((p, i) => p.resolve(built[i].record));
      }
    } finally {
      this.writing = undefined;
    }
  }
}
