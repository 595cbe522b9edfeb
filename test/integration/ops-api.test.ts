/**
 * The operations API against a real PostgreSQL and a real nats-server: logins (with and
 * without TOTP), sessions (expiry, lockout, two instances sharing them), every endpoint, every
 * role refused what it may not do (and the refusal audited), the purpose rules, the OpenAPI
 * document, health and metrics.
 */
import { connect, type NatsConnection } from 'nats';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgAuditLog, readPgAudit } from '../../matcher/audit/pg-log.js';
import type { AuditRecord } from '../../matcher/audit/types.js';
import { DEFAULT_OCR_CLASSES, ocrClassMap } from '../../matcher/core/plate.js';
import { pgAuditSource } from '../../matcher/ops/audit-source.js';
import { ENDPOINT_ROLES } from '../../matcher/ops/roles.js';
import { createOpsServer, type OpsServer } from '../../matcher/ops/server.js';
import { People, ROLES, type Role } from '../../matcher/people/index.js';
import { prepareDatabase } from '../../matcher/store/open.js';
import { readRow } from '../../matcher/store/rows.js';
import { StoreWriter } from '../../matcher/store/writer.js';
import type { ReadRecord } from '../../matcher/types.js';
import { startNatsServer, uniquePrefix, type NatsServerHandle } from '../helpers/nats-server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';

const DAY = 86_400_000;
const REAL_NOW = Date.now();
const PASSWORD = 'correct horse battery staple';
// One clock for People and the store: each TOTP login moves it a step on (a code is good once).
let clock = REAL_NOW;
const now = (): number => clock;

let db: TestDatabase;
let pool: pg.Pool;
let audit: PgAuditLog;
let nats: NatsServerHandle;
let nc: NatsConnection;
let bucket: string;
let a: OpsServer;
let b: OpsServer;
const secrets = new Map<string, string>();
const tokens = new Map<Role, string>();

function rec(id: string, plate: string, ts: number): ReadRecord {
  return { id, plate, ts, state: 'CA', cameraId: 'cam-1', agency: 'CA0010000', hit: false, alertIds: [], retention: { policy: 'default', class: 'nonhit', expiresAt: ts + 800 * DAY, basis: 'b' } };
}

interface Res { status: number; body: Record<string, unknown> }

async function call(server: OpsServer, method: string, url: string, token?: string, body?: unknown): Promise<Res> {
  const r = await server.app.inject({ method: method as 'GET', url, headers: token === undefined ? {} : { authorization: `Bearer ${token}` }, ...(body !== undefined ? { payload: body as Record<string, unknown> } : {}) });
  return { status: r.statusCode, body: r.body === '' ? {} : (JSON.parse(r.body) as Record<string, unknown>) };
}

async function login(server: OpsServer, username: string, password = PASSWORD, withTotp = true): Promise<Res> {
  clock += 30_000;
  const secret = secrets.get(username);
  const totp = withTotp && secret !== undefined ? People.totpNow(secret, clock) : undefined;
  return call(server, 'POST', '/api/login', undefined, { username, password, ...(totp !== undefined ? { totp } : {}) });
}

async function auditWhere(filter: (r: AuditRecord) => boolean): Promise<AuditRecord[]> {
  return (await readPgAudit(pool, { limit: 100_000 })).filter(filter);
}

