/**
 * `platesieve serve`: NATS source -> batcher -> decode + match (worker pool or main thread)
 * -> alerts (suppression) and records -> NATS sinks, with metrics, health and a graceful stop.
 *
 *   alpr.reads.>  --queue group / durable pull consumer-->  Batcher (count | bytes | time)
 *        --Task (payloads in one transferred buffer)-->  BatchRunner (piscina or inline)
 *        <--TaskResult (encoded non-hit records, hits, rejects)--
 *   main thread: alerts from hits (entries live here), suppression, hit records
 *        --> alpr.alerts.<agency>, alpr.records.<class>, alpr.deadletter
 *   JetStream mode: inputs acked only after every output of their batch is stored.
 */
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import { connect, type ConsumerMessages, type JetStreamClient, type JsMsg, type Msg, type NatsConnection, type Subscription } from 'nats';
import { HotlistRefusedError, InvalidEntryError } from '../errors.js';
import type { HotlistEntry, Matcher, MatcherOptions, MatchTier } from '../types.js';
import { createMatcher } from '../matcher.js';
import { checkListType } from '../policy/index.js';
import { AuditLog } from '../audit/index.js';
import type { ServiceConfig } from './config.js';
import { natsConnectionOptions } from './connection.js';
import { loadOffThread, type EntryStore } from './compile.js';
import type { LoadedSource } from './hotlists.js';
import { LiveUpdates } from './live.js';
import { createRunner, type BatchRunner } from './runner.js';
import { taskOf, type OverlayTask, type TaskResult } from './processor.js';
import { Batcher } from './batcher.js';
import { CorePublisher, JetStreamBatchPublisher, type Publisher } from './outputs.js';
import { subjectsFor, type Subjects } from './subjects.js';
import { ensureStreams } from './streams.js';
import { AlertSuppressor } from './suppression.js';
import { ServiceMetrics } from './metrics.js';
import { deadLetterOf, finalizeBatch, type FinalizeDeps } from './finalize.js';
import { assessHealth, hotlistHealth, startOpsServer, type HealthReport, type NatsHealth, type OpsServer } from './http.js';

export { outputStreams } from './streams.js';

/** Largest reads message accepted; larger ones are dead-lettered (NATS caps payloads at 1 MiB by default). */
export const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;
/**
 * Payload bytes that may wait for the matcher (core mode absorbs bursts up to this, then
 * drops and counts; JetStream mode stops pulling long before).
 */
const MAX_PENDING_BYTES = 64 * 1024 * 1024;
/** Payload bytes that close a batch early, whatever its message count. */
const BATCH_BYTES = 1024 * 1024;

interface Incoming {
  data: Uint8Array;
  readonly subject: string;
  key: string;
  receivedAt: number;
  js?: JsMsg;
}

/** A core NATS message; its subject is decoded (a TextDecoder call) only if a dead letter needs it. */
class CoreIncoming implements Incoming {
  readonly data: Uint8Array;
  constructor(private readonly msg: Msg, readonly key: string, readonly receivedAt: number) {
    this.data = msg.data;
  }

  get subject(): string {
    return this.msg.subject;
  }
}

/**
 * One hotlist version with everything that matches against it. A reload builds a new
 * generation beside the one in force and swaps it in between batches: a batch is matched,
 * finalized and published against the generation it started with, so no read is dropped,
 * none is matched against a half-built list, and every alert names its version.
 */
interface Generation {
  version: string;
  entries: EntryStore;
  sources: LoadedSource[];
  refreshed: Map<string, number>;
  maxAge: Map<string, number>;
  runner: BatchRunner;
  inFlight: number;
  retired: boolean;
  loadedAt: number;
  /** Live entries compacted into this version, by id, with their KV revision. */
  compacted: Map<string, number>;
}

/**
 * Live entries not yet compacted into the generation, matched beside it; hits on them are
 * numbered from `offset` (the generation's entry count). Cancelled ids filter every hit.
 */
interface Overlay {
  version: number;
  gen: Generation | undefined;
  entries: HotlistEntry[];
  cancelled: Set<string>;
  /** Live entries compacted into the generation that were removed or replaced since. */
  staleBase: Set<string>;
  task?: OverlayTask;
}

