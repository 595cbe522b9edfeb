/**
 * TOTP secrets at rest. The server must read them back to check codes (unlike passwords, they
 * cannot be hashed), so the users table is a secret store. With a key (env PLATESIEVE_TOTP_KEY)
 * they are sealed with AES-256-GCM, bound to the account name as associated data so a sealed
 * secret copied onto another row does not open; without one they are stored as given.
 *
 *   v1:<iv, base64>:<tag, base64>:<ciphertext, base64>    sealed
 *   plain:<base32>                                        no key configured
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ConfigError } from '../errors.js';

/** The env variable holding the key: 64 hex characters, or 32 bytes in base64. */
export const TOTP_KEY_ENV = 'PLATESIEVE_TOTP_KEY';

/** The key from `PLATESIEVE_TOTP_KEY`, or undefined when it is not set. */
export function totpKeyFromEnv(env: NodeJS.ProcessEnv = process.env): Buffer | undefined {
  const text = env[TOTP_KEY_ENV]?.trim();
  if (text === undefined || text === '') return undefined;
  const key = /^[0-9a-f]{64}$/i.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (key.length !== 32) throw new ConfigError(TOTP_KEY_ENV, `config: ${TOTP_KEY_ENV} must be 32 bytes as 64 hex characters or base64 (openssl rand -hex 32)`);
  return key;
}

/** Seals `secret` for the account `username` (plain when there is no key). */
export function sealSecret(secret: string, username: string, key: Buffer | undefined): string {
  if (key === undefined) return `plain:${secret}`;
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(username.toLowerCase(), 'utf8'));
  const ct = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return `v1:${iv.toString('base64')}:${cipher.getAuthTag().toString('base64')}:${ct.toString('base64')}`;
}

/** Opens a stored secret. Throws when it is sealed and the key is missing or wrong. */
export function openSecret(stored: string, username: string, key: Buffer | undefined): string {
  if (stored.startsWith('plain:')) return stored.slice('plain:'.length);
  const parts = stored.split(':');
  if (parts.length !== 4 || parts[0] !== 'v1') throw new Error(`the TOTP secret of ${username} is in an unknown format`);
  if (key === undefined) throw new ConfigError(TOTP_KEY_ENV, `config: the TOTP secrets are encrypted: set ${TOTP_KEY_ENV} to the key they were sealed with`);
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(parts[1], 'base64'));
  decipher.setAAD(Buffer.from(username.toLowerCase(), 'utf8'));
  decipher.setAuthTag(Buffer.from(parts[2], 'base64'));
  try {
    return Buffer.concat([decipher.update(Buffer.from(parts[3], 'base64')), decipher.final()]).toString('utf8');
  } catch (err) {
    throw new ConfigError(TOTP_KEY_ENV, `config: the TOTP secret of ${username} does not open with ${TOTP_KEY_ENV}: wrong key?`, { cause: err });
  }
}
