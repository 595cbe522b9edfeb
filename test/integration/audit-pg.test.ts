import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../matcher/audit/log.js';
import { PgAuditLog, readPgAudit, verifyPgAudit } from '../../matcher/audit/pg-log.js';
import type { AuditEvent, AuditRecord } from '../../matcher/audit/types.js';
import { exportAuditArray, verifyAuditFile } from '../../matcher/audit/verify.js';
import type { PurposeRefusal } from '../../matcher/policy/purpose.js';
import { migrate } from '../../matcher/store/schema.js';
import { ensureBuilt, runCli, tempDir } from '../helpers/cli.js';
import { ADMIN_URL, createTestDatabase, type TestDatabase } from '../helpers/postgres.js';

const dir = tempDir('platesieve-audit-pg-');
const EVENTS: AuditEvent[] = [
  { action: 'search', actor: 'jdoe', purpose: 'ROBBERY', case: '24-00123', subject: { plate: 'ABC123', from: 1, to: 2, count: 3 }, reason: 'suspect vehicle', details: { roles: ['investigator'], tiers: null } },
  { action: 'hold.add', actor: 'jdoe', purpose: 'ROBBERY', case: '24-00123', subject: { holdId: 'h-1', count: 2 } },
  { action: 'login', actor: 'asmith', outcome: 'refused', reason: 'wrong password' },
];
const refusal: PurposeRefusal = { ok: false, category: 'CIVIL_IMMIGRATION', code: 'FORBIDDEN_PURPOSE', reason: 'purpose ICE is forbidden', citation: 'Englewood PD 425.5(f)' };

/**
 * A pool whose idle connections may be ended by the server (a database dropped WITH (FORCE), a
 * backend terminated) without an unhandled 'error' event: queries still reject on any failure.
 */
function newPool(url: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on('error', () => undefined);
  return pool;
}

async function migrated(db: TestDatabase): Promise<pg.Pool> {
  const pool = newPool(db.url, 4);
  const client = await pool.connect();
  try {
    await migrate(client);
  } finally {
    client.release();
  }
  return pool;
}

/** The record without what differs between two logs (their ids, hence every hash). */
const shape = (r: AuditRecord): Omit<AuditRecord, 'prev' | 'hash' | 'details'> & { details?: unknown; keys: string[] } => {
  const { prev: _p, hash: _h, ...rest } = r;
  const details = r.action === 'log.created' ? { ...r.details, logId: 'x' } : r.details;
  return { ...rest, ...(details !== undefined ? { details } : {}), keys: Object.keys(r).sort() };
};