/** A running service. */
export interface RunningService {
  readonly config: ServiceConfig;
  readonly metrics: ServiceMetrics;
  /** Port of the metrics and health server, when it runs. */
  readonly opsPort?: number;
  readonly hotlistVersion: string;
  health(): HealthReport;
  /** Loads every hotlist source again and swaps the new version in; false when it was refused. */
  reload(reason: string): Promise<boolean>;
  /** Stops taking reads, finishes every batch in flight, drains NATS. Idempotent. */
  stop(): Promise<void>;
}

class Service implements RunningService {
  readonly metrics = new ServiceMetrics();
  opsPort?: number;
  private readonly logger: Logger;
  private gen!: Generation;
  private reloading?: Promise<boolean>;
  private audit?: AuditLog;
  private live?: LiveUpdates;
  private overlay: Overlay = { version: 0, gen: undefined, entries: [], cancelled: new Set(), staleBase: new Set() };
  private refreshTimers: NodeJS.Timeout[] = [];
  private nc!: NatsConnection;
  private maxOutputBytes = 1024 * 1024 - 16 * 1024;
  private js?: JetStreamClient;
  private publisher!: Publisher;
  private batcher!: Batcher<Incoming>;
  private subjects: Subjects;
  private suppressor: AlertSuppressor;
  private sub?: Subscription;
  private consumer?: ConsumerMessages;
  private consumeLoop?: Promise<void>;
  private ops?: OpsServer;
  private natsHealth: NatsHealth = { connected: false };
  private stopping?: Promise<void>;
  private readonly instance = randomBytes(4).toString('hex');
  private counter = 0;
  private dropped = 0;
  private utilTimer?: NodeJS.Timeout;

  constructor(readonly config: ServiceConfig, logger: Logger) {
    this.logger = logger;
    this.subjects = subjectsFor(config.subjects.prefix);
    this.suppressor = new AlertSuppressor({ windowMs: config.suppression.windowMs });
  }

  async start(): Promise<void> {
    const config = this.config;
    const log = this.logger;
    if (config.audit.file !== undefined) this.audit = await AuditLog.open(config.audit.file, { actor: config.audit.actor });
    // Up before NATS, so /healthz says "failing" (not nothing) while the first connection waits.
    if (config.metrics !== null) {
      this.ops = await startOpsServer({ host: config.metrics.host, port: config.metrics.port, metrics: this.metrics, health: () => this.health(), logger: log.child({ stage: 'ops' }) });
      this.opsPort = this.ops.port;
      log.info({ port: this.ops.port }, 'metrics and health server listening');
    }
    this.nc = await this.connectWithRetry();
    this.natsHealth = { connected: true, server: this.nc.getServer() };
    void this.watchStatus();
    log.info({ server: this.nc.getServer(), mode: config.mode, workers: config.pool.workers }, 'connected to NATS');
    // Outputs must fit the server's max_payload; leave room for headers.
    this.maxOutputBytes = Math.max(64 * 1024, (this.nc.info?.max_payload ?? 1024 * 1024) - 16 * 1024);

    if (config.liveUpdates.bucket !== null) {
      try {
        this.live = await LiveUpdates.start(this.nc, config.liveUpdates.bucket, log.child({ stage: 'live' }), () => this.rebuildOverlay('live change'));
        log.info({ bucket: config.liveUpdates.bucket, entries: this.live.view.entries.size, cancelled: this.live.view.cancelled.size }, 'live hotlist updates followed');
      } catch (err) {
        if (config.liveUpdates.required) throw err;
        log.warn({ bucket: config.liveUpdates.bucket, error: (err as Error).message }, 'live hotlist updates unavailable (no JetStream?); files only');
      }
    }
    try {
      this.gen = await this.loadGeneration(undefined);
    } catch (err) {
      await this.auditRefusal('start', err);
      throw err;
    }
    await this.auditLoad('start', this.gen);
    this.rebuildOverlay('start');
    this.metrics.hotlistAges(() => Object.fromEntries([...this.gen.refreshed].map(([src, t]) => [src, (Date.now() - t) / 1000])));


    const p = config.pool;
    this.batcher = new Batcher<Incoming>(
      { maxMessages: p.batchSize, maxBytes: BATCH_BYTES, waitMs: p.batchWaitMs, maxInFlight: p.maxInFlight, maxPending: 1_000_000, maxPendingBytes: MAX_PENDING_BYTES },
      (batch) => this.dispatch(batch),
    );

    this.utilTimer = setInterval(() => {
      this.metrics.poolUtilization(this.gen.runner.utilization());
      this.metrics.inflightBatches(this.batcher.running);
    }, 1000);
    this.utilTimer.unref();

    if (config.mode === 'jetstream') {
      if (config.jetstream.createStreams) await ensureStreams(this.nc, config, log);
      this.js = this.nc.jetstream();
      this.publisher = new JetStreamBatchPublisher(this.nc, Math.max(5000, config.jetstream.ackWaitMs / 2));
      this.natsHealth.jetstream = true;
      const consumer = await this.js.consumers.get(config.jetstream.readsStream, config.jetstream.consumer);
      this.consumer = await consumer.consume({ max_messages: config.jetstream.fetchBatch });
      this.consumeLoop = this.consumeJetStream(this.consumer);
    } else {
      this.publisher = new CorePublisher(this.nc);
      this.sub = this.nc.subscribe(this.subjects.reads, {
        queue: config.queueGroup,
        callback: (err, msg) => {
          if (err) {
            log.error({ err }, 'subscription error');
            return;
          }
          if (!this.batcher.push(new CoreIncoming(msg, `${this.instance}.${++this.counter}`, Date.now()))) this.drop();
        },
      });
      // "consuming reads" must mean the server has the subscription: core NATS delivers a
      // read published before that to nobody.
      await this.nc.flush();
    }
    log.info({ subject: this.subjects.reads, queue: config.queueGroup, version: this.gen.version }, 'consuming reads');
    this.scheduleRefresh();
  }

