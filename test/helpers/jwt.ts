/**
 * NATS JWTs for tests of operator mode, without `nsc` (not installed) or a JWT library: the
 * claims are encoded by hand and signed with nkeys from the `nats` package, as the Go
 * `nats-io/jwt/v2` library does. An operator signs an account, the account signs a user; the
 * server trusts the operator and gets the account from `resolver_preload`.
 */
import { createHash } from 'node:crypto';
import { nkeys as natsNkeys } from 'nats';

/** What these tests use of an nkey pair (the `nats` package re-exports nkeys.js without naming its types). */
export interface KeyPair {
  getPublicKey(): string;
  getSeed(): Uint8Array;
  sign(data: Uint8Array): Uint8Array;
}

/** nkeys.js through the `nats` package, typed. */
export const nkeys = natsNkeys as unknown as { createOperator(): KeyPair; createAccount(): KeyPair; createUser(): KeyPair };

const b64url = (bytes: Uint8Array | string): string => Buffer.from(bytes).toString('base64url');

/** RFC 4648 base32 without padding, as the Go library writes `jti`. */
function base32(bytes: Uint8Array): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

/** Encodes and signs one JWT: `sub` is the subject's public key, `issuer` signs it. */
export function encodeJwt(issuer: KeyPair, sub: string, name: string, nats: Record<string, unknown>): string {
  const header = { typ: 'JWT', alg: 'ed25519-nkey' };
  const claims: Record<string, unknown> = { jti: '', iat: Math.floor(Date.now() / 1000), iss: issuer.getPublicKey(), name, sub, nats };
  // jti: hash of the claims without it (the Go library hashes with SHA-512/256).
  claims.jti = base32(createHash('sha512-256').update(JSON.stringify(claims)).digest());
  const signing = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${signing}.${b64url(issuer.sign(new TextEncoder().encode(signing)))}`;
}

/** An operator, one account (JetStream allowed) and one user, with the server config that trusts them. */
export interface OperatorSetup {
  operatorJwt: string;
  accountPublicKey: string;
  accountJwt: string;
  /** The user's `.creds` file text: JWT and seed. */
  userCreds: string;
  /** nats-server configuration lines: operator, MEMORY resolver, the account and a system account preloaded. */
  serverConfig: string;
}

const UNLIMITED = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 };
const JETSTREAM = { mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 };

/** Creds file format written by `nsc`. */
export function credsFile(jwt: string, seed: Uint8Array): string {
  return [
    '-----BEGIN NATS USER JWT-----', jwt, '------END NATS USER JWT------', '',
    '************************* IMPORTANT *************************',
    'NKEY Seed printed below can be used to sign and prove identity.',
    'NKEYs are sensitive and should be treated as secrets.', '',
    '-----BEGIN USER NKEY SEED-----', new TextDecoder().decode(seed), '------END USER NKEY SEED------', '',
  ].join('\n');
}

/** Generates fresh keys and JWTs for an operator, an account `name` and one user. */
export function operatorSetup(name = 'ALPR', signer?: KeyPair): OperatorSetup {
  const operator = nkeys.createOperator();
  const account = nkeys.createAccount();
  // JetStream in operator mode needs a system account.
  const system = nkeys.createAccount();
  const systemJwt = encodeJwt(operator, system.getPublicKey(), 'SYS', { type: 'account', version: 2, limits: UNLIMITED });
  const user = nkeys.createUser();
  const operatorJwt = encodeJwt(operator, operator.getPublicKey(), 'test-operator', { type: 'operator', version: 2 });
  const accountJwt = encodeJwt(operator, account.getPublicKey(), name, {
    type: 'account', version: 2, limits: { ...UNLIMITED, ...JETSTREAM }, default_permissions: { pub: {}, sub: {} },
  });
  // `signer` lets a test sign the user with a key the account does not trust.
  const userJwt = encodeJwt(signer ?? account, user.getPublicKey(), 'platesieve', {
    type: 'user', version: 2, pub: {}, sub: {}, subs: -1, data: -1, payload: -1,
  });
  return {
    operatorJwt,
    accountPublicKey: account.getPublicKey(),
    accountJwt,
    userCreds: credsFile(userJwt, user.getSeed()),
    serverConfig: [
      `operator: ${JSON.stringify(operatorJwt)}`,
      'resolver: MEMORY',
      `system_account: ${system.getPublicKey()}`,
      `resolver_preload: { ${account.getPublicKey()}: ${JSON.stringify(accountJwt)}, ${system.getPublicKey()}: ${JSON.stringify(systemJwt)} }`,
    ].join('\n'),
  };
}