beforeAll(async () => {
  db = await createTestDatabase('ops_api');
  pool = new pg.Pool({ connectionString: db.url, max: 8 });
  // DROP DATABASE ... WITH (FORCE) may end a connection that is still closing: not a failure.
  pool.on('error', () => undefined);
  await prepareDatabase(pool, DEFAULT_OCR_CLASSES);
  const classes = ocrClassMap(DEFAULT_OCR_CLASSES);
  await new StoreWriter(pool).write({
    reads: [rec('r1', '7ABC123', REAL_NOW - 2 * DAY), rec('r2', '7A8C123', REAL_NOW - DAY), rec('r3', 'ZZZ999', REAL_NOW - DAY), rec('old', '7ABC123', REAL_NOW - 400 * DAY)].map((r) => readRow(r, classes, new Map())),
    alerts: [],
    deadletters: [],
  });
  audit = await PgAuditLog.open(pool, { actor: 'platesieve-ops' });
  nats = await startNatsServer({ jetstream: true });
  nc = await connect({ servers: nats.url });
  bucket = `ops-${uniquePrefix()}`;
  // live.maxClients 0: inject waits for the end of a response, and a live stream has none; with
  // no place left the allowed roles get 503 ERR_LIVE_FULL (ops-live.test.ts opens real streams).
  const common = { pool, audit, auditSource: pgAuditSource(pool), nats: nc, bucket, now, loginsPerMinute: 0, live: { maxClients: 0 }, session: { idleTimeoutMs: 30 * 60_000, ttlMs: 8 * 3_600_000, maxFailures: 3, lockoutMs: 15 * 60_000 } };
  a = await createOpsServer(common);
  b = await createOpsServer(common);
  for (const role of ROLES) {
    const r = await a.people.addUser({ username: `u-${role}`, password: PASSWORD, roles: [role] }, 'test-setup');
    if (r.totp !== undefined) secrets.set(`u-${role}`, r.totp.secret);
    const s = await login(a, `u-${role}`);
    expect(s.status).toBe(200);
    tokens.set(role, s.body.token as string);
  }
}, 60_000);

afterAll(async () => {
  await a?.close();
  await b?.close();
  await nc?.close();
  await nats?.stop();
  await audit?.close();
  await pool?.end();
  await db?.drop();
});

const tok = (role: Role): string => tokens.get(role) as string;

describe('logins and sessions', () => {
  it('logs in an operator without TOTP and requires TOTP of every other role', async () => {
    const op = await login(a, 'u-operator');
    expect(op.status).toBe(200);
    expect(op.body).toMatchObject({ username: 'u-operator', roles: ['operator'] });
    const noCode = await login(a, 'u-analyst', PASSWORD, false);
    expect(noCode).toMatchObject({ status: 401, body: { error: 'ERR_AUTH_TOTP_REQUIRED' } });
    const wrongCode = await call(a, 'POST', '/api/login', undefined, { username: 'u-analyst', password: PASSWORD, totp: '000000' });
    expect(wrongCode.body.error).toBe('ERR_AUTH_TOTP_INVALID');
    const ok = await login(a, 'u-analyst');
    expect(ok.status).toBe(200);
    const me = await call(a, 'GET', '/api/me', ok.body.token as string);
    expect(me.body).toMatchObject({ username: 'u-analyst', roles: ['analyst'] });
    const bad = await call(a, 'POST', '/api/login', undefined, { username: 'u-analyst', password: 'not the password at all' });
    expect(bad).toMatchObject({ status: 401, body: { error: 'ERR_AUTH_INVALID' } });
    await a.people.enableUser('u-analyst', 'test-setup'); // clears the failures counted above
  });

  it('refuses requests without a session, with an unknown token, and audits them', async () => {
    expect(await call(a, 'GET', '/api/me')).toMatchObject({ status: 401, body: { error: 'ERR_UNAUTHENTICATED' } });
    expect(await call(a, 'GET', '/api/me', 'x'.repeat(43))).toMatchObject({ status: 401, body: { error: 'ERR_SESSION_INVALID' } });
    const refused = await auditWhere((r) => r.action === 'session.refused' && r.actor === 'anonymous');
    expect(refused.length).toBeGreaterThanOrEqual(2);
  });

  it('ends an idle session (injected clock) with ERR_SESSION_EXPIRED', async () => {
    const s = await login(a, 'u-operator');
    const token = s.body.token as string;
    expect((await call(a, 'GET', '/api/me', token)).status).toBe(200);
    clock += 31 * 60_000;
    expect(await call(a, 'GET', '/api/me', token)).toMatchObject({ status: 401, body: { error: 'ERR_SESSION_EXPIRED' } });
    // The role sessions made in beforeAll have idled out too: renew them.
    for (const role of ROLES) tokens.set(role, (await login(a, `u-${role}`)).body.token as string);
  });

  it('locks an account after repeated failures, even for the right password', async () => {
    await a.people.addUser({ username: 'locky', password: PASSWORD, roles: ['operator'] }, 'test-setup');
    for (let i = 0; i < 3; i++) expect((await login(a, 'locky', 'wrong password, wrong')).body.error).toBe('ERR_AUTH_INVALID');
    expect(await login(a, 'locky')).toMatchObject({ status: 423, body: { error: 'ERR_AUTH_LOCKED' } });
  });

  it('shares sessions between two instances: log in on one, use and end the session on the other', async () => {
    const s = await login(a, 'u-supervisor');
    const token = s.body.token as string;
    expect((await call(b, 'GET', '/api/me', token)).body).toMatchObject({ username: 'u-supervisor' });
    expect((await call(b, 'GET', '/api/holds', token)).status).toBe(200);
    expect((await call(b, 'POST', '/api/logout', token)).body).toEqual({ ok: true });
    expect((await call(a, 'GET', '/api/me', token)).body.error).toBe('ERR_SESSION_INVALID');
  });

  it('limits login attempts per address', async () => {
    const limited = await createOpsServer({ pool, audit, auditSource: pgAuditSource(pool), now, loginsPerMinute: 2 });
    try {
      const attempt = (): Promise<Res> => call(limited, 'POST', '/api/login', undefined, { username: 'nobody', password: 'not a real password' });
      expect((await attempt()).status).toBe(401);
      expect((await attempt()).status).toBe(401);
      expect(await attempt()).toMatchObject({ status: 429, body: { error: 'ERR_RATE_LIMITED' } });
    } finally {
      await limited.close();
    }
  });
});

