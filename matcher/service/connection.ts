/**
 * nats.js connection options from the validated configuration. Auth conflicts and unreadable
 * credential files are refused here, at start, with the key that is wrong, rather than as an
 * authorization failure on the wire. Nothing here logs: the options hold secrets.
 */
import { existsSync, readFileSync } from 'node:fs';
import { credsAuthenticator, nkeyAuthenticator, type ConnectionOptions, type TlsOptions } from 'nats';
import { fromSeed } from 'nkeys.js';
import { ConfigError } from '../errors.js';
import type { NatsConfig } from './config.js';
import { splitUrlCredentials } from './url-credentials.js';

function configError(key: string, message: string, cause?: unknown): ConfigError {
  return new ConfigError(key, `config: ${key} ${message}`, { cause });
}

function readKeyFile(key: string, file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (err) {
    throw configError(key, `cannot be read: ${file}: ${(err as Error).message}`, err);
  }
}

function checkAuth(config: NatsConfig): void {
  if ((config.user === undefined) !== (config.pass === undefined)) {
    const missing = config.user === undefined ? 'nats.user' : 'nats.pass';
    throw configError(missing, 'is required when nats.user or nats.pass is set (both or neither)');
  }
  const kinds: string[] = [];
  if (config.user !== undefined) kinds.push('nats.user/nats.pass');
  if (config.token !== undefined) kinds.push('nats.token');
  if (config.credsFile !== undefined) kinds.push('nats.credsFile');
  if (config.nkeySeedFile !== undefined) kinds.push('nats.nkeySeedFile');
  if (kinds.length > 1) {
    const key = kinds[1].split('/')[0];
    throw configError(
      key,
      `conflicts with ${kinds[0]}: set one kind of NATS authentication (${kinds.join(', ')} are set; check the PLATESIEVE_NATS_* environment variables too)`,
    );
  }
}

function credsFrom(file: string): ConnectionOptions['authenticator'] {
  const creds = readKeyFile('nats.credsFile', file);
  const text = new TextDecoder().decode(creds);
  if (!/BEGIN NATS USER JWT/.test(text) || !/BEGIN USER NKEY SEED/.test(text)) {
    throw configError('nats.credsFile', `is not a NATS credentials file (no user JWT and seed): ${file}`);
  }
  return credsAuthenticator(creds);
}

function nkeyFrom(file: string): ConnectionOptions['authenticator'] {
  const seed = new TextEncoder().encode(new TextDecoder().decode(readKeyFile('nats.nkeySeedFile', file)).trim());
  try {
    fromSeed(seed);
  } catch (err) {
    throw configError('nats.nkeySeedFile', `does not hold a valid nkey seed: ${file}`, err);
  }
  return nkeyAuthenticator(seed);
}

function tlsFrom(tls: NonNullable<NatsConfig['tls']>): TlsOptions {
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    const missing = tls.certFile === undefined ? 'nats.tls.certFile' : 'nats.tls.keyFile';
    throw configError(missing, 'is required: a client certificate needs both nats.tls.certFile and nats.tls.keyFile');
  }
  const out: TlsOptions = {};
  for (const key of ['caFile', 'certFile', 'keyFile'] as const) {
    const file = tls[key];
    if (file === undefined) continue;
    if (!existsSync(file)) throw configError(`nats.tls.${key}`, `does not exist: ${file}`);
    out[key] = file;
  }
  return out;
}

/**
 * The configuration with credentials from the server URLs (`nats://user:pass@host`,
 * `nats://token@host`) moved to `user`/`pass` or `token`, and the URLs stripped of them:
 * nats.js would not send them, and the stripped list is what the client reports and logs.
 * URL credentials count as one kind of authentication, so they conflict with any other.
 */
function withUrlCredentials(config: NatsConfig): NatsConfig {
  const fromUrls = splitUrlCredentials(config.servers);
  if (fromUrls.from === undefined) return config;
  const key = `nats.servers[${fromUrls.from}]`;
  const other = [
    config.user !== undefined || config.pass !== undefined ? 'nats.user/nats.pass' : undefined,
    config.token !== undefined ? 'nats.token' : undefined,
    config.credsFile !== undefined ? 'nats.credsFile' : undefined,
    config.nkeySeedFile !== undefined ? 'nats.nkeySeedFile' : undefined,
  ].filter((k) => k !== undefined);
  if (other.length > 0) {
    throw configError(key, `carries credentials (user:password@ or token@) and ${other[0]} is set: set one kind of NATS authentication (check the PLATESIEVE_NATS_* environment variables too)`);
  }
  return { ...config, servers: fromUrls.servers, user: fromUrls.user, pass: fromUrls.pass, token: fromUrls.token };
}

/**
 * Options for nats.js `connect()`: servers (credentials in their URLs taken out and used),
 * name, exactly one kind of authentication, TLS, and reconnect settings that keep retrying
 * (also on the first connect).
 * @throws ConfigError on conflicting authentication or an unreadable credentials, seed or TLS file.
 */
export function natsConnectionOptions(given: NatsConfig): ConnectionOptions {
  const config = withUrlCredentials(given);
  checkAuth(config);
  const options: ConnectionOptions = {
    servers: [...config.servers],
    name: config.name,
    inboxPrefix: given.inboxPrefix ?? '_INBOX',
    reconnect: true,
    maxReconnectAttempts: config.maxReconnectAttempts,
    reconnectTimeWait: config.reconnectTimeWaitMs,
    waitOnFirstConnect: true,
  };
  if (config.user !== undefined) {
    options.user = config.user;
    options.pass = config.pass;
  }
  if (config.token !== undefined) options.token = config.token;
  if (config.credsFile !== undefined) options.authenticator = credsFrom(config.credsFile);
  if (config.nkeySeedFile !== undefined) options.authenticator = nkeyFrom(config.nkeySeedFile);
  if (config.tls !== undefined) options.tls = tlsFrom(config.tls);
  return options;
}
