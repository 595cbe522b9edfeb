/**
 * The command line against the operations API: `platesieve ops --config FILE` as a real
 * process (PostgreSQL, nats-server), `platesieve login` reading the password and the TOTP code
 * from standard input, then `search`, `hold add|list` and `hotlist add` through the API with
 * the session's user as the audit actor, `logout`, and direct database access audited as such.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgAuditLog, readPgAudit } from '../../matcher/audit/pg-log.js';
import type { AuditRecord } from '../../matcher/audit/types.js';
import { DEFAULT_OCR_CLASSES, ocrClassMap } from '../../matcher/core/plate.js';
import { People } from '../../matcher/people/index.js';
import { prepareDatabase } from '../../matcher/store/open.js';
import { readRow } from '../../matcher/store/rows.js';
import { StoreWriter } from '../../matcher/store/writer.js';
import type { ReadRecord } from '../../matcher/types.js';
import { CLI, ROOT, ensureBuilt, tempDir, type RunResult } from '../helpers/cli.js';
import { startNatsServer, uniquePrefix, type NatsServerHandle } from '../helpers/nats-server.js';
import { makePki } from '../helpers/tls.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';

const DAY = 86_400_000;
const NOW = Date.now();
const PASSWORD = 'correct horse battery staple';
const tmp = tempDir('platesieve-ops-cli-');

let db: TestDatabase;
let pool: pg.Pool;
let nats: NatsServerHandle;
let nc: NatsConnection;
const running: ChildProcess[] = [];
let api: string;
let bucket: string;
let analystSecret: string;
let home: string;

function rec(id: string, plate: string, ts: number): ReadRecord {
  return { id, plate, ts, state: 'CA', cameraId: 'cam-1', agency: 'CA0010000', hit: false, alertIds: [], retention: { policy: 'default', class: 'nonhit', expiresAt: ts + 30 * DAY, basis: 'b' } };
}

/** Runs the CLI with the test's config directory (the session file lives there). */
function cli(args: string[], stdin = '', env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, XDG_CONFIG_HOME: home, PLATESIEVE_DB_URL: '', PLATESIEVE_AUDIT_FILE: '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
  });
}

/** Starts `platesieve ops` and resolves with the URL it prints once listening. */
function startOpsProcess(config: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'ops', '--config', config, '--log-level', 'warn'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    running.push(child);
    let err = '';
    child.stdout.resume();
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      err += s;
      const m = /listening on (\S+)/.exec(err);
      if (m !== null) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`platesieve ops exited with ${code}: ${err}`)));
  });
}

async function auditRecords(): Promise<AuditRecord[]> {
  return readPgAudit(pool, { limit: 100_000 });
}

beforeAll(async () => {
  ensureBuilt();
  home = join(tmp.path, 'config');
  db = await createTestDatabase('ops_cli');
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  // DROP DATABASE ... WITH (FORCE) may end a connection that is still closing: not a failure.
  pool.on('error', () => undefined);
  await prepareDatabase(pool, DEFAULT_OCR_CLASSES);
  await new StoreWriter(pool).write({
    reads: [rec('r1', '7ABC123', NOW - 2 * DAY), rec('r2', '7A8C123', NOW - DAY), rec('r3', 'ZZZ999', NOW - DAY)].map((r) => readRow(r, ocrClassMap(DEFAULT_OCR_CLASSES), new Map())),
    alerts: [],
    deadletters: [],
  });
  const audit = await PgAuditLog.open(pool, { actor: 'test-setup' });
  const people = new People({ pool, audit });
  analystSecret = (await people.addUser({ username: 'det.ortiz', password: PASSWORD, roles: ['analyst'] }, 'test-setup')).totp?.secret ?? '';
  await people.addUser({ username: 'desk.kim', password: PASSWORD, roles: ['operator'] }, 'test-setup');
  await audit.close();
  nats = await startNatsServer({ jetstream: true });
  nc = await connect({ servers: nats.url });
  bucket = `cli-${uniquePrefix()}`;
  const config = join(tmp.path, 'ops.json');
  writeFileSync(config, JSON.stringify({ nats: { servers: [nats.url] }, liveUpdates: { bucket }, store: { db: db.url }, ops: { host: '127.0.0.1', port: 0 } }));
  api = await startOpsProcess(config);
}, 60_000);