/** A request that every allowed role can make and that changes nothing it should not. */
function sample(endpoint: string, role: Role): { url: string; body?: unknown } {
  const n = `${role}-${Math.random().toString(36).slice(2, 8)}`;
  switch (endpoint) {
    case 'POST /api/search': return { url: '/api/search', body: { plate: '7ABC123', from: REAL_NOW - 7 * DAY, to: REAL_NOW, purpose: 'STOLEN_VEHICLE' } };
    case 'GET /api/holds': return { url: '/api/holds' };
    case 'POST /api/replay': return { url: '/api/replay', body: { entries: [], from: REAL_NOW, to: REAL_NOW - DAY, purpose: 'SYSTEM_AUDIT' } };
    case 'POST /api/holds': return { url: '/api/holds', body: { case: '26-1', purpose: 'ROBBERY', reason: 'table', plate: 'ZZZ999' } };
    case 'POST /api/holds/:id/release': return { url: '/api/holds/no-such-hold/release', body: { reason: 'table' } };
    case 'POST /api/hotlist/entries': return { url: '/api/hotlist/entries', body: { id: `T-${n}`, plate: 'TBL123', list: 'STOLEN_VEHICLE' } };
    case 'POST /api/hotlist/entries/:id/cancel': return { url: `/api/hotlist/entries/T-${n}/cancel`, body: { reason: 'table' } };
    case 'DELETE /api/hotlist/entries/:id': return { url: `/api/hotlist/entries/T-${n}`, body: { reason: 'table' } };
    case 'GET /api/users': return { url: '/api/users' };
    case 'POST /api/users': return { url: '/api/users', body: { username: `t-${n}`, password: PASSWORD, roles: ['operator'] } };
    case 'POST /api/users/:username/disable': return { url: '/api/users/nobody-here/disable', body: { reason: 'table' } };
    case 'POST /api/users/:username/enable': return { url: '/api/users/nobody-here/enable' };
    case 'POST /api/users/:username/reset': return { url: '/api/users/nobody-here/reset', body: { totp: true } };
    case 'PUT /api/users/:username/roles': return { url: '/api/users/nobody-here/roles', body: { roles: ['operator'] } };
    case 'GET /api/audit': return { url: '/api/audit?limit=5' };
    case 'GET /api/audit/report': return { url: `/api/audit/report?from=${REAL_NOW - DAY}&to=${REAL_NOW + 30 * DAY}` };
    case 'POST /api/audit/verify': return { url: '/api/audit/verify' };
    case 'POST /api/sharing/requests': return { url: '/api/sharing/requests', body: { agency: 'Denver PD', federal: false, requester: 'Det. A', purpose: 'ROBBERY', case: '26-1', query: { plate: 'ZZZ999', from: REAL_NOW - DAY, to: REAL_NOW } } };
    case 'GET /api/sharing/requests': return { url: '/api/sharing/requests' };
    case 'POST /api/sharing/requests/:id/approve': return { url: '/api/sharing/requests/no-such/approve', body: { note: 'table' } };
    case 'POST /api/sharing/requests/:id/deny': return { url: '/api/sharing/requests/no-such/deny', body: { note: 'table' } };
    case 'POST /api/sharing/requests/:id/export': return { url: '/api/sharing/requests/no-such/export' };
    case 'GET /api/sharing/requests/:id/export': return { url: '/api/sharing/requests/no-such/export' };
    case 'POST /api/sensitive/requests': return { url: '/api/sensitive/requests', body: { tags: ['healthcare'], purpose: 'ROBBERY', case: '26-1', nexus: 'table: suspect fled the robbery to the clinic lot' } };
    case 'GET /api/sensitive/requests': return { url: '/api/sensitive/requests' };
    case 'POST /api/sensitive/requests/:id/approve': return { url: '/api/sensitive/requests/no-such/approve', body: { note: 'table' } };
    case 'POST /api/sensitive/requests/:id/deny': return { url: '/api/sensitive/requests/no-such/deny', body: { note: 'table' } };
    case 'POST /api/alerts/:id/disposition': return { url: '/api/alerts/no-such-alert/disposition', body: { outcome: 'confirmed' } };
    case 'GET /api/alerts': return { url: `/api/alerts?from=${REAL_NOW - DAY}&to=${REAL_NOW}` };
    case 'GET /api/alerts/stats': return { url: `/api/alerts/stats?from=${REAL_NOW - DAY}&to=${REAL_NOW}` };
    case 'GET /api/alerts/:id': return { url: '/api/alerts/no-such-alert' };
    case 'GET /api/alerts/live': return { url: '/api/alerts/live' };
    default: throw new Error(`no sample for ${endpoint}`);
  }
}