  get hotlistVersion(): string {
    return this.gen?.version ?? '';
  }

  /**
   * Loads every source and builds a generation off the main thread. Refuses (throws) a load
   * whose file is refused by the loader (truncated, mostly invalid) or that keeps fewer than
   * `minRetainedFraction` of a source's entries in force.
   */
  private async loadGeneration(prev: Generation | undefined): Promise<Generation> {
    const config = this.config;
    const log = this.logger.child({ stage: 'hotlist' });
    const m = config.matching;
    const liveEntries = this.checkedLiveEntries(new Map()).kept;
    const loaded = await loadOffThread({
      sources: config.hotlists,
      options: {
        tiers: m.tiers as MatchTier[] | undefined,
        listTiers: m.listTiers,
        maxDistance: m.maxDistance,
        stateMismatch: m.stateMismatch,
        minScore: m.minScore,
        ocrClasses: m.ocrClasses,
        partialOcr: m.partialOcr,
      },
      logLevel: config.log.level,
      live: liveEntries.map((x) => x.entry),
      cancelled: [...(this.live?.view.cancelled.keys() ?? [])],
    });
    if (prev !== undefined) {
      for (const cfg of config.hotlists) {
        const before = prev.sources.find((x) => x.file === cfg.file);
        const after = loaded.sources.find((x) => x.file === cfg.file);
        if (before !== undefined && after !== undefined && after.entries < before.entries * cfg.minRetainedFraction) {
          throw new HotlistRefusedError(
            cfg.file,
            `${after.entries} entries, fewer than ${Math.round(cfg.minRetainedFraction * 100)}% of the ${before.entries} in force: looks truncated`,
          );
        }
      }
    }
    const snapshot = loaded.snapshot;
    const runner = createRunner(snapshot, { maxMessageBytes: MAX_MESSAGE_BYTES, maxOutputBytes: this.maxOutputBytes, retention: config.retention, coalesceRecords: config.mode === 'core' && config.records.coalesce }, config.pool.workers);
    for (const src of loaded.sources) this.metrics.hotlistEntries(src.source, src.entries);
    log.info({ entries: snapshot.stats.entries, bytes: snapshot.bytes.byteLength, buildMs: Math.round(snapshot.stats.buildTimeMs), version: snapshot.version }, 'hotlist compiled');
    return {
      version: snapshot.version,
      entries: loaded.entries,
      sources: loaded.sources,
      refreshed: new Map(loaded.refreshed),
      maxAge: new Map(loaded.maxAge),
      runner,
      inFlight: 0,
      retired: false,
      loadedAt: Date.now(),
      compacted: new Map(liveEntries.map((x) => [x.id, x.revision])),
    };
  }

