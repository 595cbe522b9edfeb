/**
 * Password hashes: scrypt (node:crypto) with a random salt per hash. The parameters are stored
 * in the hash string, so they can be raised later: old hashes still verify under their own
 * parameters and are rehashed at the next successful login ({@link needsRehash}).
 *
 *   scrypt$<N>$<r>$<p>$<salt, base64>$<key, base64>
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** scrypt cost parameters. */
export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  N: number;
  r: number;
  p: number;
}

/**
 * OWASP's minimum for scrypt is N=2^17 with r=8; N=2^15 is what fits the login rate a small
 * agency server sees (about 50 ms a login on one core) while still costing an attacker 32 MiB
 * per guess. Raise it here; stored hashes carry their own.
 */
export const DEFAULT_SCRYPT: Readonly<ScryptParams> = { N: 2 ** 15, r: 8, p: 1 };

const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
/** Shortest password accepted (NIST SP 800-63B asks at least 8; the agency's rule is 12). */
export const MIN_PASSWORD_LENGTH = 12;
/** Longest accepted: bounds the work one request can cause. */
export const MAX_PASSWORD_LENGTH = 1024;

function scrypt(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  // scrypt needs 128 * N * r bytes; Node's default cap (32 MiB) is just below N=2^15, r=8.
  const options: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scryptCb(password.normalize('NFKC'), salt, KEY_LENGTH, options, (err, key) => (err === null ? resolve(key) : reject(err)));
  });
}

/** Hashes a password with a fresh salt. */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const key = await scrypt(password, salt, params);
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

interface ParsedHash {
  params: ScryptParams;
  salt: Buffer;
  key: Buffer;
}

function parseHash(stored: string): ParsedHash | undefined {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  if (![N, r, p].every((n) => Number.isSafeInteger(n) && n > 0)) return undefined;
  return { params: { N, r, p }, salt: Buffer.from(parts[4], 'base64'), key: Buffer.from(parts[5], 'base64') };
}

/** Whether `password` matches `stored`. A malformed stored hash never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  if (parsed === undefined || parsed.key.length !== KEY_LENGTH) return false;
  const key = await scrypt(password, parsed.salt, parsed.params);
  return timingSafeEqual(key, parsed.key);
}

/** Whether a stored hash was made with weaker parameters than `params`. */
export function needsRehash(stored: string, params: ScryptParams = DEFAULT_SCRYPT): boolean {
  const parsed = parseHash(stored);
  if (parsed === undefined) return true;
  return parsed.params.N < params.N || parsed.params.r < params.r || parsed.params.p < params.p;
}

/** Why a new password is refused, or undefined when it is acceptable. */
export function passwordProblem(password: unknown): string | undefined {
  if (typeof password !== 'string') return 'the password must be a string';
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) return `the password must be at least ${MIN_PASSWORD_LENGTH} characters`;
  if (length > MAX_PASSWORD_LENGTH) return `the password must be at most ${MAX_PASSWORD_LENGTH} characters`;
  if (password.trim() === '') return 'the password must not be blank';
  return undefined;
}

let dummy: Promise<string> | undefined;

/** Starts making the dummy hash of {@link burnPasswordCheck} (once per process). */
export function primeDummyHash(): void {
  if (dummy !== undefined) return;
  dummy = hashPassword(randomBytes(16).toString('hex'));
  // Never fails in practice; if it did, burnPasswordCheck would surface it where it is awaited.
  dummy.catch(() => undefined);
}

/**
 * Verifies `password` against a hash of a random password: a login for an unknown user costs
 * the same scrypt time as one for a known user, so timing does not tell which names exist.
 */
export async function burnPasswordCheck(password: string): Promise<void> {
  primeDummyHash();
  await verifyPassword(password, await (dummy as Promise<string>));
}
