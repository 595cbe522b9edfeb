/**
 * People on a real PostgreSQL: accounts, logins with and without TOTP, lockout, sessions and
 * their expiry, every login and account change in the (file) audit log. The clock is injected:
 * lockout, expiry and TOTP steps move with it, never with the wall clock.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, exportAuditArray } from '../../matcher/audit/index.js';
import type { AuditRecord } from '../../matcher/audit/types.js';
import { ConfigError } from '../../matcher/errors.js';
import { AuthError, hasRole, People, requiresMfa, type AuthErrorCode, type PeopleOptions } from '../../matcher/people/index.js';
import { hashPassword } from '../../matcher/people/passwords.js';
import { migrate, SCHEMA } from '../../matcher/store/schema.js';
import { tempDir } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';

const MINUTE = 60_000;
const T0 = Date.parse('2026-06-01T08:00:00Z');
const ADMIN = 'root@console';

let db: TestDatabase;
let pool: pg.Pool;
let audit: AuditLog;
let auditFile: string;
let clock = T0;
const tmp = tempDir('platesieve-people-');

/** Every password given to the library in this file: none may appear in the audit log. */
const passwords = new Set<string>();
const pw = (name: string): string => {
  const p = `${name}-correct horse battery`;
  passwords.add(p);
  return p;
};
/** Every TOTP code given to the library: none may appear in the audit log either. */
const codes = new Set<string>();
const code = (secret: string, at = clock): string => {
  const c = People.totpNow(secret, at);
  codes.add(c);
  return c;
};

function people(options: Partial<PeopleOptions> = {}): People {
  return new People({ pool, audit, now: () => clock, maxFailures: 3, lockoutMs: 10 * MINUTE, idleTimeoutMs: 30 * MINUTE, sessionTtlMs: 8 * 60 * MINUTE, ...options });
}

async function refusedWith(p: Promise<unknown>, code: AuthErrorCode): Promise<AuthError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(AuthError);
  expect((err as AuthError).code).toBe(code);
  return err as AuthError;
}

async function records(after = 0): Promise<AuditRecord[]> {
  return (await exportAuditArray(auditFile)).filter((r) => r.seq > after);
}

async function lastSeq(): Promise<number> {
  const all = await exportAuditArray(auditFile);
  return all[all.length - 1].seq;
}

beforeAll(async () => {
  db = await createTestDatabase('people');
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  const client = await pool.connect();
  try {
    await migrate(client);
  } finally {
    client.release();
  }
  auditFile = join(tmp.path, 'audit.jsonl');
  audit = await AuditLog.open(auditFile, { actor: 'people-test' });
});

afterAll(async () => {
  await audit?.close();
  await pool?.end();
  await db?.drop();
});

describe('roles', () => {
  it('asks TOTP of every role that sees stored data, not of a plain operator', () => {
    expect(requiresMfa(['operator'])).toBe(false);
    for (const r of ['analyst', 'supervisor', 'auditor', 'admin'] as const) {
      expect(requiresMfa([r])).toBe(true);
      expect(requiresMfa(['operator', r])).toBe(true);
    }
    expect(hasRole(['analyst', 'operator'], ['supervisor', 'analyst'])).toBe(true);
    expect(hasRole(['operator'], ['admin'])).toBe(false);
  });
});

