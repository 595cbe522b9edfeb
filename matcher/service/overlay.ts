/**
 * The live overlay: live entries not yet compacted into the generation in force, compiled
 * into a small second snapshot that every batch matches beside the generation's, plus the
 * filters (cancelled ids, compacted entries removed since) applied to hits on the main thread.
 *
 * Builds run off the main thread, in overlay-worker.ts (one long-lived thread), and requests
 * coalesce: while one build runs, changes that arrive only mark the overlay dirty, and one
 * more build follows. A finished overlay is put in force by assigning it: a batch takes the
 * overlay in force when it is dispatched and keeps it to the end, so the swap falls between
 * batches. Each apply's latency (the change's KV write to the overlay holding it in force)
 * is recorded in `platesieve_live_apply_seconds`.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { PlatesieveError } from '../errors.js';
import type { HotlistEntry, MatcherOptions, MatcherSnapshot } from '../types.js';
import type { AuditLog } from '../audit/index.js';
import { workerFile } from './compile.js';
import { lapseTime } from './expiry.js';
import type { LiveUpdates } from './live.js';
import type { ServiceMetrics } from './metrics.js';
import type { OverlayTask } from './processor.js';
import type { OverlayBuildRequest, OverlayBuildResponse } from './overlay-worker.js';

/** A build of the overlay failed (the worker thread died or threw); the overlay in force stays. */
export class OverlayBuildError extends PlatesieveError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_OVERLAY_BUILD', message, options);
  }
}

/** What an overlay needs of the generation it is built against. */
export interface OverlayGeneration {
  readonly entries: { readonly length: number };
  /** Live entries compacted into the generation, by id, with their KV revision. */
  readonly compacted: ReadonlyMap<string, number>;
}

/**
 * Live entries not yet compacted into the generation, matched beside it; hits on them are
 * numbered from `offset` (the generation's entry count). Cancelled ids filter every hit.
 */
export interface Overlay<G extends OverlayGeneration = OverlayGeneration> {
  version: number;
  gen: G | undefined;
  entries: HotlistEntry[];
  cancelled: Set<string>;
  /** Live entries compacted into the generation that were removed or replaced since. */
  staleBase: Set<string>;
  task?: OverlayTask;
  /** Order of the build's start: an overlay never replaces one of its generation built from a later view. */
  seq: number;
  /** The off-thread build: how long it took and on which thread (not the main thread's 0). */
  built?: { ms: number; thread: number };
  /** Live change requests seen when the build read the view: a later one needs another build. */
  basis: number;
  /** Write times of the changes this overlay applies (for the apply-latency metric). */
  writes: number[];
}

/** A live entry that passed every check, with the KV revision that set it. */
export interface CheckedLiveEntry {
  id: string;
  entry: HotlistEntry;
  revision: number;
}

/** Options of {@link LiveOverlays}. */
export interface LiveOverlaysOptions<G extends OverlayGeneration> {
  live: LiveUpdates | undefined;
  matcherOptions: Omit<MatcherOptions, 'entries'>;
  logger: Logger;
  metrics: ServiceMetrics;
  audit: AuditLog | undefined;
  /** The generation in force (undefined until the first one is). */
  current(): G | undefined;
  /** Puts an overlay in force: the next batch dispatched takes it. */
  install(overlay: Overlay<G>): void;
}

type BuildOk = Extract<OverlayBuildResponse, { ok: true }>;

