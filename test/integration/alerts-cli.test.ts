/**
 * `platesieve alerts` (the built CLI) against a real PostgreSQL and a real operations API:
 * dispositions through the API with a logged-in session (the session user is `by`), and with
 * `--db` as direct access (the OS actor, `access.direct` first); the list; the statistics from
 * the database, as JSON and as the readable table.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgAuditLog, readPgAudit } from '../../matcher/audit/pg-log.js';
import type { AuditRecord } from '../../matcher/audit/types.js';
import { writeSession } from '../../matcher/cli/api-client.js';
import { pgAuditSource } from '../../matcher/ops/audit-source.js';
import { createOpsServer, type OpsServer } from '../../matcher/ops/server.js';
import { osActor } from '../../matcher/store/open.js';
import { alertRow } from '../../matcher/store/rows.js';
import { StoreWriter } from '../../matcher/store/writer.js';
import type { Alert } from '../../matcher/types.js';
import { CLI, ROOT, ensureBuilt, type RunResult } from '../helpers/cli.js';
import { closeOpsDatabase, openOpsDatabase } from '../helpers/ops.js';
import type { TestDatabase } from '../helpers/postgres.js';

const MIN = 60_000;
const DAY = 86_400_000;
const REAL_NOW = Date.now();
const T0 = REAL_NOW - 2 * DAY;
const PASSWORD = 'correct horse battery staple';
const RETENTION = { default: { policy: 'default', nonhitDays: 30, hitDays: 365, basis: 'test' }, agencies: {} };

let db: TestDatabase;
let pool: pg.Pool;
let audit: PgAuditLog;
let ops: OpsServer;
let dir: string;
let auditFile: string;

function alert(id: string, ts: number, plate: string, hotlistPlate: string, list: string, priority: number, match: 'exact' | 'ocr', score: number): Alert {
  return {
    alertId: id, readId: `r-${id}`, ts, agency: 'CA0010000', entryId: `e-${hotlistPlate}`, plate, matchedPlate: plate, hotlistPlate, list, priority, match,
    distance: 0, score, cameraId: 'cam-1', hotlistVersion: 'v1', hotlistAgeS: 0, verify: 'Confirm with NCIC before acting',
  };
}

const ALERTS = [
  alert('c1', T0 + 1000, '7A8C123', '7ABC123', 'STOLEN_VEHICLE', 4, 'ocr', 0.81),
  alert('c2', T0 + 2000, '7ABC123', '7ABC123', 'STOLEN_VEHICLE', 3, 'exact', 0.97),
  alert('c3', T0 + 3000, '5DEF456', '5DEF456', 'WANTED_PERSON', 1, 'exact', 0.9),
];
const WINDOW = ['--from', new Date(T0).toISOString(), '--to', String(T0 + 60 * MIN)];

function cli(args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, XDG_CONFIG_HOME: dir, PLATESIEVE_DB_URL: '', PLATESIEVE_AUDIT_FILE: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function pgAudit(filter: (r: AuditRecord) => boolean): Promise<AuditRecord[]> {
  return (await readPgAudit(pool, { limit: 100_000 })).filter(filter);
}

async function fileAudit(): Promise<AuditRecord[]> {
  return (await readFile(auditFile, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as AuditRecord);
}

beforeAll(async () => {
  ensureBuilt();
  ({ db, pool, audit } = await openOpsDatabase('alerts_cli', 4));
  await new StoreWriter(pool).write({ reads: [], alerts: ALERTS.map((a) => alertRow(a, RETENTION, new Map(), REAL_NOW)), deadletters: [] });
  ops = await createOpsServer({ pool, audit, auditSource: pgAuditSource(pool), loginsPerMinute: 0 });
  await ops.people.addUser({ username: 'opr', password: PASSWORD, roles: ['operator'] }, 'test-setup');
  const s = await ops.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'opr', password: PASSWORD } });
  expect(s.statusCode).toBe(200);
  const base = await ops.listen({ host: '127.0.0.1', port: 0 });
  dir = await mkdtemp(join(tmpdir(), 'platesieve-alerts-'));
  auditFile = join(dir, 'audit.jsonl');
  writeSession({ api: base, token: (JSON.parse(s.body) as { token: string }).token, expiresAt: REAL_NOW + 3_600_000, user: 'opr' }, { XDG_CONFIG_HOME: dir });
}, 60_000);

afterAll(async () => {
  await ops?.close();
  await closeOpsDatabase({ db, pool, audit });
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('platesieve alerts', () => {
  it('dispositions through the API as the logged-in user; a rejection without a reason is refused', async () => {
    const bad = await cli(['alerts', 'disposition', 'c1', '--outcome', 'rejected']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('a rejected alert needs a reason');
    const r = await cli(['alerts', 'disposition', 'c1', '--outcome', 'rejected', '--reason', 'misread', '--verified-with', 'image']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^c1 {2}rejected \(misread\) {2}by opr at \d{4}-\d\d-\d\dT[\d:.]+Z {2}list STOLEN_VEHICLE\n$/);
    const { rows } = await pool.query<{ by: string; verified_with: string; source: string }>(`SELECT by, verified_with, source FROM platesieve.dispositions WHERE alert_id = 'c1'`);
    expect(rows).toEqual([{ by: 'opr', verified_with: 'image', source: 'api' }]);
    const recs = await pgAudit((x) => x.subject?.alertId === 'c1');
    expect(recs.map((x) => `${x.action} ${x.actor} ${x.outcome}`)).toEqual(['disposition.refused opr refused', 'alert.disposition opr ok']);
    expect((await cli(['alerts', 'disposition', 'c1', '--outcome', 'confirmed'])).stderr).toContain('already has a disposition');
  }, 30_000);

  it('lists through the API: deadlines, dispositions, only the open ones', async () => {
    const r = await cli(['alerts', 'list', ...WINDOW, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { alertId: string; deadline: number; disposition: { by: string } | null });
    expect(lines.map((a) => [a.alertId, a.deadline, a.disposition?.by ?? null])).toEqual([
      ['c3', T0 + 3000 + 10 * MIN, null],
      ['c2', T0 + 2000 + 60 * MIN, null],
      ['c1', T0 + 1000 + 60 * MIN, 'opr'],
    ]);
    expect(r.stderr).toBe('alerts: 3 alerts, 2 open, 2 overdue\n');
    const open = await cli(['alerts', 'list', ...WINDOW, '--undispositioned']);
    expect(open.stdout.split('\n')[0]).toMatch(/^TIME\s+ALERT\s+PLATE\s+LISTED\s+LIST\s+PRI\s+MATCH\s+SCORE\s+CAMERA\s+STATE$/);
    expect(open.stdout).toMatch(/ c3 +5DEF456 +5DEF456 +WANTED_PERSON +1 +exact +0\.90 +cam-1 +OVERDUE since \S+ \(urgent\)\n/);
    expect(open.stdout).not.toContain(' c1 ');
    expect((await pgAudit((x) => x.action === 'alert.list' && x.actor === 'opr')).map((x) => x.subject?.count)).toEqual([3, 2]);
  }, 30_000);

  it('with --db: dispositions as the OS actor and reads the statistics, audited as direct access', async () => {
    const actor = osActor();
    const noAudit = await cli(['alerts', 'stats', '--db', db.url]);
    expect(noAudit.code).toBe(2);
    const d = await cli(['alerts', 'disposition', 'c2', '--outcome', 'confirmed', '--verified-with', 'NCIC', '--db', db.url, '--audit', auditFile]);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toContain(`c2  confirmed  by ${actor} at `);
    const json = await cli(['alerts', 'stats', ...WINDOW, '--keep', '1', '--json', '--db', db.url, '--audit', auditFile]);
    expect(json.code, json.stderr).toBe(0);
    const stats = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(stats).toMatchObject({
      from: T0, to: T0 + 60 * MIN, keep: 1,
      total: { alerts: 3, dispositioned: 2, confirmed: 1, rejected: 1, noAction: 0, confirmedRate: 0.5, rejectedRate: 0.5 },
      byList: { STOLEN_VEHICLE: { alerts: 2, confirmed: 1, rejected: 1 }, WANTED_PERSON: { alerts: 1, dispositioned: 0, confirmedRate: null } },
      byConfusion: { '8>B': { alerts: 1, rejected: 1 } },
      thresholds: [
        { list: 'STOLEN_VEHICLE', threshold: 0.97, confirmedKept: 1, confirmed: 1, rejectedRemoved: 1, rejected: 1 },
        { list: 'WANTED_PERSON', threshold: null, confirmedKept: 0, confirmed: 0, rejectedRemoved: 0, rejected: 0 },
      ],
    });
    const text = await cli(['alerts', 'stats', ...WINDOW, '--keep', '1', '--db', db.url, '--audit', auditFile]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('3 alerts, 2 dispositioned (1 confirmed, 1 rejected, 0 no action); confirmed 50.0%, rejected 50.0%');
    expect(text.stdout).toMatch(/^STOLEN_VEHICLE +2 +2 +1 +1 +0 +50\.0% +50\.0%$/m);
    expect(text.stdout).toMatch(/^WANTED_PERSON +1 +0 +0 +0 +0 +- +-$/m);
    expect(text.stdout).toMatch(/^8>B +1 +1 +0 +1 +0 +0\.0% +100\.0%$/m);
    expect(text.stdout).toContain('per-list score thresholds keeping 100.0% of confirmed alerts');
    expect(text.stdout).toMatch(/^STOLEN_VEHICLE +0\.97 +1\/1 +1\/1$/m);
    expect(text.stdout).toMatch(/^WANTED_PERSON +- \(no confirmed alerts\) +0\/0 +0\/0$/m);

    const { rows } = await pool.query<{ by: string }>(`SELECT by FROM platesieve.dispositions WHERE alert_id = 'c2'`);
    expect(rows).toEqual([{ by: actor }]);
    const recs = (await fileAudit()).filter((x) => x.action !== 'log.created');
    expect(recs.map((x) => `${x.action} ${x.actor}`)).toEqual([
      `access.direct ${actor}`, `alert.disposition ${actor}`,
      `access.direct ${actor}`, `alert.stats ${actor}`,
      `access.direct ${actor}`, `alert.stats ${actor}`,
    ]);
    expect(recs[1]).toMatchObject({ subject: { alertId: 'c2' }, details: { outcome: 'confirmed', by: actor, verifiedWith: 'NCIC' } });
    expect(recs[3]).toMatchObject({ subject: { from: T0, to: T0 + 60 * MIN, count: 3 }, details: { keep: 1, dispositioned: 2 } });
  }, 30_000);
});
