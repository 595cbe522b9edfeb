/**
 * The `users` table (schema version 3): the one module that reads and writes it. Names are
 * unique case-insensitively and looked up that way; the stored spelling is the one shown.
 */
import type { Pool, PoolClient } from 'pg';
import { SCHEMA } from '../store/schema.js';
import { AuthError } from './errors.js';
import { isRole, ROLES, type Role } from './roles.js';
import type { Account } from './types.js';

const S = SCHEMA;

/** A row of `users`, with the secrets only this library sees. */
export interface UserRow {
  user_id: string;
  username: string;
  password_hash: string;
  roles: string[];
  disabled: boolean;
  disabled_reason: string | null;
  totp_secret: string | null;
  totp_last_step: string | null;
  failures: number;
  locked_until: Date | null;
  created_at: Date;
  created_by: string;
  last_login_at: Date | null;
}

type Db = Pool | PoolClient;

/**
 * Letters, digits, `.`, `_` and `-`, 2 to 64 characters, starting with a letter or digit. No
 * `@`: actors with one are operating-system users (`user@host`) of direct access, so a
 * person's account can never be mistaken for one in the audit log.
 */
const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$/;

/** The name, trimmed, or AuthError ERR_BAD_USERNAME. */
export function checkUsername(username: unknown): string {
  const name = typeof username === 'string' ? username.trim() : '';
  if (!USERNAME.test(name)) {
    throw new AuthError('ERR_BAD_USERNAME', 'a user name is 2 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit');
  }
  return name;
}

/** The roles, deduplicated in {@link ROLES} order, or AuthError ERR_BAD_ROLE. */
export function checkRoles(roles: unknown): Role[] {
  if (!Array.isArray(roles) || roles.length === 0) throw new AuthError('ERR_BAD_ROLE', 'an account needs at least one role');
  for (const r of roles) {
    if (typeof r !== 'string' || !isRole(r)) throw new AuthError('ERR_BAD_ROLE', `unknown role ${JSON.stringify(r)}: roles are operator, analyst, supervisor, auditor, admin`);
  }
  return ROLES.filter((r) => (roles as string[]).includes(r));
}

/** The account as the library shows it at `now` (no hash, no secret; a lock run out is not shown). */
export function toAccount(row: UserRow, now: number): Account {
  return {
    username: row.username,
    roles: row.roles.filter(isRole),
    disabled: row.disabled,
    mfa: row.totp_secret !== null,
    createdAt: row.created_at.toISOString(),
    createdBy: row.created_by,
    ...(row.last_login_at !== null ? { lastLoginAt: row.last_login_at.toISOString() } : {}),
    ...(row.locked_until !== null && row.locked_until.getTime() > now ? { lockedUntil: row.locked_until.toISOString() } : {}),
    failures: row.failures,
  };
}

/** The row of `username` (any case), locked for update when `forUpdate`. */
export async function findUser(db: Db, username: string, forUpdate = false): Promise<UserRow | undefined> {
  const { rows } = await db.query<UserRow>(`SELECT * FROM ${S}.users WHERE lower(username) = lower($1)${forUpdate ? ' FOR UPDATE' : ''}`, [username]);
  return rows[0];
}

/** Like {@link findUser}, or AuthError ERR_USER_NOT_FOUND. */
export async function requireUser(db: Db, username: string, forUpdate = false): Promise<UserRow> {
  const row = await findUser(db, username, forUpdate);
  if (row === undefined) throw new AuthError('ERR_USER_NOT_FOUND', `no user ${JSON.stringify(username)}`);
  return row;
}

/** Every account, by name. */
export async function listUserRows(db: Db): Promise<UserRow[]> {
  const { rows } = await db.query<UserRow>(`SELECT * FROM ${S}.users ORDER BY lower(username)`);
  return rows;
}

/** Inserts an account, or AuthError ERR_USER_EXISTS. */
export async function insertUser(
  db: Db,
  user: { username: string; passwordHash: string; roles: Role[]; totpSecret: string | null; createdBy: string; at: Date },
): Promise<UserRow> {
  const { rows } = await db.query<UserRow>(
    `INSERT INTO ${S}.users (username, password_hash, roles, totp_secret, created_at, created_by, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $5) ON CONFLICT DO NOTHING RETURNING *`,
    [user.username, user.passwordHash, user.roles, user.totpSecret, user.at, user.createdBy],
  );
  if (rows[0] === undefined) throw new AuthError('ERR_USER_EXISTS', `a user ${JSON.stringify(user.username)} exists already (names are compared without case)`);
  return rows[0];
}

/** The columns an account change may set. */
export interface UserChange {
  password_hash?: string;
  roles?: Role[];
  disabled?: boolean;
  disabled_reason?: string | null;
  totp_secret?: string | null;
  totp_last_step?: number | null;
  failures?: number;
  locked_until?: Date | null;
  last_login_at?: Date;
}

/** Applies `change` to the row `userId` and returns it. */
export async function updateUser(db: Db, userId: string, change: UserChange, at: Date): Promise<UserRow> {
  // Column names come from the UserChange keys, never from input: safe to interpolate.
  const entries = (Object.entries(change) as Array<[string, unknown]>).filter(([, v]) => v !== undefined);
  const sets = entries.map(([k], i) => `${k} = $${i + 3}`);
  const { rows } = await db.query<UserRow>(
    `UPDATE ${S}.users SET ${[...sets, 'updated_at = $2'].join(', ')} WHERE user_id = $1 RETURNING *`,
    [userId, at, ...entries.map(([, v]) => v)],
  );
  if (rows[0] === undefined) throw new AuthError('ERR_USER_NOT_FOUND', 'the user was removed meanwhile');
  return rows[0];
}

/**
 * Counts one failed login. Once `maxFailures` are reached the account is locked until
 * `lockUntil`; a lockout that has run out starts the count again. One statement, so that
 * concurrent failures all count.
 */
export async function recordFailure(db: Db, userId: string, at: Date, maxFailures: number, lockUntil: Date): Promise<{ failures: number; lockedUntil: Date | null }> {
  const { rows } = await db.query<{ failures: number; locked_until: Date | null }>(
    `WITH n AS (
       SELECT CASE WHEN locked_until IS NOT NULL AND locked_until <= $2 THEN 1 ELSE failures + 1 END AS f, locked_until
       FROM ${S}.users WHERE user_id = $1 FOR UPDATE)
     UPDATE ${S}.users u SET
       failures = n.f,
       locked_until = CASE WHEN n.f >= $3 THEN $4 WHEN n.locked_until <= $2 THEN NULL ELSE n.locked_until END
     FROM n WHERE u.user_id = $1
     RETURNING u.failures, u.locked_until`,
    [userId, at, maxFailures, lockUntil],
  );
  return { failures: rows[0]?.failures ?? 0, lockedUntil: rows[0]?.locked_until ?? null };
}

/**
 * Records an accepted TOTP step, or returns false when a step at or after it was accepted
 * meanwhile (two logins racing with the same code: only one wins).
 */
export async function claimTotpStep(db: Db, userId: string, step: number): Promise<boolean> {
  const { rowCount } = await db.query(`UPDATE ${S}.users SET totp_last_step = $2 WHERE user_id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)`, [userId, step]);
  return rowCount === 1;
}
