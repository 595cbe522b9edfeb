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
import { actorOptionProblem, auditEventProblem, buildAuditRecord, buildGenesisRecord, refusalEvent } from './record.js';
import type { AuditEvent, AuditRecord, AuditSink } from './types.js';
import { verifyAuditFile } from './verify.js';

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
export class AuditLog implements AuditSink {
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
    const actorProblem = actorOptionProblem(options.actor);
    if (actorProblem !== undefined) throw new AuditError(path, actorProblem);
    const now = options.now ?? Date.now;
    const lockPath = options.lock === false ? undefined : await acquireLock(path);
    try {
      const size = await stat(path).then((s) => s.size, (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return 0;
        throw new AuditError(path, `cannot read: ${err.message}`, { cause: err });
      });
      if (size === 0) {
        const genesis = buildGenesisRecord(randomUUID(), now(), options.actor ?? 'platesieve');
        const fh = await open(path, 'a');
        try {
          await fh.write(`${genesis.text}\n`);
          await fh.datasync();
        } catch (err) {
          await fh.close();
          throw new AuditError(path, `cannot write: ${(err as Error).message}`, { cause: err });
        }
        await syncDir(path);
        const g = genesis.record;
        return new AuditLog(path, (g.details as { logId: string }).logId, fh, lockPath, 1, g.hash, g.at, options.actor, now);
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
    const problem = auditEventProblem(event, this.actor);
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
    return this.append(refusalEvent(event, refusal));
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

  private build(e: AuditEvent): { record: AuditRecord; line: string } {
    const built = buildAuditRecord(e, { nextSeq: this.nextSeq, lastHash: this.lastHash, lastAt: this.lastAt }, this.now(), this.actor);
    this.nextSeq++;
    this.lastHash = built.record.hash;
    this.lastAt = built.record.at;
    return { record: built.record, line: `${built.text}\n` };
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
