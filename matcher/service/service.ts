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
import type { Logger } from 'pino';
import { connect, DebugEvents, Events, type ConsumerMessages, type JetStreamClient, type NatsConnection, type Subscription } from 'nats';
import { AuditLog } from '../audit/index.js';
import type { ServiceConfig } from './config.js';
import { natsConnectionOptions } from './connection.js';
import { redactText, redactUrl } from './redact.js';
import { RepeatLog } from './repeat-log.js';
import { natsSecrets } from './url-credentials.js';
import { LiveUpdates } from './live.js';
import { followHolds, type HoldsWatch } from './holds-watch.js';
import { auditLoad, loadGeneration, matcherOptions, type Generation } from './generation.js';
import { LiveOverlays } from './overlay.js';
import { ReloadRefusals, scheduleRefresh } from './hotlist-refresh.js';
import { Batcher } from './batcher.js';
import { CorePublisher, JetStreamBatchPublisher, type Publisher } from './outputs.js';
import { subjectsFor, type Subjects } from './subjects.js';
import { ensureStreams } from './streams.js';
import { AlertSuppressor } from './suppression.js';
import { ServiceMetrics } from './metrics.js';
import type { FinalizeDeps } from './finalize.js';
import { consumeJetStream, subscribeReads, type Incoming } from './intake.js';
import { processBatch, type BatchContext, type Overlay } from './batch-process.js';
import { FaultInjector } from './fault-injection.js';
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
  private holds?: HoldsWatch;
  private overlays!: LiveOverlays<Generation>;
  /** The overlay in force: a batch takes it when dispatched, so a new one applies between batches. */
  private overlay: Overlay = LiveOverlays.empty();
  private refusals!: ReloadRefusals;
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
  private dropped = 0;
  private utilTimer?: NodeJS.Timeout;
  /** Test hook only (fault-injection.ts): undefined unless PLATESIEVE_TEST_FAIL_STAGE is set. */
  private readonly faults = FaultInjector.fromEnv();

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
        this.live = await LiveUpdates.start(this.nc, config.liveUpdates.bucket, log.child({ stage: 'live' }), () => this.overlays?.request(), this.audit);
        log.info({ bucket: config.liveUpdates.bucket, entries: this.live.view.entries.size, cancelled: this.live.view.cancelled.size }, 'live hotlist updates followed');
      } catch (err) {
        if (config.liveUpdates.required) throw err;
        log.warn({ bucket: config.liveUpdates.bucket, error: (err as Error).message }, 'live hotlist updates unavailable (no JetStream?); files only');
      }
    }
    this.holds = await followHolds(this.nc, config.holds, log.child({ stage: 'holds' }));
    this.metrics.activeHolds(() => this.holds?.count ?? 0);
    this.refusals = new ReloadRefusals(config.hotlistRefusalsDegraded, this.audit, log.child({ stage: 'hotlist' }));
    this.overlays = new LiveOverlays<Generation>({
      live: this.live,
      matcherOptions: matcherOptions(config),
      logger: log,
      metrics: this.metrics,
      audit: this.audit,
      current: () => this.gen,
      install: (overlay) => {
        this.overlay = overlay;
      },
    });
    let gen: Generation;
    try {
      gen = await this.loadGeneration(undefined);
    } catch (err) {
      await this.refusals.refused('start', err);
      throw err;
    }
    // The generation and its overlay go in force together (see swap).
    const overlay = await this.overlays.prepare(gen);
    this.gen = gen;
    this.overlays.put(overlay, 'start');
    await auditLoad(this.audit, this.logger, 'start', this.gen);
    this.metrics.hotlistSources(() => {
      const now = Date.now();
      return [...this.gen.refreshed].map(([source, t]) => ({ source, entries: this.gen.sourceEntries.get(source) ?? 0, ageS: (now - t) / 1000 }));
    });


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
      this.publisher = new JetStreamBatchPublisher(this.nc, Math.max(5000, config.jetstream.ackWaitMs / 2), config.nats.inboxPrefix);
      this.natsHealth.jetstream = true;
      const consumer = await this.js.consumers.get(config.jetstream.readsStream, config.jetstream.consumer);
      this.consumer = await consumer.consume({ max_messages: config.jetstream.fetchBatch });
      this.consumeLoop = consumeJetStream(this.consumer, config.jetstream.readsStream, this.batcher);
    } else {
      this.publisher = new CorePublisher(this.nc);
      this.sub = subscribeReads(this.nc, this.subjects.reads, config.queueGroup, this.batcher, () => this.drop(), log);
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

  /** A generation of the current files and live entries (generation.ts). */
  private loadGeneration(prev: Generation | undefined): Promise<Generation> {
    return loadGeneration(prev, {
      config: this.config,
      logger: this.logger,
      maxMessageBytes: MAX_MESSAGE_BYTES,
      maxOutputBytes: this.maxOutputBytes,
      // Checked (and lapsed ones left out) off the main thread, like the overlay.
      liveEntries: () => this.overlays.checked(new Map()),
      cancelled: () => [...(this.live?.view.cancelled.keys() ?? [])],
    });
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
      await this.refusals.refused(reason, err);
      return false;
    }
    // Built before the swap, so no batch meets the new generation without its live changes.
    const overlay = await this.overlays.prepare(next);
    if (this.stopping !== undefined) {
      await next.runner.close();
      return false;
    }
    this.gen = next;
    this.overlays.put(overlay, 'hotlist swapped');
    this.refusals.succeeded();
    this.retire(old);
    await auditLoad(this.audit, this.logger, reason, next, old.version);
    log.info({ reason, from: old.version, to: next.version, entries: next.entries.length }, 'hotlist swapped');
    return true;
  }

  /** What processing a batch needs of the service (batch-process.ts). */
  private batchContext(): BatchContext {
    return {
      metrics: this.metrics, logger: this.logger, faults: this.faults, maxDeliver: this.config.jetstream.maxDeliver,
      finalize: this.finalizeDeps(),
      holds: () => this.holds?.task,
      outcome: { publisher: this.publisher, metrics: this.metrics, logger: this.logger, faults: this.faults },
    };
  }

  private finalizeDeps(): FinalizeDeps {
    const c = this.config;
    const onShared: FinalizeDeps['onShared'] = (a, from, to) => this.logger.info({ alertId: a.alertId, entryId: a.entryId, list: a.list, from, to }, 'alert shared with the agency that owns the entry');
    return { subjects: this.subjects, metrics: this.metrics, suppressor: this.suppressor, retention: c.retention, maxOutputBytes: this.maxOutputBytes, shareWithEntryOwner: c.shareWithEntryOwner, listMinScore: c.matching.listMinScore, onShared };
  }

  private retire(gen: Generation): void {
    gen.retired = true;
    if (gen.inFlight === 0) void gen.runner.close();
  }

  /** Each source's file is checked every `refreshMinutes`; a newer file reloads every source. */
  private scheduleRefresh(): void {
    this.refreshTimers = scheduleRefresh(this.config.hotlists, () => this.gen.sources, (reason) => this.reload(reason), this.logger);
  }

  /**
   * First connection: retried, failures logged with a backoff (attempts 1, 2, 4, ... and at
   * least every 30 s: nats.js's own wait-on-first-connect retries silently, so a wrong CA would
   * look like a hang, but a line every 500 ms buries everything else). Authorization errors are
   * final; `nats.maxReconnectAttempts` (-1 forever) bounds the rest. Server URLs and messages
   * are redacted: a URL may carry a password.
   */
  private async connectWithRetry(): Promise<NatsConnection> {
    const cfg = this.config.nats;
    const options = { ...natsConnectionOptions(cfg), waitOnFirstConnect: false };
    const secrets = natsSecrets(cfg);
    const repeats = new RepeatLog();
    for (let attempt = 1; ; attempt++) {
      try {
        return await connect(options);
      } catch (err) {
        const message = redactText(err instanceof Error ? err.message : String(err), secrets);
        if (/authorization|authentication|permissions/i.test(message)) throw err;
        if (this.stopping !== undefined || (cfg.maxReconnectAttempts >= 0 && attempt > cfg.maxReconnectAttempts)) throw err;
        this.natsHealth = { connected: false, error: message };
        const line = repeats.attempt();
        if (line !== undefined) this.logger.warn({ ...line, servers: cfg.servers.map(redactUrl), error: message }, 'cannot connect to NATS; retrying');
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

  private async watchStatus(): Promise<void> {
    const repeats = new RepeatLog();
    for await (const s of this.nc.status()) {
      // nats.js reports host:port here (never credentials); redacted anyway, in case that changes.
      const server = redactUrl(typeof s.data === 'string' ? s.data : JSON.stringify(s.data));
      if (s.type === Events.Disconnect) {
        this.natsHealth = { ...this.natsHealth, connected: false, error: `disconnected from ${server}` };
        this.logger.warn({ server }, 'NATS disconnected');
      } else if (s.type === DebugEvents.Reconnecting) {
        // One event per attempt (every reconnectTimeWaitMs): logged with a backoff.
        const line = repeats.attempt();
        if (line !== undefined) this.logger.warn(line, 'NATS reconnecting');
      } else if (s.type === Events.Reconnect) {
        repeats.reset();
        this.natsHealth = { ...this.natsHealth, connected: true, server, error: undefined };
        this.logger.info({ server }, 'NATS reconnected');
      }
    }
    this.natsHealth = { ...this.natsHealth, connected: false, error: 'connection closed' };
  }

  private async dispatch(batch: Incoming[]): Promise<void> {
    const gen = this.gen;
    const overlay = this.overlay.gen === gen ? this.overlay : undefined;
    gen.inFlight++;
    try {
      await processBatch(batch, gen, overlay, this.batchContext());
    } catch (err) {
      // Only settling (ack, nak, dead letters) is left unguarded in process(); what was not
      // acked is redelivered after its ack wait (JetStream).
      this.metrics.batchFailed('settle');
      this.logger.error({ err, messages: batch.length }, 'batch failed while its messages were settled');
    } finally {
      gen.inFlight--;
      if (gen.retired && gen.inFlight === 0) void gen.runner.close();
    }
  }

  health(): HealthReport {
    const now = Date.now();
    return assessHealth({
      nats: this.natsHealth,
      hotlists: (this.gen?.sources ?? []).map((src) => hotlistHealth(src.source, src.refreshedAt, src.maxAgeS, now, src.entries)),
      ready: this.stopping === undefined && this.gen !== undefined,
      pool: { threads: this.gen?.runner.threads ?? 0, utilization: this.gen?.runner.utilization() ?? 0, queued: this.batcher?.pending ?? 0 },
      reload: this.refusals?.health(),
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
    await this.holds?.stop();
    await this.overlays?.close();
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
