/**
 * Accounts and calls for tests of the operations API: users with one role each, logged in
 * with their TOTP code, and requests injected with their session token.
 */
import pg from 'pg';
import { PgAuditLog } from '../../matcher/audit/pg-log.js';
import { DEFAULT_OCR_CLASSES } from '../../matcher/core/plate.js';
import type { OpsServer } from '../../matcher/ops/server.js';
import { People, type Role } from '../../matcher/people/index.js';
import { prepareDatabase } from '../../matcher/store/open.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

/** The password of every test account. */
export const PASSWORD = 'correct horse battery staple';

/**
 * Adds each user with its role and logs it in. `tick` moves the server's clock on and returns
 * it: each login's TOTP code is computed at a new time step, since a code is good once.
 * Resolves with each user's token.
 */
export async function addAndLogin(ops: OpsServer, users: ReadonlyArray<readonly [string, Role]>, tick: () => number): Promise<Map<string, string>> {
  const tokens = new Map<string, string>();
  for (const [name, role] of users) {
    const r = await ops.people.addUser({ username: name, password: PASSWORD, roles: [role] }, 'test-setup');
    const at = tick();
    const totp = r.totp !== undefined ? People.totpNow(r.totp.secret, at) : undefined;
    const s = await ops.app.inject({ method: 'POST', url: '/api/login', payload: { username: name, password: PASSWORD, ...(totp !== undefined ? { totp } : {}) } });
    if (s.statusCode !== 200) throw new Error(`login of ${name} failed: ${s.statusCode} ${s.body}`);
    tokens.set(name, (JSON.parse(s.body) as { token: string }).token);
  }
  return tokens;
}

/** An injected request's answer: status, the JSON body (empty when none), the raw body and headers. */
export interface ApiResult {
  status: number;
  body: Record<string, unknown>;
  raw: string;
  headers: Record<string, unknown>;
}

/** Calls `method url` with `token` (none: no Authorization header) and an optional JSON body. */
export async function injectAs(ops: OpsServer, token: string | undefined, method: string, url: string, body?: unknown): Promise<ApiResult> {
  const r = await ops.app.inject({
    method: method as 'GET',
    url,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    ...(body !== undefined ? { payload: body as Record<string, unknown> } : {}),
  });
  const json = (r.headers['content-type'] ?? '').toString().startsWith('application/json');
  return { status: r.statusCode, body: json && r.body !== '' ? (JSON.parse(r.body) as Record<string, unknown>) : {}, raw: r.body, headers: r.headers };
}

/** A test database ready for an ops server: schema migrated, the PostgreSQL audit log open. */
export interface OpsDatabase {
  db: TestDatabase;
  pool: pg.Pool;
  audit: PgAuditLog;
}

/** Creates the database `name` (dropped by {@link closeOpsDatabase}) with a pool of `max` connections. */
export async function openOpsDatabase(name: string, max = 8): Promise<OpsDatabase> {
  const db = await createTestDatabase(name);
  const pool = new pg.Pool({ connectionString: db.url, max });
  // DROP DATABASE ... WITH (FORCE) may end a connection that is still closing: not a failure.
  pool.on('error', () => undefined);
  await prepareDatabase(pool, DEFAULT_OCR_CLASSES);
  const audit = await PgAuditLog.open(pool, { actor: 'platesieve-ops' });
  return { db, pool, audit };
}

/** Closes the audit log and the pool and drops the database; parts never opened are skipped. */
export async function closeOpsDatabase(d: Partial<OpsDatabase>): Promise<void> {
  await d.audit?.close();
  await d.pool?.end();
  await d.db?.drop();
}