afterAll(async () => {
  for (const ops of running) {
    if (ops.exitCode !== null) continue;
    // The start listener rejects on exit: drop it, then wait for a clean stop.
    ops.removeAllListeners('exit');
    const exited = new Promise<number | null>((resolve) => ops.once('exit', resolve));
    ops.kill('SIGTERM');
    expect(await exited).toBe(0);
  }
  await nc?.close();
  await nats?.stop();
  await pool?.end();
  await db?.drop();
});

describe('the CLI through the operations API', () => {
  it('logs in with the password and TOTP code from standard input and keeps the session 0600', async () => {
    const r = await cli(['login', '--api', api, '--user', 'det.ortiz'], `${PASSWORD}\n${People.totpNow(analystSecret)}\n`);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/logged in to .* as det\.ortiz \(analyst\)/);
    const file = join(home, 'platesieve', 'session.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ api, user: 'det.ortiz' });
  });

  it('refuses a wrong password with the API\'s message and keeps no session', async () => {
    const r = await cli(['login', '--api', api, '--user', 'det.ortiz'], 'not the password at all\n000000\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/wrong user name or password/);
  });

  it('searches through the API, audited as the session\'s user with the role', async () => {
    const r = await cli(['search', '--plate', '7ABC123', '--tiers', 'exact,ocr', '--from', String(NOW - 7 * DAY), '--to', String(NOW), '--purpose', 'STOLEN_VEHICLE', '--format', 'ndjson']);
    expect(r.stderr).toMatch(/search: 2 reads .*audited as det\.ortiz/);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(['r2', 'r1']);
    const [last] = (await auditRecords()).filter((x) => x.action === 'search').slice(-1);
    expect(last).toMatchObject({ actor: 'det.ortiz', outcome: 'ok', subject: { plate: '7ABC123', count: 2 }, details: { roles: ['analyst'] } });
    const refused = await cli(['search', '--plate', '7ABC123', '--from', String(NOW - DAY), '--to', String(NOW), '--purpose', 'IMMIGRATION']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/refused \(CIVIL_IMMIGRATION\)/);
  });

  it('adds and lists a hold through the API with the session\'s user as creator and actor', async () => {
    const r = await cli(['hold', 'add', '--case', '26-77', '--purpose', 'ROBBERY', '--reason', 'suspect vehicle', '--plate', '7ABC123', '--json']);
    expect(r.stderr).toBe('');
    const hold = JSON.parse(r.stdout) as { holdId: string; createdBy: string; records: number };
    expect(hold).toMatchObject({ createdBy: 'det.ortiz', records: 1 });
    const list = await cli(['hold', 'list', '--json']);
    expect(list.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { holdId: string }).holdId)).toEqual([hold.holdId]);
    const released = await cli(['hold', 'release', hold.holdId, '--reason', 'closed']);
    expect(released.code).toBe(1);
    expect(released.stderr).toMatch(/needs the role supervisor/);
    const records = (await auditRecords()).filter((x) => x.action.startsWith('hold.') || (x.action === 'session.refused' && x.actor === 'det.ortiz'));
    expect(records.map((x) => [x.action, x.actor, x.outcome])).toEqual([['hold.add', 'det.ortiz', 'ok'], ['hold.list', 'det.ortiz', 'ok'], ['session.refused', 'det.ortiz', 'refused']]);
  });

  it('adds a live hotlist entry through the API: the bucket write names the session\'s user, not a typed --actor', async () => {
    const r = await cli(['hotlist', 'add', '--id', 'CLI-1', '--plate', 'CLI123', '--list', 'STOLEN_VEHICLE', '--actor', 'somebody.else']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/added CLI-1 \(CLI123, STOLEN_VEHICLE\) at revision \d+ as det\.ortiz/);
    const msg = await (await nc.jetstreamManager()).streams.getMessage(`KV_${bucket}`, { last_by_subj: `$KV.${bucket}.entry.CLI-1` });
    expect(msg.header.get('Platesieve-Actor')).toBe('det.ortiz');
    const [added] = (await auditRecords()).filter((x) => x.subject?.entryId === 'CLI-1');
    expect(added).toMatchObject({ action: 'entry.add', actor: 'det.ortiz', details: { roles: ['analyst'] } });
  });

  it('logs out: the token no longer works and the session file is gone', async () => {
    const token = (JSON.parse(readFileSync(join(home, 'platesieve', 'session.json'), 'utf8')) as { token: string }).token;
    const r = await cli(['logout']);
    expect(r.stdout).toMatch(/logged out/);
    const me = await fetch(`${api}/api/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(401);
    const after = await cli(['search', '--plate', '7ABC123', '--from', String(NOW - DAY), '--to', String(NOW), '--purpose', 'STOLEN_VEHICLE']);
    expect(after.code).toBe(2);
    expect(after.stderr).toMatch(/no database/);
    expect((await auditRecords()).filter((x) => x.action === 'logout').map((x) => x.actor)).toEqual(['det.ortiz']);
  });

  it('keeps direct database access working with --db, audited as access.direct beside the search', async () => {
    const file = join(tmp.path, 'direct.audit.jsonl');
    const r = await cli(['search', '--plate', '7ABC123', '--from', String(NOW - 7 * DAY), '--to', String(NOW), '--purpose', 'STOLEN_VEHICLE', '--db', db.url, '--audit', file]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/direct database access/);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
    expect(lines.map((l) => l.action)).toEqual(['log.created', 'access.direct', 'search']);
    expect(lines[1]).toMatchObject({ actor: lines[2].actor, details: { via: 'database', for: 'search' } });
  });

  it('serves HTTPS with ops.tls and a file audit log; the CLI logs in over TLS trusting the CA', async () => {
    const pki = makePki(tmp.path);
    const config = join(tmp.path, 'ops-tls.json');
    const auditFile = join(tmp.path, 'ops-tls.audit.jsonl');
    writeFileSync(config, JSON.stringify({ liveUpdates: { bucket: null }, store: { db: db.url }, ops: { port: 0, audit: auditFile, tls: { certFile: pki.serverCert, keyFile: pki.serverKey } } }));
    const url = await startOpsProcess(config);
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const untrusted = await cli(['login', '--api', url, '--user', 'desk.kim'], `${PASSWORD}\n`);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toMatch(/cannot reach the operations API/);
    const r = await cli(['login', '--api', url, '--user', 'desk.kim'], `${PASSWORD}\n`, { NODE_EXTRA_CA_CERTS: pki.ca });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/as desk\.kim \(operator\)/);
    const lines = readFileSync(auditFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
    expect(lines.map((l) => [l.action, l.actor, l.outcome])).toEqual([['log.created', 'platesieve-ops', 'ok'], ['login', 'desk.kim', 'ok']]);
  });

  it('refuses a bad ops section with exit 2 and the key named', async () => {
    const config = join(tmp.path, 'ops-bad.json');
    writeFileSync(config, JSON.stringify({ store: { db: db.url }, ops: { port: 'eighty', audit: '' } }));
    const r = await cli(['ops', '--config', config]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ops\.port must be an integer from 0 to 65535/);
    expect(r.stderr).toMatch(/ops\.audit must be a non-empty string/);
  });

  it('says how to log in when --api names an API without a session, and refuses --api with --db', async () => {
    const search = ['search', '--plate', '7ABC123', '--from', String(NOW - DAY), '--to', String(NOW), '--purpose', 'STOLEN_VEHICLE'];
    const noSession = await cli([...search, '--api', api]);
    expect(noSession.code).toBe(2);
    expect(noSession.stderr).toContain(`not logged in to ${api}: run platesieve login --api ${api}`);
    const both = await cli([...search, '--api', api, '--db', db.url]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/give --api or --db, not both/);
  });
});
