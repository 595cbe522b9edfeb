/**
 * The console's dashboards (docs/ops.md "Dashboards"): every `ops.dashboardSeconds` the sampler
 * scrapes each `ops.dashboardSources` entry (the `/metrics` of a `serve` or `store`) and its
 * `/healthz`, and keeps one hour of derived points in memory: reads and alerts per second,
 * end-to-end latency p50/p99, the store's consumer lag and each hotlist source's age. Points are
 * derived when sampled, across all sources at once (rates and lag summed, latency from the
 * merged distribution), so a request only copies arrays out. Each instance samples on its own:
 * behind a load balancer two consoles may see slightly different points, never wrong ones.
 */
import type { Logger } from 'pino';
import { parsePromText, sumOf, type PromText } from './prometheus-text.js';

/** One scraped endpoint. */
export interface DashboardSource {
  name: string;
  /** Its Prometheus endpoint, `http://host:9464/metrics`; `/healthz` is read on the same host. */
  url: string;
}

/** Options of {@link DashboardSampler}. */
export interface DashboardOptions {
  sources: readonly DashboardSource[];
  /** Seconds between two rounds of scrapes. */
  intervalSeconds: number;
  /** Seconds of points kept. Default 3600. */
  historySeconds?: number;
  /** Per request. Default the interval, within 1..5 s. */
  timeoutMs?: number;
  logger: Logger;
  /** Clock, epoch ms. */
  now?: () => number;
}

/** `health` of a source: its `/healthz` status (`failing` or no answer: `down`). */
export type SourceHealth = 'ok' | 'degraded' | 'down' | 'unknown';

/** One source as the response shows it. */
export interface DashboardSourceStatus {
  name: string;
  url: string;
  /** Whether its last scrape answered. */
  up: boolean;
  health: SourceHealth;
  /** Why the last scrape or health check failed. */
  lastError?: string;
}

/** The body of GET /api/dashboard. */
export interface DashboardView {
  intervalSeconds: number;
  sources: DashboardSourceStatus[];
  series: {
    /** Epoch seconds of each point. */
    t: number[];
    readsPerSec: Array<number | null>;
    alertsPerSec: Array<number | null>;
    latencyP50Ms: Array<number | null>;
    latencyP99Ms: Array<number | null>;
    consumerLag: Array<number | null>;
    /** By the hotlist `source` label: seconds since it was refreshed (the oldest over the services). */
    hotlistAgeS: Record<string, Array<number | null>>;
  };
}

/** The latency stage the dashboards show (matcher/service/latency.ts). */
const STAGE = 'end_to_end';

/** What one scrape says, reduced to what the points need. */
interface Snapshot {
  t: number;
  reads?: number;
  alerts?: number;
  /** Cumulative histogram counts by upper bound (a histogram `platesieve_latency_seconds`). */
  buckets?: Map<number, number>;
  /** Quantile gauges, seconds (the service's `platesieve_latency_seconds{stage,quantile}`). */
  p50?: number;
  p99?: number;
  /** `platesieve_latency_count`: samples behind the quantiles, to weigh sources. */
  latencyCount?: number;
  lag?: number;
  hotlistAge: Map<string, number>;
}

interface SourceState extends DashboardSourceStatus {
  healthUrl: string;
  prev?: Snapshot;
}

interface Point {
  t: number;
  readsPerSec: number | null;
  alertsPerSec: number | null;
  p50: number | null;
  p99: number | null;
  lag: number | null;
  hotlistAge: Map<string, number>;
}

/** Increase of a counter between two scrapes; a counter that went down was restarted. */
function increase(prev: number | undefined, cur: number | undefined): number | undefined {
  if (prev === undefined || cur === undefined) return undefined;
  return cur >= prev ? cur - prev : cur;
}

function addTo(acc: number | null, v: number | undefined): number | null {
  return v === undefined ? acc : (acc ?? 0) + v;
}

/** Reduces a scrape to a snapshot. */
export function snapshotOf(text: PromText, t: number): Snapshot {
  const snap: Snapshot = { t, reads: sumOf(text, 'platesieve_reads_total'), alerts: sumOf(text, 'platesieve_alerts_total'), lag: sumOf(text, 'platesieve_store_consumer_lag'), hotlistAge: new Map() };
  const bucketSamples = text.samples.get('platesieve_latency_seconds_bucket');
  if (bucketSamples !== undefined) {
    // A histogram with stage labels: only the end-to-end one; without: the only one there is.
    const staged = bucketSamples.some((s) => s.labels.stage !== undefined);
    const buckets = new Map<number, number>();
    for (const s of bucketSamples) {
      if (staged && s.labels.stage !== STAGE) continue;
      const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      if (!Number.isNaN(le)) buckets.set(le, (buckets.get(le) ?? 0) + s.value);
    }
    if (buckets.size > 0) snap.buckets = buckets;
  } else {
    snap.p50 = sumOf(text, 'platesieve_latency_seconds', { stage: STAGE, quantile: '0.5' });
    snap.p99 = sumOf(text, 'platesieve_latency_seconds', { stage: STAGE, quantile: '0.99' });
    snap.latencyCount = sumOf(text, 'platesieve_latency_count', { stage: STAGE });
  }
  for (const s of text.samples.get('platesieve_hotlist_age_seconds') ?? []) {
    const source = s.labels.source;
    if (source === undefined || !Number.isFinite(s.value)) continue;
    snap.hotlistAge.set(source, Math.max(snap.hotlistAge.get(source) ?? -Infinity, s.value));
  }
  return snap;
}

