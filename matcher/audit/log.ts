/**
 * The audit log: an append-only, hash-chained JSON-lines file that the agency owns.
 *
 *   line 1  {seq:0, action:"log.created", details:{logId, format}, prev:H0, hash:h0}
 *   line 2  {seq:1, action:"search", actor, purpose, case, subject, ..., prev:h0, hash:h1}
 *   line 3  {seq:2, ..., prev:h1, hash:h2}
 *
 *   H0 = sha256("platesieve-audit/1:" + logId)      (logId random per log)
 *   hN = sha256(prev + canonical JSON of the record without hash)
 *
 * Appends are serialized: records queued while a write is in flight are chained in order and
 * written together with one write and one fsync (group commit), so every resolved append is
 * on disk. A failed write fails the log closed: later appends reject. One process writes a
 * log at a time (a `.lock` file beside it holds the writer's pid).
 */
import { randomUUID } from 'node:crypto';
import { open, readFile, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AuditError } from '../errors.js';
import type { PurposeRefusal } from '../policy/purpose.js';
import { canonicalJson, chainHash, genesisPrev, toJsonValue } from './canonical.js';
import { AUDIT_FORMAT, GENESIS_ACTION, type AuditEvent, type AuditRecord, type JsonValue } from './types.js';
import { isAuditAction, verifyAuditFile } from './verify.js';

/** Options of {@link AuditLog.open}. */
export interface AuditLogOptions {
  /** Default actor of appended events (the logged-in user, or the service's identity). */
  actor?: string;
  /** Clock, epoch ms; for tests. */
  now?: () => number;
  /** Take the `<path>.lock` file (default true). */
  lock?: boolean;
}

interface Pending {
  event: AuditEvent;
  resolve: (r: AuditRecord) => void;
  reject: (e: Error) => void;
}

const MAX_ACTOR = 256;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

