/**
 * Escalation of alerts not dispositioned within their confirmation window, against a real
 * PostgreSQL and nats-server. Two sweeps on their own connections and a clock of the test's
 * stand for two store processes: an alert is escalated once, after its deadline and not before,
 * on `<prefix>.escalations.<agency>`, counted and audited; a dispositioned, historical or
 * too-old alert never is; a failed publish leaves it to the next sweep. Then `platesieve store`
 * itself (in this process, real clock) escalates an alert published through it.
 */
import pg from 'pg';
import pino from 'pino';
import { connect, type Msg, type NatsConnection, type Subscription } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgAuditLog } from '../../matcher/audit/pg-log.js';
import { DEFAULT_OCR_CLASSES } from '../../matcher/core/plate.js';
import { EscalationSweep, type EscalationEvent } from '../../matcher/dispositions/escalation.js';
import { recordDisposition } from '../../matcher/dispositions/record.js';
import type { EscalationConfig } from '../../matcher/service/config-schema.js';
import { loadServiceConfig, type ServiceConfig } from '../../matcher/service/config.js';
import { StoreMetrics } from '../../matcher/store/metrics.js';
import { prepareDatabase } from '../../matcher/store/open.js';
import { alertRow } from '../../matcher/store/rows.js';
import { startStore } from '../../matcher/store/service.js';
import { StoreWriter } from '../../matcher/store/writer.js';
import { startNatsServer, uniquePrefix, type NatsServerHandle } from '../helpers/nats-server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { sleep, waitFor } from '../helpers/service-process.js';

const enc = new TextEncoder();
const silent = pino({ level: 'silent' });
// 0.02 minutes: 1.2 s for stolen vehicles; everything else the NCIC defaults.
const SETTINGS: EscalationConfig = { enabled: true, urgentMinutes: 10, routineMinutes: 60, urgentPriority: 2, lists: { STOLEN_VEHICLE: 0.02 }, checkSeconds: 0.2 };
const LIST_MS = 1_200;

let server: NatsServerHandle;
let db: TestDatabase;
let pool: pg.Pool;
let base: ServiceConfig;

beforeAll(async () => {
  server = await startNatsServer();
  db = await createTestDatabase('escalation');
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  await prepareDatabase(pool, DEFAULT_OCR_CLASSES);
  base = loadServiceConfig(undefined, { nats: [server.url] }, {}, { requireHotlists: false });
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
  await server?.stop();
});

interface TestAlert {
  alertId: string;
  ts: number;
  agency?: string;
  list?: string;
  priority?: number;
  historical?: boolean;
}

async function insertAlerts(alerts: readonly TestAlert[], now: number): Promise<void> {
  const rows = alerts.map((a) => alertRow(
    { readId: `r-${a.alertId}`, plate: 'ABC 123', hotlistPlate: 'ABC123', cameraId: 'cam9', entryId: 'e1', list: 'STOLEN_VEHICLE', priority: 3, match: 'exact', score: 1, ...a } as unknown as Parameters<typeof alertRow>[0],
    base.retention, new Map(), now,
  ));
  await new StoreWriter(pool).write({ reads: [], alerts: rows, deadletters: [] });
}

/** Every message on a subject, kept. */
function collect(nc: NatsConnection, subject: string): { msgs: Msg[]; sub: Subscription } {
  const msgs: Msg[] = [];
  const sub = nc.subscribe(subject);
  void (async () => {
    for await (const m of sub) msgs.push(m);
  })();
  return { msgs, sub };
}

