/**
 * The errors of accounts, logins and sessions. Callers switch on `code`; the HTTP layer maps
 * codes to statuses. `ERR_AUTH_INVALID` never says whether the user or the password was wrong.
 */
import { PlatesieveError } from '../errors.js';

/** Stable codes of {@link AuthError}. */
export const AUTH_ERROR_CODES = [
  'ERR_AUTH_INVALID',
  'ERR_AUTH_TOTP_REQUIRED',
  'ERR_AUTH_TOTP_INVALID',
  'ERR_AUTH_LOCKED',
  'ERR_AUTH_DISABLED',
  'ERR_SESSION_INVALID',
  'ERR_SESSION_EXPIRED',
  'ERR_USER_EXISTS',
  'ERR_USER_NOT_FOUND',
  'ERR_WEAK_PASSWORD',
  'ERR_BAD_USERNAME',
  'ERR_MFA_REQUIRED',
  'ERR_BAD_ROLE',
] as const;
export type AuthErrorCode = (typeof AUTH_ERROR_CODES)[number];

/** A login, session or account operation was refused. */
export class AuthError extends PlatesieveError {
  declare readonly code: AuthErrorCode;
  constructor(code: AuthErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
