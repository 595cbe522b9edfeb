/** Public shapes of the people library (accounts, sessions, options). */
import type pg from 'pg';
import type { AuditSink } from '../audit/types.js';
import type { Role } from './roles.js';

/** An account as the library shows it: never the password hash or the TOTP secret. */
export interface Account {
  username: string;
  roles: Role[];
  disabled: boolean;
  /** Whether the account has a TOTP second factor. */
  mfa: boolean;
  /** ISO 8601. */
  createdAt: string;
  createdBy: string;
  lastLoginAt?: string;
  /** ISO 8601, set while the account is locked after repeated failures. */
  lockedUntil?: string;
  /** Consecutive failed logins since the last success. */
  failures: number;
}

/** An authenticated session. Times are epoch milliseconds. */
export interface Session {
  username: string;
  roles: Role[];
  createdAt: number;
  /** The earlier of the absolute expiry and the idle expiry, as of the last use. */
  expiresAt: number;
  /** A public id of the session (not the token): safe to log and audit. */
  sessionId: string;
}

/** A freshly issued TOTP secret: shown once to the user, for their authenticator app. */
export interface TotpEnrolment {
  /** Base32. */
  secret: string;
  /** `otpauth://totp/...` URI (QR code content). */
  uri: string;
}

/** Options of {@link People}. */
export interface PeopleOptions {
  pool: pg.Pool;
  audit: AuditSink;
  /** Absolute session lifetime, default 8 h. */
  sessionTtlMs?: number;
  /** Idle timeout, default 30 min, slid forward by every `authenticate`. */
  idleTimeoutMs?: number;
  /** Consecutive failures before the account is locked, default 5. */
  maxFailures?: number;
  /** How long a lockout lasts, default 15 min. */
  lockoutMs?: number;
  /** TOTP issuer shown in authenticator apps, default `platesieve`. */
  issuer?: string;
  /** Clock, epoch milliseconds (tests inject it). */
  now?: () => number;
  /**
   * 32-byte key to encrypt TOTP secrets at rest (AES-256-GCM). Default: env
   * `PLATESIEVE_TOTP_KEY` (64 hex characters or base64) when set, else secrets are stored plain.
   */
  totpKey?: Buffer;
}

/** What {@link People.login} takes. */
export interface LoginRequest {
  username: string;
  password: string;
  totp?: string;
  client?: { ip?: string; userAgent?: string };
}

/** What {@link People.addUser} takes. */
export interface AddUserRequest {
  username: string;
  password: string;
  roles: Role[];
  /** Default `requiresMfa(roles)`. */
  mfa?: boolean;
}