  /**
   * Live entries that pass the same checks as a file's (a malformed or forbidden one is
   * logged and left out), not cancelled and not already compacted at the same revision.
   */
  private checkedLiveEntries(compacted: Map<string, number>): { kept: Array<{ id: string; entry: HotlistEntry; revision: number }>; matcher?: Matcher } {
    const out: Array<{ id: string; entry: HotlistEntry; revision: number }> = [];
    if (this.live === undefined) return { kept: out };
    const { entries, cancelled } = this.live.view;
    const refuse = (id: string, error: string): void => this.logger.error({ stage: 'live', id, error }, 'live hotlist entry refused');
    for (const [id, { entry, revision }] of entries) {
      if (cancelled.has(id) || compacted.get(id) === revision) continue;
      const verdict = checkListType(entry.list);
      if (verdict.ok) out.push({ id, entry, revision });
      else refuse(id, `${verdict.reason} (${verdict.citation})`);
    }
    // One trial build checks them all; a malformed entry is named by its index and dropped.
    for (;;) {
      try {
        const matcher = createMatcher({ entries: out.map((x) => x.entry), ...this.matcherOptions() });
        return { kept: out, matcher };
      } catch (err) {
        if (!(err instanceof InvalidEntryError)) throw err;
        const [bad] = out.splice(err.index, 1);
        refuse(bad.id, err.message.replace(/^hotlist entry \d+: /, ''));
      }
    }
  }

  private matcherOptions(): Omit<MatcherOptions, 'entries'> {
    const m = this.config.matching;
    return { tiers: m.tiers as MatchTier[] | undefined, listTiers: m.listTiers, maxDistance: m.maxDistance, stateMismatch: m.stateMismatch, minScore: m.minScore, ocrClasses: m.ocrClasses, partialOcr: m.partialOcr };
  }

  /** Rebuilds the overlay of live entries against the generation in force (milliseconds). */
  private rebuildOverlay(reason: string): void {
    const gen = this.gen;
    if (gen === undefined) return;
    const { kept, matcher } = this.checkedLiveEntries(gen.compacted);
    const entries = kept.map((x) => x.entry);
    const version = this.overlay.version + 1;
    const staleBase = new Set<string>();
    for (const [id, revision] of gen.compacted) if (this.live?.view.entries.get(id)?.revision !== revision) staleBase.add(id);
    const overlay: Overlay = { version, gen, entries, cancelled: new Set(this.live?.view.cancelled.keys() ?? []), staleBase };
    // The trial build that checked the entries is the overlay itself.
    if (entries.length > 0 && matcher !== undefined) overlay.task = { version, snapshot: matcher.snapshot(), offset: gen.entries.length };
    this.overlay = overlay;
    this.logger.info({ stage: 'live', reason, entries: entries.length, cancelled: overlay.cancelled.size, version }, 'live hotlist changes applied');
  }

  reload(reason: string): Promise<boolean> {
    if (this.stopping !== undefined) return Promise.resolve(false);
    this.reloading ??= this.swap(reason).finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  private async swap(reason: string): Promise<boolean> {
    const log = this.logger.child({ stage: 'hotlist' });
    const old = this.gen;
    let next: Generation;
    try {
      next = await this.loadGeneration(old);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.metrics.deadLetter('HOTLIST_REFUSED');
      log.error({ reason, error: message, version: old.version }, 'hotlist load refused; the version in force stays');
      await this.auditRefusal(reason, err);
      return false;
    }
    if (this.stopping !== undefined) {
      await next.runner.close();
      return false;
    }
    this.gen = next;
    this.rebuildOverlay('hotlist swapped');
    this.retire(old);
    await this.auditLoad(reason, next, old.version);
    log.info({ reason, from: old.version, to: next.version, entries: next.entries.length }, 'hotlist swapped');
    return true;
  }

  /** Hotlist loads and refusals are operator-visible actions: both go to the audit log. */
  private async auditLoad(reason: string, gen: Generation, replaced?: string): Promise<void> {
    await this.audit
      ?.append({
        action: 'hotlist.load',
        reason,
        subject: { files: gen.sources.map((x) => x.file), count: gen.entries.length },
        details: { version: gen.version, replaced, sources: gen.sources.map((x) => ({ source: x.source, file: x.file, entries: x.entries, rejected: x.rejected })) },
      })
      .catch((err: unknown) => this.logger.error({ err }, 'audit log append failed'));
  }

  private async auditRefusal(reason: string, err: unknown): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    const file = (err as { file?: unknown }).file;
    await this.audit
      ?.append({ action: 'hotlist.refused', outcome: 'refused', reason: `${reason}: ${message}`, subject: typeof file === 'string' ? { file } : undefined })
      .catch((e: unknown) => this.logger.error({ err: e }, 'audit log append failed'));
  }

  private finalizeDeps(): FinalizeDeps {
    return { subjects: this.subjects, metrics: this.metrics, suppressor: this.suppressor, retention: this.config.retention, maxOutputBytes: this.maxOutputBytes };
  }