describe('accounts', () => {
  it('adds, lists, refuses duplicates without case, bad names, weak passwords and roles without TOTP', async () => {
    const p = people();
    const added = await p.addUser({ username: 'Alice', password: pw('alice'), roles: ['analyst'] }, ADMIN);
    expect(added.account).toMatchObject({ username: 'Alice', roles: ['analyst'], disabled: false, mfa: true, createdBy: ADMIN, failures: 0 });
    expect(added.totp?.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(added.totp?.uri).toMatch(/^otpauth:\/\/totp\/platesieve:Alice\?/);
    expect(added.totp?.uri).toContain(`secret=${added.totp?.secret}`);

    const op = await p.addUser({ username: 'olive', password: pw('olive'), roles: ['operator'] }, ADMIN);
    expect(op.account.mfa).toBe(false);
    expect(op.totp).toBeUndefined();

    await refusedWith(p.addUser({ username: 'ALICE', password: pw('alice2'), roles: ['operator'] }, ADMIN), 'ERR_USER_EXISTS');
    await refusedWith(p.addUser({ username: 'bob@host', password: pw('bob'), roles: ['operator'] }, ADMIN), 'ERR_BAD_USERNAME');
    await refusedWith(p.addUser({ username: 'x', password: pw('x'), roles: ['operator'] }, ADMIN), 'ERR_BAD_USERNAME');
    await refusedWith(p.addUser({ username: 'bob', password: 'short pass', roles: ['operator'] }, ADMIN), 'ERR_WEAK_PASSWORD');
    await refusedWith(p.addUser({ username: 'bob', password: pw('bob'), roles: ['analyst'], mfa: false }, ADMIN), 'ERR_MFA_REQUIRED');
    await refusedWith(p.addUser({ username: 'bob', password: pw('bob'), roles: ['chief' as 'admin'] }, ADMIN), 'ERR_BAD_ROLE');
    await refusedWith(p.addUser({ username: 'bob', password: pw('bob'), roles: [] }, ADMIN), 'ERR_BAD_ROLE');

    const list = await p.listUsers();
    expect(list.map((a) => a.username)).toEqual(['Alice', 'olive']);
    expect(await p.getUser('alice')).toMatchObject({ username: 'Alice' });
    expect(await p.getUser('nobody')).toBeUndefined();

    const { rows } = await pool.query<{ password_hash: string; totp_secret: string }>(`SELECT password_hash, totp_secret FROM ${SCHEMA}.users WHERE username = 'Alice'`);
    expect(rows[0].password_hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(rows[0].password_hash).not.toContain(pw('alice'));

    const adds = (await records()).filter((r) => r.action === 'user.add');
    expect(adds.map((r) => [r.actor, r.subject?.user, r.details?.roles])).toEqual([
      [ADMIN, 'Alice', ['analyst']],
      [ADMIN, 'olive', ['operator']],
    ]);
  });

  it('disables (ending sessions), enables, resets and changes roles, each audited with the actor', async () => {
    const p = people();
    const { totp } = await p.addUser({ username: 'carol', password: pw('carol'), roles: ['analyst'] }, ADMIN);
    const secret = totp?.secret ?? '';
    const before = await lastSeq();
    const s = await p.login({ username: 'carol', password: pw('carol'), totp: code(secret) });

    const disabled = await p.disableUser('CAROL', ADMIN, 'left the unit');
    expect(disabled.disabled).toBe(true);
    await refusedWith(p.authenticate(s.token), 'ERR_SESSION_INVALID');
    clock += 30_000;
    await refusedWith(p.login({ username: 'carol', password: pw('carol'), totp: code(secret) }), 'ERR_AUTH_DISABLED');

    expect((await p.enableUser('carol', ADMIN)).disabled).toBe(false);
    const s2 = await p.login({ username: 'carol', password: pw('carol'), totp: code(secret) });

    // A new password: the old one no longer works, and sessions end.
    const reset = await p.resetUser('carol', ADMIN, { password: pw('carol-new') });
    expect(reset.totp).toBeUndefined();
    await refusedWith(p.authenticate(s2.token), 'ERR_SESSION_INVALID');
    clock += 30_000;
    await refusedWith(p.login({ username: 'carol', password: pw('carol'), totp: code(secret) }), 'ERR_AUTH_INVALID');
    await p.login({ username: 'carol', password: pw('carol-new'), totp: code(secret) });

    // A new TOTP secret: codes of the old one are refused.
    const again = await p.resetUser('carol', ADMIN, { totp: true });
    const fresh = again.totp?.secret ?? '';
    expect(fresh).not.toBe(secret);
    clock += 30_000;
    await refusedWith(p.login({ username: 'carol', password: pw('carol-new'), totp: code(secret) }), 'ERR_AUTH_TOTP_INVALID');
    const s3 = await p.login({ username: 'carol', password: pw('carol-new'), totp: code(fresh) });

    // Roles apply to open sessions at once.
    expect((await p.setRoles('carol', ['supervisor', 'analyst', 'supervisor'], ADMIN)).roles).toEqual(['analyst', 'supervisor']);
    expect((await p.authenticate(s3.token)).roles).toEqual(['analyst', 'supervisor']);
    await refusedWith(p.setRoles('carol', ['root' as 'admin'], ADMIN), 'ERR_BAD_ROLE');
    await refusedWith(p.setRoles('nobody', ['operator'], ADMIN), 'ERR_USER_NOT_FOUND');
    await refusedWith(p.disableUser('nobody', ADMIN, 'x'), 'ERR_USER_NOT_FOUND');

    // An operator without TOTP cannot be given a role that needs it.
    await p.addUser({ username: 'dave', password: pw('dave'), roles: ['operator'] }, ADMIN);
    await refusedWith(p.setRoles('dave', ['analyst'], ADMIN), 'ERR_MFA_REQUIRED');
    expect((await p.getUser('dave'))?.roles).toEqual(['operator']);

    const changes = (await records(before)).filter((r) => r.action.startsWith('user.'));
    expect(changes.map((r) => [r.action, r.actor, r.subject?.user])).toEqual([
      ['user.disable', ADMIN, 'carol'],
      ['user.enable', ADMIN, 'carol'],
      ['user.reset', ADMIN, 'carol'],
      ['user.reset', ADMIN, 'carol'],
      ['user.roles', ADMIN, 'carol'],
      ['user.add', ADMIN, 'dave'],
    ]);
    expect(changes[0].reason).toBe('left the unit');
    expect(changes[0].details?.sessionsEnded).toBe(1);
    expect(changes[2].details).toMatchObject({ password: true, totp: false, sessionsEnded: 1 });
    expect(changes[4].details).toEqual({ from: ['analyst'], to: ['analyst', 'supervisor'] });
  });
});

describe('logins', () => {
  it('lets an operator without TOTP in with the password and stores only the token hash', async () => {
    const p = people();
    await p.addUser({ username: 'oscar', password: pw('oscar'), roles: ['operator'] }, ADMIN);
    const s = await p.login({ username: 'Oscar', password: pw('oscar'), client: { ip: '10.0.0.7', userAgent: 'test' } });
    expect(s).toMatchObject({ username: 'oscar', roles: ['operator'], createdAt: clock, expiresAt: clock + 30 * MINUTE });
    expect(Buffer.from(s.token, 'base64url')).toHaveLength(32);
    const { rows } = await pool.query<{ token_hash: Buffer }>(`SELECT token_hash FROM ${SCHEMA}.sessions WHERE session_id = $1`, [s.sessionId]);
    expect(rows[0].token_hash.equals(createHash('sha256').update(s.token).digest())).toBe(true);
    const dump = JSON.stringify((await pool.query(`SELECT * FROM ${SCHEMA}.sessions`)).rows);
    expect(dump).not.toContain(s.token);
    expect(await p.authenticate(s.token)).toMatchObject({ username: 'oscar', sessionId: s.sessionId });
    expect((await p.getUser('oscar'))?.lastLoginAt).toBe(new Date(clock).toISOString());
  });

  it('asks an analyst for a TOTP code and refuses a wrong, missing or replayed one', async () => {
    const p = people();
    const { totp } = await p.addUser({ username: 'ann', password: pw('ann'), roles: ['analyst'] }, ADMIN);
    const secret = totp?.secret ?? '';
    clock += 30_000;
    await refusedWith(p.login({ username: 'ann', password: pw('ann') }), 'ERR_AUTH_TOTP_REQUIRED');
    const right = code(secret);
    const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
    codes.add(wrong);
    await refusedWith(p.login({ username: 'ann', password: pw('ann'), totp: wrong }), 'ERR_AUTH_TOTP_INVALID');
    // A wrong password with a right code is a wrong password: the code is not even looked at.
    await refusedWith(p.login({ username: 'ann', password: pw('not-ann'), totp: right }), 'ERR_AUTH_INVALID');
    expect((await p.getUser('ann'))?.failures).toBe(2);
    const s = await p.login({ username: 'ann', password: pw('ann'), totp: right });
    expect(s.roles).toEqual(['analyst']);
    expect((await p.getUser('ann'))?.failures).toBe(0);
    // The same code again, even within its step: refused.
    await refusedWith(p.login({ username: 'ann', password: pw('ann'), totp: right }), 'ERR_AUTH_TOTP_INVALID');
    // The previous step's code is inside the window but before the step accepted: refused too.
    await refusedWith(p.login({ username: 'ann', password: pw('ann'), totp: code(secret, clock - 30_000) }), 'ERR_AUTH_TOTP_INVALID');
    clock += 30_000;
    await p.login({ username: 'ann', password: pw('ann'), totp: code(secret) });
  });

  it('rehashes a password made with weaker scrypt parameters at the next login', async () => {
    const p = people();
    await p.addUser({ username: 'rhea', password: pw('rhea'), roles: ['operator'] }, ADMIN);
    const weak = await hashPassword(pw('rhea'), { N: 1024, r: 8, p: 1 });
    await pool.query(`UPDATE ${SCHEMA}.users SET password_hash = $1 WHERE username = 'rhea'`, [weak]);
    await p.login({ username: 'rhea', password: pw('rhea') });
    const { rows } = await pool.query<{ password_hash: string }>(`SELECT password_hash FROM ${SCHEMA}.users WHERE username = 'rhea'`);
    expect(rows[0].password_hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    await p.login({ username: 'rhea', password: pw('rhea') });
  });

  it('refuses an unknown user and a wrong password alike', async () => {
    const p = people();
    await p.addUser({ username: 'uma', password: pw('uma'), roles: ['operator'] }, ADMIN);
    const unknown = await refusedWith(p.login({ username: 'nobody-here', password: pw('uma') }), 'ERR_AUTH_INVALID');
    const wrong = await refusedWith(p.login({ username: 'uma', password: pw('not-uma') }), 'ERR_AUTH_INVALID');
    expect(unknown.message).toBe(wrong.message);
    await refusedWith(p.login({ username: 'bad name!', password: pw('uma') }), 'ERR_AUTH_INVALID');
  });

  it('locks an account after maxFailures, refuses the right password while locked, and unlocks after lockoutMs', async () => {
    const p = people();
    const { totp } = await p.addUser({ username: 'lee', password: pw('lee'), roles: ['supervisor'] }, ADMIN);
    const secret = totp?.secret ?? '';
    clock += 30_000;
    // A success resets the count.
    await refusedWith(p.login({ username: 'lee', password: pw('x-lee') }), 'ERR_AUTH_INVALID');
    await refusedWith(p.login({ username: 'lee', password: pw('x-lee') }), 'ERR_AUTH_INVALID');
    await p.login({ username: 'lee', password: pw('lee'), totp: code(secret) });
    expect((await p.getUser('lee'))?.failures).toBe(0);
    // Two wrong passwords and a wrong code: three failures lock it.
    await refusedWith(p.login({ username: 'lee', password: pw('x-lee') }), 'ERR_AUTH_INVALID');
    await refusedWith(p.login({ username: 'lee', password: pw('x-lee') }), 'ERR_AUTH_INVALID');
    await refusedWith(p.login({ username: 'lee', password: pw('lee'), totp: '000000' }), 'ERR_AUTH_TOTP_INVALID');
    const locked = await p.getUser('lee');
    expect(locked?.lockedUntil).toBe(new Date(clock + 10 * MINUTE).toISOString());
    clock += 30_000;
    await refusedWith(p.login({ username: 'lee', password: pw('lee'), totp: code(secret) }), 'ERR_AUTH_LOCKED');
    clock += 10 * MINUTE;
    expect((await p.getUser('lee'))?.lockedUntil).toBeUndefined(); // run out, though not cleared yet
    const s = await p.login({ username: 'lee', password: pw('lee'), totp: code(secret) });
    expect(s.username).toBe('lee');
    expect(await p.getUser('lee')).toMatchObject({ failures: 0 });
    expect((await p.getUser('lee'))?.lockedUntil).toBeUndefined();
  });

  it('counts failures that arrive at once, and refuses a code raced by two logins to one of them', async () => {
    const p = people();
    const { totp } = await p.addUser({ username: 'rae', password: pw('rae'), roles: ['analyst'] }, ADMIN);
    const secret = totp?.secret ?? '';
    clock += 30_000;
    const c = code(secret);
    const raced = await Promise.allSettled([0, 1, 2].map(() => p.login({ username: 'rae', password: pw('rae'), totp: c })));
    expect(raced.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    await p.enableUser('rae', ADMIN);
    await Promise.allSettled([0, 1, 2].map(() => p.login({ username: 'rae', password: pw('x-rae') })));
    expect((await p.getUser('rae'))?.lockedUntil).toBe(new Date(clock + 10 * MINUTE).toISOString());
  });

  it('lets an administrator clear a lockout by enabling the account', async () => {
    const p = people();
    await p.addUser({ username: 'lou', password: pw('lou'), roles: ['operator'] }, ADMIN);
    for (let i = 0; i < 3; i++) await refusedWith(p.login({ username: 'lou', password: pw('x-lou') }), 'ERR_AUTH_INVALID');
    await refusedWith(p.login({ username: 'lou', password: pw('lou') }), 'ERR_AUTH_LOCKED');
    await p.enableUser('lou', ADMIN);
    await p.login({ username: 'lou', password: pw('lou') });
  });

  it('audits every login and every failure with its outcome and code, never a password or a code', async () => {
    const p = people();
    const { totp } = await p.addUser({ username: 'audrey', password: pw('audrey'), roles: ['auditor'] }, ADMIN);
    const secret = totp?.secret ?? '';
    clock += 30_000;
    const before = await lastSeq();
    const attempt = async (req: Parameters<People['login']>[0]): Promise<string> => {
      try {
        await p.login(req);
        return 'ok';
      } catch (err) {
        return (err as AuthError).code;
      }
    };
    const outcomes = [
      await attempt({ username: 'audrey', password: pw('audrey') }),
      await attempt({ username: 'audrey', password: pw('x-audrey'), totp: code(secret) }),
      await attempt({ username: 'ghost', password: pw('ghost') }),
      await attempt({ username: 'audrey', password: pw('audrey'), totp: code(secret), client: { ip: '192.0.2.1' } }),
    ];
    expect(outcomes).toEqual(['ERR_AUTH_TOTP_REQUIRED', 'ERR_AUTH_INVALID', 'ERR_AUTH_INVALID', 'ok']);
    const logins = (await records(before)).filter((r) => r.action === 'login');
    expect(logins.map((r) => [r.outcome, r.details?.code ?? 'ok', r.subject?.user])).toEqual([
      ['refused', 'ERR_AUTH_TOTP_REQUIRED', 'audrey'],
      ['refused', 'ERR_AUTH_INVALID', 'audrey'],
      ['refused', 'ERR_AUTH_INVALID', 'ghost'],
      ['ok', 'ok', 'audrey'],
    ]);
    expect(logins[0].details?.roles).toEqual(['auditor']);
    expect(logins.map((r) => r.actor)).toEqual(['audrey', 'audrey', 'anonymous', 'audrey']);
    expect(logins[2].details?.roles).toBeUndefined();
    expect(logins[3]).toMatchObject({ actor: 'audrey', details: { roles: ['auditor'], ip: '192.0.2.1', mfa: true } });

    const text = await readFile(auditFile, 'utf8');
    for (const secretText of [...passwords, ...codes, secret]) expect(text).not.toContain(secretText);
  });
});

describe('when the audit log fails', () => {
  it('opens no session and commits no account change it could not audit', async () => {
    const p = people();
    await p.addUser({ username: 'nell', password: pw('nell'), roles: ['operator'] }, ADMIN);
    const closed = await AuditLog.open(join(tmp.path, 'closed.jsonl'), { actor: 'people-test' });
    await closed.close();
    const broken = people({ audit: closed });
    const err = await broken.login({ username: 'nell', password: pw('nell') }).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('ERR_AUDIT');
    const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${SCHEMA}.sessions s JOIN ${SCHEMA}.users u USING (user_id) WHERE u.username = 'nell'`);
    expect(Number(rows[0].n)).toBe(0);
    await expect(broken.disableUser('nell', ADMIN, 'test')).rejects.toMatchObject({ code: 'ERR_AUDIT' });
    expect((await p.getUser('nell'))?.disabled).toBe(false);
    await expect(broken.addUser({ username: 'ned', password: pw('ned'), roles: ['operator'] }, ADMIN)).rejects.toMatchObject({ code: 'ERR_AUDIT' });
    expect(await p.getUser('ned')).toBeUndefined();
  });
});

describe('sessions', () => {
  it('expires a session after idle time, slid by each use, and at its absolute lifetime', async () => {
    const p = people();
    await p.addUser({ username: 'sam', password: pw('sam'), roles: ['operator'] }, ADMIN);
    const idle = await p.login({ username: 'sam', password: pw('sam') });
    clock += 20 * MINUTE;
    expect((await p.authenticate(idle.token)).expiresAt).toBe(clock + 30 * MINUTE);
    clock += 20 * MINUTE; // 40 minutes after login, 20 after the last use: still open
    await p.authenticate(idle.token);
    clock += 30 * MINUTE;
    await refusedWith(p.authenticate(idle.token), 'ERR_SESSION_EXPIRED');
    await refusedWith(p.authenticate(idle.token), 'ERR_SESSION_INVALID');

    const start = clock;
    const used = await p.login({ username: 'sam', password: pw('sam') });
    while (clock + 25 * MINUTE < start + 8 * 60 * MINUTE) {
      clock += 25 * MINUTE;
      await p.authenticate(used.token);
    }
    // The idle expiry never passes the absolute one.
    expect((await p.authenticate(used.token)).expiresAt).toBe(start + 8 * 60 * MINUTE);
    clock = start + 8 * 60 * MINUTE;
    await refusedWith(p.authenticate(used.token), 'ERR_SESSION_EXPIRED');
  });

  it('ends a session at logout (audited) and refuses tokens it never issued', async () => {
    const p = people();
    await p.addUser({ username: 'lola', password: pw('lola'), roles: ['operator'] }, ADMIN);
    const s = await p.login({ username: 'lola', password: pw('lola') });
    const other = await p.login({ username: 'lola', password: pw('lola') });
    const before = await lastSeq();
    await p.logout(s.token);
    await refusedWith(p.authenticate(s.token), 'ERR_SESSION_INVALID');
    await refusedWith(p.logout(s.token), 'ERR_SESSION_INVALID');
    expect((await p.authenticate(other.token)).sessionId).toBe(other.sessionId);
    await refusedWith(p.authenticate('not a token'), 'ERR_SESSION_INVALID');
    await refusedWith(p.authenticate(Buffer.alloc(32, 7).toString('base64url')), 'ERR_SESSION_INVALID');
    const logouts = (await records(before)).filter((r) => r.action === 'logout');
    expect(logouts.map((r) => [r.actor, r.details?.sessionId])).toEqual([['lola', s.sessionId]]);
  });
});

describe('TOTP secrets at rest', () => {
  it('seals secrets with a configured key; without the key the account cannot log in', async () => {
    const key = Buffer.alloc(32, 0x5a);
    const sealed = people({ totpKey: key });
    const { totp } = await sealed.addUser({ username: 'kim', password: pw('kim'), roles: ['admin'] }, ADMIN);
    const secret = totp?.secret ?? '';
    const { rows } = await pool.query<{ totp_secret: string }>(`SELECT totp_secret FROM ${SCHEMA}.users WHERE username = 'kim'`);
    expect(rows[0].totp_secret).toMatch(/^v1:/);
    expect(rows[0].totp_secret).not.toContain(secret);
    clock += 30_000;
    await sealed.login({ username: 'kim', password: pw('kim'), totp: code(secret) });
    clock += 30_000;
    const err = await people({ totpKey: Buffer.alloc(32, 0x11) }).login({ username: 'kim', password: pw('kim'), totp: code(secret) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
  });
});
