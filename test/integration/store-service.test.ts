/**
 * `platesieve store` as a child process between a real nats-server and a real PostgreSQL:
 * every record and alert the service stored in JetStream ends up in the database exactly once,
 * through kill -9 of the store, a nats-server restart and kill -9 of PostgreSQL.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import type { JetStreamClient, JetStreamManager } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniquePrefix } from '../helpers/nats-server.js';
import { createTestDatabase, startPrivatePostgres, type PrivatePostgres, type TestDatabase } from '../helpers/postgres.js';
import { SAMPLE_READS, parsedLines, serviceSuite, sleep, startServiceProcess, waitFor, type ServiceSuite } from '../helpers/service-process.js';
import { storedMessages } from '../helpers/streams.js';

const enc = new TextEncoder();
const SAMPLE = parsedLines(readFileSync(SAMPLE_READS, 'utf8')).filter((r) => typeof r.plate === 'string' && /^[A-Z0-9]{1,10}$/i.test(r.plate.replace(/[ \-.\u00b7]/g, '')));

function reads(copies: number, tag: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (let c = 0; c < copies; c++) for (const r of SAMPLE) out.push({ ...r, id: `${String(r.id)}-${tag}-${c}`, ts: Date.now() - 60_000 });
  return out;
}

async function publish(js: JetStreamClient, subject: string, items: Array<Record<string, unknown>>, perMessage = 20): Promise<void> {
  const pending: Array<Promise<unknown>> = [];
  for (let i = 0; i < items.length; i += perMessage) {
    pending.push(js.publish(subject, enc.encode(JSON.stringify(items.slice(i, i + perMessage)))));
    if (pending.length >= 500) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
}

async function streamIds(js: JetStreamClient, jsm: JetStreamManager, out: string): Promise<{ records: Set<string>; alerts: Set<string> }> {
  const records = new Set<string>();
  const alerts = new Set<string>();
  for (const s of (await jsm.streams.list().next()).map((i) => i.config.name).filter((n) => n.startsWith(`${out}_`))) {
    for (const m of await storedMessages(js, jsm, s)) {
      if (s.endsWith('_DEADLETTER')) continue;
      const v = JSON.parse(m.data) as { id?: string; alertId?: string } | Array<{ id: string }>;
      for (const x of Array.isArray(v) ? v : [v]) {
        if (s.endsWith('_ALERTS')) alerts.add((x as { alertId: string }).alertId);
        else records.add((x as { id: string }).id);
      }
    }
  }
  return { records, alerts };
}

async function dbCounts(url: string): Promise<{ reads: number; distinctReads: number; alerts: number; distinctAlerts: number }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ a: string; b: string; c: string; d: string }>(
      `SELECT (SELECT count(*) FROM platesieve.reads) a, (SELECT count(DISTINCT id) FROM platesieve.reads) b,
              (SELECT count(*) FROM platesieve.alerts) c, (SELECT count(DISTINCT alert_id) FROM platesieve.alerts) d`,
    );
    return { reads: Number(r.rows[0].a), distinctReads: Number(r.rows[0].b), alerts: Number(r.rows[0].c), distinctAlerts: Number(r.rows[0].d) };
  } catch {
    return { reads: 0, distinctReads: 0, alerts: 0, distinctAlerts: 0 };
  } finally {
    await c.end();
  }
}

describe('platesieve store', () => {
  let suite: ServiceSuite;
  let db: TestDatabase;
  serviceSuite({ jetstream: true }, (s) => {
    suite = s;
  });
  beforeAll(async () => {
    db = await createTestDatabase('store');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('stores every record and alert once through kill -9 of the store and a nats-server restart', async () => {
    const prefix = uniquePrefix();
    const out = `O_${prefix}`;
    const config = {
      subjects: { prefix },
      mode: 'jetstream',
      jetstream: { readsStream: `R_${prefix}`, outStream: out, consumer: 'platesieve', ackWaitMs: 3000, fetchBatch: 500, maxAckPending: 5000 },
      suppression: { windowMs: 0 },
      store: { batchSize: 500, batchWaitMs: 20 },
    };
    const natsUrl = suite.server.url;
    const service = await startServiceProcess({ natsUrl, config });
    const env = { PLATESIEVE_DB_URL: db.url };
    let store = await startServiceProcess({ natsUrl, config, command: 'store', env });
    const js = suite.nc.jetstream();
    // Made before the restart: jetstreamManager() asks the server, which is away for a moment then.
    const jsm = await suite.nc.jetstreamManager();
    const all = reads(8, 'a');
    await publish(js, `${prefix}.reads.cam`, all.slice(0, all.length / 2));
    await waitFor(async () => (await dbCounts(db.url)).reads > 200, 30_000, () => 'some reads stored');
    await store.stop('SIGKILL');
    await publish(js, `${prefix}.reads.cam`, all.slice(all.length / 2));
    await suite.server.restart();
    store = await startServiceProcess({ natsUrl, config, command: 'store', env });
    let expected = { records: new Set<string>(), alerts: new Set<string>() };
    let seen = await dbCounts(db.url);
    await waitFor(async () => {
      try {
        expected = await streamIds(js, jsm, out);
      } catch {
        return false; // this test's own connection is still reconnecting after the restart
      }
      seen = await dbCounts(db.url);
      return expected.records.size === all.length && seen.reads === expected.records.size && seen.alerts === expected.alerts.size;
    }, 90_000, () => `stored ${JSON.stringify(seen)} of ${expected.records.size} records, ${expected.alerts.size} alerts`);
    const got = await dbCounts(db.url);
    expect(got.reads).toBe(all.length);
    expect(got.distinctReads).toBe(got.reads);
    expect(got.distinctAlerts).toBe(got.alerts);
    expect(got.alerts).toBeGreaterThan(0);
    expect(await store.metric('platesieve_store_rows_total')).toBeGreaterThan(0);
    const health = await store.http('/healthz');
    expect(health.status).toBe(200);
    expect(await store.stop('SIGTERM')).toBe(0);
    await service.stop('SIGTERM');
  }, 180_000);

  it('loses and duplicates nothing when PostgreSQL is killed -9 mid-stream', async () => {
    const pgServer: PrivatePostgres = await startPrivatePostgres();
    try {
      const prefix = uniquePrefix();
      const config = { subjects: { prefix }, jetstream: { outStream: `O_${prefix}` }, store: { batchSize: 200, batchWaitMs: 10 } };
      const store = await startServiceProcess({ natsUrl: suite.server.url, config, command: 'store', env: { PLATESIEVE_DB_URL: pgServer.url } });
      const js = suite.nc.jetstream();
      const now = Date.now();
      const records = Array.from({ length: 6000 }, (_, i) => ({
        id: `r-${i}`, plate: `PG${i}`, ts: now, hit: false, alertIds: [], retention: { policy: 'default', class: 'nonhit', expiresAt: now + 30 * 86_400_000, basis: 'b' },
      }));
      const sending = (async () => {
        for (let i = 0; i < records.length; i += 500) {
          await publish(js, `${prefix}.records.nonhit.default`, records.slice(i, i + 500), 10);
          await sleep(300); // still publishing while PostgreSQL is down

        }
      })();
      await waitFor(async () => (await dbCounts(pgServer.url)).reads > 500, 30_000, () => 'some records stored');
      await pgServer.kill();
      await sleep(1500);
      await pgServer.start();
      await sending;
      let seen = await dbCounts(pgServer.url);
      await waitFor(async () => (seen = await dbCounts(pgServer.url)).reads >= records.length, 60_000, () => `stored ${JSON.stringify(seen)}; store log tail: ${store.logs.slice(-8).map((l) => JSON.stringify(l).slice(0, 300)).join('\n')}\nstderr: ${store.stderr().slice(-1500)}`);
      const got = await dbCounts(pgServer.url);
      expect(got).toMatchObject({ reads: records.length, distinctReads: records.length });
      // The outage was seen: batches failed and were redelivered, and the store recovered.
      expect(await store.metric('platesieve_store_failed_batches_total')).toBeGreaterThan(0);
      expect((await store.http('/healthz')).status).toBe(200);
      expect(await store.stop('SIGTERM')).toBe(0);
    } finally {
      await pgServer.stop();
    }
  }, 180_000);

  it('stores the good records of a message around a bad one, and terminates a message that is not JSON', async () => {
    const own = await createTestDatabase('store_bad');
    try {
      const prefix = uniquePrefix();
      const config = { subjects: { prefix }, jetstream: { outStream: `O_${prefix}` }, store: { batchSize: 50, batchWaitMs: 10 } };
      const store = await startServiceProcess({ natsUrl: suite.server.url, config, command: 'store', env: { PLATESIEVE_DB_URL: own.url } });
      const js = suite.nc.jetstream();
      const now = Date.now();
      const good = (i: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
        id: `g-${i}`, plate: `GD${i}`, ts: now + 0.25, hit: false, alertIds: [], retention: { policy: 'default', class: 'nonhit', expiresAt: now + 86_400_000 + 0.5, basis: 'b' }, ...extra,
      });
      const records = [good(1), good(2, { state: 'C\u0000A' }), { ...good(3), ts: 1e20 }, { id: 'no-retention', plate: 'X1' }, good(4)];
      await js.publish(`${prefix}.records.nonhit.default`, enc.encode(JSON.stringify(records)));
      await js.publish(`${prefix}.records.nonhit.default`, enc.encode('not json'));
      await js.publish(`${prefix}.records.nonhit.default`, enc.encode(JSON.stringify(good(5))));
      let seen = await dbCounts(own.url);
      await waitFor(async () => (seen = await dbCounts(own.url)).reads >= 4, 30_000, () => `stored ${JSON.stringify(seen)}`);
      await waitFor(async () => (await store.metric('platesieve_store_bad_messages_total')) >= 3, 10_000, 'three bad records counted');
      const c = new pg.Client({ connectionString: own.url });
      await c.connect();
      const rows = (await c.query<{ id: string; state: string | null; ts: string }>('SELECT id, state, ts FROM platesieve.reads ORDER BY id')).rows;
      await c.end();
      expect(rows.map((r) => r.id)).toEqual(['g-1', 'g-2', 'g-4', 'g-5']);
      expect(rows[1].state).toBe('C\ufffdA'); // NUL cannot be in a PostgreSQL text value
      expect(Number(rows[0].ts)).toBe(now); // sub-millisecond times stored as whole milliseconds
      expect(store.logs.filter((l) => l.msg === 'record cannot be stored: left out, the rest of its message stored')).toHaveLength(2);
      expect(store.logged('message cannot be stored: terminated')).toBe(true);
      expect(await store.stop('SIGTERM')).toBe(0);
    } finally {
      await own.drop();
    }
  }, 90_000);
});