describe('roles', () => {
  const guarded = Object.entries(ENDPOINT_ROLES).filter(([, roles]) => Array.isArray(roles)) as Array<[string, readonly Role[]]>;

  it('refuses every role every endpoint it may not call (403, audited with its roles), and allows the rest', async () => {
    const outcome: string[] = [];
    for (const [endpoint] of guarded) {
      const method = endpoint.split(' ')[0];
      for (const role of ROLES) {
        const { url, body } = sample(endpoint, role);
        const r = await call(a, method, url, tok(role), body);
        const refused = r.status === 403 && r.body.error === 'ERR_FORBIDDEN_ROLE';
        outcome.push(`${endpoint} ${role} ${refused ? 'refused' : 'allowed'}`);
        if (!refused) expect([r.status, r.body.error, endpoint, role]).not.toContain(401);
      }
    }
    const expected = guarded.flatMap(([endpoint, allowed]) => ROLES.map((role) => `${endpoint} ${role} ${allowed.includes(role) ? 'allowed' : 'refused'}`));
    expect(outcome).toEqual(expected);
    // The operator only verifies alerts; the auditor reads the audit log and the alert statistics.
    const allowedTo = (role: Role): string[] => outcome.filter((o) => o.endsWith(` ${role} allowed`)).map((o) => o.split(' ').slice(0, 2).join(' '));
    expect(allowedTo('operator').sort()).toEqual(['GET /api/alerts', 'GET /api/alerts/:id', 'GET /api/alerts/live', 'POST /api/alerts/:id/disposition']);
    expect(allowedTo('auditor').sort()).toEqual(['GET /api/alerts/stats', 'GET /api/audit', 'GET /api/audit/report', 'POST /api/audit/verify']);
    const refusals = await auditWhere((r) => r.action === 'session.refused' && r.actor === 'u-operator');
    expect(refusals.length).toBe(guarded.filter(([, allowed]) => !allowed.includes('operator')).length);
    expect(refusals[0]).toMatchObject({ outcome: 'refused', details: { roles: ['operator'] } });
  }, 60_000);

  it('declares on every route (and in the OpenAPI document) the roles of the table', async () => {
    const paths = (await call(a, 'GET', '/openapi.json')).body.paths as Record<string, Record<string, { description?: string }>>;
    for (const [endpoint, roles] of Object.entries(ENDPOINT_ROLES)) {
      const [method, path] = endpoint.split(' ');
      const op = paths[path.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()];
      const want = roles === 'public' ? undefined : roles === 'any' ? 'any logged-in user' : `roles: ${roles.join(', ')}`;
      if (endpoint !== 'GET /openapi.json') expect(op?.description, endpoint).toBe(want);
    }
  });
});

