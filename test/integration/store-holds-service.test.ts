/**
 * An evidence hold reaches the service: `hold add` stores the hold, the store publishes the
 * active plate holds to the holds bucket, and `serve` tags the records of the held plate's
 * later reads `hold` (with the hold id) on `records.hold.<policy>`; the store keeps them in
 * evidence. After `hold release`, the plate's reads are ordinary records again. Real
 * nats-server, PostgreSQL, `serve` and `store` processes.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniquePrefix } from '../helpers/nats-server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { serviceSuite, sleep, startServiceProcess, waitFor, type ServiceSuite } from '../helpers/service-process.js';
import { openStore, type Store } from '../../matcher/store/open.js';

const enc = new TextEncoder();

interface StoredRead {
  id: string;
  class: string;
  record: { retention: { class: string; holdIds?: string[] } };
}

describe('evidence holds reach the service', () => {
  let suite: ServiceSuite;
  let db: TestDatabase;
  let client: pg.Client;
  let store: Store;
  serviceSuite({ jetstream: true }, (s) => {
    suite = s;
  });
  beforeAll(async () => {
    db = await createTestDatabase('holds_svc');
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterAll(async () => {
    await store?.close();
    await client?.end();
    await db?.drop();
  });

  const rowsOf = async (plate: string): Promise<StoredRead[]> =>
    (await client.query<StoredRead>(`SELECT id, class, record FROM platesieve.reads WHERE plate_norm = $1 ORDER BY ts`, [plate])).rows;

  it('tags the reads of a held plate hold until the hold is released', async () => {
    const prefix = uniquePrefix();
    const config = {
      subjects: { prefix },
      suppression: { windowMs: 0 },
      liveUpdates: { bucket: null },
      holds: { bucket: `H_${prefix}` },
      jetstream: { outStream: `O_${prefix}` },
      store: { batchSize: 50, batchWaitMs: 20 },
    };
    const natsUrl = suite.server.url;
    await startServiceProcess({ natsUrl, config, command: 'store', env: { PLATESIEVE_DB_URL: db.url } });
    const service = await startServiceProcess({ natsUrl, config });
    let n = 0;
    const send = async (plate: string): Promise<string> => {
      const id = `${plate}-${++n}`;
      suite.nc.publish(`${prefix}.reads.cam1`, enc.encode(JSON.stringify({ id, plate, cameraId: 'cam1', ts: Date.now() })));
      await suite.nc.flush();
      return id;
    };

    const before = await send('HLD777');
    await send('OTHER1');
    await waitFor(async () => (await rowsOf('HLD777')).length === 1 && (await rowsOf('OTHER1')).length === 1, 20_000, () => 'first reads stored');
    expect((await rowsOf('HLD777'))[0].class).toBe('nonhit');

    const audit = join(await mkdtemp(join(tmpdir(), 'platesieve-holds-')), 'audit.log');
    store = await openStore({ url: db.url, audit });
    const hold = await store.holds.add({ case: '26-77', purpose: 'ROBBERY', reason: 'suspect vehicle', plate: 'HLD 777' });
    expect(hold.records).toBe(1);

    // The store mirrors active holds every 2 s; reads sent meanwhile may still be ordinary.
    let tagged: StoredRead | undefined;
    await waitFor(async () => {
      await send('HLD777');
      await sleep(300);
      tagged = (await rowsOf('HLD777')).find((r) => r.class === 'hold');
      return tagged !== undefined;
    }, 30_000, () => 'a read of the held plate stored as class hold');
    expect(tagged!.record.retention.holdIds).toEqual([hold.holdId]);
    expect(await service.metric('platesieve_holds_active')).toBe(1);
    const heldCount = /platesieve_records_total\{[^}]*class="hold"[^}]*\}\s+(\d+)/.exec((await service.http('/metrics')).body)?.[1];
    expect(Number(heldCount)).toBeGreaterThan(0);
    // Kept as evidence under the hold, the read from before the hold included.
    const evidence = (await client.query<{ read_id: string }>(`SELECT read_id FROM platesieve.evidence WHERE hold_id = $1`, [hold.holdId])).rows.map((r) => r.read_id);
    expect(evidence).toContain(before);
    expect(evidence).toContain(tagged!.id);
    // Another plate is untouched.
    await send('OTHER1');
    await waitFor(async () => (await rowsOf('OTHER1')).length === 2, 20_000, () => 'second OTHER1 stored');
    expect((await rowsOf('OTHER1')).every((r) => r.class === 'nonhit')).toBe(true);

    await store.holds.release(hold.holdId, 'case closed');
    let plain: StoredRead | undefined;
    const heldIds = new Set((await rowsOf('HLD777')).map((r) => r.id));
    await waitFor(async () => {
      await send('HLD777');
      await sleep(300);
      plain = (await rowsOf('HLD777')).find((r) => !heldIds.has(r.id) && r.class === 'nonhit');
      return plain !== undefined;
    }, 30_000, () => 'a read of the released plate stored as nonhit');
    expect(plain!.record.retention.holdIds).toBeUndefined();
    expect(await service.metric('platesieve_holds_active')).toBe(0);
  });
});
