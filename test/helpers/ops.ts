/**
 * Accounts and calls for tests of the operations API: users with one role each, logged in
 * with their TOTP code, and requests injected with their session token.
 */
import type { OpsServer } from '../../matcher/ops/server.js';
import { People, type Role } from '../../matcher/people/index.js';

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
