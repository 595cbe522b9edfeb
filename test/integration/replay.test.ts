/**
 * Replay on a real PostgreSQL against a hand-built window: stored reads, the alerts the live
 * setting (exact + ocr + fuzzy everywhere) raised for them, and dispositions; two candidate
 * settings whose expected counts are worked out by hand below.
 *
 * Entries use plates with one OCR-confusable character each, so every tier is reachable:
 *   e1 ACE3B7 STOLEN_VEHICLE   e2 HJK4S9 STOLEN_VEHICLE   e3 MNP7Z4 AMBER   e4 RTU93G WANTED
 * Score bands (docs/scoring.md): exact >= 0.80, ocr 0.55..0.79, fuzzy 0.20..0.54.
 *
 *   read  plate    tier vs entry   stored alert   disposition
 *   r1    ACE3B7   exact e1        a-r1           confirmed
 *   r2    ACE387   ocr   e1        a-r2           confirmed
 *   r3    HJK459   ocr   e2        a-r3           rejected
 *   r4    HJK4S9   exact e2        a-r4           (none)
 *   r5    HJK4SX   fuzzy e2        a-r5           rejected
 *   r6    MNP7Z4   exact e3        a-r6           confirmed
 *   r7    MNP7Z    fuzzy e3        a-r7           no_action
 *   r8    MNP724   ocr   e3        (not stored)   -
 *   r9    RTU93G   exact e4        a-r9           rejected
 *   r10   RTU936   ocr   e4        a-r10          confirmed
 *   r11   WXY777   none            -              -
 *   r12   ACE3B7   outside the window (a day later), a-r12 confirmed: never counted
 *   r13   ACE3B7   in the window but past its retention, a-r13 confirmed: never counted
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgAuditLog, readPgAudit } from '../../matcher/audit/pg-log.js';
import { pgAuditSource } from '../../matcher/ops/audit-source.js';
import { createOpsServer, type OpsServer } from '../../matcher/ops/server.js';
import { People } from '../../matcher/people/index.js';
import { createMatcher } from '../../matcher/matcher.js';
import { DEFAULT_OCR_CLASSES, ocrClassMap } from '../../matcher/core/plate.js';
import { formatReplay, loadCandidate, replay, ReplayError, type ReplayCandidate, type ReplayCounts } from '../../matcher/replay/index.js';
import { alertRow, readRow } from '../../matcher/store/rows.js';
import { migrate } from '../../matcher/store/schema.js';
import { StoreWriter } from '../../matcher/store/writer.js';
import type { HotlistEntry, ReadRecord } from '../../matcher/types.js';
import { ensureBuilt, runCli } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-05-01T00:00:00Z');
const NOW = T0 + 5 * DAY;
const ENTRIES: HotlistEntry[] = [
  { id: 'e1', plate: 'ACE3B7', list: 'STOLEN_VEHICLE' },
  { id: 'e2', plate: 'HJK4S9', list: 'STOLEN_VEHICLE' },
  { id: 'e3', plate: 'MNP7Z4', list: 'AMBER' },
  { id: 'e4', plate: 'RTU93G', list: 'WANTED' },
];
const READS: Array<[id: string, plate: string, ts: number]> = [
  ['r1', 'ACE3B7', T0 + 1000], ['r2', 'ACE387', T0 + 2000], ['r3', 'HJK459', T0 + 3000], ['r4', 'HJK4S9', T0 + 3000],
  ['r5', 'HJK4SX', T0 + 4000], ['r6', 'MNP7Z4', T0 + 5000], ['r7', 'MNP7Z', T0 + 6000], ['r8', 'MNP724', T0 + 7000],
  ['r9', 'RTU93G', T0 + 8000], ['r10', 'RTU936', T0 + 9000], ['r11', 'WXY777', T0 + 9000],
  ['r12', 'ACE3B7', T0 + DAY + 1000], ['r13', 'ACE3B7', T0 + 9500],
];
const OUTCOMES: Record<string, string> = {
  r1: 'confirmed', r2: 'confirmed', r3: 'rejected', r5: 'rejected', r6: 'confirmed', r7: 'no_action',
  r9: 'rejected', r10: 'confirmed', r12: 'confirmed', r13: 'confirmed',
};
const WINDOW = { from: T0, to: T0 + DAY, now: NOW };
const RETENTION = { default: { policy: 'default', nonhitDays: 30, hitDays: 365, basis: 'test' }, agencies: {} };

// The DDL of migration 6 (dispositions), used only while that migration has not landed.
const DISPOSITIONS_DDL = `CREATE TABLE IF NOT EXISTS platesieve.dispositions (
  alert_id text PRIMARY KEY, agency text, outcome text NOT NULL CHECK (outcome IN ('confirmed', 'rejected', 'no_action')),
  reason text, note text, by text, at bigint, verified_with text, source text, recorded_at timestamptz NOT NULL DEFAULT now())`;

let db: TestDatabase;
let pool: pg.Pool;
let audit: PgAuditLog | undefined;
let ops: OpsServer | undefined;

beforeAll(async () => {
  db = await createTestDatabase('replay');
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  const client = await pool.connect();
  try {
    await migrate(client);
    await client.query(DISPOSITIONS_DDL);
  } finally {
    client.release();
  }
  const classes = ocrClassMap(DEFAULT_OCR_CLASSES);
  const none = new Map<string, number>();
  const records: ReadRecord[] = READS.map(([id, plate, ts]) => ({
    id, plate, ts, agency: 'CO0010000', confidence: 0.9, hit: false, alertIds: [],
    retention: { policy: 'default', class: 'nonhit', expiresAt: id === 'r13' ? NOW - DAY : NOW + 3650 * DAY, basis: 'test' },
  }));
  // The stored alerts are what the live setting raised, less r8's (never stored).
  const live = createMatcher({ entries: ENTRIES, tiers: ['exact', 'ocr', 'fuzzy'] });
  const alerts = live.matchBatch(records).alerts.filter((a) => a.readId !== 'r8').map((a) => ({ ...a, alertId: `a-${a.readId}` }));
  expect(alerts.map((a) => a.readId).sort()).toEqual(['r1', 'r10', 'r12', 'r13', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r9']);
  await new StoreWriter(pool).write({
    reads: records.map((r) => readRow(r, classes, none)),
    alerts: alerts.map((a) => alertRow(a, RETENTION, none, NOW)),
    deadletters: [],
  });
  const ids = Object.keys(OUTCOMES);
  await pool.query(
    `INSERT INTO platesieve.dispositions (alert_id, agency, outcome, reason, by, at, source)
     SELECT 'a-' || r, 'CO0010000', o, CASE WHEN o = 'rejected' THEN 'misread' END, 'sgt.lee', $3, 'api' FROM unnest($1::text[], $2::text[]) AS t(r, o)`,
    [ids, ids.map((r) => OUTCOMES[r]), NOW],
  );
});

afterAll(async () => {
  await ops?.close();
  await audit?.close();
  await pool?.end();
  await db?.drop();
});

const counts = (c: Partial<ReplayCounts>): ReplayCounts => ({
  raised: 0, stored: 0, confirmedKept: 0, confirmedLost: 0, rejectedAvoided: 0, rejectedRaised: 0,
  noActionKept: 0, noActionLost: 0, undisposedKept: 0, undisposedLost: 0, new: 0, ...c,
});

describe('replay', () => {
  it('reports what an exact-only setting keeps and loses, by list', async () => {
    const exactOnly: ReplayCandidate = { entries: ENTRIES, matching: { tiers: ['exact'] } };
    const report = await replay(pool, exactOnly, WINDOW);
    expect(report.reads).toBe(11); // r1..r11: r12 is outside, r13 past its retention
    expect(report.invalid).toBe(0);
    // Raised: r1, r4 (STOLEN_VEHICLE), r6 (AMBER), r9 (WANTED).
    expect(report.lists).toEqual({
      // stored r1..r5: r1 confirmed kept, r2 confirmed lost, r3 and r5 rejected avoided, r4 kept without disposition
      STOLEN_VEHICLE: counts({ raised: 2, stored: 5, confirmedKept: 1, confirmedLost: 1, rejectedAvoided: 2, undisposedKept: 1 }),
      // stored r6, r7: r6 confirmed kept, r7 no_action lost; r8 (ocr) not raised
      AMBER: counts({ raised: 1, stored: 2, confirmedKept: 1, noActionLost: 1 }),
      // stored r9, r10: r9 rejected still raised, r10 confirmed lost
      WANTED: counts({ raised: 1, stored: 2, rejectedRaised: 1, confirmedLost: 1 }),
    });
    expect(report.totals).toEqual(counts({ raised: 4, stored: 9, confirmedKept: 2, confirmedLost: 2, rejectedAvoided: 2, rejectedRaised: 1, noActionLost: 1, undisposedKept: 1 }));
  });

  it('applies per-list score thresholds and counts alerts the store never held as new', async () => {
    const thresholds: ReplayCandidate = {
      entries: ENTRIES,
      matching: { tiers: ['exact', 'ocr', 'fuzzy'] },
      // STOLEN_VEHICLE drops fuzzy (r5); WANTED keeps exact only (drops r10's ocr).
      listMinScore: { STOLEN_VEHICLE: 0.55, WANTED: 0.8 },
    };
    const progress: number[] = [];
    const report = await replay(pool, thresholds, { ...WINDOW, pageSize: 3, onProgress: (n) => progress.push(n) });
    expect(progress).toEqual([3, 6, 9, 11]); // keyset pages of 3 over the 11 reads
    expect(report.lists).toEqual({
      // raised r1, r2, r3, r4: r1, r2 confirmed kept; r3 rejected raised; r5 rejected avoided; r4 kept
      STOLEN_VEHICLE: counts({ raised: 4, stored: 5, confirmedKept: 2, rejectedRaised: 1, rejectedAvoided: 1, undisposedKept: 1 }),
      // raised r6, r7, r8: r8 was never stored, so new
      AMBER: counts({ raised: 3, stored: 2, confirmedKept: 1, noActionKept: 1, new: 1 }),
      // raised r9 only
      WANTED: counts({ raised: 1, stored: 2, rejectedRaised: 1, confirmedLost: 1 }),
    });
    expect(report.totals).toEqual(counts({ raised: 8, stored: 9, confirmedKept: 3, confirmedLost: 1, rejectedAvoided: 1, rejectedRaised: 2, noActionKept: 1, undisposedKept: 1, new: 1 }));
    // One page or many: the same report.
    const whole = await replay(pool, thresholds, WINDOW);
    expect(whole.lists).toEqual(report.lists);
    expect(formatReplay(report)).toMatch(/^TOTAL +8 +9 +3 +1 +1 +2 +1 +0 +1 +0 +1$/m);
  });

  it('loads the candidate from a service configuration file, listMinScore included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-'));
    try {
      writeFileSync(join(dir, 'hot.ndjson'), ENTRIES.map((e) => JSON.stringify(e)).join('\n') + '\n');
      writeFileSync(join(dir, 'candidate.json'), JSON.stringify({
        hotlists: [{ file: 'hot.ndjson' }],
        matching: { tiers: ['exact', 'ocr', 'fuzzy'], listMinScore: { STOLEN_VEHICLE: 0.55, WANTED: 0.8 } },
      }));
      const candidate = await loadCandidate(join(dir, 'candidate.json'), pino({ level: 'silent' }), {});
      expect(candidate.listMinScore).toEqual({ STOLEN_VEHICLE: 0.55, WANTED: 0.8 });
      const report = await replay(pool, candidate, WINDOW);
      expect(report.totals).toEqual(counts({ raised: 8, stored: 9, confirmedKept: 3, confirmedLost: 1, rejectedAvoided: 1, rejectedRaised: 2, noActionKept: 1, undisposedKept: 1, new: 1 }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an empty window and a threshold out of range before reading', async () => {
    const c: ReplayCandidate = { entries: ENTRIES, matching: {} };
    await expect(replay(pool, c, { from: T0, to: T0 })).rejects.toMatchObject({ code: 'REPLAY_BAD_WINDOW' });
    await expect(replay(pool, { ...c, listMinScore: { AMBER: 1.5 } }, WINDOW)).rejects.toBeInstanceOf(ReplayError);
  });
});

describe('POST /api/replay', () => {
  const PASSWORD = 'correct horse battery staple';
  let clock = NOW;
  const tokens = new Map<string, string>();
  const call = async (token: string | undefined, body: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }> => {
    const r = await (ops as OpsServer).app.inject({ method: 'POST', url: '/api/replay', headers: token === undefined ? {} : { authorization: `Bearer ${token}` }, payload: body });
    return { status: r.statusCode, body: JSON.parse(r.body) as Record<string, unknown> };
  };
  const body = { entries: ENTRIES, matching: { tiers: ['exact'] }, label: 'exact-only.yaml', from: new Date(T0).toISOString(), to: T0 + DAY, purpose: 'SYSTEM_AUDIT' };

  beforeAll(async () => {
    audit = await PgAuditLog.open(pool, { actor: 'platesieve-ops' });
    ops = await createOpsServer({ pool, audit, auditSource: pgAuditSource(pool), now: () => clock, loginsPerMinute: 0 });
    for (const role of ['analyst', 'operator'] as const) {
      const u = await ops.people.addUser({ username: `u-${role}`, password: PASSWORD, roles: [role] }, 'test-setup');
      clock += 30_000; // a TOTP code is good once: each login a step on
      const totp = u.totp === undefined ? undefined : People.totpNow(u.totp.secret, clock);
      const r = await ops.app.inject({ method: 'POST', url: '/api/login', payload: { username: `u-${role}`, password: PASSWORD, ...(totp !== undefined ? { totp } : {}) } });
      expect(r.statusCode).toBe(200);
      tokens.set(role, (JSON.parse(r.body) as { token: string }).token);
    }
  }, 30_000);

  it('replays for an analyst logged in with TOTP and audits the window and the counts', async () => {
    const r = await call(tokens.get('analyst'), body);
    expect(r.status).toBe(200);
    expect(r.body.totals).toEqual(counts({ raised: 4, stored: 9, confirmedKept: 2, confirmedLost: 2, rejectedAvoided: 2, rejectedRaised: 1, noActionLost: 1, undisposedKept: 1 }));
    const records = (await readPgAudit(pool, { limit: 10_000 })).filter((x) => x.action === 'replay');
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      actor: 'u-analyst', outcome: 'ok', purpose: 'SYSTEM_AUDIT', subject: { from: T0, to: T0 + DAY, count: 11 },
      details: { candidate: 'exact-only.yaml', entries: 4, raised: 4, stored: 9, confirmedLost: 2, rejectedAvoided: 2 },
    });
  });

  it('refuses another purpose (audited) and an operator (role)', async () => {
    const robbery = await call(tokens.get('analyst'), { ...body, purpose: 'ROBBERY', case: '26-100' });
    expect(robbery).toMatchObject({ status: 403, body: { error: 'ERR_PURPOSE_REFUSED' } });
    const refused = (await readPgAudit(pool, { limit: 10_000 })).filter((x) => x.action === 'replay' && x.outcome === 'refused');
    expect(refused).toMatchObject([{ actor: 'u-analyst', purpose: 'ROBBERY', case: '26-100' }]);
    expect(refused).toHaveLength(1);
    const operator = await call(tokens.get('operator'), body);
    expect(operator).toMatchObject({ status: 403, body: { error: 'ERR_FORBIDDEN_ROLE' } });
    const none = await call(undefined, body);
    expect(none.status).toBe(401);
    // A window reaching reads over a year old needs a reason, as a search does.
    const old = { ...body, from: T0 - 400 * DAY };
    expect(await call(tokens.get('analyst'), old)).toMatchObject({ status: 403, body: { error: 'ERR_PURPOSE_REFUSED' } });
    const withReason = await call(tokens.get('analyst'), { ...old, reason: 'tier review for the 2026 policy change' });
    expect(withReason.status).toBe(200);
    expect(withReason.body.reads).toBe(11);
  });
});

describe('platesieve replay --db', () => {
  it('prints the table by list for an administrator, audited as direct access, and exits 2 on bad arguments', async () => {
    ensureBuilt();
    const dir = mkdtempSync(join(tmpdir(), 'replay-cli-'));
    try {
      writeFileSync(join(dir, 'hot.ndjson'), ENTRIES.map((e) => JSON.stringify(e)).join('\n') + '\n');
      writeFileSync(join(dir, 'candidate.yaml'), 'hotlists:\n  - file: hot.ndjson\nmatching:\n  tiers: [exact]\n');
      const auditFile = join(dir, 'audit.ndjson');
      const args = ['replay', '--config', join(dir, 'candidate.yaml'), '--from', new Date(T0).toISOString(), '--to', String(T0 + DAY), '--db', db.url, '--audit', auditFile];
      // The CLI runs on the wall clock: the reads are kept ten years, so the same 11 are in retention.
      const json = await runCli([...args, '--purpose', 'SYSTEM_AUDIT', '--format', 'json']);
      expect(json.code).toBe(0);
      const report = JSON.parse(json.stdout) as { reads: number; totals: ReplayCounts };
      expect(report.reads).toBe(11);
      expect(report.totals).toEqual(counts({ raised: 4, stored: 9, confirmedKept: 2, confirmedLost: 2, rejectedAvoided: 2, rejectedRaised: 1, noActionLost: 1, undisposedKept: 1 }));
      const text = await runCli([...args, '--purpose', 'SYSTEM_AUDIT']);
      expect(text.stdout).toMatch(/^list +raised +stored/m);
      expect(text.stderr).toMatch(/audited as .* \(direct database access\)/);
      const actions = readFileSync(auditFile, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { action: string }).action);
      expect(actions.filter((a) => a !== 'log.created')).toEqual(['access.direct', 'replay', 'access.direct', 'replay']);
      const badWindow = await runCli(['replay', '--config', join(dir, 'candidate.yaml'), '--from', String(T0 + DAY), '--to', String(T0), '--purpose', 'SYSTEM_AUDIT', '--db', db.url, '--audit', auditFile]);
      expect(badWindow.code).toBe(2);
      const noConfig = await runCli(['replay', '--from', '0', '--to', '1', '--purpose', 'SYSTEM_AUDIT']);
      expect(noConfig.code).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
