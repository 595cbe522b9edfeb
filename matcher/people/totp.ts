/**
 * TOTP second factor (RFC 6238 through the otpauth package): SHA-1, 6 digits, 30 s steps, the
 * parameters every authenticator app supports. A code is accepted one step either side of the
 * server's clock (phone clocks drift), and never for a step at or before the last one accepted
 * for the same user: a code seen over someone's shoulder cannot be used again.
 */
import { Secret, TOTP } from 'otpauth';

const ALGORITHM = 'SHA1';
const DIGITS = 6;
const PERIOD = 30;
const WINDOW = 1;

/** A new random secret (160 bits, RFC 4226's recommendation), base32. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** The `otpauth://` URI an authenticator app enrols from (shown once, as text or a QR code). */
export function totpUri(secret: string, username: string, issuer: string): string {
  return new TOTP({ issuer, label: username, secret: Secret.fromBase32(secret), algorithm: ALGORITHM, digits: DIGITS, period: PERIOD }).toString();
}

/** The code for `secret` at `at` (epoch ms). */
export function totpCode(secret: string, at: number): string {
  return TOTP.generate({ secret: Secret.fromBase32(secret), algorithm: ALGORITHM, digits: DIGITS, period: PERIOD, timestamp: at });
}

/**
 * The time step `code` is valid for at `at`, or undefined when it is not valid, or is for a
 * step at or before `lastStep` (a replay).
 */
export function acceptTotp(secret: string, code: string, at: number, lastStep: number | undefined): { step?: number; replay: boolean } {
  const token = code.replace(/\s+/g, '');
  if (!/^\d{6}$/.test(token)) return { replay: false };
  const delta = TOTP.validate({ token, secret: Secret.fromBase32(secret), algorithm: ALGORITHM, digits: DIGITS, period: PERIOD, timestamp: at, window: WINDOW });
  if (delta === null) return { replay: false };
  const step = TOTP.counter({ period: PERIOD, timestamp: at }) + delta;
  if (lastStep !== undefined && step <= lastStep) return { replay: true };
  return { step, replay: false };
}
