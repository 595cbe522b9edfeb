/**
 * `shareWithEntryOwner`: a hit on an entry of another agency (its `ori`) is also published on
 * that agency's alert subject, the same alert (same `alertId`) with `Platesieve-Shared-From`;
 * a hit on the reading agency's own entry is not copied; off, nothing is copied; the store
 * keeps each alert once. Real nats-server, PostgreSQL, `serve` and `store` processes.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniquePrefix } from '../helpers/nats-server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { collect, serviceSuite, sleep, startServiceProcess, waitFor, type ServiceSuite } from '../helpers/service-process.js';

const enc = new TextEncoder();
// Sample hotlist entries (fixtures/sample/hotlist.csv): E000001 468RME (CO) is owned by CO0220300.
const OWNER = 'CO0220300';

describe('alerts shared with the entry owner', () => {
  let suite: ServiceSuite;
  let db: TestDatabase;
  serviceSuite({ jetstream: true }, (s) => {
    suite = s;
  });
  beforeAll(async () => {
    db = await createTestDatabase('shared_alerts');
  });
  afterAll(async () => {
    await db?.drop();
  });

  for (const share of [true, false]) {
    it(`publishes a copy on the owner's subject ${share ? 'when on' : 'never when off (the default)'}, and the store keeps each alert once`, async () => {
      const prefix = uniquePrefix();
      const config = {
        subjects: { prefix }, suppression: { windowMs: 0 }, liveUpdates: { bucket: null }, holds: { bucket: null },
        jetstream: { outStream: `O_${prefix}` }, store: { batchSize: 50, batchWaitMs: 20 },
        ...(share ? { shareWithEntryOwner: true } : {}),
      };
      const natsUrl = suite.server.url;
      const store = await startServiceProcess({ natsUrl, config, command: 'store', env: { PLATESIEVE_DB_URL: db.url } });
      const service = await startServiceProcess({ natsUrl, config });
      const all = collect(suite.nc, `${prefix}.alerts.>`).messages;
      const reads = [
        { id: `${prefix}-other`, plate: '468RME', state: 'CO', agency: 'CO0010000', cameraId: 'c1', ts: Date.now() },
        { id: `${prefix}-own`, plate: '468RME', state: 'CO', agency: OWNER, cameraId: 'c2', ts: Date.now() },
      ];
      suite.nc.publish(`${prefix}.reads.cam`, enc.encode(JSON.stringify(reads)));
      await waitFor(() => all.length >= (share ? 3 : 2), 20_000, () => `${all.length} alert messages`);
      await sleep(300);
      const bySubject = all.map((m) => ({ subject: m.subject, readId: m.json<{ readId: string }>().readId, alertId: m.json<{ alertId: string }>().alertId, from: m.headers['Platesieve-Shared-From'] }));
      const original = bySubject.filter((m) => m.from === undefined);
      expect(original.map((m) => `${m.subject} ${m.readId}`).sort()).toEqual([`${prefix}.alerts.CO0010000 ${prefix}-other`, `${prefix}.alerts.${OWNER} ${prefix}-own`]);
      const copies = bySubject.filter((m) => m.from !== undefined);
      if (share) {
        const other = original.find((m) => m.readId === `${prefix}-other`)!;
        expect(copies).toEqual([{ subject: `${prefix}.alerts.${OWNER}`, readId: `${prefix}-other`, alertId: other.alertId, from: 'CO0010000' }]);
        expect(await service.metric('platesieve_alerts_shared_total')).toBe(1);
      } else {
        expect(copies).toEqual([]);
      }
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      try {
        const count = async (): Promise<number> => Number((await c.query<{ n: string }>(`SELECT count(*) AS n FROM platesieve.alerts WHERE read_id LIKE $1`, [`${prefix}-%`])).rows[0].n);
        await waitFor(async () => (await count()) === 2, 20_000, () => 'both alerts stored');
        await sleep(500);
        expect(await count()).toBe(2);
        // The copy was acknowledged without a write (no conflict for the idempotent path to resolve).
        expect(await store.metric('platesieve_store_shared_alert_copies_total')).toBe(share ? 1 : 0);
      } finally {
        await c.end();
      }
    });
  }
});