describe('the PostgreSQL audit log', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    db = await createTestDatabase('audit_pg');
    pool = await migrated(db);
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('writes the same records and chain as the file log, which verify as a file', async () => {
    let t = Date.parse('2026-02-01T00:00:00Z');
    const now = (): number => (t += 1000);
    const log = await PgAuditLog.open(pool, { actor: 'svc', now });
    const file = await AuditLog.open(join(dir.path, 'same.log'), { actor: 'svc', now: (() => { let u = Date.parse('2026-02-01T00:00:00Z'); return () => (u += 1000); })() });
    const fromPg: AuditRecord[] = [];
    const fromFile: AuditRecord[] = [];
    for (const e of EVENTS) {
      fromPg.push(await log.append(e));
      fromFile.push(await file.append(e));
    }
    fromPg.push(await log.refused({ action: 'search', actor: 'jdoe', purpose: 'ICE' }, refusal));
    fromFile.push(await file.refused({ action: 'search', actor: 'jdoe', purpose: 'ICE' }, refusal));
    await file.close();
    await log.close();

    const stored = await readPgAudit(pool, {});
    expect(stored).toEqual([stored[0], ...fromPg]);
    expect(stored[0]).toMatchObject({ seq: 0, action: 'log.created', actor: 'svc', details: { logId: log.logId, format: 'platesieve-audit/1' } });
    const fileRecords = await exportAuditArray(join(dir.path, 'same.log'));
    expect(stored.map(shape)).toEqual(fileRecords.map(shape));
    expect(await log.head()).toBe(fromPg[fromPg.length - 1].hash);

    // The rows' canonical text, written as lines, is a file log that verifies.
    const { rows } = await pool.query<{ line: string }>('SELECT line FROM platesieve.audit ORDER BY seq');
    const copy = join(dir.path, 'copy.log');
    await writeFile(copy, rows.map((r) => `${r.line}\n`).join(''));
    const v = await verifyAuditFile(copy);
    expect(v).toMatchObject({ ok: true, records: 5, logId: log.logId, head: fromPg[3].hash });
    expect(await verifyPgAudit(pool)).toEqual(v);
  });

  it('continues the chain when opened again, and refuses invalid events and a closed log', async () => {
    const before = await readPgAudit(pool, {});
    const log = await PgAuditLog.open(pool);
    expect(log.logId).toBe(before[0].details?.logId);
    const r = await log.append({ action: 'export', actor: 'jdoe', purpose: 'ROBBERY', case: '24-00123', subject: { count: 7 } });
    expect(r.seq).toBe(before.length);
    expect(r.prev).toBe(before[before.length - 1].hash);
    expect(r.at).toBeGreaterThanOrEqual(before[before.length - 1].at);
    await expect(log.append({ action: 'search' })).rejects.toThrow('event.actor must be a non-empty string');
    await expect(log.append({ action: 'search' })).rejects.toMatchObject({ code: 'ERR_AUDIT' });
    await expect(log.append({ action: 'nope' as AuditEvent['action'], actor: 'x' })).rejects.toThrow('event.action must be an audited action');
    await log.close();
    await expect(log.append({ action: 'search', actor: 'x' })).rejects.toThrow('the log is closed');
  });

  it('reads records filtered by time, actor, action (or prefix) and limit', async () => {
    const all = await readPgAudit(pool, {});
    expect((await readPgAudit(pool, { actor: 'jdoe' })).map((r) => r.action)).toEqual(['search', 'hold.add', 'search', 'export']);
    expect((await readPgAudit(pool, { action: 'hold' })).map((r) => r.seq)).toEqual([2]);
    expect(await readPgAudit(pool, { action: 'hol' })).toEqual([]);
    expect((await readPgAudit(pool, { from: all[2].at, to: all[4].at })).map((r) => r.seq)).toEqual([2, 3]);
    expect((await readPgAudit(pool, { limit: 2 })).map((r) => r.seq)).toEqual([0, 1]);
  });

  it('keeps one valid chain when two pools append at once', async () => {
    const other = newPool(db.url, 4);
    try {
      const [a, b] = await Promise.all([PgAuditLog.open(pool, { actor: 'svc-a' }), PgAuditLog.open(other, { actor: 'svc-b' })]);
      expect(a.logId).toBe(b.logId);
      const before = (await readPgAudit(pool, {})).length;
      const writes: Array<Promise<AuditRecord>> = [];
      for (let i = 0; i < 60; i++) {
        writes.push(a.append({ action: 'search', purpose: 'ROBBERY', case: `A-${i}`, subject: { count: i } }));
        writes.push(b.append({ action: 'search', purpose: 'ROBBERY', case: `B-${i}`, subject: { count: i } }));
      }
      const done = await Promise.all(writes);
      await Promise.all([a.close(), b.close()]);
      expect(new Set(done.map((r) => r.seq)).size).toBe(120);
      const rows = await readPgAudit(pool, {});
      expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: before + 120 }, (_, i) => i));
      for (let i = 1; i < rows.length; i++) {
        expect(rows[i].prev).toBe(rows[i - 1].hash);
        expect(rows[i].at).toBeGreaterThanOrEqual(rows[i - 1].at);
      }
      // Each writer's own appends keep their call order.
      const aCases = rows.filter((r) => r.actor === 'svc-a').map((r) => r.case);
      expect(aCases).toEqual(Array.from({ length: 60 }, (_, i) => `A-${i}`));
      expect(await verifyPgAudit(pool)).toMatchObject({ ok: true, records: before + 120 });
    } finally {
      await other.end();
    }
  });

  describe('platesieve audit on --db', () => {
    const actor = `${userInfo().username}@${hostname()}`;
    beforeAll(() => ensureBuilt());

    it('verify exits 0 with the head, and records the read as audit.read by the OS user', async () => {
      const r = await runCli(['audit', 'verify', '--db', db.url]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const rows = await readPgAudit(pool, {});
      const last = rows[rows.length - 1];
      expect(last).toMatchObject({ action: 'audit.read', actor, outcome: 'ok', subject: { query: 'verify' } });
      expect(r.stdout).toContain(`OK, ${rows.length} records`);
      expect(r.stdout).toContain(`head   ${last.hash}`);
      // The database is named without its credentials.
      expect(r.stdout).toMatch(/^postgres:\/\/\[redacted\]@127\.0\.0\.1:\d+\/platesieve_audit_pg_[0-9a-f]+: OK/);
    });

    it('export writes the records as NDJSON, filtered, after recording the read', async () => {
      const r = await runCli(['audit', 'export', '--db', db.url, '--action', 'hold,audit']);
      expect(r.code).toBe(0);
      const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
      expect(out.map((x) => x.action)).toEqual(['hold.add', 'audit.read', 'audit.read']);
      expect(out[2]).toMatchObject({ actor, subject: { query: 'export', action: 'hold,audit' } });
      const all = await readPgAudit(pool, {});
      expect(out[0]).toEqual(all[2]);
    });

    it('report writes the periodic report as JSON from PLATESIEVE_DB_URL, and records it', async () => {
      const from = Date.parse('2026-01-01T00:00:00Z');
      const to = Date.now() + 86_400_000;
      process.env.PLATESIEVE_DB_URL = db.url;
      let r;
      try {
        r = await runCli(['audit', 'report', '--from', '2026-01-01T00:00:00Z', '--to', String(to), '--format', 'json']);
      } finally {
        delete process.env.PLATESIEVE_DB_URL;
      }
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const report = JSON.parse(r.stdout) as { from: number; records: number; searches: { total: number; withoutCase: number }; chain: { verified: boolean; head: string; lastSeq: number }; byUser: Array<{ actor: string }> };
      const rows = await readPgAudit(pool, {});
      const last = rows[rows.length - 1];
      expect(last).toMatchObject({ action: 'audit.report', actor, subject: { from, to }, details: { format: 'json' } });
      expect(report.from).toBe(from);
      expect(report.records).toBe(rows.length);
      expect(report.searches.total).toBe(122);
      expect(report.chain).toMatchObject({ verified: true, head: last.hash, lastSeq: last.seq });
      expect(report.byUser.map((u) => u.actor)).toEqual(['asmith', 'jdoe', actor, 'svc-a', 'svc-b'].sort());
      const text = await runCli(['audit', 'report', '--db', db.url, '--from', '2026-01-01', '--to', String(to)]);
      expect(text.code).toBe(0);
      expect(text.stdout).toContain('Chain: verified from its first record');
    });

    it('exits 2 for a file and --db together, no log at all, or an unreachable database', async () => {
      const both = await runCli(['audit', 'verify', join(dir.path, 'same.log'), '--db', db.url]);
      expect(both.code).toBe(2);
      expect(both.stderr).toContain('give either an audit log FILE or --db, not both');
      const none = await runCli(['audit', 'report', '--from', '2026-01-01', '--to', '2026-01-02']);
      expect(none.code).toBe(2);
      expect(none.stderr).toContain('give an audit log FILE, or --db');
      const bad = await runCli(['audit', 'verify', '--db', 'postgres://postgres@127.0.0.1:1/nodb']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('nothing was read');
    });
  });
});

