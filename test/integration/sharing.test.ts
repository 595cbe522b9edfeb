/**
 * Sharing with other agencies through the operations API, against a real PostgreSQL and
 * nats-server: request, decisions (the requester never decides their own), the one export
 * with a manifest whose hash is the NDJSON's, Clear Creek 424.4's federal steps, role
 * refusals, and every step found in the audit log.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgAuditLog, readPgAudit } from '../../matcher/audit/pg-log.js';
import type { AuditRecord } from '../../matcher/audit/types.js';
import { DEFAULT_OCR_CLASSES, ocrClassMap } from '../../matcher/core/plate.js';
import { writeSession } from '../../matcher/cli/api-client.js';
import { pgAuditSource } from '../../matcher/ops/audit-source.js';
import { createOpsServer, type OpsServer } from '../../matcher/ops/server.js';
import type { Role } from '../../matcher/people/index.js';
import { readRow } from '../../matcher/store/rows.js';
import { StoreWriter } from '../../matcher/store/writer.js';
import type { ReadRecord } from '../../matcher/types.js';
import { CLI, ROOT, ensureBuilt, type RunResult } from '../helpers/cli.js';
import { startNatsServer, uniquePrefix, type NatsServerHandle } from '../helpers/nats-server.js';
import { addAndLogin, injectAs, type ApiResult, closeOpsDatabase, openOpsDatabase } from '../helpers/ops.js';
import type { TestDatabase } from '../helpers/postgres.js';

const DAY = 86_400_000;
const REAL_NOW = Date.now();
let clock = REAL_NOW;
const now = (): number => clock;

let db: TestDatabase;
let pool: pg.Pool;
let audit: PgAuditLog;
let nats: NatsServerHandle;
let nc: NatsConnection;
let ops: OpsServer;
const tokens = new Map<string, string>();

function rec(id: string, plate: string, ts: number): ReadRecord {
  return { id, plate, ts, state: 'CA', cameraId: 'cam-1', agency: 'CA0010000', hit: false, alertIds: [], retention: { policy: 'default', class: 'nonhit', expiresAt: ts + 800 * DAY, basis: 'b' } };
}

const call = (method: string, url: string, user: string, body?: unknown): Promise<ApiResult> => injectAs(ops, tokens.get(user) ?? 'none', method, url, body);

async function auditWhere(filter: (r: AuditRecord) => boolean): Promise<AuditRecord[]> {
  return (await readPgAudit(pool, { limit: 100_000 })).filter(filter);
}

const query = { plate: '7ABC123', from: REAL_NOW - 10 * DAY, to: REAL_NOW };
const local = { agency: 'Denver PD', federal: false, requester: 'Det. R. Ortiz', purpose: 'ROBBERY', case: 'DPD-2026-0101', query };

beforeAll(async () => {
  ({ db, pool, audit } = await openOpsDatabase('sharing', 8));
  const classes = ocrClassMap(DEFAULT_OCR_CLASSES);
  await new StoreWriter(pool).write({
    reads: [rec('r1', '7ABC123', REAL_NOW - 2 * DAY), rec('r2', '7A8C123', REAL_NOW - DAY), rec('r3', 'ZZZ999', REAL_NOW - DAY)].map((r) => readRow(r, classes, new Map())),
    alerts: [],
    deadletters: [],
  });
  nats = await startNatsServer({ jetstream: true });
  nc = await connect({ servers: nats.url });
  ops = await createOpsServer({ pool, audit, auditSource: pgAuditSource(pool), nats: nc, bucket: `share-${uniquePrefix()}`, now, loginsPerMinute: 0 });
  const users: Array<[string, Role]> = [['ana', 'analyst'], ['sup1', 'supervisor'], ['sup2', 'supervisor'], ['opr', 'operator'], ['aud', 'auditor']];
  for (const [name, token] of await addAndLogin(ops, users, () => (clock += 30_000))) tokens.set(name, token);
}, 60_000);

afterAll(async () => {
  await ops?.close();
  await nc?.close();
  await nats?.stop();
  await closeOpsDatabase({ db, pool, audit });
});

describe('sharing', () => {
  it('denied: never exported; each step audited', async () => {
    const r = await call('POST', '/api/sharing/requests', 'ana', local);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'pending', missing: ['supervisor'], createdBy: 'ana', agency: 'Denver PD' });
    const id = r.body.id as string;
    const d = await call('POST', `/api/sharing/requests/${id}/deny`, 'sup1', { note: 'no nexus to our data' });
    expect(d.body).toMatchObject({ status: 'denied', approvals: [{ decision: 'deny', actor: 'sup1', role: 'supervisor', note: 'no nexus to our data' }] });
    expect(await call('POST', `/api/sharing/requests/${id}/approve`, 'sup2', { note: 'changed my mind' })).toMatchObject({ status: 400 });
    const e = await call('POST', `/api/sharing/requests/${id}/export`, 'sup1');
    expect(e.status).toBe(400);
    expect(e.body.message).toMatch(/approved/);
    expect((await call('GET', `/api/sharing/requests/${id}/export`, 'sup1')).status).toBe(404);
    const recs = await auditWhere((x) => x.subject?.requestId === id);
    expect(recs.map((x) => `${x.action} ${x.actor} ${x.outcome}`)).toEqual(['share.request ana ok', 'share.deny sup1 ok', 'share.approve sup2 refused', 'export sup1 refused', 'export sup1 refused']);
    expect(recs[0]).toMatchObject({ purpose: 'ROBBERY', case: 'DPD-2026-0101', subject: { agency: 'Denver PD', requester: 'Det. R. Ortiz' }, details: { roles: ['analyst'] } });
  });

  it('approved: one export whose manifest hash is the NDJSON bytes, counts matching; fetched again identical', async () => {
    const id = (await call('POST', '/api/sharing/requests', 'ana', local)).body.id as string;
    const a = await call('POST', `/api/sharing/requests/${id}/approve`, 'sup1', { note: 'case verified with DPD' });
    expect(a.body).toMatchObject({ status: 'approved', missing: [] });
    const e = await call('POST', `/api/sharing/requests/${id}/export`, 'sup1');
    expect(e.status).toBe(200);
    const ndjson = e.body.ndjson as string;
    const manifest = e.body.manifest as Record<string, unknown>;
    expect(createHash('sha256').update(ndjson, 'utf8').digest('hex')).toBe(manifest.sha256);
    const lines = ndjson.trimEnd().split('\n').map((l) => JSON.parse(l) as { kind: string; id: string; match: string });
    // 7ABC123 itself and its OCR twin 7A8C123; never ZZZ999.
    expect(lines.map((l) => l.id).sort()).toEqual(['r1', 'r2']);
    const byMatch: Record<string, number> = {};
    for (const l of lines) byMatch[l.match] = (byMatch[l.match] ?? 0) + 1;
    expect(manifest).toMatchObject({ requestId: id, agency: 'Denver PD', purpose: 'ROBBERY', case: 'DPD-2026-0101', counts: { total: 2, byKind: { read: 2 }, byMatch }, approvals: [{ actor: 'sup1', kind: 'supervisor' }] });
    expect((await call('POST', `/api/sharing/requests/${id}/export`, 'sup2')).body.error).toBe('ERR_BAD_REQUEST');
    const again = await call('GET', `/api/sharing/requests/${id}/export`, 'sup2');
    expect(again.body).toEqual(e.body);
    const dl = await call('GET', `/api/sharing/requests/${id}/export?download=true`, 'sup2');
    expect(dl.raw).toBe(ndjson);
    expect(dl.headers['x-platesieve-sha256']).toBe(manifest.sha256);
    const recs = await auditWhere((x) => x.subject?.requestId === id);
    expect(recs.map((x) => `${x.action} ${x.actor} ${x.outcome}`)).toEqual(['share.request ana ok', 'share.approve sup1 ok', 'export sup1 ok', 'export sup2 refused', 'export sup2 ok', 'export sup2 ok']);
    expect(recs[2]).toMatchObject({ subject: { count: 2 }, details: { sha256: manifest.sha256, roles: ['supervisor'] } });
    // The export's search ran as the exporting supervisor, with the request's purpose.
    expect(await auditWhere((x) => x.action === 'search' && x.actor === 'sup1' && x.case === 'DPD-2026-0101')).toHaveLength(1);
  });

  it('the requester cannot decide their own request', async () => {
    const id = (await call('POST', '/api/sharing/requests', 'sup1', local)).body.id as string;
    const self = await call('POST', `/api/sharing/requests/${id}/approve`, 'sup1', { note: 'mine' });
    expect(self).toMatchObject({ status: 403, body: { error: 'ERR_FORBIDDEN_ROLE' } });
    expect((await call('POST', `/api/sharing/requests/${id}/deny`, 'sup1', { note: 'mine' })).status).toBe(403);
    expect((await call('POST', `/api/sharing/requests/${id}/approve`, 'sup2', { note: 'ok' })).body.status).toBe('approved');
    const refused = await auditWhere((x) => x.subject?.requestId === id && x.outcome === 'refused');
    expect(refused.map((x) => `${x.action} ${x.details?.refusal as string}`)).toEqual(['share.approve SELF_APPROVAL', 'share.deny SELF_APPROVAL']);
  });

  it('federal (Clear Creek 424.4): criminal investigations only, County Attorney notice and a supervisor before export', async () => {
    const civil = await call('POST', '/api/sharing/requests', 'ana', { ...local, agency: 'FBI Denver', federal: true, purpose: 'CIVIL_LITIGATION' });
    expect(civil).toMatchObject({ status: 403, body: { error: 'ERR_PURPOSE_REFUSED' } });
    expect(await auditWhere((x) => x.action === 'share.request' && x.outcome === 'refused' && x.subject?.agency === 'FBI Denver')).toHaveLength(1);
    const r = await call('POST', '/api/sharing/requests', 'ana', { ...local, agency: 'US Postal Inspection Service', federal: true, purpose: 'FRAUD' });
    expect(r.body).toMatchObject({ status: 'pending', missing: ['county-attorney-notice', 'supervisor'] });
    const id = r.body.id as string;
    expect((await call('POST', `/api/sharing/requests/${id}/approve`, 'sup1', { note: 'approved' })).body).toMatchObject({ status: 'pending', missing: ['county-attorney-notice'] });
    expect((await call('POST', `/api/sharing/requests/${id}/export`, 'sup1')).body.message).toMatch(/county-attorney-notice/);
    expect((await call('POST', `/api/sharing/requests/${id}/approve`, 'sup1', { note: 'again' })).body.error).toBe('ERR_BAD_REQUEST');
    const n = await call('POST', `/api/sharing/requests/${id}/approve`, 'sup2', { kind: 'county-attorney-notice', note: 'notified ADA J. Park by phone 2026-12-01 09:10' });
    expect(n.body).toMatchObject({ status: 'approved', missing: [] });
    const e = await call('POST', `/api/sharing/requests/${id}/export`, 'sup2');
    expect(e.status).toBe(200);
    expect((e.body.manifest as { approvals: Array<{ kind: string; actor: string }> }).approvals.map((x) => `${x.kind} ${x.actor}`)).toEqual(['supervisor sup1', 'county-attorney-notice sup2']);
    const local2 = (await call('POST', '/api/sharing/requests', 'ana', local)).body.id as string;
    expect((await call('POST', `/api/sharing/requests/${local2}/approve`, 'sup1', { kind: 'county-attorney-notice', note: 'n/a' })).body.error).toBe('ERR_BAD_REQUEST');
    const steps = await auditWhere((x) => x.subject?.requestId === id && x.outcome === 'ok');
    expect(steps.map((x) => `${x.action} ${(x.details?.kind as string | undefined) ?? ''}`)).toEqual(['share.request ', 'share.approve supervisor', 'share.approve county-attorney-notice', 'export ']);
  });

  it('roles: operators and auditors are refused; analysts may not decide or export', async () => {
    const id = (await call('POST', '/api/sharing/requests', 'ana', local)).body.id as string;
    for (const user of ['opr', 'aud']) {
      expect((await call('POST', '/api/sharing/requests', user, local)).body.error).toBe('ERR_FORBIDDEN_ROLE');
      expect((await call('GET', '/api/sharing/requests', user)).body.error).toBe('ERR_FORBIDDEN_ROLE');
    }
    expect((await call('POST', `/api/sharing/requests/${id}/approve`, 'ana', { note: 'x' })).body.error).toBe('ERR_FORBIDDEN_ROLE');
    expect((await call('POST', `/api/sharing/requests/${id}/export`, 'ana')).body.error).toBe('ERR_FORBIDDEN_ROLE');
    const list = await call('GET', '/api/sharing/requests?status=pending', 'ana');
    expect((list.body.requests as Array<{ id: string }>).map((x) => x.id)).toContain(id);
    expect(await auditWhere((x) => x.action === 'share.list' && x.actor === 'ana')).toHaveLength(1);
    expect((await auditWhere((x) => x.action === 'session.refused' && x.actor === 'opr')).length).toBe(2);
  });
});

describe('platesieve share (the CLI through the API session)', () => {
  let base: string;
  let dir: string;
  beforeAll(async () => {
    ensureBuilt();
    base = await ops.listen({ host: '127.0.0.1', port: 0 });
    dir = await mkdtemp(join(tmpdir(), 'platesieve-share-'));
    for (const user of ['ana', 'sup1']) writeSession({ api: base, token: tokens.get(user) as string, expiresAt: clock + 3_600_000, user }, { XDG_CONFIG_HOME: join(dir, user) });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function cli(user: string, args: string[]): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, XDG_CONFIG_HOME: join(dir, user), PLATESIEVE_DB_URL: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
      child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  it('requests as the analyst, approves and exports as the supervisor; the file matches the manifest hash', async () => {
    const window = ['--from', new Date(query.from).toISOString(), '--to', new Date(query.to).toISOString()];
    const bad = await cli('ana', ['share', 'request', '--agency', 'Denver PD', '--requester', 'Det. R', '--purpose', 'ROBBERY', '--case', 'C-9', ...window]);
    expect(bad.code).toBe(2);
    const r = await cli('ana', ['share', 'request', '--agency', 'Denver PD', '--requester', 'Det. R', '--purpose', 'ROBBERY', '--case', 'C-9', '--plate', '7ABC123', ...window]);
    expect(r.code, r.stderr).toBe(0);
    const id = r.stdout.split(' ')[0];
    expect(r.stdout).toContain('pending (missing: supervisor)');
    const self = await cli('ana', ['share', 'approve', id, '--note', 'mine']);
    expect(self.code).toBe(1);
    const a = await cli('sup1', ['share', 'approve', id, '--note', 'verified']);
    expect(a.stdout).toContain(`${id}  approved`);
    const out = join(dir, 'export.ndjson');
    const e = await cli('sup1', ['share', 'export', id, '--out', out]);
    expect(e.code, e.stderr).toBe(0);
    const manifest = JSON.parse(await readFile(`${out}.manifest.json`, 'utf8')) as { sha256: string; counts: { total: number } };
    const bytes = await readFile(out);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(manifest.sha256);
    expect(bytes.toString('utf8').trimEnd().split('\n')).toHaveLength(manifest.counts.total);
    const steps = await auditWhere((x) => x.subject?.requestId === id && x.outcome === 'ok');
    expect(steps.map((x) => `${x.action} ${x.actor}`)).toEqual(['share.request ana', 'share.approve sup1', 'export sup1']);
  }, 60_000);
});
