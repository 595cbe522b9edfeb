/**
 * {@link People}: accounts, logins and sessions over the store's PostgreSQL database
 * (docs/people.md). Every login, failed or not, every logout and every account change is
 * appended to the audit sink; an account change is committed only once its audit record is
 * durable (the sink is written inside the change's transaction, so the pool needs a second
 * connection when the sink writes to the same database).
 */
import type pg from 'pg';
import type { AuditEvent, AuditSink, JsonValue } from '../audit/types.js';
import { OptionsError } from '../errors.js';
import { inTransaction } from '../store/tx.js';
import {
  checkRoles,
  checkUsername,
  claimTotpStep,
  findUser,
  insertUser,
  listUserRows,
  recordFailure,
  requireUser,
  toAccount,
  updateUser,
  type UserChange,
  type UserRow,
} from './accounts.js';
import { AuthError, type AuthErrorCode } from './errors.js';
import { burnPasswordCheck, hashPassword, needsRehash, passwordProblem, primeDummyHash, verifyPassword } from './passwords.js';
import { isRole, requiresMfa, type Role } from './roles.js';
import { openSecret, sealSecret, totpKeyFromEnv } from './secret-box.js';
import { deleteSession, deleteUserSessions, findSession, insertSession, isTokenShaped, newToken, purgeExpiredSessions, tokenHash, touchSession } from './sessions.js';
import { acceptTotp, newTotpSecret, totpCode, totpUri } from './totp.js';
import type { Account, AddUserRequest, LoginRequest, PeopleOptions, Session, TotpEnrolment } from './types.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;

/** The actor of a refused login for a name that is no account: a typed name is not an identity. */
export const ANONYMOUS_ACTOR = 'anonymous';

