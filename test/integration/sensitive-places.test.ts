/**
 * Sensitive places (Englewood PD 425.5 (g)-(i)) through the operations API, against a real
 * PostgreSQL: reads of a camera tagged `healthcare` are withheld from searches and exports
 * until a supervisor other than the requester approves access for the purpose and case, with
 * the articulated nexus; purposes the tag does not allow stay withheld; expired, pending,
 * denied and borrowed approvals are refused; every step is in the audit log with its actor.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgAuditLog, readPgAudit } from '../../matcher/audit/pg-log.js';
import type { AuditRecord } from '../../matcher/audit/types.js';
import { writeSession } from '../../matcher/cli/api-client.js';
import { DEFAULT_OCR_CLASSES, ocrClassMap } from '../../matcher/core/plate.js';
import { pgAuditSource } from '../../matcher/ops/audit-source.js';
import { createOpsServer, type OpsServer } from '../../matcher/ops/server.js';
import type { Role } from '../../matcher/people/index.js';
import { readRow } from '../../matcher/store/rows.js';
import { StoreWriter } from '../../matcher/store/writer.js';
import type { ReadRecord } from '../../matcher/types.js';
import { CLI, ROOT, ensureBuilt, type RunResult } from '../helpers/cli.js';
import { addAndLogin, injectAs, type ApiResult, closeOpsDatabase, openOpsDatabase } from '../helpers/ops.js';
import type { TestDatabase } from '../helpers/postgres.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const REAL_NOW = Date.now();
let clock = REAL_NOW;
const now = (): number => clock;

let db: TestDatabase;
let pool: pg.Pool;
let audit: PgAuditLog;
let ops: OpsServer;
const tokens = new Map<string, string>();

function rec(id: string, cameraId: string, ts: number): ReadRecord {
  return { id, plate: '7ABC123', ts, state: 'CA', cameraId, agency: 'CA0010000', hit: false, alertIds: [], retention: { policy: 'default', class: 'nonhit', expiresAt: ts + 800 * DAY, basis: 'b' } };
}

const call = (method: string, url: string, user: string, body?: unknown): Promise<ApiResult> => injectAs(ops, tokens.get(user) ?? 'none', method, url, body);

async function auditWhere(filter: (r: AuditRecord) => boolean): Promise<AuditRecord[]> {
  return (await readPgAudit(pool, { limit: 100_000 })).filter(filter);
}

const steps = (recs: AuditRecord[]): string[] => recs.map((x) => `${x.action} ${x.actor} ${x.outcome}`);
const ids = (r: ApiResult): string[] => ((r.body.hits ?? []) as Array<{ id: string }>).map((h) => h.id).sort();
const window = { plate: '7ABC123', from: REAL_NOW - 10 * DAY, to: REAL_NOW };
const felony = { ...window, purpose: 'FELONY_INVESTIGATION', case: 'C-1' };
const nexus = 'the shooting suspect was driven to St. Luke\'s emergency entrance minutes after the shooting (witness statement, report 26-1187)';

async function requestApproval(user: string, caseNo: string): Promise<string> {
  const r = await call('POST', '/api/sensitive/requests', user, { tags: ['healthcare'], purpose: 'FELONY_INVESTIGATION', case: caseNo, nexus });
  expect(r.status).toBe(200);
  return r.body.id as string;
}

beforeAll(async () => {
  ({ db, pool, audit } = await openOpsDatabase('sensitive', 8));
  const classes = ocrClassMap(DEFAULT_OCR_CLASSES);
  await new StoreWriter(pool).write({
    reads: [rec('r-street', 'cam-street', REAL_NOW - 2 * DAY), rec('r-clinic', 'cam-clinic', REAL_NOW - DAY)].map((r) => readRow(r, classes, new Map())),
    alerts: [],
    deadletters: [],
  });
  ops = await createOpsServer({
    pool, audit, auditSource: pgAuditSource(pool), now, loginsPerMinute: 0, session: { ttlMs: 30 * DAY, idleTimeoutMs: 30 * DAY },
    sensitivePlaces: { tags: {}, cameras: { 'cam-clinic': ['healthcare'] }, approvalHours: 2 },
  });
  const users: Array<[string, Role]> = [['ana', 'analyst'], ['ana2', 'analyst'], ['sup1', 'supervisor'], ['sup2', 'supervisor']];
  for (const [name, token] of await addAndLogin(ops, users, () => (clock += 30_000))) tokens.set(name, token);
}, 60_000);

afterAll(async () => {
  await ops?.close();
  await closeOpsDatabase({ db, pool, audit });
});

describe('sensitive places', () => {
  it('a sensitive-place search refused without approval and allowed with it, every step found in the audit log', async () => {
    const before = await call('POST', '/api/search', 'ana', felony);
    expect(before.status).toBe(200);
    expect(ids(before)).toEqual(['r-street']);
    // A flag, never a count: how often a car was at a clinic is the very thing 425.5(h) protects.
    expect(before.body.withheld).toEqual({ sensitive: true });

    const id = await requestApproval('ana', 'C-1');
    const pending = await call('POST', '/api/search', 'ana', { ...felony, sensitiveApproval: id });
    expect(pending).toMatchObject({ status: 403, body: { error: 'ERR_SENSITIVE_APPROVAL', refusal: 'APPROVAL_PENDING' } });
    // The analyst may not decide at all; a supervisor never their own request.
    expect((await call('POST', `/api/sensitive/requests/${id}/approve`, 'ana', { note: 'mine' })).body.error).toBe('ERR_FORBIDDEN_ROLE');
    const own = await requestApproval('sup2', 'C-1');
    expect(await call('POST', `/api/sensitive/requests/${own}/approve`, 'sup2', { note: 'mine' })).toMatchObject({ status: 403, body: { error: 'ERR_SENSITIVE_SELF_APPROVAL' } });

    const approved = await call('POST', `/api/sensitive/requests/${id}/approve`, 'sup1', { note: 'nexus to the shooting is articulated' });
    expect(approved.body).toMatchObject({ id, status: 'approved', requestedBy: 'ana', decidedBy: 'sup1', expiresAt: clock + 2 * HOUR, tags: ['healthcare'], case: 'C-1' });
    expect((await call('POST', `/api/sensitive/requests/${id}/deny`, 'sup2', { note: 'late' })).status).toBe(409);

    const after = await call('POST', '/api/search', 'ana', { ...felony, sensitiveApproval: id });
    expect(after.status).toBe(200);
    expect(ids(after)).toEqual(['r-clinic', 'r-street']);
    expect(after.body.withheld).toBeUndefined();

    // Another analyst cannot borrow it.
    expect((await call('POST', '/api/search', 'ana2', { ...felony, sensitiveApproval: id })).body).toMatchObject({ error: 'ERR_SENSITIVE_APPROVAL', refusal: 'APPROVAL_NOT_YOURS' });

    const recs = await auditWhere((x) => x.subject?.approvalId === id || x.details?.sensitiveApproval === id);
    expect(steps(recs)).toEqual([
      'sensitive.request ana ok', 'sensitive.access ana refused', 'sensitive.approve sup1 ok', 'sensitive.deny sup2 refused', 'search ana ok', 'sensitive.access ana ok', 'sensitive.access ana2 refused',
    ]);
    expect(recs[1].details?.refusal).toBe('APPROVAL_PENDING');
    expect(recs[3].details?.refusal).toBe('NOT_PENDING');
    expect(recs[0]).toMatchObject({ purpose: 'FELONY_INVESTIGATION', case: 'C-1', reason: nexus, subject: { tags: ['healthcare'] }, details: { roles: ['analyst'] } });
    expect(recs[2]).toMatchObject({ reason: 'nexus to the shooting is articulated', subject: { requestedBy: 'ana' }, details: { roles: ['supervisor'], status: 'approved' } });
    expect(recs[5]).toMatchObject({ purpose: 'FELONY_INVESTIGATION', case: 'C-1', subject: { plate: '7ABC123', count: 1 }, details: { tags: ['healthcare'], requestedBy: 'ana', approvedBy: 'sup1' } });
    const withheld = await auditWhere((x) => x.action === 'sensitive.withheld' && x.actor === 'ana');
    expect(withheld[0]).toMatchObject({ purpose: 'FELONY_INVESTIGATION', case: 'C-1', subject: { plate: '7ABC123', count: 1 }, details: { reasons: { 'no-approval': 1 } } });
    const self = await auditWhere((x) => x.subject?.approvalId === own);
    expect(steps(self)).toEqual(['sensitive.request sup2 ok', 'sensitive.approve sup2 refused']);
    expect(self[1].details?.refusal).toBe('SELF_APPROVAL');
  });

  it('a purpose the tag does not allow is withheld even with an approval, and never approved', async () => {
    const id = await requestApproval('ana', 'C-7');
    await call('POST', `/api/sensitive/requests/${id}/approve`, 'sup1', { note: 'ok' });
    for (const purpose of ['STOLEN_VEHICLE', 'SYSTEM_AUDIT']) {
      const r = await call('POST', '/api/search', 'ana', { ...window, purpose, sensitiveApproval: id });
      expect(r.status).toBe(200);
      expect(ids(r)).toEqual(['r-street']);
      expect(r.body.withheld).toEqual({ sensitive: true });
    }
    // Another case than the approval's: withheld too.
    expect(ids(await call('POST', '/api/search', 'ana', { ...felony, case: 'C-8', sensitiveApproval: id }))).toEqual(['r-street']);
    const reasons = (await auditWhere((x) => x.action === 'sensitive.withheld' && x.subject?.approvalId === id)).map((x) => Object.keys(x.details?.reasons as object)[0]);
    expect(reasons).toEqual(['purpose', 'purpose', 'approval-scope']);

    const stolen = await call('POST', '/api/sensitive/requests', 'ana', { tags: ['healthcare'], purpose: 'STOLEN_VEHICLE', case: 'C-9', nexus });
    expect(stolen).toMatchObject({ status: 403, body: { error: 'ERR_SENSITIVE_PURPOSE', refusal: 'PURPOSE' } });
    expect(stolen.body.citation).toMatch(/425\.5\(h\)/);
    expect((await call('POST', '/api/sensitive/requests', 'ana', { tags: ['healthcare'], purpose: 'INTERNAL_AFFAIRS', case: 'IA-1', nexus })).body.error).toBe('ERR_SENSITIVE_PURPOSE');
    expect((await call('POST', '/api/sensitive/requests', 'ana', { tags: ['clinic'], purpose: 'HOMICIDE', case: 'C-9', nexus })).body.error).toBe('ERR_SENSITIVE_TAG');
    expect((await call('POST', '/api/sensitive/requests', 'ana', { tags: ['healthcare'], purpose: 'PROTEST', case: 'C-9', nexus })).body.error).toBe('ERR_PURPOSE_REFUSED');
    const refused = await auditWhere((x) => x.action === 'sensitive.request' && x.outcome === 'refused');
    expect(refused.map((x) => x.purpose)).toEqual(['STOLEN_VEHICLE', 'INTERNAL_AFFAIRS', 'HOMICIDE', 'PROTEST']);
  });

  it('expired and denied approvals are refused (audited); the list shows every decision', async () => {
    const id = await requestApproval('ana', 'C-2');
    await call('POST', `/api/sensitive/requests/${id}/approve`, 'sup1', { note: 'ok for two hours' });
    expect(ids(await call('POST', '/api/search', 'ana', { ...felony, case: 'C-2', sensitiveApproval: id }))).toEqual(['r-clinic', 'r-street']);
    clock += 2 * HOUR;
    const expired = await call('POST', '/api/search', 'ana', { ...felony, case: 'C-2', sensitiveApproval: id });
    expect(expired).toMatchObject({ status: 403, body: { error: 'ERR_SENSITIVE_APPROVAL', refusal: 'APPROVAL_EXPIRED' } });
    const denied = await requestApproval('ana', 'C-3');
    expect((await call('POST', `/api/sensitive/requests/${denied}/deny`, 'sup2', { note: 'no nexus: a visit is not a crime' })).body).toMatchObject({ status: 'denied', decidedBy: 'sup2' });
    expect((await call('POST', '/api/search', 'ana', { ...felony, case: 'C-3', sensitiveApproval: denied })).body.refusal).toBe('APPROVAL_DENIED');
    expect(steps(await auditWhere((x) => x.subject?.approvalId === id && x.action === 'sensitive.access'))).toEqual(['sensitive.access ana ok', 'sensitive.access ana refused']);
    expect(steps(await auditWhere((x) => x.subject?.approvalId === denied))).toEqual(['sensitive.request ana ok', 'sensitive.deny sup2 ok', 'sensitive.access ana refused']);
    const list = await call('GET', '/api/sensitive/requests?status=denied', 'sup1');
    expect((list.body.requests as Array<{ id: string; note: string }>).map((x) => x.id)).toEqual([denied]);
  });

  it('sharing export applies the rule: without an approval the tagged read stays out, with the requester\'s approval it is exported', async () => {
    const base = { agency: 'Denver PD', federal: false, requester: 'Det. R. Ortiz', purpose: 'FELONY_INVESTIGATION', case: 'C-4', query: window };
    const plain = (await call('POST', '/api/sharing/requests', 'ana', base)).body.id as string;
    await call('POST', `/api/sharing/requests/${plain}/approve`, 'sup1', { note: 'verified' });
    const e1 = await call('POST', `/api/sharing/requests/${plain}/export`, 'sup1');
    expect(e1.status).toBe(200);
    expect((e1.body.ndjson as string).trimEnd().split('\n').map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(['r-street']);
    expect(e1.body.withheld).toEqual({ sensitive: true });
    expect(JSON.stringify(e1.body.manifest)).not.toMatch(/withheld|sensitive/);

    const approval = await requestApproval('ana', 'C-4');
    await call('POST', `/api/sensitive/requests/${approval}/approve`, 'sup2', { note: 'ok' });
    expect((await call('POST', '/api/sharing/requests', 'ana2', { ...base, sensitiveApproval: approval })).body.refusal).toBe('APPROVAL_NOT_YOURS');
    expect((await call('POST', '/api/sharing/requests', 'ana', { ...base, case: 'C-5', sensitiveApproval: approval })).body.refusal).toBe('APPROVAL_SCOPE');
    const r = await call('POST', '/api/sharing/requests', 'ana', { ...base, sensitiveApproval: approval });
    expect(r.body).toMatchObject({ status: 'pending', sensitiveApproval: approval });
    const share = r.body.id as string;
    await call('POST', `/api/sharing/requests/${share}/approve`, 'sup1', { note: 'verified, sensitive approval checked' });
    const e2 = await call('POST', `/api/sharing/requests/${share}/export`, 'sup1');
    expect(e2.status).toBe(200);
    expect((e2.body.ndjson as string).trimEnd().split('\n').map((l) => (JSON.parse(l) as { id: string }).id).sort()).toEqual(['r-clinic', 'r-street']);
    expect(e2.body.withheld).toBeUndefined();

    const w = await auditWhere((x) => x.action === 'sensitive.withheld' && x.details?.requestId === plain);
    expect(w).toMatchObject([{ actor: 'sup1', case: 'C-4', details: { via: 'export', reasons: { 'no-approval': 1 } } }]);
    const a = await auditWhere((x) => x.action === 'sensitive.access' && x.details?.requestId === share);
    expect(a).toMatchObject([{ actor: 'sup1', outcome: 'ok', subject: { approvalId: approval, count: 1 }, details: { via: 'export', requestedBy: 'ana', approvedBy: 'sup2' } }]);
    expect((await auditWhere((x) => x.action === 'share.request' && x.outcome === 'refused')).map((x) => x.details?.refusal)).toEqual(['APPROVAL_NOT_YOURS', 'APPROVAL_SCOPE']);
  });
});

describe('platesieve sensitive and search (the CLI)', () => {
  let base: string;
  let dir: string;
  beforeAll(async () => {
    ensureBuilt();
    base = await ops.listen({ host: '127.0.0.1', port: 0 });
    dir = await mkdtemp(join(tmpdir(), 'platesieve-sensitive-'));
    for (const user of ['ana', 'sup1']) writeSession({ api: base, token: tokens.get(user) as string, expiresAt: clock + 3_600_000, user }, { XDG_CONFIG_HOME: join(dir, user) });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function cli(user: string, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, XDG_CONFIG_HOME: join(dir, user), PLATESIEVE_DB_URL: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
      child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  it('requests as the analyst, approves as the supervisor, searches with --sensitive-approval; a direct search applies the recorded tags', async () => {
    const win = ['--from', new Date(window.from).toISOString(), '--to', new Date(window.to).toISOString()];
    const search = ['search', '--plate', '7ABC123', ...win, '--purpose', 'FELONY_INVESTIGATION', '--case', 'C-6', '--format', 'ndjson'];
    const plain = await cli('ana', search);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(['r-street']);
    expect(plain.stderr).toMatch(/sensitive places were withheld/);

    const r = await cli('ana', ['sensitive', 'request', '--tags', 'healthcare', '--purpose', 'FELONY_INVESTIGATION', '--case', 'C-6', '--nexus', nexus]);
    expect(r.code, r.stderr).toBe(0);
    const id = r.stdout.split(' ')[0];
    expect(r.stdout).toContain(`${id}  pending  healthcare`);
    expect((await cli('ana', ['sensitive', 'approve', id, '--note', 'mine'])).code).toBe(1);
    const a = await cli('sup1', ['sensitive', 'approve', id, '--note', 'nexus articulated']);
    expect(a.stdout).toContain(`${id}  approved by sup1`);
    const with_ = await cli('ana', [...search, '--sensitive-approval', id]);
    expect(with_.code, with_.stderr).toBe(0);
    expect(with_.stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(['r-clinic', 'r-street']);
    expect(with_.stderr).not.toMatch(/withheld/);
    const list = await cli('sup1', ['sensitive', 'list', '--status', 'approved']);
    expect(list.stdout).toContain(id);

    // A person's direct database search: the tags the API recorded apply there too.
    const direct = await cli('ana', [...search, '--db', db.url, '--audit', join(dir, 'direct-audit.jsonl')]);
    expect(direct.code, direct.stderr).toBe(0);
    expect(direct.stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(['r-street']);
    expect(direct.stderr).toMatch(/sensitive places were withheld/);
    expect(steps(await auditWhere((x) => x.subject?.approvalId === id))).toEqual(['sensitive.request ana ok', 'sensitive.approve sup1 ok', 'sensitive.access ana ok']);
  }, 60_000);
});