  private retire(gen: Generation): void {
    gen.retired = true;
    if (gen.inFlight === 0) void gen.runner.close();
  }

  /** Each source's file is checked every `refreshMinutes`; a newer file reloads every source. */
  private scheduleRefresh(): void {
    for (const cfg of this.config.hotlists) {
      if (cfg.refreshMinutes <= 0) continue;
      const timer = setInterval(() => {
        void (async () => {
          const src = this.gen.sources.find((x) => x.file === cfg.file);
          try {
            const { mtimeMs } = await stat(cfg.file);
            if (src === undefined || mtimeMs !== src.refreshedAt) await this.reload(`${cfg.file} changed`);
          } catch (err) {
            this.logger.warn({ file: cfg.file, error: (err as Error).message }, 'hotlist file not readable; the version in force stays');
          }
        })();
      }, cfg.refreshMinutes * 60_000);
      timer.unref();
      this.refreshTimers.push(timer);
    }
  }

  /**
   * First connection: retried with every failure logged (nats.js's own wait-on-first-connect
   * retries silently, so a wrong password or CA would look like a hang). Authorization
   * errors are final; `nats.maxReconnectAttempts` (-1 forever) bounds the rest.
   */
  private async connectWithRetry(): Promise<NatsConnection> {
    const cfg = this.config.nats;
    const options = { ...natsConnectionOptions(cfg), waitOnFirstConnect: false };
    for (let attempt = 1; ; attempt++) {
      try {
        return await connect(options);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (/authorization|authentication|permissions/i.test(message)) throw err;
        if (this.stopping !== undefined || (cfg.maxReconnectAttempts >= 0 && attempt > cfg.maxReconnectAttempts)) throw err;
        this.natsHealth = { connected: false, error: message };
        this.logger.warn({ attempt, servers: cfg.servers, error: message }, 'cannot connect to NATS; retrying');
        await new Promise((resolve) => setTimeout(resolve, Math.max(100, cfg.reconnectTimeWaitMs)));
      }
    }
  }

  private drop(): void {
    this.dropped++;
    this.metrics.deadLetter('DROPPED_OVERLOAD');
    if ((this.dropped & (this.dropped - 1)) === 0) {
      this.logger.warn({ dropped: this.dropped }, 'core mode overloaded: reads dropped (use JetStream mode for flow control)');
    }
  }

  private async consumeJetStream(messages: ConsumerMessages): Promise<void> {
    const stream = this.config.jetstream.readsStream;
    for await (const m of messages) {
      this.batcher.push({ data: m.data, subject: m.subject, key: `${stream}.${m.seq}`, receivedAt: Date.now(), js: m });
      await this.batcher.room();
    }
  }