async function acquireLock(path: string): Promise<string> {
  const lockPath = `${path}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(lockPath, 'wx');
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return lockPath;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new AuditError(path, `cannot create lock ${lockPath}: ${(err as Error).message}`, { cause: err });
    }
    const pid = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
    let alive = false;
    if (Number.isSafeInteger(pid) && pid > 0) {
      try {
        process.kill(pid, 0);
        alive = true;
      } catch (err) {
        alive = (err as NodeJS.ErrnoException).code === 'EPERM';
      }
    }
    if (alive) throw new AuditError(path, `is open for writing by process ${pid} (lock ${lockPath})`);
    await rm(lockPath, { force: true }); // stale: its writer is gone
  }
  throw new AuditError(path, `cannot take lock ${lockPath}`);
}

async function syncDir(path: string): Promise<void> {
  try {
    const dh = await open(dirname(path), 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  } catch {
    // Not every platform can fsync a directory; the file itself is synced.
  }
}

/** An open audit log. Create with {@link AuditLog.open}; close with {@link AuditLog.close}. */
export class AuditLog {
  private queue: Pending[] = [];
  private writing: Promise<void> | undefined;
  private failure: AuditError | undefined;
  private closed = false;

  private constructor(
    /** The file. */
    readonly path: string,
    /** The random id of this log, from its first record. */
    readonly logId: string,
    private fh: FileHandle,
    private lockPath: string | undefined,
    private nextSeq: number,
    private lastHash: string,
    private lastAt: number,
    private readonly actor: string | undefined,
    private readonly now: () => number,
  ) {}

  /**
   * Opens the log at `path`, creating it with a genesis record when missing or empty. An
   * existing log is verified from its first line; a chain that does not verify is refused
   * ({@link AuditError} naming the line): move it aside, keep it as evidence, start a new one.
   */
  static async open(path: string, options: AuditLogOptions = {}): Promise<AuditLog> {
    if (options.actor !== undefined && (typeof options.actor !== 'string' || options.actor.trim() === '')) {
      throw new AuditError(path, 'options.actor must be a non-empty string');
    }
    const now = options.now ?? Date.now;
    const lockPath = options.lock === false ? undefined : await acquireLock(path);
    try {
      const size = await stat(path).then((s) => s.size, (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return 0;
        throw new AuditError(path, `cannot read: ${err.message}`, { cause: err });
      });
      if (size === 0) {
        const logId = randomUUID();
        const prev = genesisPrev(AUDIT_FORMAT, logId);
        const body: { [key: string]: JsonValue } = {
          seq: 0,
          at: now(),
          actor: options.actor ?? 'platesieve',
          action: GENESIS_ACTION,
          outcome: 'ok',
          details: { logId, format: AUDIT_FORMAT },
          prev,
        };
        const hash = chainHash(prev, body);
        const fh = await open(path, 'a');
        try {
          await fh.write(`${canonicalJson({ ...body, hash })}\n`);
          await fh.datasync();
        } catch (err) {
          await fh.close();
          throw new AuditError(path, `cannot write: ${(err as Error).message}`, { cause: err });
        }
        await syncDir(path);
        return new AuditLog(path, logId, fh, lockPath, 1, hash, body.at as number, options.actor, now);
      }
      const v = await verifyAuditFile(path);
      if (!v.ok) {
        throw new AuditError(path, `refusing to continue a chain that does not verify: line ${v.badLine}: ${v.reason}`, { line: v.badLine });
      }
      const fh = await open(path, 'a').catch((err: Error) => {
        throw new AuditError(path, `cannot open for appending: ${err.message}`, { cause: err });
      });
      return new AuditLog(path, v.logId as string, fh, lockPath, v.records, v.head as string, v.lastAt as number, options.actor, now);
    } catch (err) {
      if (lockPath !== undefined) await rm(lockPath, { force: true });
      throw err;
    }
  }

  /** Records in the log, the genesis record included. */
  get records(): number {
    return this.nextSeq;
  }

  /** Hash of the last record written: keep a copy elsewhere to detect truncation. */
  get head(): string {
    return this.lastHash;
  }

  /**
   * Appends one event; resolves with the record once it is on disk. Rejects with
   * {@link AuditError} for an invalid event, a closed or failed log, or a write error.
   */
  append(event: AuditEvent): Promise<AuditRecord> {
    if (this.closed) return Promise.reject(new AuditError(this.path, 'the log is closed'));
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const problem = this.validate(event);
    if (problem !== undefined) return Promise.reject(new AuditError(this.path, problem));
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
    return this.append({
      ...event,
      action: event.action ?? 'purpose.refused',
      outcome: 'refused',
      reason: refusal.reason,
      details: { ...event.details, category: refusal.category, code: refusal.code, citation: refusal.citation },
    });
  }

  /** Waits for queued appends, then closes the file and releases the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.writing !== undefined) await this.writing;
    await this.fh.close();
    if (this.lockPath !== undefined) await rm(this.lockPath, { force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private validate(e: AuditEvent): string | undefined {
    if (!isPlainObject(e)) return 'event must be an object';
    if (typeof e.action !== 'string' || !isAuditAction(e.action)) return `event.action must be an audited action, got ${JSON.stringify(e.action)}`;
    if (e.outcome !== undefined && e.outcome !== 'ok' && e.outcome !== 'refused') return 'event.outcome must be ok or refused';
    const actor = e.actor ?? this.actor;
    if (typeof actor !== 'string' || actor.trim() === '' || actor.length > MAX_ACTOR) {
      return `event.actor must be a non-empty string of at most ${MAX_ACTOR} characters (or open the log with options.actor)`;
    }
    for (const key of ['purpose', 'case', 'reason'] as const) {
      if (e[key] !== undefined && typeof e[key] !== 'string') return `event.${key} must be a string`;
    }
    for (const key of ['subject', 'details'] as const) {
      if (e[key] !== undefined && !isPlainObject(e[key])) return `event.${key} must be an object`;
    }
    return undefined;
  }

  private build(e: AuditEvent): { record: AuditRecord; line: string } {
    const at = Math.max(this.now(), this.lastAt);
    const body: { [key: string]: JsonValue } = {
      seq: this.nextSeq,
      at,
      actor: (e.actor ?? this.actor) as string,
      action: e.action,
      outcome: e.outcome ?? 'ok',
      prev: this.lastHash,
    };
    if (e.purpose !== undefined) body.purpose = e.purpose;
    if (e.case !== undefined) body.case = e.case;
    if (e.reason !== undefined) body.reason = e.reason;
    const subject = toJsonValue(e.subject);
    if (subject !== undefined && subject !== null) body.subject = subject;
    const details = toJsonValue(e.details);
    if (details !== undefined && details !== null) body.details = details;
    const hash = chainHash(this.lastHash, body);
    const record = { ...body, hash };
    this.nextSeq++;
    this.lastHash = hash;
    this.lastAt = at;
    // canonicalJson, not JSON.stringify: objects put integer-like keys first whatever their order.
    return { record: record as unknown as AuditRecord, line: `${canonicalJson(record)}\n` };
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0);
        const state = { seq: this.nextSeq, hash: this.lastHash, at: this.lastAt };
        const built = batch.map((p) => this.build(p.event));
        try {
          await this.fh.write(built.map((b) => b.line).join(''));
          await this.fh.datasync();
        } catch (err) {
          // What reached the file is unknown: fail closed, so that nothing is chained to it.
          this.nextSeq = state.seq;
          this.lastHash = state.hash;
          this.lastAt = state.at;
          this.failure = new AuditError(this.path, `write failed, the log is closed to appends: ${(err as Error).message}`, { cause: err });
          for (const p of [...batch, ...this.queue.splice(0)]) p.reject(this.failure);
          return;
        }
        batch.forEach((p, i) => p.resolve(built[i].record));
      }
    } finally {
      this.writing = undefined;
    }
  }
}
