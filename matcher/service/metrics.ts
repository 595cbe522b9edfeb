/**
 * Prometheus metrics of the service, on a registry of its own (never prom-client's global one,
 * so two services in one process, or a test, do not collide).
 *
 * Latency is kept in HDR histograms (latency.ts: 1 µs .. 60 s, 3 significant digits) instead of a
 * prom-client histogram: recording is an array increment, and the quantiles are exact to
 * 0.1 % instead of bucket-interpolated. They are exposed at scrape time as gauges,
 * `platesieve_latency_seconds{stage,quantile}`, computed over a sliding window (the current
 * and the previous `latencyWindowMs`, so between one and two windows of data), which is what
 * a dashboard wants; `latencySummary()` reports the whole run, which is what a demo or a
 * shutdown log line wants.
 *
 * Counters are hot (per batch, per alert, per record): label children are looked up once and
 * cached, so a call is a Map lookup and an add, not a label hash.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AlertTier, RetentionClass } from '../types.js';
import type { RejectCode } from './wire.js';
import { HIGHEST_US, hdr, LATENCY_STAGES, QUANTILES, StageLatency, summarize, type LatencyStage, type LatencySummary } from './latency.js';

export type { LatencyStage, LatencySummary } from './latency.js';

/**
 * Where a batch failed as a whole (an exception, not an output refused): `match` (the
 * runner), `finalize` (alerts and records on the main thread), `publish` (handing the
 * outputs to NATS), `settle` (acks, naks and dead letters afterwards).
 */
export type BatchStage = 'match' | 'finalize' | 'publish' | 'settle';
const BATCH_STAGES: readonly BatchStage[] = ['match', 'finalize', 'publish', 'settle'];

/** One hotlist source at scrape time. */
export interface HotlistSourceSample {
  source: string;
  /** Entries in force from the files naming this source. */
  entries: number;
  /** Seconds since the source was last refreshed. */
  ageS: number;
}

/** Options of {@link ServiceMetrics}. */
export interface ServiceMetricsOptions {
  /** Collect Node's default process metrics, prefixed `platesieve_`. Default true. */
  defaultMetrics?: boolean;
  /** Length of one latency window, ms. Default 60 000. */
  latencyWindowMs?: number;
  /** Clock for latency windows. Default `Date.now`. */
  now?: () => number;
}

/** Live apply latency, seconds: the promise is one second. */
const LIVE_APPLY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096];

type Child = { inc(value?: number): void };

export class ServiceMetrics {
  /** The registry holding every series; mount it elsewhere if the ops server is not used. */
  readonly registry = new Registry();

  private readonly readsTotal: Counter;
  private readonly fastReadsTotal: Counter;
  private readonly invalidTotal: Counter<'code'>;
  private readonly alertsTotal: Counter<'tier' | 'list'>;
  private readonly alertsSharedTotal: Counter;
  private readonly suppressedTotal: Counter;
  private readonly deadLettersTotal: Counter<'reason'>;
  private readonly batchesFailedTotal: Counter<'stage'>;
  private readonly outputRetriesTotal: Counter;
  private readonly recordsTotal: Counter<'class'>;
  private readonly batchSize: Histogram;
  private readonly poolUtilizationGauge: Gauge;
  private readonly inflightGauge: Gauge;
  private readonly liveApplySeconds: Histogram;
  private readonly latency = new Map<LatencyStage, StageLatency>();
  private readonly scratch = hdr();
  private readonly children = new Map<string, Child>();
  private hotlistSource: () => Iterable<HotlistSourceSample> = () => [];
  private holdsActive: () => number = () => 0;

