/**
 * Prometheus metrics of the service, on a registry of its own (never prom-client's global one,
 * so two services in one process, or a test, do not collide).
 *
 * Latency is kept in HDR histograms (1 µs .. 60 s, 3 significant digits) instead of a
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
import { build, type Histogram as HdrHistogram } from 'hdr-histogram-js';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { InvalidReadCode, MatchTier, RetentionClass } from '../types.js';

/** Stages whose latency is recorded. */
export type LatencyStage = 'match' | 'end_to_end';

/** Latency of a stage in milliseconds, from {@link ServiceMetrics.latencySummary}. */
export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  /** Samples recorded. */
  count: number;
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

const LOWEST_US = 1;
const HIGHEST_US = 60_000_000;
const STAGES: readonly LatencyStage[] = ['match', 'end_to_end'];
/** Quantile label -> percentile asked of the HDR histogram; `1` is the maximum. */
const QUANTILES: ReadonlyArray<[string, number]> = [
  ['0.5', 50],
  ['0.9', 90],
  ['0.99', 99],
  ['0.999', 99.9],
  ['1', 100],
];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096];

function hdr(): HdrHistogram {
  return build({
    lowestDiscernibleValue: LOWEST_US,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
    autoResize: false,
  });
}

/** Lifetime histogram plus two rotating windows of one stage. */
class StageLatency {
  readonly lifetime = hdr();
  private current = hdr();
  private previous = hdr();
  private windowStart: number;

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number,
  ) {
    this.windowStart = now();
  }

  record(micros: number, count: number): void {
    this.rotate();
    this.current.recordValueWithCount(micros, count);
    this.lifetime.recordValueWithCount(micros, count);
  }

  /** Fills `into` with the last one to two windows. */
  windowed(into: HdrHistogram): HdrHistogram {
    this.rotate();
    into.reset();
    into.add(this.previous);
    into.add(this.current);
    return into;
  }

  private rotate(): void {
    const t = this.now();
    const elapsed = t - this.windowStart;
    if (elapsed < this.windowMs) return;
    if (elapsed >= 2 * this.windowMs) {
      // Nothing recorded for a whole window: both are stale.
      this.previous.reset();
      this.current.reset();
    } else {
      const stale = this.previous;
      this.previous = this.current;
      stale.reset();
      this.current = stale;
    }
    this.windowStart = t;
  }
}

type Child = { inc(value?: number): void };

export class ServiceMetrics {
  /** The registry holding every series; mount it elsewhere if the ops server is not used. */
  readonly registry = new Registry();

  private readonly readsTotal: Counter;
  private readonly fastReadsTotal: Counter;
  private readonly invalidTotal: Counter<'code'>;
  private readonly alertsTotal: Counter<'tier' | 'list'>;
  private readonly suppressedTotal: Counter;
  private readonly deadLettersTotal: Counter<'reason'>;
  private readonly recordsTotal: Counter<'class'>;
  private readonly batchSize: Histogram;
  private readonly poolUtilizationGauge: Gauge;
  private readonly inflightGauge: Gauge;
  private readonly hotlistEntriesGauge: Gauge<'source'>;
  private readonly latency = new Map<LatencyStage, StageLatency>();
  private readonly scratch = hdr();
  private readonly children = new Map<string, Child>();
  private hotlistAgeSource: () => Readonly<Record<string, number>> = () => ({});

  constructor(opts: ServiceMetricsOptions = {}) {
    const registers = [this.registry];
    const now = opts.now ?? Date.now;
    const windowMs = opts.latencyWindowMs ?? 60_000;
    for (const stage of STAGES) this.latency.set(stage, new StageLatency(windowMs, now));
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
    this.alertsTotal = new Counter({
      name: 'platesieve_alerts_total',
      help: 'Alerts published, by match tier and list type.',
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
    this.hotlistEntriesGauge = new Gauge({
      name: 'platesieve_hotlist_entries',
      help: 'Hotlist entries loaded, by source.',
      labelNames: ['source'],
      registers,
    });

    const ages = (): Readonly<Record<string, number>> => this.hotlistAgeSource();
    new Gauge({
      name: 'platesieve_hotlist_age_seconds',
      help: 'Seconds since each hotlist source was last refreshed.',
      labelNames: ['source'],
      registers,
      collect() {
        this.reset();
        for (const [source, age] of Object.entries(ages())) this.set({ source }, age);
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

  /** A read rejected as malformed. */
  invalidRead(code: InvalidReadCode | string, n = 1): void {
    this.child(this.invalidTotal, 'i', { code }).inc(n);
  }

  /** An alert published. */
  alert(tier: MatchTier | string, list: string): void {
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

  /** Entries loaded from a hotlist source. */
  hotlistEntries(source: string, n: number): void {
    this.hotlistEntriesGauge.set({ source }, n);
  }

  /** Sets the callback read at each scrape for `platesieve_hotlist_age_seconds`: age in seconds by source. */
  hotlistAges(fn: () => Readonly<Record<string, number>>): void {
    this.hotlistAgeSource = fn;
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
    const h = (this.latency.get(stage) as StageLatency).lifetime;
    const ms = (percentile: number): number => (h.totalCount === 0 ? 0 : h.getValueAtPercentile(percentile) / 1000);
    return {
      p50: ms(50),
      p90: ms(90),
      p99: ms(99),
      p999: ms(99.9),
      max: h.totalCount === 0 ? 0 : h.maxValue / 1000,
      count: h.totalCount,
    };
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
