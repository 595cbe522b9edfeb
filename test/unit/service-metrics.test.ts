/**
 * Service metrics and the ops server: the exposition carries every series with its labels and
 * counts, latency quantiles come from the HDR histograms, and /metrics and /healthz answer
 * with the right status codes.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { assessHealth, hotlistHealth, startOpsServer, type HealthReport, type OpsServer } from '../../matcher/service/http.js';
import { ServiceMetrics } from '../../matcher/service/metrics.js';
import { metricSample as sample } from '../helpers/streams.js';

describe('ServiceMetrics', () => {
  it('counts reads, invalid reads, alerts, suppressions, dead letters and records with their labels', async () => {
    const m = new ServiceMetrics({ defaultMetrics: false });
    m.readsIn(512);
    m.readsIn(3);
    m.invalidRead('INVALID_CHARACTER');
    m.invalidRead('INVALID_CHARACTER');
    m.invalidRead('EMPTY_PLATE');
    m.alert('exact', 'STOLEN_VEHICLE');
    m.alert('exact', 'STOLEN_VEHICLE');
    m.alert('fuzzy', 'AMBER');
    m.suppressed();
    m.suppressed(2);
    m.deadLetter('decode');
    m.record('nonhit', 513);
    m.record('hit', 2);
    m.fastReads(500);
    m.fastReads(0);
    const text = await m.metrics();
    expect(sample(text, 'platesieve_reads_total')).toBe(515);
    expect(sample(text, 'platesieve_fast_path_reads_total')).toBe(500);
    expect(sample(text, 'platesieve_invalid_reads_total{code="INVALID_CHARACTER"}')).toBe(2);
    expect(sample(text, 'platesieve_invalid_reads_total{code="EMPTY_PLATE"}')).toBe(1);
    expect(sample(text, 'platesieve_alerts_total{tier="exact",list="STOLEN_VEHICLE"}')).toBe(2);
    expect(sample(text, 'platesieve_alerts_total{tier="fuzzy",list="AMBER"}')).toBe(1);
    expect(sample(text, 'platesieve_alerts_suppressed_total')).toBe(3);
    expect(sample(text, 'platesieve_deadletters_total{reason="decode"}')).toBe(1);
    expect(sample(text, 'platesieve_records_total{class="nonhit"}')).toBe(513);
    expect(sample(text, 'platesieve_records_total{class="hit"}')).toBe(2);
    expect(text).toContain('# TYPE platesieve_alerts_total counter');
  });

  it('keeps batch sizes in a histogram with buckets 1 to 4096', async () => {
    const m = new ServiceMetrics({ defaultMetrics: false });
    m.batch(1);
    m.batch(300);
    m.batch(512);
    m.batch(5000);
    const text = await m.metrics();
    expect(sample(text, 'platesieve_batch_size_bucket{le="1"}')).toBe(1);
    expect(sample(text, 'platesieve_batch_size_bucket{le="512"}')).toBe(3);
    expect(sample(text, 'platesieve_batch_size_bucket{le="4096"}')).toBe(3);
    expect(sample(text, 'platesieve_batch_size_bucket{le="+Inf"}')).toBe(4);
    expect(sample(text, 'platesieve_batch_size_count')).toBe(4);
    expect(sample(text, 'platesieve_batch_size_sum')).toBe(5813);
  });

  it('exposes pool, in-flight and hotlist gauges, hotlist age read at scrape time', async () => {
    const m = new ServiceMetrics({ defaultMetrics: false });
    m.poolUtilization(0.75);
    m.inflightBatches(3);
    let age = 10;
    let sources = [{ source: 'NCIC', entries: 1_200_000, ageS: age }, { source: 'LOCAL', entries: 412, ageS: 5 }];
    m.hotlistSources(() => sources.map((s) => (s.source === 'NCIC' ? { ...s, ageS: age } : s)));
    let text = await m.metrics();
    expect(sample(text, 'platesieve_pool_utilization')).toBe(0.75);
    expect(sample(text, 'platesieve_inflight_batches')).toBe(3);
    expect(sample(text, 'platesieve_hotlist_entries{source="NCIC"}')).toBe(1_200_000);
    expect(sample(text, 'platesieve_hotlist_entries{source="LOCAL"}')).toBe(412);
    expect(sample(text, 'platesieve_hotlist_age_seconds{source="NCIC"}')).toBe(10);
    expect(sample(text, 'platesieve_hotlist_age_seconds{source="LOCAL"}')).toBe(5);
    age = 90_000;
    sources = sources.filter((s) => s.source === 'NCIC');
    text = await m.metrics();
    expect(sample(text, 'platesieve_hotlist_age_seconds{source="NCIC"}')).toBe(90_000);
    // A source that is gone leaves both gauges.
    expect(sample(text, 'platesieve_hotlist_age_seconds{source="LOCAL"}')).toBeUndefined();
    expect(sample(text, 'platesieve_hotlist_entries{source="LOCAL"}')).toBeUndefined();
  });

  it('records live apply latency in a histogram of seconds', async () => {
    const m = new ServiceMetrics({ defaultMetrics: false });
    m.liveApplied(0.04);
    m.liveApplied(0.3);
    m.liveApplied(2);
    const text = await m.metrics();
    expect(sample(text, 'platesieve_live_apply_seconds_bucket{le="0.05"}')).toBe(1);
    expect(sample(text, 'platesieve_live_apply_seconds_bucket{le="1"}')).toBe(2);
    expect(sample(text, 'platesieve_live_apply_seconds_count')).toBe(3);
  });

  it('reports latency quantiles in seconds and the sample count per stage', async () => {
    const m = new ServiceMetrics({ defaultMetrics: false });
    for (let us = 1; us <= 10_000; us++) m.recordLatency('match', us);
    m.recordLatency('end_to_end', 2_000, 99);
    m.recordLatency('end_to_end', 500_000);
    const text = await m.metrics();
    const q = (stage: string, quantile: string): number =>
      sample(text, `platesieve_latency_seconds{stage="${stage}",quantile="${quantile}"}`) as number;
    expect(q('match', '0.5')).toBeCloseTo(0.005, 4);
    expect(q('match', '0.9')).toBeCloseTo(0.009, 4);
    expect(q('match', '0.99')).toBeCloseTo(0.0099, 4);
    expect(q('match', '1')).toBeCloseTo(0.01, 4);
    expect(q('match', '0.5')).toBeLessThanOrEqual(q('match', '0.99'));
    expect(q('end_to_end', '0.5')).toBeCloseTo(0.002, 5);
    expect(q('end_to_end', '1')).toBeCloseTo(0.5, 3);
    expect(sample(text, 'platesieve_latency_count{stage="match"}')).toBe(10_000);
    expect(sample(text, 'platesieve_latency_count{stage="end_to_end"}')).toBe(100);
  });

  it('clamps latencies beyond 60 s and ignores nonsense', () => {
    const m = new ServiceMetrics({ defaultMetrics: false });
    m.recordLatency('match', 120e6);
    m.recordLatency('match', -5);
    m.recordLatency('match', Number.NaN);
    const s = m.latencySummary('match');
    expect(s.count).toBe(1);
    expect(s.max).toBeCloseTo(60_000, -2);
  });

  it('windows the exposed quantiles but summarizes the whole run', async () => {
    let now = 0;
    const m = new ServiceMetrics({ defaultMetrics: false, latencyWindowMs: 60_000, now: () => now });
    m.recordLatency('match', 50_000, 1000);
    now = 61_000; // one window later: still exposed (previous window)
    m.recordLatency('match', 100, 10);
    let text = await m.metrics();
    expect(sample(text, 'platesieve_latency_seconds{stage="match",quantile="0.5"}')).toBeCloseTo(0.05, 3);
    now = 122_000; // two windows later: the slow samples have left the window
    m.recordLatency('match', 100, 10);
    text = await m.metrics();
    expect(sample(text, 'platesieve_latency_seconds{stage="match",quantile="1"}')).toBeCloseTo(0.0001, 6);
    now = 400_000; // idle: nothing in the window, no quantile series
    text = await m.metrics();
    expect(sample(text, 'platesieve_latency_seconds{stage="match",quantile="0.5"}')).toBeUndefined();
    expect(sample(text, 'platesieve_latency_count{stage="match"}')).toBe(1020);
    const summary = m.latencySummary('match');
    expect(summary.count).toBe(1020);
    expect(summary.max).toBeCloseTo(50, 1);
    expect(summary.p50).toBeCloseTo(50, 1);
    expect(summary.p999).toBeCloseTo(50, 1);
  });

  it('summarizes an empty stage as zeros', () => {
    const m = new ServiceMetrics({ defaultMetrics: false });
    expect(m.latencySummary('end_to_end')).toEqual({ p50: 0, p90: 0, p99: 0, p999: 0, max: 0, count: 0 });
  });

  it('collects default process metrics with the platesieve_ prefix on its own registry', async () => {
    const a = new ServiceMetrics();
    const b = new ServiceMetrics();
    a.readsIn(1);
    const text = await a.metrics();
    expect(text).toMatch(/^platesieve_process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^platesieve_nodejs_heap_size_used_bytes /m);
    expect(sample(await b.metrics(), 'platesieve_reads_total')).toBe(0);
  });
});

describe('health', () => {
  const nats = { connected: true, server: 'localhost:4222' };
  it('is ok, degraded when a hotlist is stale, failing when NATS is down or not ready', () => {
    const fresh = hotlistHealth('NCIC', 0, 86_400, 3_600_000);
    const stale = hotlistHealth('LOCAL', 0, 86_400, 90_000_000, 12);
    expect(fresh).toEqual({ source: 'NCIC', ageS: 3600, maxAgeS: 86_400, stale: false });
    expect(stale).toEqual({ source: 'LOCAL', ageS: 90_000, maxAgeS: 86_400, stale: true, entries: 12 });
    expect(assessHealth({ nats, hotlists: [fresh] }).status).toBe('ok');
    expect(assessHealth({ nats, hotlists: [fresh, stale] }).status).toBe('degraded');
    expect(assessHealth({ nats: { connected: false }, hotlists: [fresh, stale] }).status).toBe('failing');
    expect(assessHealth({ nats, hotlists: [fresh], ready: false }).status).toBe('failing');
  });
});

describe('ops server', () => {
  const logger = pino({ level: 'silent' });
  let server: OpsServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function start(health: () => HealthReport | Promise<HealthReport>, metrics = new ServiceMetrics({ defaultMetrics: false })) {
    server = await startOpsServer({ host: '127.0.0.1', port: 0, metrics, health, logger });
    return `http://127.0.0.1:${server.port}`;
  }
  const fresh = hotlistHealth('NCIC', Date.now(), 86_400, Date.now());

  it('serves /metrics as Prometheus text on the port it picked', async () => {
    const metrics = new ServiceMetrics({ defaultMetrics: false });
    metrics.readsIn(7);
    const base = await start(() => assessHealth({ nats: { connected: true }, hotlists: [] }), metrics);
    expect(server?.port).toBeGreaterThan(0);
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    expect(sample(await res.text(), 'platesieve_reads_total')).toBe(7);
  });

  it('answers /healthz 200 when ok or degraded and 503 when failing', async () => {
    let report = assessHealth({ nats: { connected: true }, hotlists: [fresh] });
    const base = await start(() => report);
    let res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as HealthReport;
    expect(body.status).toBe('ok');
    expect(body.checks.hotlists[0]).toMatchObject({ source: 'NCIC', stale: false });
    expect(res.headers.get('content-type')).toContain('application/json');

    report = assessHealth({ nats: { connected: true }, hotlists: [{ ...fresh, stale: true }] });
    res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as HealthReport).status).toBe('degraded');

    report = assessHealth({ nats: { connected: false, error: 'CONNECTION_REFUSED' }, hotlists: [fresh] });
    res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as HealthReport).checks.nats).toEqual({ connected: false, error: 'CONNECTION_REFUSED' });
  });

  it('reports failing with 503 when the health check throws', async () => {
    const base = await start(() => Promise.reject(new Error('boom')));
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as HealthReport).status).toBe('failing');
  });

  it('answers 404 for other paths and 405 for other methods', async () => {
    const base = await start(() => assessHealth({ nats: { connected: true }, hotlists: [] }));
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/metricsx`)).status).toBe(404);
    expect((await fetch(`${base}/healthz?verbose=1`)).status).toBe(200);
    const post = await fetch(`${base}/metrics`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('closes promptly with a kept-alive connection open', async () => {
    const base = await start(() => assessHealth({ nats: { connected: true }, hotlists: [] }));
    await (await fetch(`${base}/metrics`)).text();
    const t = Date.now();
    await server?.close();
    server = undefined;
    expect(Date.now() - t).toBeLessThan(1000);
  });
});