/**
 * The `q` quantile (0..1) of a cumulative histogram, interpolated linearly within its bucket as
 * Prometheus' histogram_quantile does; null without observations. In the +Inf bucket it is the
 * highest finite bound (nothing better is known).
 */
export function histogramQuantile(q: number, cumulative: ReadonlyMap<number, number>): number | null {
  const bounds = [...cumulative.keys()].sort((x, y) => x - y);
  if (bounds.length === 0) return null;
  const total = cumulative.get(bounds[bounds.length - 1]) ?? 0;
  if (!(total > 0)) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const le of bounds) {
    const count = cumulative.get(le) ?? 0;
    if (count >= rank) {
      if (le === Infinity) return lower;
      if (count === below) return le;
      return lower + ((le - lower) * (rank - below)) / (count - below);
    }
    lower = le;
    below = count;
  }
  return lower;
}

function healthUrlOf(url: string): string {
  try {
    const u = new URL(url);
    u.pathname = '/healthz';
    u.search = '';
    return u.toString();
  } catch {
    return url;
  }
}

/** A fixed-size ring of points, oldest first. */
class Ring<T> {
  private readonly items: T[] = [];
  private start = 0;
  constructor(private readonly capacity: number) {}
  push(item: T): void {
    if (this.items.length < this.capacity) this.items.push(item);
    else {
      this.items[this.start] = item;
      this.start = (this.start + 1) % this.capacity;
    }
  }
  toArray(): T[] {
    return [...this.items.slice(this.start), ...this.items.slice(0, this.start)];
  }
}

/** Scrapes the sources on a timer and keeps the last hour of points. */
export class DashboardSampler {
  private readonly states: SourceState[];
  private readonly points: Ring<Point>;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private stopped = false;

  constructor(private readonly options: DashboardOptions) {
    this.intervalMs = Math.max(1, options.intervalSeconds * 1000);
    this.timeoutMs = options.timeoutMs ?? Math.min(5000, Math.max(1000, this.intervalMs));
    this.now = options.now ?? Date.now;
    this.log = options.logger.child({ component: 'dashboard' });
    this.states = options.sources.map((s) => ({ name: s.name, url: s.url, healthUrl: healthUrlOf(s.url), up: false, health: 'unknown' }));
    this.points = new Ring(Math.max(2, Math.ceil(((options.historySeconds ?? 3600) * 1000) / this.intervalMs)));
  }

  /** Starts sampling (the first round at once). */
  start(): void {
    if (this.stopped || this.timer !== undefined || this.round !== undefined) return;
    this.loop();
  }

  /** Stops sampling; resolves once a round in progress is over (its requests are aborted). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.abort.abort();
    await this.round;
  }

  /** The sources and the points kept, as GET /api/dashboard answers. */
  view(): DashboardView {
    const points = this.points.toArray();
    const names = new Set<string>();
    for (const p of points) for (const k of p.hotlistAge.keys()) names.add(k);
    const hotlistAgeS: Record<string, Array<number | null>> = {};
    for (const name of [...names].sort()) hotlistAgeS[name] = points.map((p) => p.hotlistAge.get(name) ?? null);
    return {
      intervalSeconds: this.options.intervalSeconds,
      sources: this.states.map((s) => ({ name: s.name, url: s.url, up: s.up, health: s.health, ...(s.lastError !== undefined ? { lastError: s.lastError } : {}) })),
      series: {
        t: points.map((p) => p.t),
        readsPerSec: points.map((p) => p.readsPerSec),
        alertsPerSec: points.map((p) => p.alertsPerSec),
        latencyP50Ms: points.map((p) => p.p50),
        latencyP99Ms: points.map((p) => p.p99),
        consumerLag: points.map((p) => p.lag),
        hotlistAgeS,
      },
    };
  }

  /** One round now: scrapes every source and adds a point (tests; the timer calls it too). */
  async sampleOnce(): Promise<void> {
    const t = this.now();
    const snaps = await Promise.all(this.states.map((s) => this.scrape(s, t)));
    this.points.push(this.derive(t, snaps));
  }

  private loop(): void {
    const started = this.now();
    this.round = this.sampleOnce()
      .catch((err: unknown) => this.log.warn({ err }, 'dashboard round failed'))
      .finally(() => {
        this.round = undefined;
        if (this.stopped) return;
        // Rounds never overlap: a slow source delays the next round instead of stacking them.
        this.timer = setTimeout(() => this.loop(), Math.max(0, this.intervalMs - (this.now() - started)));
        this.timer.unref();
      });
  }

