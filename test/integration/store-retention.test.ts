/**
 * The records store's retention and evidence holds on a real PostgreSQL: a record is gone once
 * its day has passed and not before, a held record outlives its period, a release lets it go,
 * minimum periods cannot be shortened, and every run and hold is audited (counts, not plates).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ocrClassMap, DEFAULT_OCR_CLASSES } from '../../matcher/core/plate.js';
import { ConfigError, PurposeRefusedError } from '../../matcher/errors.js';
import { prepareDatabase, openStore, type Store } from '../../matcher/store/open.js';
import { checkAndRecordPolicies, type PolicyPeriods } from '../../matcher/store/policies.js';
import { readRow, alertRow } from '../../matcher/store/rows.js';
import { StoreWriter } from '../../matcher/store/writer.js';
import type { ReadRecord } from '../../matcher/types.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-15T12:00:00Z');
const classes = ocrClassMap(DEFAULT_OCR_CLASSES);

function record(id: string, plate: string, ts: number, days: number, policy = 'short'): ReadRecord {
  return { id, plate, ts, agency: 'CO0010000', hit: false, alertIds: [], retention: { policy, class: 'nonhit', expiresAt: ts + days * DAY, basis: 'test policy' } };
}

let db: TestDatabase;
let pool: pg.Pool;
let store: Store;
let auditFile: string;

beforeAll(async () => {
  db = await createTestDatabase('retention');
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  await prepareDatabase(pool, DEFAULT_OCR_CLASSES);
  auditFile = join(mkdtempSync(join(tmpdir(), 'platesieve-audit-')), 'audit.log');
  store = await openStore({ url: db.url, audit: auditFile, actor: 'tester', now: () => NOW });
});

afterAll(async () => {
  await store?.close();
  await pool?.end();
  await db?.drop();
});

const count = async (sql: string, params: unknown[] = []): Promise<number> => Number((await pool.query<{ n: string }>(sql, params)).rows[0].n);

describe('retention by expiry-day partitions', () => {
  it('deletes what is due, keeps what is not, keeps held records as evidence, and audits counts', async () => {
    const writer = new StoreWriter(pool);
    const none = new Map<string, number>();
    // Read 3 days ago with a 1-day period: due two days ago. Read yesterday with 1 day: due today (not yet gone).
    const rows = [
      readRow(record('old-1', 'ABC123', NOW - 3 * DAY, 1), classes, none),
      readRow(record('old-2', 'HELD1', NOW - 3 * DAY, 1), classes, none),
      readRow(record('old-3', 'XYZ999', NOW - 4 * DAY, 2), classes, none),
      readRow(record('today', 'ABC123', NOW - DAY, 1), classes, none),
      readRow(record('later', 'ABC123', NOW, 30), classes, none),
    ];
    const w = await writer.write({ reads: rows, alerts: [alertRow({ alertId: 'a-1', readId: 'old-1', ts: NOW - 400 * DAY, agency: 'X', entryId: 'e', list: 'STOLEN_VEHICLE', match: 'exact', score: 1, plate: 'ABC123', matchedPlate: 'ABC123', priority: 1, distance: 0, hotlistVersion: 'v', hotlistAgeS: 0, verify: '' }, { default: { policy: 'short', nonhitDays: 1, hitDays: 365, basis: 'b' }, agencies: {} }, none, NOW)], deadletters: [] });
    expect(w).toMatchObject({ reads: 5, alerts: 1, duplicates: 0 });
    // Writing the same batch again (a redelivery) stores nothing twice.
    const again = await writer.write({ reads: rows, alerts: [], deadletters: [] });
    expect(again).toMatchObject({ reads: 0, duplicates: 5, staged: true });

    // A hold finds only records still within their period: placed today, old-2 (due two days ago) is out of reach...
    expect((await store.holds.add({ case: '26-1', purpose: 'ROBBERY', reason: 'too late', plate: 'HELD 1' })).records).toBe(0);
    await store.holds.release((await store.holds.list())[0].holdId, 'placed too late');
    // ...placed three days ago, while it was: it is copied, and outlives its period.
    const early = await openStore({ url: db.url, audit: auditFile, actor: 'tester', now: () => NOW - 3 * DAY + 3_600_000 });
    const hold = await early.holds.add({ case: '26-1234', purpose: 'ROBBERY', reason: 'suspect vehicle', plate: 'HELD 1' });
    await early.close();
    expect(hold.records).toBe(1);

    const dry = await store.retention.run({ dryRun: true });
    expect(dry.totalRows).toBe(4); // old-1, old-2, old-3 and the alert, whose hit period (365 d) ended
    expect(await count(`SELECT count(*) AS n FROM platesieve.reads`)).toBe(5);

    const run = await store.retention.run();
    expect(run.deleted).toEqual([
      { table: 'alerts', policy: 'short', rows: 1 },
      { table: 'reads', policy: 'short', class: 'nonhit', rows: 3 },
    ]);
    expect((await pool.query<{ id: string }>(`SELECT id FROM platesieve.reads ORDER BY id`)).rows.map((r) => r.id)).toEqual(['later', 'today']);
    expect((await pool.query<{ read_id: string }>(`SELECT read_id FROM platesieve.evidence`)).rows.map((r) => r.read_id)).toEqual(['old-2']);

    const audit = readFileSync(auditFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; subject?: Record<string, unknown>; details?: Record<string, unknown> });
    const runs = audit.filter((a) => a.action === 'retention.delete');
    expect(runs.map((r) => r.details?.dryRun)).toEqual([true, false]);
    expect(runs[1].subject?.count).toBe(4);
    expect(JSON.stringify(runs)).not.toContain('ABC123');
    expect(audit.filter((a) => a.action === 'hold.add').map((a) => a.subject)).toMatchObject([{ plate: 'HELD 1', count: 0 }, { plate: 'HELD 1', holdId: hold.holdId, count: 1 }]);

    // Released: the evidence copy goes.
    await store.holds.release(hold.holdId, 'case closed');
    expect(await count(`SELECT count(*) AS n FROM platesieve.evidence`)).toBe(0);
    expect((await store.holds.list({ all: true })).find((h) => h.holdId === hold.holdId)).toMatchObject({ releasedBy: 'tester', releaseReason: 'case closed' });
  });

  it('copies records arriving for a held plate into evidence, and a minimum period raises a short expiry', async () => {
    const hold = await store.holds.add({ case: '26-9', purpose: 'HOMICIDE', reason: 'r', plate: 'NEW1' });
    const holds = new (await import('../../matcher/store/holds.js')).ActiveHolds();
    await holds.refresh(pool);
    const writer = new StoreWriter(pool, holds);
    const minimums = new Map([['el-centro', 730]]);
    const row = readRow(record('new-1', 'NEW1', NOW, 30, 'el-centro'), classes, minimums);
    expect(row.expiresAt).toBe(NOW + 730 * DAY);
    const w = await writer.write({ reads: [row], alerts: [], deadletters: [] });
    expect(w.held).toBe(1);
    expect(await count(`SELECT count(*) AS n FROM platesieve.evidence WHERE hold_id = $1`, [hold.holdId])).toBe(1);
  });

  it('refuses holds and searches for forbidden purposes or without a case, and audits the refusal', async () => {
    await expect(store.holds.add({ case: '1', purpose: 'IMMIGRATION', reason: 'r', plate: 'ABC123' })).rejects.toBeInstanceOf(PurposeRefusedError);
    await expect(store.holds.add({ case: '', purpose: 'ROBBERY', reason: 'r', plate: 'ABC123' })).rejects.toThrow(/case number/);
    const audit = readFileSync(auditFile, 'utf8');
    expect(audit).toContain('"outcome":"refused"');
  });

  it('refuses a configuration that shortens a period records are stored under, or lowers a minimum', async () => {
    const p = (over: Partial<PolicyPeriods>): PolicyPeriods => ({ policy: 'short', nonhitDays: 1, hitDays: 365, minimumDays: 0, basis: 'b', key: 'retention.default', ...over });
    await checkAndRecordPolicies(pool, [p({}), p({ policy: 'el-centro', nonhitDays: 730, hitDays: 730, minimumDays: 730, key: 'retention.agencies.CA0130100' })]);
    await expect(checkAndRecordPolicies(pool, [p({ nonhitDays: 1, hitDays: 30 })])).rejects.toBeInstanceOf(ConfigError);
    await expect(checkAndRecordPolicies(pool, [p({ hitDays: 30 })])).rejects.toThrow(/would shorten the 365 days of the records stored under policy "short"/);
    await expect(checkAndRecordPolicies(pool, [p({ policy: 'el-centro', nonhitDays: 730, hitDays: 730, minimumDays: 365 })])).rejects.toThrow(/minimum period can never be shortened/);
    // Longer is fine.
    await checkAndRecordPolicies(pool, [p({ hitDays: 400 })]);
  });
});
