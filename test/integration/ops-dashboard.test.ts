/**
 * The dashboards (matcher/ops/dashboard.ts): real HTTP metrics endpoints (small node servers
 * answering fixed, then advanced, Prometheus text and /healthz as `serve` and `store` do), the
 * sampler's rates, merged latency percentiles, lag and hotlist ages against hand-computed
 * values (a fake clock, rounds run by hand), then GET /api/dashboard on an ops server sampling
 * every 0.1 s, with a source that is down.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgAuditLog } from '../../matcher/audit/pg-log.js';
import { pgAuditSource } from '../../matcher/ops/audit-source.js';
import { DashboardSampler, histogramQuantile, type DashboardView } from '../../matcher/ops/dashboard.js';
import { parsePromText } from '../../matcher/ops/prometheus-text.js';
import { createOpsServer, type OpsServer } from '../../matcher/ops/server.js';
import { closeOpsDatabase, openOpsDatabase } from '../helpers/ops.js';
import type { TestDatabase } from '../helpers/postgres.js';

interface Peer { server: Server; url: string; metrics: string; health: { code: number; body: string } }

/** A metrics endpoint whose answers the test changes between scrapes. */
async function peer(metrics: string, health: { code: number; body: string } = { code: 200, body: '{"status":"ok"}' }): Promise<Peer> {
  const p = { metrics, health } as Peer;
  p.server = createServer((req, res) => {
    if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(p.metrics);
    } else if (req.url === '/healthz') {
      res.writeHead(p.health.code, { 'content-type': 'application/json' });
      res.end(p.health.body);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => p.server.listen(0, '127.0.0.1', r));
  p.url = `http://127.0.0.1:${(p.server.address() as AddressInfo).port}/metrics`;
  return p;
}

/** A port nothing listens on. */
async function deadUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}/metrics`;
}

const BOUNDS = ['0.005', '0.01', '0.025', '0.05', '0.1', '+Inf'];

/** `serve`-like text: counters, the latency histogram (cumulative counts by BOUNDS), hotlist ages. */
function serveText(o: { reads: number; alerts: [number, number]; buckets: number[]; ages: Record<string, number> }): string {
  return [
    '# HELP platesieve_reads_total Reads received (valid or not).',
    '# TYPE platesieve_reads_total counter',
    `platesieve_reads_total ${o.reads}`,
    '# TYPE platesieve_alerts_total counter',
    `platesieve_alerts_total{tier="exact",list="STOLEN_VEHICLE"} ${o.alerts[0]}`,
    `platesieve_alerts_total{tier="ocr",list="BOLO"} ${o.alerts[1]}`,
    '# TYPE platesieve_latency_seconds histogram',
    ...BOUNDS.map((le, i) => `platesieve_latency_seconds_bucket{le="${le}",stage="end_to_end"} ${o.buckets[i]}`),
    // Another stage: not the dashboards' latency.
    ...BOUNDS.map((le) => `platesieve_latency_seconds_bucket{le="${le}",stage="match"} 1000000`),
    `platesieve_latency_seconds_count{stage="end_to_end"} ${o.buckets[5]}`,
    '# TYPE platesieve_hotlist_age_seconds gauge',
    ...Object.entries(o.ages).map(([s, v]) => `platesieve_hotlist_age_seconds{source="${s}"} ${v}`),
    '',
  ].join('\n');
}

function storeText(lag: [number, number]): string {
  return [
    '# TYPE platesieve_store_consumer_lag gauge',
    `platesieve_store_consumer_lag{stream="ALPR_READS"} ${lag[0]}`,
    `platesieve_store_consumer_lag{stream="ALPR_ALERTS"} ${lag[1]}`,
    '# TYPE platesieve_store_rows_total counter',
    'platesieve_store_rows_total{table="reads"} 12345',
    '',
  ].join('\n');
}

/** The service's real latency metric: quantile gauges. */
function quantileText(p50: number, p99: number, count: number): string {
  return [
    '# TYPE platesieve_latency_seconds gauge',
    `platesieve_latency_seconds{stage="end_to_end",quantile="0.5"} ${p50}`,
    `platesieve_latency_seconds{stage="end_to_end",quantile="0.99"} ${p99}`,
    `platesieve_latency_seconds{stage="match",quantile="0.99"} 9`,
    '# TYPE platesieve_latency_count gauge',
    `platesieve_latency_count{stage="end_to_end"} ${count}`,
    '',
  ].join('\n');
}

const peers: Peer[] = [];
const silent = pino({ level: 'silent' });

afterAll(async () => {
  for (const p of peers) await new Promise<void>((r) => p.server.close(() => r()));
});

describe('the Prometheus text reader', () => {
  it('reads labels with escapes, special values and timestamps, and skips what it cannot read', () => {
    const t = parsePromText('# TYPE a counter\na{x="q\\"uo\\\\te",y="line\\nbreak"} 3 1700000000000\nb +Inf\nc NaN\nbroken{x="1" 2\nd{} -2.5e1\n');
    expect(t.types.get('a')).toBe('counter');
    expect(t.samples.get('a')).toEqual([{ name: 'a', labels: { x: 'q"uo\\te', y: 'line\nbreak' }, value: 3 }]);
    expect(t.samples.get('b')?.[0].value).toBe(Infinity);
    expect(Number.isNaN(t.samples.get('c')?.[0].value)).toBe(true);
    expect(t.samples.has('broken')).toBe(false);
    expect(t.samples.get('d')?.[0].value).toBe(-25);
  });

  it('interpolates histogram quantiles as histogram_quantile does', () => {
    const h = new Map([[0.01, 10], [0.025, 70], [0.05, 98], [0.1, 100], [Infinity, 100]]);
    expect(histogramQuantile(0.5, h)).toBeCloseTo(0.02, 12);
    expect(histogramQuantile(0.99, h)).toBeCloseTo(0.075, 12);
    expect(histogramQuantile(0.5, new Map([[0.1, 0], [Infinity, 0]]))).toBeNull();
    // Everything beyond the last finite bound: that bound.
    expect(histogramQuantile(0.5, new Map([[0.1, 0], [Infinity, 5]]))).toBe(0.1);
  });
});

describe('the sampler', () => {
  it('computes rates, merged latency percentiles, lag and hotlist ages from two scrapes', async () => {
    const serve1 = await peer(serveText({ reads: 1000, alerts: [5, 1], buckets: [0, 10, 20, 30, 40, 40], ages: { ncic: 120, local: 30 } }));
    const serve2 = await peer(serveText({ reads: 200, alerts: [0, 0], buckets: [0, 0, 0, 0, 7, 7], ages: { ncic: 150 } }), { code: 200, body: '{"status":"degraded","reasons":["x"]}' });
    const store = await peer(storeText([40, 2]), { code: 503, body: '{"status":"failing"}' });
    peers.push(serve1, serve2, store);
    const down = await deadUrl();
    let clock = 1_700_000_000_000;
    const sampler = new DashboardSampler({
      sources: [{ name: 'serve-1', url: serve1.url }, { name: 'serve-2', url: serve2.url }, { name: 'store', url: store.url }, { name: 'gone', url: down }],
      intervalSeconds: 10, logger: silent, now: () => clock,
    });
    await sampler.sampleOnce();
    // Ten seconds on. serve-1: +500 reads, +20 alerts; latency deltas by bound 0, 10, 70, 98,
    // 100, 100. serve-2: +100 reads; 100 observations, all in (0.05, 0.1].
    serve1.metrics = serveText({ reads: 1500, alerts: [20, 6], buckets: [0, 20, 90, 128, 140, 140], ages: { ncic: 10, local: 40 } });
    serve2.metrics = serveText({ reads: 300, alerts: [0, 0], buckets: [0, 0, 0, 0, 107, 107], ages: { ncic: 160 } });
    store.metrics = storeText([7, 1]);
    clock += 10_000;
    await sampler.sampleOnce();
    const v = sampler.view();
    expect(v.intervalSeconds).toBe(10);
    expect(v.series.t).toEqual([1_700_000_000, 1_700_000_010]);
    // (500 + 100) / 10 s; (15 + 5) / 10 s.
    expect(v.series.readsPerSec).toEqual([null, 60]);
    expect(v.series.alertsPerSec).toEqual([null, 2]);
    // Merged deltas, cumulative: 0.005:0 0.01:10 0.025:70 0.05:98 0.1:200 +Inf:200.
    // p50: rank 100 in (0.05, 0.1]: 0.05 + 0.05 * (100 - 98) / (200 - 98) = 0.0509804 s.
    // p99: rank 198: 0.05 + 0.05 * (198 - 98) / 102 = 0.0990196 s.
    expect(v.series.latencyP50Ms).toEqual([null, 50.98]);
    expect(v.series.latencyP99Ms).toEqual([null, 99.02]);
    expect(v.series.consumerLag).toEqual([42, 8]);
    // By hotlist source, the oldest over the services.
    expect(v.series.hotlistAgeS).toEqual({ local: [30, 40], ncic: [150, 160] });
    expect(v.sources.map(({ name, up, health }) => ({ name, up, health }))).toEqual([
      { name: 'serve-1', up: true, health: 'ok' },
      { name: 'serve-2', up: true, health: 'degraded' },
      { name: 'store', up: true, health: 'down' },
      { name: 'gone', up: false, health: 'down' },
    ]);
    expect(v.sources[0].lastError).toBeUndefined();
    expect(v.sources[2].lastError).toMatch(/healthz: failing/);
    expect(v.sources[3].lastError).toMatch(/metrics: ECONNREFUSED/);

    // serve-1 restarts (counters back near 0): its increase is the new value, not negative.
    serve1.metrics = serveText({ reads: 50, alerts: [0, 0], buckets: [0, 0, 0, 0, 0, 0], ages: {} });
    clock += 10_000;
    await sampler.sampleOnce();
    const after = sampler.view().series;
    expect(after.readsPerSec[2]).toBe(5);
    expect(after.hotlistAgeS).toEqual({ local: [30, 40, null], ncic: [150, 160, 160] });
    await sampler.stop();
  });

  it('weighs the services\' quantile gauges by their samples (p50) and takes the worst p99', async () => {
    const a = await peer(quantileText(0.01, 0.05, 100));
    const b = await peer(quantileText(0.03, 0.2, 50));
    peers.push(a, b);
    let clock = 1_700_000_000_000;
    const sampler = new DashboardSampler({ sources: [{ name: 'a', url: a.url }, { name: 'b', url: b.url }], intervalSeconds: 5, logger: silent, now: () => clock });
    await sampler.sampleOnce();
    a.metrics = quantileText(0.01, 0.05, 400);
    b.metrics = quantileText(0.03, 0.2, 150);
    clock += 5000;
    await sampler.sampleOnce();
    const s = sampler.view().series;
    // First point: no sample counts yet, equal weights: (10 + 30) / 2 ms. Then (0.01 * 300 + 0.03 * 100) / 400.
    expect(s.latencyP50Ms).toEqual([20, 15]);
    expect(s.latencyP99Ms).toEqual([200, 200]);
    expect(s.readsPerSec).toEqual([null, null]);
    expect(s.consumerLag).toEqual([null, null]);
    await sampler.stop();
  });
});

describe('GET /api/dashboard', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let audit: PgAuditLog;
  let ops: OpsServer;
  let serve: Peer;

  beforeAll(async () => {
    ({ db, pool, audit } = await openOpsDatabase('ops_dashboard', 4));
    serve = await peer(serveText({ reads: 0, alerts: [0, 0], buckets: [0, 0, 0, 0, 0, 0], ages: { ncic: 5 } }));
    peers.push(serve);
    ops = await createOpsServer({
      pool, audit, auditSource: pgAuditSource(pool), loginsPerMinute: 0,
      dashboard: { sources: [{ name: 'serve', url: serve.url }, { name: 'gone', url: await deadUrl() }], intervalSeconds: 0.1 },
    });
  }, 60_000);

  afterAll(async () => {
    await ops?.close();
    await closeOpsDatabase({ db, pool, audit });
  });

  async function view(token: string): Promise<DashboardView> {
    const r = await ops.app.inject({ method: 'GET', url: '/api/dashboard', headers: { authorization: `Bearer ${token}` } });
    expect(r.statusCode).toBe(200);
    return JSON.parse(r.body) as DashboardView;
  }

  async function until(token: string, cond: (v: DashboardView) => boolean): Promise<DashboardView> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const v = await view(token);
      if (cond(v)) return v;
      if (Date.now() > deadline) throw new Error(`dashboard never got there: ${JSON.stringify(v)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('samples every 0.1 s and answers any logged-in user; a down source is shown down', async () => {
    expect(JSON.parse((await ops.app.inject({ method: 'GET', url: '/api/dashboard' })).body)).toMatchObject({ error: 'ERR_UNAUTHENTICATED' });
    await ops.people.addUser({ username: 'op.dash', password: 'correct horse battery staple', roles: ['operator'], mfa: false }, 'test-setup');
    const login = await ops.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'op.dash', password: 'correct horse battery staple' } });
    const token = (JSON.parse(login.body) as { token: string }).token;

    const idle = await until(token, (v) => v.series.t.length >= 3);
    expect(idle.intervalSeconds).toBe(0.1);
    expect(idle.sources).toEqual([
      { name: 'serve', url: serve.url, up: true, health: 'ok' },
      expect.objectContaining({ name: 'gone', up: false, health: 'down', lastError: expect.stringMatching(/ECONNREFUSED/) as unknown }),
    ]);
    const n = idle.series.t.length;
    for (const key of ['readsPerSec', 'alertsPerSec', 'latencyP50Ms', 'latencyP99Ms', 'consumerLag'] as const) expect(idle.series[key]).toHaveLength(n);
    expect(idle.series.readsPerSec.slice(1).every((x) => x === 0)).toBe(true);
    expect(idle.series.latencyP50Ms.every((x) => x === null)).toBe(true);
    expect(idle.series.consumerLag.every((x) => x === null)).toBe(true);
    expect(idle.series.hotlistAgeS.ncic.every((x) => x === 5)).toBe(true);
    for (let i = 1; i < n; i++) expect(idle.series.t[i]).toBeGreaterThan(idle.series.t[i - 1]);

    // The service advances: a rate appears (its size depends on the real time between scrapes).
    serve.metrics = serveText({ reads: 1000, alerts: [10, 0], buckets: [0, 5, 10, 10, 10, 10], ages: { ncic: 6 } });
    const busy = await until(token, (v) => v.series.readsPerSec.some((x) => x !== null && x > 0));
    const i = busy.series.readsPerSec.findIndex((x) => x !== null && x > 0);
    const dt = busy.series.t[i] - busy.series.t[i - 1];
    expect(busy.series.readsPerSec[i]).toBeCloseTo(1000 / dt, 0);
    expect(busy.series.alertsPerSec[i]).toBeCloseTo(10 / dt, 0);
    // 10 observations: 5 in (0.005, 0.01], 5 in (0.01, 0.025]. p50 rank 5: 10 ms; p99 rank 9.9: 0.01 + 0.015 * 4.9 / 5.
    expect(busy.series.latencyP50Ms[i]).toBe(10);
    expect(busy.series.latencyP99Ms[i]).toBe(24.7);
  });
});
