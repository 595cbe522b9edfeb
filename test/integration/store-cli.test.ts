/**
 * `platesieve store migrate|retention`, `hold add|list|release` and `search` as a user runs them,
 * against a real PostgreSQL: arguments, output formats, purpose refusals (audited), exit codes.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_OCR_CLASSES, ocrClassMap } from '../../matcher/core/plate.js';
import { prepareDatabase } from '../../matcher/store/open.js';
import { readRow } from '../../matcher/store/rows.js';
import { StoreWriter } from '../../matcher/store/writer.js';
import type { ReadRecord } from '../../matcher/types.js';
import { ensureBuilt, runCli, tempDir } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';

const DAY = 86_400_000;
const NOW = Date.now();
const tmp = tempDir('platesieve-store-cli-');
let db: TestDatabase;
let audit: string;

function rec(id: string, plate: string, ts: number, extra: Partial<ReadRecord> = {}): ReadRecord {
  return { id, plate, ts, state: 'CA', cameraId: 'cam-1', agency: 'CA0010000', hit: false, alertIds: [], retention: { policy: 'default', class: 'nonhit', expiresAt: ts + 30 * DAY, basis: 'b' }, ...extra };
}

beforeAll(async () => {
  ensureBuilt();
  db = await createTestDatabase('cli');
  audit = `${tmp.path}/audit.log`;
  const migrated = await runCli(['store', 'migrate', '--db', db.url]);
  expect(migrated.stdout).toMatch(/schema migrated from version 0 to \d+/);
  const pool = new pg.Pool({ connectionString: db.url, max: 1 });
  await prepareDatabase(pool, DEFAULT_OCR_CLASSES);
  const classes = ocrClassMap(DEFAULT_OCR_CLASSES);
  await new StoreWriter(pool).write({
    reads: [
      rec('r1', '7ABC123', NOW - 2 * DAY),
      rec('r2', '7A8C123', NOW - DAY), // OCR-equivalent (8 for B)
      rec('r3', '7ABC124', NOW - DAY), // one edit
      rec('r4', 'ZZZ999', NOW - DAY),
      rec('r5', '7ABC123', NOW - DAY, { state: 'NV' }),
    ].map((r) => readRow(r, classes, new Map())),
    alerts: [],
    deadletters: [],
  });
  await pool.end();
});

afterAll(async () => {
  await db?.drop();
});

describe('store commands', () => {
  it('store migrate is idempotent', async () => {
    const r = await runCli(['store', 'migrate', '--db', db.url]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/nothing to do/);
  });

  it('search prints NDJSON records with id, match and score, newest first, and audits the count', async () => {
    const from = new Date(NOW - 7 * DAY).toISOString();
    const r = await runCli(['search', '--plate', '7ABC123', '--state', 'CA', '--tiers', 'exact,ocr,fuzzy', '--from', from, '--to', String(NOW), '--purpose', 'STOLEN_VEHICLE', '--format', 'ndjson', '--db', db.url, '--audit', audit]);
    expect(r.stderr).toMatch(/search: 3 reads/);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; match: string; score: number; plate: string });
    expect(Object.fromEntries(lines.map((l) => [l.id, l.match]))).toEqual({ r1: 'exact', r2: 'ocr', r3: 'fuzzy' });
    expect(lines[2].id).toBe('r1'); // the oldest read last
    expect(lines.find((l) => l.id === 'r1')?.score).toBeGreaterThan(lines.find((l) => l.id === 'r2')?.score ?? 1);
    const last = JSON.parse(readFileSync(audit, 'utf8').trim().split('\n').pop() ?? '{}') as { action: string; subject: { plate: string; count: number }; purpose: string };
    expect(last).toMatchObject({ action: 'search', purpose: 'STOLEN_VEHICLE', subject: { plate: '7ABC123', count: 3 } });
  });

  it('search refuses a forbidden purpose, an investigative one without a case, and old windows without a reason', async () => {
    const base = ['search', '--plate', '7ABC123', '--to', String(NOW), '--db', db.url, '--audit', audit];
    const forbidden = await runCli([...base, '--from', String(NOW - DAY), '--purpose', 'IMMIGRATION']);
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toMatch(/refused \(CIVIL_IMMIGRATION\)/);
    const noCase = await runCli([...base, '--from', String(NOW - DAY), '--purpose', 'ROBBERY']);
    expect(noCase.stderr).toMatch(/requires a case number/);
    const old = await runCli([...base, '--from', String(NOW - 400 * DAY), '--purpose', 'ROBBERY', '--case', '26-1']);
    expect(old.code).toBe(1);
    expect(old.stderr).toMatch(/older than one year.*--reason/);
    const withReason = await runCli([...base, '--from', String(NOW - 400 * DAY), '--purpose', 'ROBBERY', '--case', '26-1', '--reason', 'felony investigation, C.5 report 26-1']);
    expect(withReason.code).toBe(0);
    const refused = readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; outcome: string }).filter((a) => a.outcome === 'refused');
    expect(refused.length).toBe(3);
  });

  it('search without a database or with both --plate and --pattern is a usage error', async () => {
    const env = process.env.PLATESIEVE_DB_URL;
    delete process.env.PLATESIEVE_DB_URL;
    try {
      const r = await runCli(['search', '--plate', 'A', '--pattern', 'A*', '--from', '0', '--to', '1', '--purpose', 'STOLEN_VEHICLE']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/either --plate or --pattern/);
    } finally {
      if (env !== undefined) process.env.PLATESIEVE_DB_URL = env;
    }
  });

  it('hold add, list and release; retention --dry-run counts and deletes nothing', async () => {
    const add = await runCli(['hold', 'add', '--case', '26-77', '--purpose', 'ROBBERY', '--reason', 'suspect', '--plate', '7ABC123', '--json', '--db', db.url, '--audit', audit]);
    expect(add.code).toBe(0);
    const hold = JSON.parse(add.stdout) as { holdId: string; records: number };
    expect(hold.records).toBe(2); // r1 and r5: the plate, whatever the state
    const list = await runCli(['hold', 'list', '--db', db.url]);
    expect(list.stdout).toContain(hold.holdId);
    const dry = await runCli(['store', 'retention', '--dry-run', '--json', '--db', db.url, '--audit', audit]);
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, totalRows: 0 });
    const rel = await runCli(['hold', 'release', hold.holdId, '--reason', 'closed', '--db', db.url, '--audit', audit]);
    expect(rel.stdout).toMatch(/released: 2 evidence copies deleted/);
    const again = await runCli(['hold', 'release', hold.holdId, '--reason', 'closed', '--db', db.url, '--audit', audit]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/was released on/);
    const env = process.env.PLATESIEVE_AUDIT_FILE;
    delete process.env.PLATESIEVE_AUDIT_FILE;
    try {
      const noAudit = await runCli(['hold', 'add', '--case', '1', '--purpose', 'ROBBERY', '--reason', 'r', '--plate', 'A1', '--db', db.url]);
      expect(noAudit.code).toBe(2);
      expect(noAudit.stderr).toMatch(/--audit FILE .* is required/);
    } finally {
      if (env !== undefined) process.env.PLATESIEVE_AUDIT_FILE = env;
    }
  });
});