describe('data access and purpose rules', () => {
  it('searches as the logged-in analyst, audited with the user and role', async () => {
    const r = await call(a, 'POST', '/api/search', tok('analyst'), { plate: '7ABC123', state: 'CA', tiers: ['exact', 'ocr'], from: new Date(REAL_NOW - 7 * DAY).toISOString(), to: REAL_NOW, purpose: 'STOLEN_VEHICLE' });
    expect(r.status).toBe(200);
    const hits = r.body.hits as Array<{ id: string; match: string; record: { plate: string } }>;
    expect(Object.fromEntries(hits.map((h) => [h.id, h.match]))).toEqual({ r1: 'exact', r2: 'ocr' });
    expect(hits[0].record.plate).toBe('7A8C123');
    const [last] = (await auditWhere((x) => x.action === 'search' && x.outcome === 'ok')).slice(-1);
    expect(last).toMatchObject({ actor: 'u-analyst', purpose: 'STOLEN_VEHICLE', subject: { plate: '7ABC123', count: 2 }, details: { roles: ['analyst'] } });
  });

  it('refuses forbidden purposes, investigative purposes without a case, and year-old windows without a reason, and audits each', async () => {
    const base = { plate: '7ABC123', to: REAL_NOW };
    const forbidden = await call(a, 'POST', '/api/search', tok('analyst'), { ...base, from: REAL_NOW - DAY, purpose: 'IMMIGRATION' });
    expect(forbidden).toMatchObject({ status: 403, body: { error: 'ERR_PURPOSE_REFUSED', category: 'CIVIL_IMMIGRATION' } });
    const noCase = await call(a, 'POST', '/api/search', tok('analyst'), { ...base, from: REAL_NOW - DAY, purpose: 'ROBBERY' });
    expect(noCase.body).toMatchObject({ error: 'ERR_PURPOSE_REFUSED', refusal: 'MISSING_CASE' });
    const old = await call(a, 'POST', '/api/search', tok('analyst'), { ...base, from: REAL_NOW - 500 * DAY, purpose: 'ROBBERY', case: '26-9' });
    expect(old.body).toMatchObject({ error: 'ERR_PURPOSE_REFUSED', refusal: 'MISSING_REASON' });
    const withReason = await call(a, 'POST', '/api/search', tok('analyst'), { ...base, from: REAL_NOW - 500 * DAY, purpose: 'ROBBERY', case: '26-9', reason: 'cold case review' });
    expect((withReason.body.hits as Array<{ id: string }>).map((h) => h.id)).toContain('old');
    const refused = await auditWhere((x) => x.action === 'search' && x.outcome === 'refused' && x.actor === 'u-analyst');
    expect(refused.map((x) => x.details?.code)).toEqual(['FORBIDDEN_PURPOSE', 'MISSING_CASE', 'MISSING_REASON']);
    expect(refused[0].details).toMatchObject({ roles: ['analyst'] });
  });

  it('places holds as an analyst, lists them, and lets only a supervisor release them', async () => {
    const add = await call(a, 'POST', '/api/holds', tok('analyst'), { case: '26-77', purpose: 'ROBBERY', reason: 'suspect vehicle', plate: '7ABC123', from: REAL_NOW - 7 * DAY, to: REAL_NOW });
    expect(add.status).toBe(200);
    expect(add.body).toMatchObject({ case: '26-77', createdBy: 'u-analyst', records: 1 });
    const holdId = add.body.holdId as string;
    const list = await call(a, 'GET', '/api/holds?case=26-77', tok('supervisor'));
    expect((list.body.holds as Array<{ holdId: string }>).map((h) => h.holdId)).toEqual([holdId]);
    expect((await call(a, 'POST', `/api/holds/${holdId}/release`, tok('analyst'), { reason: 'closed' })).body.error).toBe('ERR_FORBIDDEN_ROLE');
    const rel = await call(a, 'POST', `/api/holds/${holdId}/release`, tok('supervisor'), { reason: 'closed' });
    expect(rel.body).toMatchObject({ holdId, records: 1 });
    const all = await call(a, 'GET', '/api/holds?all=true&case=26-77', tok('analyst'));
    expect(all.body.holds).toMatchObject([{ holdId, releasedBy: 'u-supervisor', releaseReason: 'closed' }]);
    expect((await call(a, 'POST', `/api/holds/${holdId}/release`, tok('supervisor'), { reason: 'closed' })).body.error).toBe('HOLD_NOT_FOUND');
    const noCase = await call(a, 'POST', '/api/holds', tok('analyst'), { case: '', purpose: 'ROBBERY', reason: 'r', plate: '7ABC123' });
    expect(noCase).toMatchObject({ status: 400, body: { error: 'ERR_BAD_REQUEST' } });
    const actions = await auditWhere((x) => x.action.startsWith('hold.') && x.subject?.holdId === holdId);
    expect(actions.map((x) => [x.action, x.actor])).toEqual([['hold.add', 'u-analyst'], ['hold.release', 'u-supervisor']]);
    expect((await auditWhere((x) => x.action === 'hold.list' && x.actor === 'u-supervisor')).length).toBeGreaterThan(0);
  });

  it('writes live hotlist entries to the bucket with the session user as Platesieve-Actor', async () => {
    const add = await call(a, 'POST', '/api/hotlist/entries', tok('analyst'), { id: 'API-1', plate: 'API123', list: 'STOLEN_VEHICLE', state: 'CA', priority: 2 });
    expect(add.status).toBe(200);
    const jsm = await nc.jetstreamManager();
    const msg = await jsm.streams.getMessage(`KV_${bucket}`, { last_by_subj: `$KV.${bucket}.entry.API-1` });
    expect(msg.header.get('Platesieve-Actor')).toBe('u-analyst');
    expect(msg.json<{ plate: string; list: string }>()).toMatchObject({ plate: 'API123', list: 'STOLEN_VEHICLE' });
    const forbidden = await call(a, 'POST', '/api/hotlist/entries', tok('analyst'), { id: 'API-2', pattern: 'AB?12*', list: 'BOLO', case: '26-1', purpose: 'CIVIL_IMMIGRATION', expires: '2099-01-01' });
    expect(forbidden).toMatchObject({ status: 403, body: { error: 'ERR_PURPOSE_REFUSED', category: 'CIVIL_IMMIGRATION' } });
    const incomplete = await call(a, 'POST', '/api/hotlist/entries', tok('analyst'), { id: 'API-3', pattern: 'AB?12*', list: 'BOLO' });
    expect(incomplete).toMatchObject({ status: 400, body: { error: 'ERR_INVALID_ENTRY' } });
    const cancel = await call(a, 'POST', '/api/hotlist/entries/API-1/cancel', tok('supervisor'), { reason: 'recovered', case: '26-5' });
    expect(cancel.status).toBe(200);
    const c = await jsm.streams.getMessage(`KV_${bucket}`, { last_by_subj: `$KV.${bucket}.cancel.API-1` });
    expect(c.header.get('Platesieve-Actor')).toBe('u-supervisor');
    const del = await call(a, 'DELETE', '/api/hotlist/entries/API-1', tok('analyst'), { reason: 'done' });
    expect(del.status).toBe(200);
    const d = await jsm.streams.getMessage(`KV_${bucket}`, { last_by_subj: `$KV.${bucket}.entry.API-1` });
    expect([d.header.get('KV-Operation'), d.header.get('Platesieve-Actor')]).toEqual(['DEL', 'u-analyst']);
    const records = await auditWhere((x) => x.subject?.entryId === 'API-1' || x.subject?.entryId === 'API-2');
    expect(records.map((x) => [x.action, x.actor, x.outcome])).toEqual([
      ['entry.add', 'u-analyst', 'ok'],
      ['partial.add', 'u-analyst', 'refused'],
      ['entry.remove', 'u-supervisor', 'ok'],
      ['entry.remove', 'u-analyst', 'ok'],
    ]);
  });

  it('manages accounts as an admin, with the admin as the actor', async () => {
    const add = await call(a, 'POST', '/api/users', tok('admin'), { username: 'new.analyst', password: PASSWORD, roles: ['analyst'] });
    expect(add.status).toBe(200);
    expect(add.body).toMatchObject({ account: { username: 'new.analyst', roles: ['analyst'], mfa: true, createdBy: 'u-admin' } });
    expect((add.body.totp as { uri: string }).uri).toMatch(/^otpauth:\/\/totp\//);
    expect((await call(a, 'POST', '/api/users', tok('admin'), { username: 'new.analyst', password: PASSWORD, roles: ['analyst'] })).status).toBe(409);
    expect((await call(a, 'POST', '/api/users', tok('admin'), { username: 'weak.one', password: 'short', roles: ['operator'] })).body.error).toBe('ERR_WEAK_PASSWORD');
    const list = await call(a, 'GET', '/api/users', tok('admin'));
    expect((list.body.users as Array<{ username: string }>).map((u) => u.username)).toContain('new.analyst');
    expect((await call(a, 'PUT', '/api/users/new.analyst/roles', tok('admin'), { roles: ['analyst', 'supervisor'] })).body).toMatchObject({ roles: ['analyst', 'supervisor'] });
    expect((await call(a, 'POST', '/api/users/new.analyst/disable', tok('admin'), { reason: 'left' })).body).toMatchObject({ disabled: true });
    expect((await call(a, 'POST', '/api/users/new.analyst/enable', tok('admin'))).body).toMatchObject({ disabled: false });
    const reset = await call(a, 'POST', '/api/users/new.analyst/reset', tok('admin'), { totp: true });
    expect(typeof (reset.body.totp as { secret: string }).secret).toBe('string');
    expect((await call(a, 'POST', '/api/users/nobody-here/enable', tok('admin'))).status).toBe(404);
    const changes = await auditWhere((x) => x.action.startsWith('user.') && x.subject?.user === 'new.analyst');
    expect(changes.map((x) => [x.action, x.actor])).toEqual([['user.add', 'u-admin'], ['user.roles', 'u-admin'], ['user.disable', 'u-admin'], ['user.enable', 'u-admin'], ['user.reset', 'u-admin']]);
  });

  it('serves the audit log, its report and its verification to auditors, and audits the reading', async () => {
    const read = await call(a, 'GET', '/api/audit?actor=u-analyst&action=search', tok('auditor'));
    const records = read.body.records as AuditRecord[];
    expect(records.length).toBeGreaterThanOrEqual(5);
    expect(records.every((r) => r.actor === 'u-analyst' && r.action === 'search')).toBe(true);
    const verify = await call(a, 'POST', '/api/audit/verify', tok('auditor'));
    expect(verify.body).toMatchObject({ ok: true });
    const report = await call(a, 'GET', `/api/audit/report?from=${REAL_NOW - DAY}&to=${new Date(REAL_NOW + 30 * DAY).toISOString()}`, tok('supervisor'));
    expect(report.status).toBe(200);
    expect(report.body).toHaveProperty('byRole');
    const reads = await auditWhere((x) => (x.action === 'audit.read' || x.action === 'audit.report') && (x.actor === 'u-auditor' || x.actor === 'u-supervisor'));
    expect(reads.map((x) => x.action)).toEqual(expect.arrayContaining(['audit.read', 'audit.report']));
    expect(reads.find((x) => x.actor === 'u-auditor')?.details).toMatchObject({ roles: ['auditor'] });
  });
});

describe('the server', () => {
  it('lists every route in /openapi.json, with request and response schemas', async () => {
    const doc = await call(a, 'GET', '/openapi.json');
    const paths = doc.body.paths as Record<string, Record<string, { responses?: Record<string, unknown>; security?: unknown; requestBody?: unknown }>>;
    for (const endpoint of Object.keys(ENDPOINT_ROLES).filter((e) => e !== 'GET /openapi.json')) {
      const [method, path] = endpoint.split(' ');
      const op = paths[path.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()];
      expect(op, endpoint).toBeDefined();
      expect(op?.responses?.['200'], endpoint).toBeDefined();
      if (ENDPOINT_ROLES[endpoint] !== 'public') expect(op?.security, endpoint).toEqual([{ session: [] }]);
    }
    expect(paths['/api/search'].post.requestBody).toBeDefined();
  });

  it('answers errors as JSON with a stable code', async () => {
    expect(await call(a, 'GET', '/api/nothing')).toMatchObject({ status: 404, body: { error: 'ERR_NOT_FOUND' } });
    expect(await call(a, 'POST', '/api/search', tok('analyst'), { plate: '7ABC123' })).toMatchObject({ status: 400, body: { error: 'ERR_BAD_REQUEST' } });
    expect(await call(a, 'POST', '/api/search', tok('analyst'), { plate: '7ABC123', pattern: 'A*', from: REAL_NOW - DAY, to: REAL_NOW, purpose: 'STOLEN_VEHICLE' })).toMatchObject({ status: 400, body: { error: 'ERR_SEARCH_QUERY' } });
  });

  it('reports health (database and NATS) and metrics by route', async () => {
    expect(await call(a, 'GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'ok', checks: { database: { ok: true }, nats: { ok: true, configured: true } } } });
    const m = await a.app.inject({ method: 'GET', url: '/metrics' });
    expect(m.body).toMatch(/platesieve_ops_requests_total\{route="\/api\/search",method="POST",status="200"\} \d+/);
    expect(m.body).toMatch(/platesieve_ops_request_duration_seconds_bucket\{le="[^"]+",route="\/api\/holds\/:id\/release"/);
    expect(m.body).toMatch(/platesieve_ops_logins_total\{outcome="refused"\} \d+/);
  });
});