  constructor(opts: ServiceMetricsOptions = {}) {
    const registers = [this.registry];
    const now = opts.now ?? Date.now;
    const windowMs = opts.latencyWindowMs ?? 60_000;
    for (const stage of LATENCY_STAGES) this.latency.set(stage, new StageLatency(windowMs, now));
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'platesieve_' });

    this.readsTotal = new Counter({ name: 'platesieve_reads_total', help: 'Reads received (valid or not).', registers });
    this.fastReadsTotal = new Counter({
      name: 'platesieve_fast_path_reads_total',
      help: 'Reads scanned and recorded by the WebAssembly core without a JavaScript object (msgpack reads of the common shape).',
      registers,
    });
    this.invalidTotal = new Counter({
      name: 'platesieve_invalid_reads_total',
      help: 'Reads rejected as malformed, by reason code.',
      labelNames: ['code'],
      registers,
    });
    this.alertsSharedTotal = new Counter({
      name: 'platesieve_alerts_shared_total',
      help: 'Alerts also published on the alert subject of the agency that owns the entry (shareWithEntryOwner).',
      registers,
    });
    this.alertsTotal = new Counter({
      name: 'platesieve_alerts_total',
      help: 'Alerts published (stored, in JetStream mode), by match tier and list type; suppressed repeats and alerts not stored are not counted.',
      labelNames: ['tier', 'list'],
      registers,
    });
    this.suppressedTotal = new Counter({
      name: 'platesieve_alerts_suppressed_total',
      help: 'Alerts not published because the same entry was seen by the same camera within the suppression window.',
      registers,
    });
    this.deadLettersTotal = new Counter({
      name: 'platesieve_deadletters_total',
      help: 'Messages published to the dead-letter subject, by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.batchesFailedTotal = new Counter({
      name: 'platesieve_batches_failed_total',
      help: 'Batches that failed as a whole, by stage; their messages were redelivered (JetStream) or dead-lettered (core).',
      labelNames: ['stage'],
      registers,
    });
    // Every stage at 0 from the start, so `rate()` and alerts see the series before the first failure.
    for (const stage of BATCH_STAGES) this.batchesFailedTotal.labels({ stage }).inc(0);
    this.outputRetriesTotal = new Counter({
      name: 'platesieve_output_retries_total',
      help: 'Reads messages handed back for redelivery because their outputs could not be stored (JetStream mode; retried without limit, with backoff).',
      registers,
    });
    this.recordsTotal = new Counter({
      name: 'platesieve_records_total',
      help: 'Read records published, by retention class.',
      labelNames: ['class'],
      registers,
    });
    this.batchSize = new Histogram({
      name: 'platesieve_batch_size',
      help: 'Reads per batch sent to the worker pool.',
      buckets: BATCH_BUCKETS,
      registers,
    });
    this.poolUtilizationGauge = new Gauge({
      name: 'platesieve_pool_utilization',
      help: 'Worker pool utilization, 0..1.',
      registers,
    });
    this.inflightGauge = new Gauge({
      name: 'platesieve_inflight_batches',
      help: 'Batches sent to the pool and not yet completed.',
      registers,
    });
    this.liveApplySeconds = new Histogram({
      name: 'platesieve_live_apply_seconds',
      help: 'Live hotlist changes: seconds from the change\'s write to the key-value bucket (server clock) to the overlay holding it in force.',
      buckets: LIVE_APPLY_BUCKETS,
      registers,
    });

    // Both hotlist gauges read one callback at scrape time and are reset first, so they
    // always list the same sources and a source that is gone leaves both.
    const sources = (): Iterable<HotlistSourceSample> => this.hotlistSource();
    new Gauge({
      name: 'platesieve_hotlist_entries',
      help: 'Hotlist entries in force from the files, by source.',
      labelNames: ['source'],
      registers,
      collect() {
        this.reset();
        for (const s of sources()) this.set({ source: s.source }, s.entries);
      },
    });
    new Gauge({
      name: 'platesieve_hotlist_age_seconds',
      help: 'Seconds since each hotlist source was last refreshed.',
      labelNames: ['source'],
      registers,
      collect() {
        this.reset();
        for (const s of sources()) this.set({ source: s.source }, s.ageS);
      },
    });

    const holds = (): number => this.holdsActive();
    new Gauge({
      name: 'platesieve_holds_active',
      help: 'Evidence holds on plates in force: their reads leave with records of class hold.',
      registers,
      collect() {
        this.set(holds());
      },
    });

    const latency = this.latency;
    const scratch = this.scratch;
    new Gauge({
      name: 'platesieve_latency_seconds',
      help: 'Latency quantiles over the last one to two windows (quantile="1" is the maximum).',
      labelNames: ['stage', 'quantile'],
      registers,
      collect() {
        this.reset();
        for (const [stage, stageLatency] of latency) {
          const h = stageLatency.windowed(scratch);
          if (h.totalCount === 0) continue;
          for (const [quantile, percentile] of QUANTILES) {
            this.set({ stage, quantile }, h.getValueAtPercentile(percentile) / 1e6);
          }
        }
      },
    });
    new Gauge({
      name: 'platesieve_latency_count',
      help: 'Latency samples recorded since start, by stage.',
      labelNames: ['stage'],
      registers,
      collect() {
        for (const [stage, stageLatency] of latency) this.set({ stage }, stageLatency.lifetime.totalCount);
      },
    });
  }

  /** `n` reads received. */
  readsIn(n = 1): void {
    this.readsTotal.inc(n);
  }

  /** `n` reads taken by the core's fast path. */
  fastReads(n: number): void {
    if (n > 0) this.fastReadsTotal.inc(n);
  }

  /** A read rejected as malformed (its code: an InvalidReadCode or another reject code of a read). */
  invalidRead(code: RejectCode, n = 1): void {
    this.child(this.invalidTotal, 'i', { code }).inc(n);
  }

  /** An alert published (stored, in JetStream mode). */
  /** An alert also published to the entry's owner. */
  alertShared(): void {
    this.alertsSharedTotal.inc();
  }

  alert(tier: AlertTier, list: string): void {
    this.child(this.alertsTotal, 'a', { tier, list }).inc();
  }

  /** Alerts suppressed (repeat sightings within the window). */
  suppressed(n = 1): void {
    this.suppressedTotal.inc(n);
  }

  /** A message dead-lettered. */
  deadLetter(reason: string, n = 1): void {
    this.child(this.deadLettersTotal, 'd', { reason }).inc(n);
  }

  /** A batch that failed as a whole at `stage`. */
  batchFailed(stage: BatchStage): void {
    this.child(this.batchesFailedTotal, 'b', { stage }).inc();
  }

  /** A reads message handed back because its outputs could not be stored. */
  outputRetry(): void {
    this.outputRetriesTotal.inc();
  }

  /** Read records published in a retention class. */
  record(cls: RetentionClass, n = 1): void {
    this.child(this.recordsTotal, 'r', { class: cls }).inc(n);
  }

  /** A batch of `size` reads sent to the pool. */
  batch(size: number): void {
    this.batchSize.observe(size);
  }

  /** Worker pool utilization, 0..1 (piscina's `utilization`). */
  poolUtilization(ratio: number): void {
    this.poolUtilizationGauge.set(ratio);
  }

  /** Batches in flight now. */
  inflightBatches(n: number): void {
    this.inflightGauge.set(n);
  }

  /**
   * Sets the callback read at each scrape for `platesieve_hotlist_entries` and
   * `platesieve_hotlist_age_seconds`: one sample per source in force.
   */
  hotlistSources(fn: () => Iterable<HotlistSourceSample>): void {
    this.hotlistSource = fn;
  }

  /** Where the number of active evidence holds is read at scrape time. */
  activeHolds(fn: () => number): void {
    this.holdsActive = fn;
  }

  /** A live change put in force `seconds` after it was written. */
  liveApplied(seconds: number): void {
    if (seconds >= 0) this.liveApplySeconds.observe(seconds);
  }

  /**
   * Records a latency in microseconds (`count` samples of it, for a batch whose reads share
   * one latency). Values are rounded and clamped to 0 .. 60 s; NaN and negatives are ignored.
   */
  recordLatency(stage: LatencyStage, micros: number, count = 1): void {
    if (!(micros >= 0) || !(count >= 1)) return;
    const v = micros > HIGHEST_US ? HIGHEST_US : Math.round(micros);
    this.latency.get(stage)?.record(v, Math.floor(count));
  }

  /** Latency of a stage over the whole run, in milliseconds. */
  latencySummary(stage: LatencyStage): LatencySummary {
    return summarize((this.latency.get(stage) as StageLatency).lifetime);
  }

  /** Exposition text (Prometheus text format 0.0.4). */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /** Content type of {@link metrics}. */
  get contentType(): string {
    return this.registry.contentType;
  }

  private child<T extends string>(counter: Counter<T>, prefix: string, labels: Record<T, string>): Child {
    const key = `${prefix}\u0000${Object.values<string>(labels).join('\u0000')}`;
    let child = this.children.get(key);
    if (child === undefined) {
      child = counter.labels(labels);
      this.children.set(key, child);
    }
    return child;
  }
}
