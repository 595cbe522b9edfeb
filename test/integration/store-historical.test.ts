/**
 * Historical hits in `platesieve store` (matcher/store/historical.ts), between a real
 * nats-server and a real PostgreSQL: a hotlist entry added live, or by a new hotlist file
 * version, is searched for in the stored reads of its window, and each match is published once
 * as an alert with `historical: true` and the read's own time, camera and agency, through a
 * store restart, the same entry put again, and two store processes running at once.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniquePrefix } from '../helpers/nats-server.js';
import { writeLive } from '../helpers/live.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { collect, serviceSuite, sleep, startServiceProcess, waitFor, type Collected, type ServiceSuite } from '../helpers/service-process.js';

const DAY = 86_400_000;
const enc = new TextEncoder();
const HEADER = 'id,plate,state,list,priority,source,ref';

interface HistAlert {
  alertId: string;
  readId: string;
  entryId: string;
  plate: string;
  match: string;
  distance: number;
  ts: number;
  cameraId: string;
  agency: string;
  list: string;
  historical?: boolean;
}

function record(id: string, plate: string, ts: number, cameraId: string, agency = 'CA0010000'): Record<string, unknown> {
  return { id, plate, ts, cameraId, agency, hit: false, alertIds: [], retention: { policy: 'default', class: 'nonhit', expiresAt: Date.now() + 30 * DAY, basis: 'test' } };
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } catch {
    return [];
  } finally {
    await c.end();
  }
}

const historical = (messages: Collected[]): Array<HistAlert & { subject: string; msgId: string }> =>
  messages.map((m) => ({ ...m.json<HistAlert>(), subject: m.subject, msgId: m.headers['Nats-Msg-Id'] })).filter((a) => a.historical === true);

describe('platesieve store: historical hits', () => {
  let suite: ServiceSuite;
  let db: TestDatabase;
  serviceSuite({ jetstream: true }, (s) => {
    suite = s;
  });
  beforeAll(async () => {
    db = await createTestDatabase('historical');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('alerts once per (read, entry) for entries added live and by a file, through a restart and two stores', async () => {
    const prefix = uniquePrefix();
    const bucket = `hl_${prefix}`;
    const hotlist = join(suite.tmp.dir, `${prefix}.csv`);
    await writeFile(hotlist, `${HEADER}\nF1,QQQ111,,STOLEN_VEHICLE,2,LOCAL,R1\n`);
    const config = {
      subjects: { prefix },
      jetstream: { outStream: `O_${prefix}` },
      liveUpdates: { bucket },
      hotlists: [{ file: hotlist, source: 'LOCAL', maxAgeHours: 1_000_000 }],
      matching: { listTiers: { STOLEN_VEHICLE: ['exact', 'ocr', 'fuzzy'] }, maxDistance: 1 },
      store: { batchSize: 200, batchWaitMs: 20, historicalDays: 7, historicalDaysByList: { STOLEN_PLATE: 2 } },
    };
    const natsUrl = suite.server.url;
    const env = { PLATESIEVE_DB_URL: db.url };
    const alerts = collect(suite.nc, `${prefix}.alerts.>`);
    let store = await startServiceProcess({ natsUrl, config, command: 'store', env });

    const now = Date.now();
    const reads = [
      record('h-exact', 'ABC1234', now - 2 * DAY, 'cam-1', 'CO0010000'),
      record('h-ocr', 'ABC1Z34', now - 3 * DAY, 'cam-2'),
      record('h-fuzzy', 'ABC1284', now - 1 * DAY, 'cam-3'),
      record('h-old', 'ABC1234', now - 10 * DAY, 'cam-4'),
      record('h-other', 'ABD9999', now - DAY, 'cam-5'),
      record('h-q', 'XYZ9876', now - 3_600_000, 'cam-6', 'CA0020000'),
      record('h-q-fuzzy', 'XYZ9870', now - 3_600_000, 'cam-7'),
      record('h-q-old', 'XYZ9876', now - 3 * DAY, 'cam-8'),
      record('h-e2', 'LMN4567', now - DAY, 'cam-9'),
    ];
    for (let i = 0; i < 300; i++) reads.push(record(`h-noise-${i}`, `N${String(i).padStart(5, '0')}X`, now - (i % 6) * DAY, `cam-n${i % 7}`));
    const js = suite.nc.jetstream();
    for (let i = 0; i < reads.length; i += 50) await js.publish(`${prefix}.records.nonhit.default`, enc.encode(JSON.stringify(reads.slice(i, i + 50))));
    await waitFor(async () => Number((await query<{ n: string }>(db.url, 'SELECT count(*) n FROM platesieve.reads'))[0]?.n ?? 0) === reads.length, 20_000, 'reads stored');
    // The first sight of the hotlists is the baseline: F1 (in the file from the start) is not searched.
    await waitFor(async () => (await query(db.url, `SELECT 1 FROM platesieve.store_meta WHERE key = 'historicalBaseline'`)).length === 1, 10_000, 'baseline taken');

    // A live entry for ABC1234 (fuzzy allowed on its list): exact, OCR and one-edit reads of the window.
    await writeLive(suite.nc, bucket, 'entry.E1', { plate: 'ABC1234', list: 'STOLEN_VEHICLE', priority: 1, source: 'LOCAL' }, { actor: 'test@historical' });
    await waitFor(() => historical(alerts.messages).length >= 3, 15_000, () => `3 historical alerts, got ${JSON.stringify(historical(alerts.messages))}`);
    await sleep(500);
    const e1 = historical(alerts.messages);
    expect(e1.map((a) => a.readId).sort()).toEqual(['h-exact', 'h-fuzzy', 'h-ocr']);
    const byRead = new Map(e1.map((a) => [a.readId, a]));
    expect(byRead.get('h-exact')).toMatchObject({ match: 'exact', entryId: 'E1', ts: now - 2 * DAY, cameraId: 'cam-1', agency: 'CO0010000', list: 'STOLEN_VEHICLE', subject: `${prefix}.alerts.CO0010000` });
    expect(byRead.get('h-ocr')).toMatchObject({ match: 'ocr', ts: now - 3 * DAY, cameraId: 'cam-2', subject: `${prefix}.alerts.CA0010000` });
    expect(byRead.get('h-fuzzy')).toMatchObject({ match: 'fuzzy', distance: 1, ts: now - DAY, cameraId: 'cam-3' });
    for (const a of e1) expect(a.msgId).toBe(a.alertId);
    const latency = store.logs.find((l) => l.msg === 'historical hits published' && l.entryId === 'E1');
    expect(latency).toBeDefined();
    // Stored by the store's own alerts consumer, flagged historical.
    await waitFor(async () => (await query(db.url, 'SELECT 1 FROM platesieve.alerts WHERE historical')).length === 3, 10_000, 'historical alerts stored');

    // Restart, and put the same entry again (a new revision, same content): nothing new.
    expect(await store.stop('SIGTERM')).toBe(0);
    store = await startServiceProcess({ natsUrl, config, command: 'store', env });
    // A second store at once: each added entry is searched, and each alert published, by one of them.
    const store2 = await startServiceProcess({ natsUrl, config, command: 'store', env });
    await writeLive(suite.nc, bucket, 'entry.E1', { plate: 'ABC1234', list: 'STOLEN_VEHICLE', priority: 2, source: 'LOCAL' }, { actor: 'test@historical' });
    // E2 after it, as a barrier: once its alert is out, the re-put E1 has been seen by both stores.
    await writeLive(suite.nc, bucket, 'entry.E2', { plate: 'LMN4567', list: 'BOLO', source: 'LOCAL' }, { actor: 'test@historical' });
    await waitFor(() => historical(alerts.messages).some((a) => a.entryId === 'E2'), 15_000, 'the E2 alert');

    // A new file version adding XYZ9876 on a list with exact and OCR tiers only and a 2-day window.
    await writeFile(hotlist, `${HEADER}\nF1,QQQ111,,STOLEN_VEHICLE,2,LOCAL,R1\nF2,XYZ9876,,STOLEN_PLATE,3,LOCAL,R2\n`);
    await waitFor(() => historical(alerts.messages).some((a) => a.entryId === 'F2'), 15_000, 'the F2 alert from the file change');
    await sleep(3_000);
    const all = historical(alerts.messages);
    expect(all.filter((a) => a.entryId === 'E1')).toHaveLength(3);
    expect(all.filter((a) => a.entryId === 'E2').map((a) => a.readId)).toEqual(['h-e2']);
    expect(all.filter((a) => a.entryId === 'F2').map((a) => ({ readId: a.readId, match: a.match, cameraId: a.cameraId, agency: a.agency }))).toEqual([
      { readId: 'h-q', match: 'exact', cameraId: 'cam-6', agency: 'CA0020000' },
    ]);
    expect(all.some((a) => a.entryId === 'F1')).toBe(false);
    expect(new Set(all.map((a) => a.alertId)).size).toBe(all.length);
    const hits = await query<{ n: string; published: string }>(db.url, 'SELECT count(*) n, count(published_at) published FROM platesieve.historical_hits');
    expect(hits[0]).toEqual({ n: '5', published: '5' });
    await waitFor(async () => (await query(db.url, 'SELECT 1 FROM platesieve.alerts WHERE historical')).length === 5, 10_000, 'every historical alert stored once');
    expect(await store.metric('platesieve_store_historical_seconds_count') + await store2.metric('platesieve_store_historical_seconds_count')).toBeGreaterThanOrEqual(2);
    const lines = [store, store2].flatMap((s) => s.logs.filter((l) => l.msg === 'historical hits published'));
    console.log(`historical latency (entry arrival -> alerts published), ${reads.length} stored reads: E1 ${String(latency?.latencyMs)} ms (search ${String(latency?.searchMs)} ms); after restart: ${lines.map((l) => `${String(l.entryId)} ${String(l.latencyMs)} ms`).join(', ')}`);
    expect(await store.stop('SIGTERM')).toBe(0);
    expect(await store2.stop('SIGTERM')).toBe(0);
    await alerts.sub.drain();
  }, 60_000);
});