async function count(sql: string, params: unknown[] = []): Promise<number> {
  return Number((await pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM (${sql}) q`, params)).rows[0].n);
}

const escalated = (ids: readonly string[]): Promise<number> => count('SELECT alert_id FROM platesieve.escalations WHERE alert_id = ANY($1::text[])', [ids]);

describe('escalation sweep', () => {
  const T0 = Date.now() - 60 * 60_000; // an hour ago: the test's clock moves from there
  let clock = T0;
  const prefix = uniquePrefix();
  let ncA: NatsConnection;
  let ncB: NatsConnection;
  let watcher: NatsConnection;
  let audit: PgAuditLog;
  const metricsA = new StoreMetrics(false);
  const metricsB = new StoreMetrics(false);
  let a: EscalationSweep;
  let b: EscalationSweep;

  beforeAll(async () => {
    [ncA, ncB, watcher] = await Promise.all([connect({ servers: server.url }), connect({ servers: server.url }), connect({ servers: server.url })]);
    audit = await PgAuditLog.open(pool, { actor: 'store-test' });
    const sweep = (nc: NatsConnection, metrics: StoreMetrics): EscalationSweep =>
      new EscalationSweep({ nc, pool, audit, log: silent, metrics, prefix, settings: SETTINGS, actor: 'store-test', now: () => clock, pageSize: 2 });
    a = sweep(ncA, metricsA);
    b = sweep(ncB, metricsB);
  });

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await audit?.close();
    await Promise.all([ncA?.close(), ncB?.close(), watcher?.close()]);
  });

  const both = async (): Promise<EscalationEvent[]> => (await Promise.all([a.sweep(), b.sweep()])).flat();

  it('escalates each due alert once, after its deadline and not before', async () => {
    const byAgency = collect(watcher, `${prefix}.escalations.>`);
    await watcher.flush();
    await insertAlerts([
      { alertId: 'stolen-a1', ts: T0, agency: 'A1' },
      { alertId: 'stolen-a1b', ts: T0 + 1, agency: 'A1' },
      { alertId: 'stolen-noagency', ts: T0 + 2 },
      { alertId: 'stolen-done', ts: T0, agency: 'A1' },
      { alertId: 'stolen-historical', ts: T0, agency: 'A1', historical: true },
      { alertId: 'wanted-urgent', ts: T0, agency: 'A1', list: 'WANTED', priority: 1 },
      { alertId: 'wanted-routine', ts: T0, agency: 'A1', list: 'WANTED', priority: 4 },
      // Older than the longest window and a day: history, not a pending confirmation.
      { alertId: 'stolen-ancient', ts: T0 - 62 * 60_000 - 86_400_000, agency: 'A1' },
    ], T0);
    await recordDisposition({ pool, audit }, { alertId: 'stolen-done', outcome: 'confirmed', by: 'officer 1', at: T0 + 500 }, { source: 'api', actor: 'officer 1' });

    // Well before the deadline, and a millisecond before it: nothing.
    for (const t of [T0 + 100, T0 + LIST_MS - 1]) {
      clock = t;
      expect(await both()).toEqual([]);
    }
    expect(await count('SELECT 1 FROM platesieve.escalations')).toBe(0);
    // Inside their windows: the stolen ones not dispositioned, the two wanted ones.
    expect(await metricsA.awaitingDisposition.get().then((g) => g.values[0].value)).toBe(5);

    clock = T0 + LIST_MS + 2;
    const first = await both();
    // Two sweeps at once, pages of two: each due alert published by exactly one of them.
    expect(first.map((e) => e.alertId).sort()).toEqual(['stolen-a1', 'stolen-a1b', 'stolen-noagency']);
    expect(await both()).toEqual([]);
    await watcher.flush();
    await waitFor(() => byAgency.msgs.length >= 3, 10_000, () => `${byAgency.msgs.length} escalations received`);
    const received = byAgency.msgs.map((m) => ({ subject: m.subject, event: m.json<EscalationEvent>() }));
    expect(received.map((r) => r.subject).sort()).toEqual([`${prefix}.escalations.A1`, `${prefix}.escalations.A1`, `${prefix}.escalations.UNKNOWN`]);
    const a1 = received.find((r) => r.event.alertId === 'stolen-a1')!.event;
    expect(a1).toEqual({
      alertId: 'stolen-a1', agency: 'A1', list: 'STOLEN_VEHICLE', priority: 3, plate: 'ABC 123', hotlistPlate: 'ABC123', cameraId: 'cam9',
      ts: T0, deadline: T0 + LIST_MS, window: 'list', windowMs: LIST_MS, escalatedAt: T0 + LIST_MS + 2,
    });
    expect(received.find((r) => r.event.alertId === 'stolen-noagency')!.event).not.toHaveProperty('agency');
    expect(await escalated(['stolen-done', 'stolen-historical', 'stolen-ancient', 'wanted-urgent', 'wanted-routine'])).toBe(0);

    // The urgent window (priority 1 <= urgentPriority 2), then the routine one.
    clock = T0 + 10 * 60_000;
    expect((await both()).map((e) => [e.alertId, e.window])).toEqual([['wanted-urgent', 'urgent']]);
    clock = T0 + 60 * 60_000;
    expect((await both()).map((e) => [e.alertId, e.window])).toEqual([['wanted-routine', 'routine']]);
    expect(await both()).toEqual([]);
    expect(await escalated(['stolen-done', 'stolen-historical', 'stolen-ancient'])).toBe(0);
    expect(await count('SELECT 1 FROM platesieve.escalations')).toBe(5);
    expect(await metricsA.awaitingDisposition.get().then((g) => g.values[0].value)).toBe(0);

    // Counted once in all, by window kind and list, and audited by the store's actor.
    const total = async (labels: Record<string, string>): Promise<number> => {
      let n = 0;
      for (const m of [metricsA, metricsB]) for (const v of (await m.escalations.get()).values) if (Object.entries(labels).every(([k, l]) => (v.labels as Record<string, string | number | undefined>)[k] === l)) n += v.value;
      return n;
    };
    expect(await total({})).toBe(5);
    expect(await total({ kind: 'list', list: 'STOLEN_VEHICLE' })).toBe(3);
    expect(await total({ kind: 'urgent', list: 'WANTED' })).toBe(1);
    const audited = (await pool.query<{ actor: string; subject: { alertId: string }; details: { window: string; deadline: number } }>(
      `SELECT actor, subject, details FROM platesieve.audit WHERE action = 'alert.escalate' ORDER BY seq`,
    )).rows;
    expect(audited.map((r) => r.subject.alertId).sort()).toEqual(['stolen-a1', 'stolen-a1b', 'stolen-noagency', 'wanted-routine', 'wanted-urgent']);
    expect(audited.every((r) => r.actor === 'store-test')).toBe(true);
    expect(audited.find((r) => r.subject.alertId === 'stolen-a1')!.details).toMatchObject({ window: 'list', deadline: T0 + LIST_MS });
    await byAgency.sub.drain();
  });

  it('leaves an alert whose escalation could not be published to the next sweep', async () => {
    const ts = clock;
    await insertAlerts([{ alertId: 'stolen-retry', ts, agency: 'A1' }], ts);
    clock = ts + LIST_MS;
    const closed = await connect({ servers: server.url });
    await closed.close();
    const failing = new EscalationSweep({ nc: closed, pool, audit, log: silent, metrics: metricsA, prefix, settings: SETTINGS, actor: 'store-test', now: () => clock });
    expect(await failing.sweep()).toEqual([]);
    expect(await escalated(['stolen-retry'])).toBe(0);
    expect((await metricsA.escalationFailures.get()).values.find((v) => v.labels.stage === 'publish')?.value).toBe(1);
    expect((await a.sweep()).map((e) => e.alertId)).toEqual(['stolen-retry']);
    expect(await escalated(['stolen-retry'])).toBe(1);
  });
});

describe('platesieve store escalates', () => {
  it('an alert published through it, once its window has passed, and not one dispositioned on NATS', async () => {
    const prefix = uniquePrefix();
    const config: ServiceConfig = {
      ...base,
      subjects: { ...base.subjects, prefix },
      jetstream: { ...base.jetstream, outStream: `O_${prefix}` },
      metrics: null,
      holds: { ...base.holds, bucket: null },
      liveUpdates: { ...base.liveUpdates, bucket: null },
      store: { ...base.store, batchWaitMs: 10, historicalDays: 0, retentionEveryMinutes: 0 },
      escalation: SETTINGS,
    };
    const nc = await connect({ servers: server.url });
    const store = await startStore(config, silent, { dbUrl: db.url });
    try {
      const got = collect(nc, `${prefix}.escalations.A7`);
      await nc.flush();
      const ts = Date.now();
      const alert = (alertId: string): Uint8Array => enc.encode(JSON.stringify({ alertId, readId: `r-${alertId}`, plate: 'XYZ789', ts, agency: 'A7', entryId: 'e7', list: 'STOLEN_VEHICLE', priority: 2, match: 'exact', score: 1 }));
      const js = nc.jetstream();
      await js.publish(`${prefix}.alerts.A7`, alert('live-pending'));
      await js.publish(`${prefix}.alerts.A7`, alert('live-answered'));
      await waitFor(async () => (await count('SELECT 1 FROM platesieve.alerts WHERE alert_id LIKE $1', ['live-%'])) === 2, 20_000, () => 'alerts stored');
      await js.publish(`${prefix}.dispositions.A7`, enc.encode(JSON.stringify({ alertId: 'live-answered', outcome: 'rejected', reason: 'misread', by: 'officer 7', at: ts + 100 })));
      await waitFor(async () => (await count(`SELECT 1 FROM platesieve.dispositions WHERE alert_id = 'live-answered' AND source = 'nats'`)) === 1, 20_000, () => 'disposition stored');
      await waitFor(() => got.msgs.length >= 1, 20_000, () => 'escalation received');
      const receivedAt = Date.now();
      const event = got.msgs[0].json<EscalationEvent>();
      expect(event).toMatchObject({ alertId: 'live-pending', agency: 'A7', window: 'list', windowMs: LIST_MS, deadline: ts + LIST_MS, priority: 2 });
      // Not before its deadline (a correctness bound, not a speed one).
      expect(event.escalatedAt).toBeGreaterThanOrEqual(ts + LIST_MS);
      expect(receivedAt).toBeGreaterThanOrEqual(ts + LIST_MS);
      // Several more sweeps: still one, and never the dispositioned alert.
      await sleep(1_000);
      expect(got.msgs.map((m) => m.json<EscalationEvent>().alertId)).toEqual(['live-pending']);
      expect(await escalated(['live-answered'])).toBe(0);
      const counted = (await store.metrics.escalations.get()).values.find((v) => v.labels.list === 'STOLEN_VEHICLE');
      expect(counted?.value).toBe(1);
    } finally {
      await store.stop();
      await nc.close();
    }
  });
});
