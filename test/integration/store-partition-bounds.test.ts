/**
 * The read-time bounds of the reads partitions (`partition_ts`, migrations/v5-search.ts) that
 * search prunes partitions with: after batches written by two StoreWriters at once (two store
 * processes), redeliveries through the staging path and reads arriving out of time order,
 * every stored read lies inside its partition's bounds, and a search over a window that needs
 * only some partitions still finds every read of its key there.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_OCR_CLASSES, ocrClassMap } from '../../matcher/index.js';
import { readRow, type ReadRow } from '../../matcher/store/rows.js';
import { migrate } from '../../matcher/store/schema.js';
import { searchReads } from '../../matcher/store/search.js';
import { StoreWriter, tsBounds } from '../../matcher/store/writer.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { mulberry32 } from '../helpers/random.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 10, 30, 12);
const classMap = ocrClassMap(DEFAULT_OCR_CLASSES);
const PLATES = ['7ABC123', '8XYZ789', 'KLM4567'];

function makeRows(seed: number, n: number, prefix: string): ReadRow[] {
  const r = mulberry32(seed);
  const out: ReadRow[] = [];
  for (let i = 0; i < n; i++) {
    // Read times over 20 days, any order; 30-day and 365-day periods, as non-hits and hits.
    const ts = NOW - Math.floor(r() * 20 * DAY);
    const hit = r() < 0.2;
    const rec = {
      id: `${prefix}-${i}`, plate: PLATES[Math.floor(r() * PLATES.length)], ts, hit, alertIds: [], cameraId: 'CAM-1',
      retention: { policy: 'default', class: hit ? 'hit' : 'nonhit', expiresAt: ts + (hit ? 365 : 30) * DAY, basis: 'test' },
    };
    out.push(readRow(rec as Parameters<typeof readRow>[0], classMap, new Map()));
  }
  return out;
}

describe('partition read-time bounds', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  const all: ReadRow[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('bounds');
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    const client = await pool.connect();
    try {
      await migrate(client);
    } finally {
      client.release();
    }
    const a = new StoreWriter(pool);
    const b = new StoreWriter(pool);
    const batches = Array.from({ length: 8 }, (_, i) => makeRows(100 + i, 300, `b${i}`));
    // Two writers at once, the batches in no time order.
    await Promise.all([
      (async () => { for (const x of batches.slice(0, 4)) await a.write({ reads: x, alerts: [], deadletters: [] }); })(),
      (async () => { for (const x of batches.slice(4)) await b.write({ reads: x, alerts: [], deadletters: [] }); })(),
    ]);
    // A redelivery overlapping new reads: the staging path.
    const extra = makeRows(999, 100, 'late');
    const again = await a.write({ reads: [...batches[5].slice(0, 50), ...extra], alerts: [], deadletters: [] });
    expect(again.staged).toBe(true);
    expect(again.reads).toBe(100);
    all.push(...batches.flat(), ...extra);
  });

  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('rounds a batch out to the hour per day', () => {
    const rows = makeRows(5, 50, 'u');
    for (const [day, v] of tsBounds(rows)) {
      const mine = rows.filter((x) => x.day === day).map((x) => x.ts);
      expect(v.min % HOUR).toBe(0);
      expect(v.min).toBeLessThanOrEqual(Math.min(...mine));
      expect(v.max).toBeGreaterThanOrEqual(Math.max(...mine));
      expect(v.max - v.min).toBeLessThan(Math.max(...mine) - Math.min(...mine) + 2 * HOUR);
    }
  });

  it('every stored read lies inside its partition\'s bounds', async () => {
    const { rows } = await pool.query<{ n: string; outside: string; unbounded: string }>(
      `SELECT count(*) AS n,
              count(*) FILTER (WHERE r.ts < p.min_ts OR r.ts > p.max_ts) AS outside,
              count(*) FILTER (WHERE p.day IS NULL) AS unbounded
       FROM platesieve.reads r LEFT JOIN platesieve.partition_ts p ON p.tbl = 'reads' AND p.day = r.expires_day`,
    );
    expect(Number(rows[0].n)).toBe(all.length);
    expect(Number(rows[0].outside)).toBe(0);
    expect(Number(rows[0].unbounded)).toBe(0);
  });

  it('a search over part of the window finds every read of its key there', async () => {
    const settings = { ocrClasses: DEFAULT_OCR_CLASSES, partialOcr: false, stateMismatch: 'match' as const };
    for (const [from, to] of [[NOW - 3 * DAY, NOW], [NOW - 12 * DAY, NOW - 9 * DAY + 5 * HOUR], [NOW - 30 * DAY, NOW]]) {
      for (const plate of PLATES) {
        const want = all.filter((x) => x.plateNorm === plate && x.ts >= from && x.ts <= to).map((x) => x.id).sort();
        const got = await searchReads(pool, { plate, tiers: ['exact'], from, to }, settings, { now: NOW });
        expect(got.hits.map((h) => h.id).sort()).toEqual(want);
        expect(want.length).toBeGreaterThan(0);
      }
    }
  });
});
