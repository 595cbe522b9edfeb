/**
 * `platesieve users` as an administrator runs it, against a real PostgreSQL: the first admin on
 * an empty database, passwords from standard input, the TOTP secret printed once (and good for
 * a login through the library), refusals with exit code 2, every call audited with the OS user.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../matcher/audit/index.js';
import type { AuditRecord } from '../../matcher/audit/types.js';
import { People, type Account } from '../../matcher/people/index.js';
import { osActor } from '../../matcher/store/open.js';
import { ensureBuilt, runCli, tempDir } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';

const tmp = tempDir('platesieve-users-cli-');
let db: TestDatabase;
let auditFile: string;
let pool: pg.Pool;
let libAudit: AuditLog;
let people: People;

const users = (args: string[], stdin?: string): ReturnType<typeof runCli> => runCli(['users', ...args, '--db', db.url, '--audit', auditFile], stdin);

function auditRecords(): AuditRecord[] {
  return readFileSync(auditFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
}

function secretOf(stdout: string): string {
  const m = /TOTP secret for \S+: ([A-Z2-7]+)\n/.exec(stdout);
  if (m === null) throw new Error(`no TOTP secret in: ${stdout}`);
  return m[1];
}

async function listJson(): Promise<Account[]> {
  const r = await users(['list', '--format', 'json']);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Account[];
}

beforeAll(async () => {
  ensureBuilt();
  db = await createTestDatabase('users_cli');
  auditFile = `${tmp.path}/audit.log`;
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  // The test's own logins go to a log of their own: the CLI's holds its file's lock while it runs.
  libAudit = await AuditLog.open(`${tmp.path}/library-audit.log`, { actor: 'users-cli-test' });
  people = new People({ pool, audit: libAudit });
});

afterAll(async () => {
  await libAudit?.close();
  await pool?.end();
  await db?.drop();
});

describe('platesieve users', () => {
  it('adds the first administrator on an empty database and prints the TOTP secret once', async () => {
    const r = await users(['add', 'chief', '--role', 'admin', '--role', 'auditor'], 'first admin password\n');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^user chief added: roles auditor, admin; TOTP required\n/);
    expect(r.stdout).toMatch(/otpauth URI: otpauth:\/\/totp\/platesieve:chief\?/);
    const secret = secretOf(r.stdout);
    const s = await people.login({ username: 'chief', password: 'first admin password', totp: People.totpNow(secret) });
    expect(s.roles).toEqual(['auditor', 'admin']);

    const records = auditRecords();
    const mine = records.filter((x) => x.action === 'access.direct' || x.action === 'user.add');
    expect(mine.map((x) => [x.action, x.actor, x.subject?.user])).toEqual([
      ['access.direct', osActor(), 'chief'],
      ['user.add', osActor(), 'chief'],
    ]);
    expect(mine[0].details).toEqual({ command: 'users add', via: 'database' });
    const text = readFileSync(auditFile, 'utf8');
    expect(text).not.toContain('first admin password');
    expect(text).not.toContain(secret);
  });

  it('adds an operator without TOTP, and refuses --no-mfa, weak passwords and duplicates with exit 2', async () => {
    const op = await users(['add', 'olga', '--role', 'operator'], 'operator password 1\n');
    expect(op.code).toBe(0);
    expect(op.stdout).toBe('user olga added: roles operator; password only\n');
    await people.login({ username: 'olga', password: 'operator password 1' });

    const noMfa = await users(['add', 'andy', '--role', 'analyst', '--no-mfa'], 'analyst password 1\n');
    expect(noMfa.code).toBe(2);
    expect(noMfa.stderr).toMatch(/^platesieve: error: roles analyst see stored data: the account needs TOTP/);

    const weak = await users(['add', 'andy', '--role', 'analyst', '--password-stdin'], 'short\n');
    expect(weak.code).toBe(2);
    expect(weak.stderr).toMatch(/at least 12 characters/);

    const dup = await users(['add', 'OLGA', '--role', 'operator'], 'operator password 2\n');
    expect(dup.code).toBe(2);
    expect(dup.stderr).toMatch(/exists already/);

    const badRole = await users(['add', 'andy', '--role', 'chief'], 'analyst password 1\n');
    expect(badRole.code).toBe(2);
    expect(badRole.stderr).toMatch(/expected one of operator, analyst, supervisor, auditor, admin/);

    const empty = await users(['add', 'andy', '--role', 'analyst'], '');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/no password on standard input/);

    expect((await listJson()).map((a) => a.username)).toEqual(['chief', 'olga']);
  });

  it('lists accounts as a table and as JSON, never with hashes or secrets', async () => {
    const table = await users(['list']);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^USER\s+ROLES\s+MFA\s+STATE\s+CREATED\s+BY\s+LAST LOGIN$/);
    expect(lines[1]).toMatch(/^chief\s+auditor,admin\s+totp\s+active\s+/);
    expect(lines[2]).toMatch(/^olga\s+operator\s+none\s+active\s+/);
    const json = await listJson();
    expect(json[0]).toMatchObject({ username: 'chief', roles: ['auditor', 'admin'], mfa: true, disabled: false, createdBy: osActor(), failures: 0 });
    expect(JSON.stringify(json)).not.toMatch(/scrypt|plain:|secret|password/i);
  });

  it('disables (ending sessions) and enables an account', async () => {
    const s = await people.login({ username: 'olga', password: 'operator password 1' });
    const noReason = await users(['disable', 'olga']);
    expect(noReason.code).toBe(2);
    const r = await users(['disable', 'olga', '--reason', 'on leave']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('user olga disabled; its sessions are ended\n');
    await expect(people.authenticate(s.token)).rejects.toMatchObject({ code: 'ERR_SESSION_INVALID' });
    await expect(people.login({ username: 'olga', password: 'operator password 1' })).rejects.toMatchObject({ code: 'ERR_AUTH_DISABLED' });
    expect((await listJson()).find((a) => a.username === 'olga')?.disabled).toBe(true);
    expect((await users(['list'])).stdout).toMatch(/olga\s+operator\s+none\s+disabled/);

    const e = await users(['enable', 'olga']);
    expect(e.code).toBe(0);
    expect(e.stdout).toBe('user olga enabled\n');
    await people.login({ username: 'olga', password: 'operator password 1' });
    const disable = auditRecords().find((x) => x.action === 'user.disable');
    expect(disable).toMatchObject({ actor: osActor(), reason: 'on leave', subject: { user: 'olga' } });
  });

  it('resets a password and a TOTP secret, and changes roles', async () => {
    const neither = await users(['reset', 'olga']);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toMatch(/give --password, --totp or both/);

    const pw = await users(['reset', 'olga', '--password', '--password-stdin'], 'operator password 2\n');
    expect(pw.code).toBe(0);
    expect(pw.stdout).toBe('user olga reset: new password; its sessions are ended\n');
    await expect(people.login({ username: 'olga', password: 'operator password 1' })).rejects.toMatchObject({ code: 'ERR_AUTH_INVALID' });
    await people.login({ username: 'olga', password: 'operator password 2' });

    // An operator must get TOTP before a role that sees stored data.
    const refused = await users(['roles', 'olga', '--role', 'analyst']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/reset the account's TOTP first/);
    const totp = await users(['reset', 'olga', '--totp']);
    expect(totp.code).toBe(0);
    expect(totp.stdout).toMatch(/^user olga reset: new TOTP secret; its sessions are ended\n/);
    const secret = secretOf(totp.stdout);
    const roles = await users(['roles', 'olga', '--role', 'analyst', '--role', 'operator']);
    expect(roles.code).toBe(0);
    expect(roles.stdout).toBe('user olga: roles operator, analyst\n');
    const s = await people.login({ username: 'olga', password: 'operator password 2', totp: People.totpNow(secret) });
    expect(s.roles).toEqual(['operator', 'analyst']);

    const missing = await users(['enable', 'nobody']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no user "nobody"/);

    const actions = auditRecords().filter((x) => x.action.startsWith('user.')).map((x) => x.action);
    expect(actions).toEqual(['user.add', 'user.add', 'user.disable', 'user.enable', 'user.reset', 'user.reset', 'user.roles']);
  });

  it('refuses to run without an audit log', async () => {
    const r = await runCli(['users', 'list', '--db', db.url], undefined);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--audit FILE \(or PLATESIEVE_AUDIT_FILE\) is required/);
  });
});