function positive(options: PeopleOptions, key: 'sessionTtlMs' | 'idleTimeoutMs' | 'maxFailures' | 'lockoutMs', fallback: number): number {
  const v = options[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw new OptionsError(key, 'must be a positive integer');
  return v;
}

/** Accounts, passwords, TOTP, sessions and lockout. One instance per process. */
export class People {
  readonly #pool: pg.Pool;
  readonly #audit: AuditSink;
  readonly #ttl: number;
  readonly #idle: number;
  readonly #maxFailures: number;
  readonly #lockoutMs: number;
  readonly #issuer: string;
  readonly #now: () => number;
  readonly #key: Buffer | undefined;

  constructor(options: PeopleOptions) {
    if (typeof options?.pool?.query !== 'function') throw new OptionsError('pool', 'must be a pg.Pool');
    if (typeof options.audit?.append !== 'function') throw new OptionsError('audit', 'must be an AuditSink');
    this.#pool = options.pool;
    this.#audit = options.audit;
    this.#ttl = positive(options, 'sessionTtlMs', 8 * HOUR);
    this.#idle = positive(options, 'idleTimeoutMs', 30 * MINUTE);
    this.#maxFailures = positive(options, 'maxFailures', 5);
    this.#lockoutMs = positive(options, 'lockoutMs', 15 * MINUTE);
    this.#issuer = options.issuer ?? 'platesieve';
    if (typeof this.#issuer !== 'string' || this.#issuer.trim() === '' || this.#issuer.includes(':')) throw new OptionsError('issuer', 'must be a non-empty string without ":"');
    this.#now = options.now ?? Date.now;
    if (options.totpKey !== undefined && options.totpKey.length !== 32) throw new OptionsError('totpKey', 'must be 32 bytes');
    this.#key = options.totpKey ?? totpKeyFromEnv();
    // The dummy hash of unknown-user logins, made now: made at the first such login, it would
    // make that one slower than a wrong password.
    primeDummyHash();
  }

  /**
   * Creates an account. `mfa` defaults to {@link requiresMfa}(roles); the TOTP secret and its
   * URI are returned once, for the user's authenticator app, and never shown again.
   */
  async addUser(req: AddUserRequest, actor: string): Promise<{ account: Account; totp?: TotpEnrolment }> {
    const username = checkUsername(req.username);
    const roles = checkRoles(req.roles);
    const mfa = req.mfa ?? requiresMfa(roles);
    if (!mfa && requiresMfa(roles)) throw new AuthError('ERR_MFA_REQUIRED', `roles ${roles.join(', ')} see stored data: the account needs TOTP (only a plain operator may go without)`);
    const weak = passwordProblem(req.password);
    if (weak !== undefined) throw new AuthError('ERR_WEAK_PASSWORD', weak);
    const passwordHash = await hashPassword(req.password);
    const secret = mfa ? newTotpSecret() : undefined;
    const at = new Date(this.#now());
    const row = await this.#change(async (db) => {
      const r = await insertUser(db, { username, passwordHash, roles, totpSecret: secret === undefined ? null : sealSecret(secret, username, this.#key), createdBy: actor, at });
      return { result: r, event: { action: 'user.add', actor, subject: { user: r.username }, details: { roles, mfa } } };
    });
    return { account: toAccount(row, this.#now()), ...(secret !== undefined ? { totp: this.#enrolment(secret, row.username) } : {}) };
  }

  /** Disables an account and ends its sessions. */
  async disableUser(username: string, actor: string, reason: string): Promise<Account> {
    if (typeof reason !== 'string' || reason.trim() === '') throw new OptionsError('reason', 'is required to disable an account');
    const row = await this.#change(async (db) => {
      const user = await requireUser(db, username, true);
      const r = await updateUser(db, user.user_id, { disabled: true, disabled_reason: reason.trim() }, new Date(this.#now()));
      const sessionsEnded = await deleteUserSessions(db, user.user_id);
      return { result: r, event: { action: 'user.disable', actor, reason: reason.trim(), subject: { user: r.username }, details: { sessionsEnded } } };
    });
    return toAccount(row, this.#now());
  }

  /** Enables an account again; also clears a lockout. */
  async enableUser(username: string, actor: string): Promise<Account> {
    const row = await this.#change(async (db) => {
      const user = await requireUser(db, username, true);
      const r = await updateUser(db, user.user_id, { disabled: false, disabled_reason: null, failures: 0, locked_until: null }, new Date(this.#now()));
      return { result: r, event: { action: 'user.enable', actor, subject: { user: r.username }, details: { wasDisabled: user.disabled, wasLocked: user.locked_until !== null } } };
    });
    return toAccount(row, this.#now());
  }

  /**
   * Sets a new password and/or a new TOTP secret (returned once), clears a lockout and ends the
   * account's sessions.
   */
  async resetUser(username: string, actor: string, what: { password?: string; totp?: boolean }): Promise<{ account: Account; totp?: TotpEnrolment }> {
    if (what.password === undefined && what.totp !== true) throw new OptionsError('what', 'must name a new password, or totp: true');
    let passwordHash: string | undefined;
    if (what.password !== undefined) {
      const weak = passwordProblem(what.password);
      if (weak !== undefined) throw new AuthError('ERR_WEAK_PASSWORD', weak);
      passwordHash = await hashPassword(what.password);
    }
    const secret = what.totp === true ? newTotpSecret() : undefined;
    const row = await this.#change(async (db) => {
      const user = await requireUser(db, username, true);
      const change: UserChange = { failures: 0, locked_until: null };
      if (passwordHash !== undefined) change.password_hash = passwordHash;
      if (secret !== undefined) Object.assign(change, { totp_secret: sealSecret(secret, user.username, this.#key), totp_last_step: null });
      const r = await updateUser(db, user.user_id, change, new Date(this.#now()));
      const sessionsEnded = await deleteUserSessions(db, user.user_id);
      return { result: r, event: { action: 'user.reset', actor, subject: { user: r.username }, details: { password: passwordHash !== undefined, totp: secret !== undefined, sessionsEnded } } };
    });
    return { account: toAccount(row, this.#now()), ...(secret !== undefined ? { totp: this.#enrolment(secret, row.username) } : {}) };
  }

  /**
   * Replaces an account's roles. Sessions read the roles at every `authenticate`, so the change
   * applies at once. Roles that need TOTP are refused for an account without it (reset it first).
   */
  async setRoles(username: string, roles: Role[], actor: string): Promise<Account> {
    const wanted = checkRoles(roles);
    const row = await this.#change(async (db) => {
      const user = await requireUser(db, username, true);
      if (user.totp_secret === null && requiresMfa(wanted)) {
        throw new AuthError('ERR_MFA_REQUIRED', `roles ${wanted.join(', ')} need TOTP and ${user.username} has none: reset the account's TOTP first`);
      }
      const r = await updateUser(db, user.user_id, { roles: wanted }, new Date(this.#now()));
      return { result: r, event: { action: 'user.roles', actor, subject: { user: r.username }, details: { from: user.roles, to: wanted } } };
    });
    return toAccount(row, this.#now());
  }

  /** Every account, by name. */
  async listUsers(): Promise<Account[]> {
    return (await listUserRows(this.#pool)).map((r) => toAccount(r, this.#now()));
  }

  /** The account named `username` (any case), if there is one. */
  async getUser(username: string): Promise<Account | undefined> {
    const row = await findUser(this.#pool, username);
    return row === undefined ? undefined : toAccount(row, this.#now());
  }

  /**
   * Checks a password (and a TOTP code where the account has one) and opens a session. Refusals
   * throw AuthError; `ERR_AUTH_INVALID` never says whether the name or the password was wrong.
   */
  async login(req: LoginRequest): Promise<Session & { token: string }> {
    const at = this.#now();
    const typed = typeof req?.username === 'string' ? req.username.trim().slice(0, 64) : '';
    const password = typeof req?.password === 'string' ? req.password : '';
    const client: { [key: string]: JsonValue } = {};
    if (typeof req?.client?.ip === 'string') client.ip = req.client.ip.slice(0, 128);
    if (typeof req?.client?.userAgent === 'string') client.userAgent = req.client.userAgent.slice(0, 256);
    const refuse = (code: AuthErrorCode, message: string, row: UserRow | undefined, extra: { [key: string]: JsonValue } = {}): Promise<never> =>
      this.#refuseLogin(code, message, row?.username, typed, { ...client, ...(row !== undefined ? { roles: row.roles } : {}), ...extra });

    let row: UserRow | undefined;
    try {
      row = await findUser(this.#pool, checkUsername(typed));
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
    }
    // Each early refusal still pays for one scrypt, so its timing matches a wrong password.
    if (row === undefined) {
      await burnPasswordCheck(password);
      return refuse('ERR_AUTH_INVALID', 'wrong user name or password', undefined, { known: false });
    }
    if (row.disabled) {
      await burnPasswordCheck(password);
      return refuse('ERR_AUTH_DISABLED', 'the account is disabled', row);
    }
    if (row.locked_until !== null && row.locked_until.getTime() > at) {
      // Refused whatever the password: answering otherwise would tell a guesser when it is right.
      await burnPasswordCheck(password);
      return refuse('ERR_AUTH_LOCKED', `the account is locked after repeated failures until ${row.locked_until.toISOString()}`, row, { lockedUntil: row.locked_until.toISOString() });
    }
    if (!(await verifyPassword(password, row.password_hash))) {
      const f = await this.#fail(row, at);
      return refuse('ERR_AUTH_INVALID', 'wrong user name or password', row, f);
    }
    const roles = row.roles.filter(isRole);
    if (row.totp_secret === null && requiresMfa(roles)) {
      // Only a hand-edited row gets here: addUser and setRoles refuse this combination.
      return refuse('ERR_MFA_REQUIRED', 'the account has roles that need TOTP but no TOTP secret: ask an administrator to reset it', row);
    }
    if (row.totp_secret !== null) {
      // Not a failure: a two-step form sends the password first, then asks for the code.
      if (typeof req.totp !== 'string' || req.totp.trim() === '') return refuse('ERR_AUTH_TOTP_REQUIRED', 'a TOTP code is required', row);
      const secret = openSecret(row.totp_secret, row.username, this.#key);
      const check = acceptTotp(secret, req.totp, at, row.totp_last_step === null ? undefined : Number(row.totp_last_step));
      if (check.step === undefined || !(await claimTotpStep(this.#pool, row.user_id, check.step))) {
        const f = await this.#fail(row, at);
        return refuse('ERR_AUTH_TOTP_INVALID', 'wrong or already used TOTP code', row, { ...f, replay: check.replay || check.step !== undefined });
      }
    }

    const change: UserChange = { failures: 0, locked_until: null, last_login_at: new Date(at) };
    if (needsRehash(row.password_hash)) change.password_hash = await hashPassword(password);
    await updateUser(this.#pool, row.user_id, change, new Date(at));
    await purgeExpiredSessions(this.#pool, new Date(at));
    const { token, hash, sessionId } = newToken();
    const expires = { absolute: at + this.#ttl, idle: Math.min(at + this.#idle, at + this.#ttl) };
    await insertSession(this.#pool, { hash, sessionId, userId: row.user_id, at: new Date(at), absoluteUntil: new Date(expires.absolute), idleUntil: new Date(expires.idle), ip: req.client?.ip, userAgent: req.client?.userAgent });
    try {
      await this.#audit.append({ action: 'login', actor: row.username, subject: { user: row.username }, details: { ...client, roles, sessionId, mfa: row.totp_secret !== null } });
    } catch (err) {
      // An unaudited login must not stand.
      await deleteSession(this.#pool, hash).catch(() => undefined);
      throw err;
    }
    return { token, username: row.username, roles, createdAt: at, expiresAt: expires.idle, sessionId };
  }

  /**
   * The session of `token`, its idle expiry slid forward. Throws AuthError `ERR_SESSION_INVALID`
   * (unknown, logged out, or the account disabled) or `ERR_SESSION_EXPIRED` (idle or absolute).
   * Not audited here: the caller knows the request, and audits `session.refused` with it.
   */
  async authenticate(token: string): Promise<Session> {
    if (!isTokenShaped(token)) throw new AuthError('ERR_SESSION_INVALID', 'no such session');
    const at = this.#now();
    const hash = tokenHash(token);
    const row = await findSession(this.#pool, hash);
    if (row === undefined) throw new AuthError('ERR_SESSION_INVALID', 'no such session');
    if (row.disabled) {
      await deleteSession(this.#pool, hash);
      throw new AuthError('ERR_SESSION_INVALID', 'no such session');
    }
    const absolute = row.absolute_until.getTime();
    if (at >= absolute || at >= row.idle_until.getTime()) {
      await deleteSession(this.#pool, hash);
      throw new AuthError('ERR_SESSION_EXPIRED', at >= absolute ? 'the session has expired: log in again' : 'the session expired after inactivity: log in again');
    }
    const idleUntil = Math.min(at + this.#idle, absolute);
    await touchSession(this.#pool, hash, new Date(idleUntil));
    return { username: row.username, roles: row.roles.filter(isRole), createdAt: row.created_at.getTime(), expiresAt: idleUntil, sessionId: row.session_id };
  }

  /** Ends the session of `token` (audited). Throws AuthError ERR_SESSION_INVALID for an unknown token. */
  async logout(token: string): Promise<void> {
    if (!isTokenShaped(token)) throw new AuthError('ERR_SESSION_INVALID', 'no such session');
    const hash = tokenHash(token);
    const row = await findSession(this.#pool, hash);
    if (row === undefined || (await deleteSession(this.#pool, hash)) === undefined) throw new AuthError('ERR_SESSION_INVALID', 'no such session');
    await this.#audit.append({ action: 'logout', actor: row.username, subject: { user: row.username }, details: { sessionId: row.session_id } });
  }

  /** A `totp` code for tests and the CLI's enrolment check. */
  static totpNow(secret: string, at?: number): string {
    return totpCode(secret, at ?? Date.now());
  }

  #enrolment(secret: string, username: string): TotpEnrolment {
    return { secret, uri: totpUri(secret, username, this.#issuer) };
  }

  async #fail(row: UserRow, at: number): Promise<{ [key: string]: JsonValue }> {
    const f = await recordFailure(this.#pool, row.user_id, new Date(at), this.#maxFailures, new Date(at + this.#lockoutMs));
    return { failures: f.failures, ...(f.lockedUntil !== null && f.lockedUntil.getTime() > at ? { lockedUntil: f.lockedUntil.toISOString() } : {}) };
  }

  /**
   * Audits a refused login and throws. The actor is the account the attempt was made against,
   * so that the audit report counts failures per account; a name that is no account is not an
   * identity, so those attempts are all `anonymous`, with the name typed in `subject.user`.
   */
  async #refuseLogin(code: AuthErrorCode, message: string, account: string | undefined, typed: string, details: { [key: string]: JsonValue }): Promise<never> {
    const actor = account ?? ANONYMOUS_ACTOR;
    await this.#audit.append({ action: 'login', outcome: 'refused', actor, reason: message, subject: { user: account ?? typed }, details: { code, ...details } });
    throw new AuthError(code, message);
  }

  /** Runs an account change in one transaction that commits only after its audit record is durable. */
  async #change<T>(work: (db: pg.PoolClient) => Promise<{ result: T; event: AuditEvent }>): Promise<T> {
    return inTransaction(this.#pool, async (db) => {
      const { result, event } = await work(db);
      await this.#audit.append(event);
      return result;
    });
  }
}
