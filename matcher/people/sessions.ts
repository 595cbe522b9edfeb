/**
 * The `sessions` table (schema version 3): tokens are 32 random bytes, base64url, given to the
 * client once; the table holds only their SHA-256, so reading it (a backup, a replica) opens no
 * session. A session ends at the earlier of its absolute expiry and its idle expiry, which each
 * use slides forward.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { SCHEMA } from '../store/schema.js';

const S = SCHEMA;
type Db = Pool | PoolClient;

/** A new token and what is stored of it. */
export function newToken(): { token: string; hash: Buffer; sessionId: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: tokenHash(token), sessionId: randomBytes(12).toString('base64url') };
}

/** SHA-256 of a token: a token has 256 random bits, so a fast hash is enough (no salt, no scrypt). */
export function tokenHash(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** Whether `token` has the shape of one we issue (43 base64url characters): others never hit the database. */
export function isTokenShaped(token: unknown): token is string {
  return typeof token === 'string' && /^[A-Za-z0-9_-]{43}$/.test(token);
}

/** A row of `sessions` joined with its account. */
export interface SessionRow {
  session_id: string;
  user_id: string;
  username: string;
  roles: string[];
  disabled: boolean;
  created_at: Date;
  absolute_until: Date;
  idle_until: Date;
}

export async function insertSession(
  db: Db,
  s: { hash: Buffer; sessionId: string; userId: string; at: Date; absoluteUntil: Date; idleUntil: Date; ip?: string; userAgent?: string },
): Promise<void> {
  await db.query(
    `INSERT INTO ${S}.sessions (token_hash, session_id, user_id, created_at, absolute_until, idle_until, client_ip, user_agent)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [s.hash, s.sessionId, s.userId, s.at, s.absoluteUntil, s.idleUntil, s.ip?.slice(0, 128) ?? null, s.userAgent?.slice(0, 512) ?? null],
  );
}

export async function findSession(db: Db, hash: Buffer): Promise<SessionRow | undefined> {
  const { rows } = await db.query<SessionRow>(
    `SELECT s.session_id, s.user_id, u.username, u.roles, u.disabled, s.created_at, s.absolute_until, s.idle_until
     FROM ${S}.sessions s JOIN ${S}.users u USING (user_id) WHERE s.token_hash = $1`,
    [hash],
  );
  return rows[0];
}

/** Slides the idle expiry to `idleUntil` (never past the absolute one). */
export async function touchSession(db: Db, hash: Buffer, idleUntil: Date): Promise<void> {
  await db.query(`UPDATE ${S}.sessions SET idle_until = least($2, absolute_until) WHERE token_hash = $1`, [hash, idleUntil]);
}

/** Deletes one session; returns it when it existed. */
export async function deleteSession(db: Db, hash: Buffer): Promise<{ session_id: string; user_id: string } | undefined> {
  const { rows } = await db.query<{ session_id: string; user_id: string }>(`DELETE FROM ${S}.sessions WHERE token_hash = $1 RETURNING session_id, user_id`, [hash]);
  return rows[0];
}

/** Ends every session of a user; returns how many there were. */
export async function deleteUserSessions(db: Db, userId: string): Promise<number> {
  const { rowCount } = await db.query(`DELETE FROM ${S}.sessions WHERE user_id = $1`, [userId]);
  return rowCount ?? 0;
}

/** Deletes sessions past either expiry: they can never be used again, so they are kept no longer. */
export async function purgeExpiredSessions(db: Db, at: Date): Promise<number> {
  const { rowCount } = await db.query(`DELETE FROM ${S}.sessions WHERE idle_until <= $1 OR absolute_until <= $1`, [at]);
  return rowCount ?? 0;
}