/** The client side of overlay-worker.ts: one thread, started on first use and again after a crash. */
class OverlayWorker {
  private worker?: Worker;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (r: BuildOk) => void; reject: (e: Error) => void }>();

  run(req: Omit<OverlayBuildRequest, 'id'>): Promise<BuildOk> {
    const worker = (this.worker ??= this.spawn());
    const id = ++this.nextId;
    return new Promise<BuildOk>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ ...req, id } satisfies OverlayBuildRequest);
    });
  }

  private spawn(): Worker {
    const worker = new Worker(workerFile('overlay-worker'));
    // The service's connections keep the process alive; this thread must not hold a stop open.
    worker.unref();
    worker.on('message', (res: OverlayBuildResponse) => {
      const w = this.waiting.get(res.id);
      if (w === undefined) return;
      this.waiting.delete(res.id);
      if (res.ok) w.resolve(res);
      else w.reject(new OverlayBuildError(`live overlay build failed: ${res.message}`));
    });
    const fail = (err: Error): void => {
      if (this.worker === worker) this.worker = undefined;
      for (const w of this.waiting.values()) w.reject(new OverlayBuildError(`live overlay worker failed: ${err.message}`, { cause: err }));
      this.waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exited with code ${code}`)));
    return worker;
  }

  /** Starts the thread and loads the matcher in it now, so the first live change does not wait for that. */
  warm(options: Omit<MatcherOptions, 'entries'>): void {
    this.run({ entries: [{ plate: 'WARM1', list: 'BOLO' }], options, snapshot: false }).catch(() => undefined);
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    await w?.terminate();
  }
}

/** Retry delay after a failed build (the worker is started again). */
const RETRY_MS = 1000;

/**
 * Builds the live overlay off the main thread and keeps it current: {@link request} on every
 * (debounced) live change, {@link build} for a new generation before it is swapped in.
 */
export class LiveOverlays<G extends OverlayGeneration> {
  private readonly worker = new OverlayWorker();
  private version = 0;
  private seq = 0;
  private installedGen?: G;
  private installedSeq = 0;
  private dirty = false;
  /** Live change requests so far. */
  private requests = 0;
  private busy = false;
  /** The build loop, for close() to wait on. */
  private running?: Promise<void>;
  private retry?: NodeJS.Timeout;
  private closed = false;
  /** Write times of changes taken for a build that was not put in force: they wait for the next. */
  private carried: number[] = [];
  /** Refusals already logged and audited, by entry id: the revision (one record per revision, not per rebuild). */
  private readonly reported = new Map<string, number>();

  constructor(private readonly opts: LiveOverlaysOptions<G>) {
    // With live updates on, the first change would otherwise pay for the thread's start.
    if (opts.live !== undefined) this.worker.warm(opts.matcherOptions);
  }

  /** The empty overlay (no live changes), for a service without the bucket or before the first build. */
  static empty<G extends OverlayGeneration>(): Overlay<G> {
    return { version: 0, gen: undefined, entries: [], cancelled: new Set(), staleBase: new Set(), seq: 0, basis: 0, writes: [] };
  }

  /**
   * Live entries to compile into a new generation: every check of {@link build} (policy,
   * entry validation off the main thread, expiry), not cancelled, not already compacted at
   * the same revision.
   */
  async checked(compacted: ReadonlyMap<string, number>): Promise<CheckedLiveEntry[]> {
    const candidates = this.candidates(compacted, Date.now());
    if (candidates.length === 0) return [];
    const res = await this.worker.run({ entries: candidates.map((c) => c.entry), options: this.opts.matcherOptions, snapshot: false });
    this.reportRefusals(candidates, res);
    return res.kept.map((i) => candidates[i]);
  }

  /**
   * Builds the overlay of `gen` from the live view as it is now (the build off the main
   * thread). It applies the changes received so far; put it in force with {@link put}.
   */
  async build(gen: G): Promise<Overlay<G>> {
    const seq = ++this.seq;
    const basis = this.requests;
    const writes = [...this.carried, ...(this.opts.live?.takeChanges() ?? [])];
    this.carried = [];
    try {
      const candidates = this.candidates(gen.compacted, Date.now());
      let kept: CheckedLiveEntry[] = [];
      let res: BuildOk | undefined;
      if (candidates.length > 0) {
        res = await this.worker.run({ entries: candidates.map((c) => c.entry), options: this.opts.matcherOptions, snapshot: true });
        this.reportRefusals(candidates, res);
        kept = res.kept.map((i) => candidates[i]);
      }
      return this.reconcile(gen, kept, res, { seq, basis, writes });
    } catch (err) {
      this.carried.push(...writes);
      throw err;
    }
  }

  /**
   * {@link build} for a generation about to be swapped in, which must not wait for a failed
   * build: on failure (logged) the overlay holds the filters only (cancellations, removals)
   * and a retry follows, so only live additions since the generation's load wait.
   */
  async prepare(gen: G): Promise<Overlay<G>> {
    try {
      return await this.build(gen);
    } catch (err) {
      this.opts.logger.error({ stage: 'live', err }, 'live overlay build failed; live additions wait for the retry');
      this.scheduleRetry();
      return this.reconcile(gen, [], undefined, { seq: ++this.seq, basis: this.requests, writes: [] });
    }
  }

  private scheduleRetry(): void {
    clearTimeout(this.retry);
    this.retry = setTimeout(() => this.request(), RETRY_MS);
    this.retry.unref();
  }

  /**
   * Puts `overlay` in force unless one of the same generation built from a later view already
   * is (its changes then wait for the next build). Asks for another build when changes came
   * in after this one read the view. Returns whether it was put in force.
   */
  put(overlay: Overlay<G>, reason: string): boolean {
    if (overlay.gen === this.installedGen && overlay.seq < this.installedSeq) {
      this.carried.push(...overlay.writes);
      return false;
    }
    overlay.version = ++this.version;
    this.installedGen = overlay.gen;
    this.installedSeq = overlay.seq;
    this.opts.install(overlay);
    const now = Date.now();
    // The KV timestamp is the server's clock: a skewed host could see a negative latency.
    for (const w of overlay.writes) this.opts.metrics.liveApplied(Math.max(0, now - w) / 1000);
    this.opts.logger.info(
      { stage: 'live', reason, entries: overlay.entries.length, cancelled: overlay.cancelled.size, withdrawn: overlay.staleBase.size, version: overlay.version, changes: overlay.writes.length, buildMs: overlay.built?.ms, buildThread: overlay.built?.thread },
      'live hotlist changes applied',
    );
    if (this.requests > overlay.basis) this.request();
    return true;
  }

  /** A live change: rebuild against the generation in force; requests during a build make one more build. */
  request(): void {
    this.requests++;
    this.dirty = true;
    if (!this.busy && !this.closed) this.running = this.loop();
  }

  private async loop(): Promise<void> {
    // Set and cleared inside the loop: it may end before its first await, that is before
    // `running` is even assigned.
    this.busy = true;
    try {
      while (this.dirty && !this.closed) {
        this.dirty = false;
        const gen = this.opts.current();
        // Before the first generation: the overlay start() builds reads the view after this.
        if (gen === undefined) return;
        let overlay: Overlay<G>;
        try {
          overlay = await this.build(gen);
        } catch (err) {
          this.opts.logger.error({ stage: 'live', err }, 'live overlay build failed; the overlay in force stays, retrying');
          this.scheduleRetry();
          return;
        }
        if (this.closed) return;
        // A reload swapped in another generation meanwhile (with an overlay of its own):
        // build again against it, and count these changes there.
        if (this.opts.current() !== gen) {
          this.carried.push(...overlay.writes);
          this.dirty = true;
        } else if (!this.put(overlay, 'live change')) {
          this.dirty = true;
        }
      }
    } finally {
      this.busy = false;
    }
  }

  /**
   * The overlay's filters follow the view as it is when the build ends, not when it began:
   * an entry removed, replaced or cancelled during the build stops matching at once; only
   * additions wait for the next build (which a change during the build always causes).
   */
  private reconcile(gen: G, kept: CheckedLiveEntry[], res: BuildOk | undefined, at: Pick<Overlay<G>, 'seq' | 'basis' | 'writes'>): Overlay<G> {
    const view = this.opts.live?.view;
    const cancelled = new Set<string>(view?.cancelled.keys() ?? []);
    for (const k of kept) if (view?.entries.get(k.id)?.revision !== k.revision) cancelled.add(k.id);
    const staleBase = new Set<string>();
    for (const [id, revision] of gen.compacted) if (view?.entries.get(id)?.revision !== revision) staleBase.add(id);
    const overlay: Overlay<G> = { version: 0, gen, entries: kept.map((k) => k.entry), cancelled, staleBase, ...at };
    const snapshot: MatcherSnapshot | undefined = res?.snapshot;
    // `task.version` names the snapshot (threads cache its instance by it); the overlay's own
    // version, in alerts' hotlistVersion, also moves when only the filters change.
    if (snapshot !== undefined && kept.length > 0) overlay.task = { version: at.seq, snapshot, offset: gen.entries.length };
    if (res !== undefined) overlay.built = { ms: Math.round(res.buildMs * 10) / 10, thread: res.threadId };
    return overlay;
  }

  /**
   * The main thread's cheap checks: cancelled or already compacted entries are skipped;
   * `expires` must be a date and not past when the entry was written (else the entry is
   * refused: logged, audited); an entry that lapsed since is dropped. A string `expires` is
   * stored as epoch ms, the form the hit filter compares.
   */
  private candidates(compacted: ReadonlyMap<string, number>, now: number): CheckedLiveEntry[] {
    const out: CheckedLiveEntry[] = [];
    const live = this.opts.live;
    if (live === undefined) return out;
    const { entries, cancelled } = live.view;
    for (const id of this.reported.keys()) if (!entries.has(id)) this.reported.delete(id);
    for (const [id, { entry, revision, created }] of entries) {
      if (cancelled.has(id) || compacted.get(id) === revision) continue;
      const at = lapseTime(entry.expires);
      if (at === null) {
        this.refuse(id, revision, entry, 'INVALID_DATE', `expires ${JSON.stringify(entry.expires)} is not a date (ISO 8601, YYYYMMDD or epoch milliseconds)`);
        continue;
      }
      if (at !== undefined && at <= created) {
        this.refuse(id, revision, entry, 'EXPIRED', `expires ${new Date(at).toISOString()} was already past when the entry was written (${new Date(created).toISOString()})`);
        continue;
      }
      if (at !== undefined && at <= now) {
        if (this.reported.get(id) !== revision) {
          this.reported.set(id, revision);
          this.opts.logger.info({ stage: 'live', id, revision, expires: new Date(at).toISOString() }, 'live hotlist entry lapsed');
        }
        continue;
      }
      out.push({ id, entry: at === undefined || entry.expires === at ? entry : { ...entry, expires: at }, revision });
    }
    return out;
  }

  private reportRefusals(candidates: readonly CheckedLiveEntry[], res: BuildOk): void {
    for (const r of res.refused) {
      const c = candidates[r.index];
      this.refuse(c.id, c.revision, c.entry, r.code, r.error);
    }
  }

  /** A refused live entry: an error log line and an audit record, once per revision. */
  private refuse(id: string, revision: number, entry: HotlistEntry, code: string, error: string): void {
    if (this.reported.get(id) === revision) return;
    this.reported.set(id, revision);
    this.opts.logger.error({ stage: 'live', id, revision, code, error }, 'live hotlist entry refused');
    void this.opts.audit
      ?.append({
        action: 'hotlist.refused',
        outcome: 'refused',
        reason: `live entry ${id}: ${error}`,
        subject: { entryId: id, plate: entry.plate, pattern: entry.pattern, list: entry.list },
        // The writer named by the change (live-audit.ts), so the refusal says who tried.
        details: { revision, code, writer: this.writerOf(id, revision) },
      })
      .catch((err: unknown) => this.opts.logger.error({ err }, 'audit log append failed'));
  }

  /** Who wrote revision `revision` of live entry `id`, when the view still holds it. */
  private writerOf(id: string, revision: number): string | undefined {
    const held = this.opts.live?.view.entries.get(id);
    return held?.revision === revision ? held.actor : undefined;
  }

  /** Stops building; the worker thread ends. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    await this.running;
    await this.worker.close();
  }
}
