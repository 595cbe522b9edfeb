/**
 * Who runs a hotlist change: the audit actor of `platesieve hotlist add|cancel|remove` and the
 * `Platesieve-Actor` header of its write. The project's rule is that the audit actor is always
 * the logged-in user or the service's own identity, never a typed name, so it is derived from
 * the credential the command connects with, else from the operating system's login:
 *
 *   user and password (nats.user, PLATESIEVE_NATS_USER, --nats-user, URL)  the user name
 *   creds file (user JWT)                                                   the JWT's name, else its subject
 *   nkey seed                                                               the nkey's public key
 *   TLS client certificate (and no other credential)                        the certificate's CN
 *   token, or no credential                                                 OS user@host
 *
 * A token is a shared secret: it authenticates a client, not a person.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { nkeys } from 'nats';
import { ConfigError } from '../errors.js';
import type { NatsConfig } from '../service/config.js';
import { loadNatsConfig } from '../service/nats-config.js';
import { splitUrlCredentials } from '../service/url-credentials.js';
import { UsageError } from './errors.js';
import { natsFlagsOf, type NatsCliOptions } from './nats-options.js';

/** Where an identity came from, recorded beside it (`details.actorSource`). */
export type ActorSource = 'nats-user' | 'nats-jwt' | 'nats-nkey' | 'tls-certificate' | 'os-user';

/** The actor of a change, and where it came from. */
export interface CliIdentity {
  actor: string;
  source: ActorSource;
  /** With `nats-jwt`: the user's public key (the JWT's subject) when the actor is its name. */
  key?: string;
}

/** The user JWT's `name` and `sub` from a creds file, or undefined when it holds none that decodes. */
function jwtClaims(credsFile: string): { name?: string; sub?: string } | undefined {
  const text = readFileSync(credsFile, 'utf8');
  const jwt = /-----BEGIN NATS USER JWT-----\s*([A-Za-z0-9_\-.]+)\s*-+END NATS USER JWT-+/.exec(text)?.[1];
  const payload = jwt?.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
    if (typeof claims !== 'object' || claims === null) return undefined;
    const { name, sub } = claims as { name?: unknown; sub?: unknown };
    return { name: typeof name === 'string' && name.trim() !== '' ? name.trim() : undefined, sub: typeof sub === 'string' ? sub : undefined };
  } catch {
    return undefined;
  }
}

function nkeyPublicKey(seedFile: string): string {
  const seed = new TextEncoder().encode(readFileSync(seedFile, 'utf8').trim());
  return (nkeys as unknown as { fromSeed(seed: Uint8Array): { getPublicKey(): string } }).fromSeed(seed).getPublicKey();
}

function certificateCn(certFile: string): string | undefined {
  const subject = new X509Certificate(readFileSync(certFile)).subject;
  return /^CN=(.+)$/m.exec(subject)?.[1]?.trim() || undefined;
}

/** The OS login, `user@host`: from the process's user id, not from `USER`, which anyone can set. */
export function osIdentity(): CliIdentity {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (a container's arbitrary uid): the uid is still who it is.
    user = `uid-${process.getuid?.() ?? 'unknown'}`;
  }
  return { actor: `${user}@${hostname()}`, source: 'os-user' };
}

/**
 * The identity of a resolved `nats` configuration, as in the table above. Reads the creds,
 * seed or certificate file; an unreadable one throws (the connection would fail on it too).
 */
export function identityOf(config: NatsConfig): CliIdentity {
  const url = splitUrlCredentials(config.servers);
  const user = config.user ?? url.user;
  if (user !== undefined && user !== '') return { actor: user, source: 'nats-user' };
  if (config.credsFile !== undefined) {
    const claims = jwtClaims(config.credsFile);
    if (claims?.name !== undefined) return { actor: claims.name, source: 'nats-jwt', key: claims.sub };
    if (claims?.sub !== undefined) return { actor: claims.sub, source: 'nats-jwt' };
  }
  if (config.nkeySeedFile !== undefined) return { actor: nkeyPublicKey(config.nkeySeedFile), source: 'nats-nkey' };
  if (config.token === undefined && url.token === undefined && config.tls?.certFile !== undefined) {
    const cn = certificateCn(config.tls.certFile);
    if (cn !== undefined) return { actor: cn, source: 'tls-certificate' };
  }
  return osIdentity();
}

/**
 * The identity of the command's connection settings (`--config`, the environment, the flags:
 * the same resolution as its connection). Bad settings are a UsageError, as when connecting.
 */
export function cliIdentity(opts: NatsCliOptions & { config?: string }): CliIdentity {
  try {
    return identityOf(loadNatsConfig(opts.config, natsFlagsOf(opts)));
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message, { cause: err });
    // An unreadable or malformed creds, seed or certificate file: the connection would fail on it too.
    throw new UsageError(`cannot name the actor from the NATS credential: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** The author of a change: the identity, and a typed name (`--actor`) kept as a note only. */
export interface ChangeAuthor {
  identity: CliIdentity;
  statedActor?: string;
  /** For the audit record's `details`: where the actor came from, and the typed name. */
  details: { actorSource: ActorSource; actorKey?: string; statedActor?: string };
}

/** {@link cliIdentity} plus the typed name given with `--actor` (or `PLATESIEVE_ACTOR`), if any. */
export function changeAuthor(opts: NatsCliOptions & { config?: string; actor?: string }): ChangeAuthor {
  const identity = cliIdentity(opts);
  const stated = opts.actor?.trim();
  const statedActor = stated === undefined || stated === '' ? undefined : stated;
  return { identity, statedActor, details: { actorSource: identity.source, actorKey: identity.key, statedActor } };
}