  private async fetchText(url: string, accept: string): Promise<{ status: number; text: string }> {
    const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.timeoutMs)]);
    const res = await fetch(url, { signal, headers: { accept } });
    return { status: res.status, text: await res.text() };
  }

  /** Scrapes one source and checks its health; never throws (a bad source is shown down). */
  private async scrape(s: SourceState, t: number): Promise<{ state: SourceState; prev?: Snapshot; cur?: Snapshot }> {
    const [metrics, health] = await Promise.allSettled([
      this.fetchText(s.url, 'text/plain;version=0.0.4'),
      this.fetchText(s.healthUrl, 'application/json'),
    ]);
    const errors: string[] = [];
    let cur: Snapshot | undefined;
    if (metrics.status === 'fulfilled' && metrics.value.status >= 200 && metrics.value.status < 300) {
      cur = snapshotOf(parsePromText(metrics.value.text), t);
    } else {
      errors.push(`metrics: ${metrics.status === 'fulfilled' ? `HTTP ${metrics.value.status}` : reason(metrics.reason)}`);
    }
    let h: SourceHealth = 'down';
    if (health.status === 'fulfilled') {
      let status: unknown;
      try {
        status = (JSON.parse(health.value.text) as { status?: unknown }).status;
      } catch {
        status = undefined;
      }
      if (status === 'ok' || status === 'degraded') h = status;
      else errors.push(`healthz: ${typeof status === 'string' ? status : `HTTP ${health.value.status}`}`);
    } else {
      errors.push(`healthz: ${reason(health.reason)}`);
    }
    // Logged on a change only: a source down for an hour is one line, not 360.
    const first = s.health === 'unknown';
    if (cur === undefined && (s.up || first)) this.log.warn({ source: s.name, url: s.url, error: errors.join('; ') }, 'dashboard source down');
    else if (cur !== undefined && !s.up && !first) this.log.info({ source: s.name }, 'dashboard source up again');
    const prev = s.prev;
    s.up = cur !== undefined;
    s.health = h;
    s.lastError = errors.length > 0 ? errors.join('; ') : undefined;
    // A source that missed a scrape starts over: a rate across the gap would smear it.
    s.prev = cur;
    return { state: s, prev, cur };
  }

  private derive(t: number, snaps: ReadonlyArray<{ prev?: Snapshot; cur?: Snapshot }>): Point {
    let reads: number | null = null;
    let alerts: number | null = null;
    let lag: number | null = null;
    const merged = new Map<number, number>();
    let haveBuckets = false;
    let weighted = 0;
    let weights = 0;
    let p99: number | null = null;
    const hotlistAge = new Map<string, number>();
    for (const { prev, cur } of snaps) {
      if (cur === undefined) continue;
      lag = addTo(lag, cur.lag);
      for (const [k, v] of cur.hotlistAge) hotlistAge.set(k, Math.max(hotlistAge.get(k) ?? -Infinity, v));
      if (cur.p50 !== undefined || cur.p99 !== undefined) {
        // Quantiles of several services cannot be merged exactly: p50 weighted by their
        // samples since the last scrape, p99 the worst (what an operator must see).
        const w = increase(prev?.latencyCount, cur.latencyCount) ?? 1;
        if (cur.p50 !== undefined && w > 0) {
          weighted += cur.p50 * w;
          weights += w;
        }
        if (cur.p99 !== undefined) p99 = Math.max(p99 ?? -Infinity, cur.p99);
      }
      if (prev === undefined) continue;
      const dt = (cur.t - prev.t) / 1000;
      if (!(dt > 0)) continue;
      const r = increase(prev.reads, cur.reads);
      if (r !== undefined) reads = (reads ?? 0) + r / dt;
      const a = increase(prev.alerts, cur.alerts);
      if (a !== undefined) alerts = (alerts ?? 0) + a / dt;
      if (cur.buckets !== undefined && prev.buckets !== undefined) {
        haveBuckets = true;
        for (const [le, count] of cur.buckets) merged.set(le, (merged.get(le) ?? 0) + (increase(prev.buckets.get(le), count) ?? 0));
      }
    }
    let p50: number | null = weights > 0 ? weighted / weights : null;
    if (haveBuckets) {
      p50 = histogramQuantile(0.5, merged);
      p99 = histogramQuantile(0.99, merged);
    }
    const ms = (v: number | null): number | null => (v === null ? null : round(v * 1000));
    return { t: Math.round(t) / 1000, readsPerSec: rounded(reads), alertsPerSec: rounded(alerts), p50: ms(p50), p99: ms(p99), lag, hotlistAge };
  }
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

function rounded(v: number | null): number | null {
  return v === null ? null : round(v);
}

function reason(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return 'no answer in time';
  // fetch says only "fetch failed"; the cause has the connection error.
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
}
