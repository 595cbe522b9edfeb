/**
 * Where the `nats` settings come from besides the configuration file: `PLATESIEVE_NATS_*`
 * environment variables (for keys the file leaves unset) and command-line flags (which win).
 * `platesieve serve` and `platesieve hotlist add|cancel|remove|list` share this, so an
 * operator authenticates the CLI exactly as the service does (docs/security.md).
 */
import { isAbsolute, resolve } from 'node:path';

/** Environment variables read for secrets, by `nats` key. */
export const NATS_ENV_VARS = {
  user: 'PLATESIEVE_NATS_USER',
  pass: 'PLATESIEVE_NATS_PASS',
  token: 'PLATESIEVE_NATS_TOKEN',
  credsFile: 'PLATESIEVE_NATS_CREDS',
  nkeySeedFile: 'PLATESIEVE_NATS_NKEY_SEED_FILE',
} as const;

/** Server URLs (comma-separated) when the file lists none and no `--nats` flag is given. */
export const NATS_URL_ENV = 'PLATESIEVE_NATS_URL';

/**
 * `nats` settings given as flags. Passwords and tokens have no flag on purpose: a command
 * line is visible to every local user (`ps`) and kept in shell history.
 */
export interface NatsFlags {
  /** `--nats URL` (repeatable, or comma-separated): replaces `nats.servers`. */
  servers?: readonly string[];
  /** `--nats-user NAME`: `nats.user` (the password from the file or PLATESIEVE_NATS_PASS). */
  user?: string;
  /** `--nats-creds FILE`: `nats.credsFile`. */
  credsFile?: string;
  /** `--nats-nkey-seed FILE`: `nats.nkeySeedFile`. */
  nkeySeedFile?: string;
  /** `--nats-ca FILE`, `--nats-cert FILE`, `--nats-key FILE`: `nats.tls.*`; any of them turns TLS on. */
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

type Raw = Record<string, unknown>;

function splitServers(values: readonly string[]): string[] {
  return values.flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
}

/**
 * Fills the raw (not yet validated) `nats` object in place: environment variables for keys
 * it leaves unset, then flags over everything. Paths from either are resolved against `cwd`
 * here, because paths in the file are resolved against the file's folder later.
 */
export function applyNatsSources(nats: Raw, flags: NatsFlags, env: NodeJS.ProcessEnv, cwd: string): void {
  for (const [key, variable] of Object.entries(NATS_ENV_VARS)) {
    const value = env[variable];
    if (nats[key] !== undefined || value === undefined || value === '') continue;
    nats[key] = key.endsWith('File') ? resolve(cwd, value) : value;
  }
  const urls = env[NATS_URL_ENV];
  if (nats.servers === undefined && urls !== undefined && urls.trim() !== '') nats.servers = splitServers([urls]);

  if (flags.servers !== undefined && flags.servers.length > 0) nats.servers = splitServers(flags.servers);
  if (flags.user !== undefined) nats.user = flags.user;
  if (flags.credsFile !== undefined) nats.credsFile = resolve(cwd, flags.credsFile);
  if (flags.nkeySeedFile !== undefined) nats.nkeySeedFile = resolve(cwd, flags.nkeySeedFile);
  const tlsFlags = { caFile: flags.caFile, certFile: flags.certFile, keyFile: flags.keyFile };
  if (Object.values(tlsFlags).some((v) => v !== undefined)) {
    const tls: Raw = typeof nats.tls === 'object' && nats.tls !== null ? (nats.tls as Raw) : {};
    for (const [key, value] of Object.entries(tlsFlags)) if (value !== undefined) tls[key] = resolve(cwd, value);
    nats.tls = tls;
  }
}

/** The file paths of a validated `nats` section, made absolute against `base` (the configuration file's folder). */
export function resolveNatsPaths<
  T extends { credsFile?: string; nkeySeedFile?: string; tls?: { caFile?: string; certFile?: string; keyFile?: string } },
>(nats: T, base: string): T {
  const abs = (p: string | undefined): string | undefined => (p === undefined ? undefined : isAbsolute(p) ? p : resolve(base, p));
  const tls = nats.tls;
  return {
    ...nats,
    credsFile: abs(nats.credsFile),
    nkeySeedFile: abs(nats.nkeySeedFile),
    tls: tls === undefined ? undefined : { caFile: abs(tls.caFile), certFile: abs(tls.certFile), keyFile: abs(tls.keyFile) },
  };
}