  private async watchStatus(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === 'disconnect') {
        this.natsHealth = { ...this.natsHealth, connected: false, error: `disconnected from ${String(s.data)}` };
        this.logger.warn({ server: s.data }, 'NATS disconnected');
      } else if (s.type === 'reconnect') {
        this.natsHealth = { ...this.natsHealth, connected: true, server: String(s.data), error: undefined };
        this.logger.info({ server: s.data }, 'NATS reconnected');
      }
    }
    this.natsHealth = { ...this.natsHealth, connected: false, error: 'connection closed' };
  }

  private async dispatch(batch: Incoming[]): Promise<void> {
    const gen = this.gen;
    const overlay = this.overlay.gen === gen ? this.overlay : undefined;
    gen.inFlight++;
    try {
      await this.process(batch, gen, overlay);
    } finally {
      gen.inFlight--;
      if (gen.retired && gen.inFlight === 0) void gen.runner.close();
    }
  }

  private async process(batch: Incoming[], gen: Generation, overlay: Overlay | undefined): Promise<void> {
    this.metrics.batch(batch.length);
    let result: TaskResult;
    try {
      const task = taskOf(batch.map((m) => m.data), batch.map((m) => m.key), batch[0].receivedAt);
      if (overlay?.task !== undefined) task.overlay = overlay.task;
      result = await gen.runner.run(task);
    } catch (err) {
      this.logger.error({ err, messages: batch.length }, 'batch failed in the matcher');
      for (const m of batch) if (m.js !== undefined) this.retryOrGiveUp(m, 'the matcher failed on its batch');
      return;
    }
    this.metrics.recordLatency('match', result.matchMicros);
    const outputs = finalizeBatch(batch, result, gen, overlay, this.finalizeDeps());
    const errors = await this.publisher.publish(outputs);
    let failed: Set<number> | undefined;
    for (let i = 0; i < outputs.length; i++) {
      const err = errors[i];
      if (err === undefined) continue;
      (failed ??= new Set()).add(outputs[i].input);
      this.metrics.deadLetter('PUBLISH_FAILED');
      this.logger.error({ subject: outputs[i].subject, id: outputs[i].id, bytes: outputs[i].data.length, error: err.message }, 'output not published');
    }
    const now = Date.now();
    // Receive times are in ms: messages of one ms share a latency, recorded once with a count.
    let runAt = -1;
    let runCount = 0;
    for (let i = 0; i < batch.length; i++) {
      const m = batch[i];
      if (failed?.has(i)) {
        if (m.js !== undefined) this.retryOrGiveUp(m, 'its outputs could not be stored');
        else void this.publisher.publish([deadLetterOf(m, i, { index: null, code: 'PUBLISH_FAILED', reason: 'some outputs of this message could not be published' }, this.finalizeDeps())]);
        continue;
      }
      m.js?.ack();
      if (m.receivedAt !== runAt) {
        if (runCount > 0) this.metrics.recordLatency('end_to_end', (now - runAt) * 1000, runCount);
        runAt = m.receivedAt;
        runCount = 0;
      }
      runCount++;
    }
    if (runCount > 0) this.metrics.recordLatency('end_to_end', (now - runAt) * 1000, runCount);
  }

  /**
   * JetStream: a message whose batch failed is redelivered (nak) until `jetstream.maxDeliver`
   * deliveries; then it is dead-lettered (UNDELIVERABLE) and terminated, so one poison
   * message never blocks the stream.
   */
  private retryOrGiveUp(m: Incoming, why: string): void {
    const js = m.js!;
    if (js.info.redeliveryCount < this.config.jetstream.maxDeliver) {
      js.nak(1000);
      return;
    }
    const out = deadLetterOf(m, -1, { index: null, code: 'UNDELIVERABLE', reason: `gave up after ${js.info.redeliveryCount} deliveries: ${why}` }, this.finalizeDeps());
    void this.publisher.publish([out]).then(([err]) => {
      if (err === undefined) js.term();
      else js.nak(5000);
    });
    this.metrics.deadLetter('UNDELIVERABLE');
    this.logger.error({ key: m.key, deliveries: js.info.redeliveryCount, why }, 'reads message dead-lettered after repeated failures');
  }

  health(): HealthReport {
    const now = Date.now();
    return assessHealth({
      nats: this.natsHealth,
      hotlists: (this.gen?.sources ?? []).map((src) => hotlistHealth(src.source, src.refreshedAt, src.maxAgeS, now, src.entries)),
      ready: this.stopping === undefined && this.gen !== undefined,
      pool: { threads: this.gen?.runner.threads ?? 0, utilization: this.gen?.runner.utilization() ?? 0, queued: this.batcher?.pending ?? 0 },
    });
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    const log = this.logger;
    log.info('stopping: no new reads, finishing batches in flight');
    const deadline = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), this.config.shutdownTimeoutMs).unref());
    const work = (async () => {
      if (this.sub) await this.sub.drain();
      if (this.consumer) {
        await this.consumer.close();
        await this.consumeLoop;
      }
      await this.batcher?.drain();
      if (this.nc && !this.nc.isClosed()) await this.nc.flush();
    })();
    if ((await Promise.race([work.then(() => 'done' as const), deadline])) === 'timeout') {
      log.warn({ timeoutMs: this.config.shutdownTimeoutMs, pending: this.batcher?.pending }, 'shutdown timed out; unfinished JetStream reads will be redelivered');
    }
    clearInterval(this.utilTimer);
    for (const t of this.refreshTimers) clearInterval(t);
    await this.reloading?.catch(() => false);
    await this.live?.stop();
    await this.gen?.runner.close();
    if (this.nc && !this.nc.isClosed()) await this.nc.drain();
    await this.ops?.close();
    await this.audit?.close();
    log.info({ dropped: this.dropped }, 'stopped');
  }
}

/** Loads the hotlists, builds the matcher, connects and starts consuming. */
export async function startService(config: ServiceConfig, logger: Logger): Promise<RunningService> {
  const service = new Service(config, logger);
  try {
    await service.start();
  } catch (err) {
    await service.stop().catch(() => undefined);
    throw err;
  }
  return service;
}