describe('the audit table is append-only', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  const login = `platesieve_t_${randomBytes(4).toString('hex')}`;
  let service: pg.Pool;
  let ops: pg.Pool;
  let admin: pg.Client;
  beforeAll(async () => {
    db = await createTestDatabase('audit_pg_tamper');
    pool = await migrated(db);
    admin = new pg.Client({ connectionString: ADMIN_URL });
    admin.on('error', () => undefined); // as newPool: failures still reject the queries
    await admin.connect();
    // A login role of a service, as an agency would make one: a member of platesieve_service.
    await admin.query(`CREATE ROLE ${login} LOGIN IN ROLE platesieve_service`);
    // ...and the operations API's, a member of platesieve_ops.
    await admin.query(`CREATE ROLE ${login}_ops LOGIN IN ROLE platesieve_ops`);
    const u = new URL(db.url);
    u.username = login;
    service = newPool(u.toString(), 2);
    u.username = `${login}_ops`;
    ops = newPool(u.toString(), 1);
  });
  afterAll(async () => {
    await service?.end();
    await ops?.end();
    await pool?.end();
    await db?.drop();
    // Only the test's own login roles; platesieve_service and platesieve_ops are cluster-wide and stay.
    await admin?.query(`DROP ROLE IF EXISTS ${login}`);
    await admin?.query(`DROP ROLE IF EXISTS ${login}_ops`);
    await admin?.end();
  });

  it('writes one genesis record when two connections open the empty log at once', async () => {
    const other = newPool(db.url, 1);
    try {
      const [log, twin] = await Promise.all([PgAuditLog.open(pool, { actor: 'svc' }), PgAuditLog.open(other, { actor: 'svc' })]);
      expect(twin.logId).toBe(log.logId);
      for (let i = 0; i < 6; i++) await log.append({ action: 'search', actor: 'jdoe', purpose: 'ROBBERY', case: `C-${i}`, subject: { plate: 'ABC123', count: i } });
      await Promise.all([log.close(), twin.close()]);
    } finally {
      await other.end();
    }
    const { rows } = await pool.query<{ n: string }>("SELECT count(*) AS n FROM platesieve.audit WHERE action = 'log.created'");
    expect(rows[0].n).toBe('1');
    expect(await verifyPgAudit(pool)).toMatchObject({ ok: true, records: 7 });
  });

  it('lets a member of platesieve_service append and read, but not update, delete or truncate', async () => {
    const log = await PgAuditLog.open(service, { actor: 'svc-login' });
    const r = await log.append({ action: 'search', purpose: 'ROBBERY', case: 'S-1', subject: { count: 1 } });
    await log.close();
    expect(r.seq).toBe(7);
    expect(await verifyPgAudit(service)).toMatchObject({ ok: true, records: 8 });
    await expect(service.query("UPDATE platesieve.audit SET actor = 'mallory' WHERE seq = 3")).rejects.toThrow('permission denied for table audit');
    await expect(service.query('DELETE FROM platesieve.audit WHERE seq = 7')).rejects.toThrow('permission denied for table audit');
    await expect(service.query('TRUNCATE platesieve.audit')).rejects.toThrow('permission denied for table audit');
    await expect(service.query('ALTER TABLE platesieve.audit DISABLE TRIGGER audit_append_only')).rejects.toThrow('must be owner of table audit');
    // What the store's processes need elsewhere, and not the accounts (password hashes, TOTP secrets).
    await expect(service.query('SELECT count(*) FROM platesieve.holds')).resolves.toBeDefined();
    await expect(service.query('SELECT count(*) FROM platesieve.users')).rejects.toThrow('permission denied for table users');
    await expect(service.query('SELECT count(*) FROM platesieve.sessions')).rejects.toThrow('permission denied for table sessions');
  });

  it('lets a member of platesieve_ops read the accounts and sessions besides what the services may', async () => {
    await expect(ops.query('SELECT count(*) FROM platesieve.users')).resolves.toBeDefined();
    await expect(ops.query('SELECT count(*) FROM platesieve.sessions')).resolves.toBeDefined();
    await expect(ops.query('SELECT count(*) FROM platesieve.reads')).resolves.toBeDefined();
    await expect(ops.query('DELETE FROM platesieve.audit WHERE seq = 7')).rejects.toThrow('permission denied for table audit');
  });

  it('refuses even the owner\'s update, delete and truncate', async () => {
    await expect(pool.query("UPDATE platesieve.audit SET actor = 'mallory' WHERE seq = 3")).rejects.toThrow('platesieve.audit is append-only: UPDATE refused');
    await expect(pool.query('DELETE FROM platesieve.audit WHERE seq = 99')).rejects.toThrow('platesieve.audit is append-only: DELETE refused');
    await expect(pool.query('TRUNCATE platesieve.audit')).rejects.toThrow('platesieve.audit is append-only: TRUNCATE refused');
    expect(await verifyPgAudit(pool)).toMatchObject({ ok: true, records: 8 });
  });

  /** Runs `sql` with the trigger disabled, as only the owner or a superuser can. */
  async function behindTheTrigger(sql: string): Promise<void> {
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('ALTER TABLE platesieve.audit DISABLE TRIGGER audit_append_only');
      await c.query(sql);
      await c.query('ALTER TABLE platesieve.audit ENABLE TRIGGER audit_append_only');
      await c.query('COMMIT');
    } finally {
      c.release();
    }
  }

  it('verify names the seq of a row altered behind the trigger\'s back, in a column or in its text', async () => {
    await behindTheTrigger("UPDATE platesieve.audit SET actor = 'mallory' WHERE seq = 3");
    expect(await verifyPgAudit(pool)).toMatchObject({ ok: false, records: 3, badSeq: 3, badLine: 4, reason: 'column actor differs from the record\'s canonical text: the row was altered' });
    await behindTheTrigger("UPDATE platesieve.audit SET actor = 'jdoe' WHERE seq = 3");
    expect(await verifyPgAudit(pool)).toMatchObject({ ok: true });

    await behindTheTrigger(`UPDATE platesieve.audit SET line = replace(line, '"count":4', '"count":0'), subject = jsonb_set(subject, '{count}', '0') WHERE seq = 5`);
    expect(await verifyPgAudit(pool)).toMatchObject({ ok: false, records: 5, badSeq: 5, reason: 'hash does not match the record: the line was edited' });
    const r = await runCli(['audit', 'verify', '--db', db.url]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAILED at seq 5 (row 6): hash does not match the record');
    expect(r.stderr).toContain('does not verify: seq 5');
  });

  it('verify catches a deleted row by the gap, and removed last rows against a head kept elsewhere', async () => {
    await behindTheTrigger(`UPDATE platesieve.audit SET line = replace(line, '"count":0', '"count":4'), subject = jsonb_set(subject, '{count}', '4') WHERE seq = 5`);
    const ok = await verifyPgAudit(pool);
    expect(ok.ok).toBe(true);
    const head = ok.head as string;
    expect(ok.records).toBe(9);
    await behindTheTrigger('DELETE FROM platesieve.audit WHERE seq = 8');
    expect(await verifyPgAudit(pool)).toMatchObject({ ok: true, records: 8 });
    expect(await verifyPgAudit(pool, { head })).toMatchObject({ ok: false, reason: `head ${head} is not in the log: records were removed from its end, or it is another log` });
    await behindTheTrigger('DELETE FROM platesieve.audit WHERE seq = 2');
    expect(await verifyPgAudit(pool)).toMatchObject({ ok: false, records: 2, badSeq: 3, badLine: 3, reason: 'seq 3 where 2 was expected: a line was deleted, inserted or moved' });
  });
});
