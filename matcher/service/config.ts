/**
 * Configuration of `platesieve serve`: one schema, defaults in one place, validated once at
 * start. The reference is docs/configuration.md; keep the two in step.
 *
 * Precedence, lowest first: schema defaults < config file (with `${VAR}` expansion) <
 * `PLATESIEVE_NATS_*` environment variables (only for keys the file leaves unset) < flags.
 * Every problem is reported at once, one line per key, naming the key and what was expected.
 *
 * The schema's sections are in config-schema.ts (`nats` and `metrics` here); reading the file,
 * `${VAR}` expansion and the messages are config-file.ts. The types below derive from the
 * schema.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import type { ConfigIssue } from '../errors.js';
import { applyNatsSources, resolveNatsPaths, type NatsFlags } from './nats-sources.js';
import { redactUrl } from './redact.js';
import { expandVars, fail, formatIssue, isObject, readConfigFile, type Json, type RawObject } from './config-file.js';
import {
  agencyRetentionSchema, hotlistSchema, int, jetstreamSchema, LOG_LEVELS, matchingSchema, name, obj, poolSchema,
  retentionPolicySchema, storeSchema, opsSchema, escalationSchema, sensitivePlacesSchema, str, SUBJECT_RE, type RetentionPolicyConfig,
} from './config-schema.js';

export { NATS_ENV_VARS, NATS_URL_ENV, type NatsFlags } from './nats-sources.js';
export { expandVars, fail, formatIssue, readConfigFile, type Json } from './config-file.js';
export { DEFAULT_RETENTION_BASIS, MAX_BATCH_SIZE } from './config-schema.js';
export type { HotlistSourceConfig, JetStreamConfig, LogLevel, MatchingConfig, PoolConfig, RetentionPolicyConfig } from './config-schema.js';

/** Command-line flags that override the file. */
export interface ConfigOverrides {
  /** `--nats URL` (repeatable): replaces `nats.servers`. */
  nats?: readonly string[];
  /** `--nats-user`, `--nats-creds`, `--nats-nkey-seed`, `--nats-ca|cert|key`: the other `nats` flags (matcher/cli/nats-options.ts). */
  natsFlags?: Omit<NatsFlags, 'servers'>;
  /** `--hotlist FILE` (repeatable): replaces `hotlists`, each with source LOCAL; relative to the working directory. */
  hotlists?: readonly string[];
  /** `--workers N`: `pool.workers`. */
  workers?: number;
  /** `--metrics-port N`: `metrics.port` (turns metrics on if the file turned them off). */
  metricsPort?: number;
  /** `--log-level LEVEL`: `log.level`. */
  logLevel?: string;
  /** `--mode core|jetstream`: `mode`. */
  mode?: string;
}

// ---------------------------------------------------------------------------------------------
// Schema: the `nats` and `metrics` sections, and the whole file (the other sections are in
// config-schema.ts).

/** The `nats` section (shared with the hotlist CLI, matcher/service/nats-config.ts). */
export const natsSchema = obj({
  servers: z
    .array(
      z
        .string({ error: 'must be a server URL such as nats://host:4222' })
        .regex(/^\S+$/, { error: 'must be a server URL such as nats://host:4222' }),
      { error: 'must be a list of server URLs' },
    )
    .min(1, { error: 'must list at least one server' })
    .default(['nats://127.0.0.1:4222']),
  name: str().default('platesieve'),
  user: str().optional(),
  pass: str().optional(),
  token: str().optional(),
  credsFile: str().optional(),
  nkeySeedFile: str().optional(),
  tls: obj({ caFile: str().optional(), certFile: str().optional(), keyFile: str().optional() }).optional(),
  /** Prefix of this client's reply subjects; a prefix of its own lets server permissions keep its replies (pulled reads) from other users. */
  inboxPrefix: z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, { error: 'must be subject tokens such as "_INBOX_platesieve"' }).default('_INBOX'),
  /** -1 = forever. */
  maxReconnectAttempts: int(-1).default(-1),
  reconnectTimeWaitMs: int(0).default(500),
});

type ParsedNats = z.output<typeof natsSchema>;

/**
 * Connection to the NATS cluster (the `nats` section). Secrets may come from the environment.
 * `inboxPrefix` may be left out of one made in code (the connection then uses `_INBOX`).
 */
export type NatsConfig = Omit<ParsedNats, 'inboxPrefix'> & { inboxPrefix?: string };

/** TLS files; any of them present turns TLS on. An empty object means TLS with system CAs. */
export type NatsTlsConfig = NonNullable<ParsedNats['tls']>;

const metricsSchema = z
  .union(
    [
      z.null(),
      z.literal(false),
      obj({
        port: int(0, 65535).default(9464),
        // Loopback by default: /metrics and /healthz have no authentication (docs/security.md).
        host: str().default('127.0.0.1'),
      }),
    ],
    { error: 'must be an object { port, host }, or null/false to turn metrics off' },
  )
  .transform((v) => (v === false ? null : v));

/** The whole configuration file (`platesieve serve`). */
const serviceSchema = obj({
  nats: natsSchema.prefault({}),
  subjects: obj({
    prefix: z
      .string({ error: 'must be a subject prefix such as "alpr" (tokens of letters, digits, "_", "-", joined by ".")' })
      .regex(SUBJECT_RE, {
        error: 'must be a subject prefix such as "alpr" (tokens of letters, digits, "_", "-", joined by ".")',
      })
      .default('alpr'),
  }).prefault({}),
  queueGroup: name('queue group name').default('platesieve'),
  mode: z.enum(['core', 'jetstream'], { error: 'must be "core" or "jetstream"' }).default('core'),
  jetstream: jetstreamSchema.prefault({}),
  hotlists: z.array(hotlistSchema, { error: 'must be a list of { file, source, maxAgeHours }' }).default([]),
  matching: matchingSchema.prefault({}),
  pool: poolSchema.prefault({}),
  suppression: obj({ windowMs: int(0).default(300_000) }).prefault({}),
  /**
   * A hit on an entry of another agency (its `ori`) is also published on that agency's alert
   * subject, with the header `Platesieve-Shared-From` (docs/wire-format.md "Alerts out").
   */
  shareWithEntryOwner: z.boolean({ error: 'must be true or false' }).default(false),
  /**
   * `coalesce`: in core mode, the non-hit records of a batch go out together (one array
   * message per retention policy) rather than one message per input message. JetStream
   * mode always publishes per input message (redelivery dedupe needs it).
   */
  records: obj({ coalesce: z.boolean({ error: 'must be true or false' }).default(true) }).prefault({}),
  retention: obj({
    default: retentionPolicySchema.prefault({}),
    agencies: z
      .record(
        z.string().regex(/^[A-Za-z0-9]{1,64}$/, { error: 'agency keys must be ORIs (1 to 64 letters and digits)' }),
        agencyRetentionSchema,
        { error: 'must map agency ORIs to retention policies' },
      )
      .default({}),
  }).prefault({}),
  /** `null`: no metrics server. Port 0 picks a free port. */
  metrics: metricsSchema.prefault({}),
  log: obj({ level: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info') }).prefault(
    {},
  ),
  shutdownTimeoutMs: int(0).default(10_000),
  /** Hotlist reloads refused in a row that turn `/healthz` `degraded` (0: never). */
  hotlistRefusalsDegraded: int(0).default(3),
  /** Append-only, hash-chained audit log of hotlist loads and refusals (docs/audit.md); no file, no log. */
  audit: obj({ file: str().optional(), actor: str().default('platesieve-service') }).prefault({}),
  store: storeSchema.prefault({}),
  ops: opsSchema.prefault({}),
  /** NCIC confirmation windows of alerts and their escalation (the store sweeps). */
  escalation: escalationSchema.prefault({}),
  /** Camera tags whose reads search and export return only under the tag's rule. */
  sensitivePlaces: sensitivePlacesSchema.prefault({}),
  /** Live entry changes through a JetStream KV bucket (null: off); `required`: fail to start without it. */
  liveUpdates: obj({
    bucket: z.union([z.string().regex(/^[-_A-Za-z0-9]+$/, { error: 'must be a bucket name (letters, digits, "-", "_") or null' }), z.null()]).default('alpr-hotlist'),
    required: z.boolean({ error: 'must be true or false' }).default(false),
  }).prefault({}),
  /**
   * Active evidence holds, published by the store to a JetStream KV bucket (null: off): the
   * service tags the records of held plates' reads `hold`; `required`: fail to start without it.
   */
  holds: obj({
    bucket: z.union([z.string().regex(/^[-_A-Za-z0-9]+$/, { error: 'must be a bucket name (letters, digits, "-", "_") or null' }), z.null()]).default('alpr-holds'),
    required: z.boolean({ error: 'must be true or false' }).default(false),
  }).prefault({}),
});

/**
 * The validated configuration of `platesieve serve`, every default filled in: the schema's
 * output, with paths made absolute and every agency's retention policy complete.
 */
export type ServiceConfig = Omit<z.output<typeof serviceSchema>, 'nats' | 'retention'> & {
  nats: NatsConfig;
  retention: {
    default: RetentionPolicyConfig;
    /** Keyed by agency ORI; every field filled (missing ones come from `default`, policy from the ORI). */
    agencies: Record<string, RetentionPolicyConfig>;
  };
  /** Absolute path of the file the configuration came from, if any. */
  configFile?: string;
};

// ---------------------------------------------------------------------------------------------
// Loading

function child(raw: RawObject, key: string): RawObject | undefined {
  const v = raw[key];
  if (v === undefined) {
    const created: RawObject = {};
    raw[key] = created;
    return created;
  }
  return isObject(v) ? v : undefined; // not an object: left for the schema to report
}

function absolute(base: string, p: string): string {
  return isAbsolute(p) ? p : resolve(base, p);
}

/**
 * Loads, merges and validates the service configuration.
 * @param file YAML or JSON file, or undefined for defaults plus flags and environment.
 * @throws ConfigError naming every bad key.
 */
export function loadServiceConfig(
  file: string | undefined,
  overrides: ConfigOverrides = {},
  env: NodeJS.ProcessEnv = process.env,
  options: { requireHotlists?: boolean } = {},
): ServiceConfig {
  const cwd = process.cwd();
  const configFile = file === undefined ? undefined : resolve(cwd, file);
  const base = configFile === undefined ? cwd : dirname(configFile);
  const issues: ConfigIssue[] = [];

  const fromFile = configFile === undefined ? {} : readConfigFile(configFile);
  const raw = expandVars(fromFile, [], env, issues) as RawObject;

  // Environment: secrets and credentials the file leaves unset; then the nats flags, which win.
  // Shared with the hotlist CLI (nats-sources.ts). Paths relative to the working directory.
  const nats = child(raw, 'nats');
  if (nats !== undefined) applyNatsSources(nats, { ...overrides.natsFlags, servers: overrides.nats }, env, cwd);

  // Flags win over everything.
  if (overrides.hotlists !== undefined && overrides.hotlists.length > 0) {
    raw.hotlists = overrides.hotlists.map((f) => ({ file: resolve(cwd, f), source: 'LOCAL' }));
  }
  if (overrides.workers !== undefined) {
    const pool = child(raw, 'pool');
    if (pool !== undefined) pool.workers = overrides.workers;
  }
  if (overrides.metricsPort !== undefined) {
    if (raw.metrics === null || raw.metrics === false) raw.metrics = {};
    const metrics = child(raw, 'metrics');
    if (metrics !== undefined) metrics.port = overrides.metricsPort;
  }
  if (overrides.logLevel !== undefined) {
    const log = child(raw, 'log');
    if (log !== undefined) log.level = overrides.logLevel;
  }
  if (overrides.mode !== undefined) raw.mode = overrides.mode;

  const parsed = serviceSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) for (const issue of parsed.error.issues) issues.push(...formatIssue(issue));
  if (issues.length > 0 || !parsed.success) fail(issues);
  const c = parsed.data;

  const policies: Array<[string, { nonhitDays?: number; hitDays?: number; minimumDays?: number }]> = [['default', c.retention.default], ...Object.entries(c.retention.agencies)];
  for (const [who, p] of policies) {
    const min = p.minimumDays ?? c.retention.default.minimumDays;
    for (const k of ['nonhitDays', 'hitDays'] as const) {
      const days = p[k] ?? c.retention.default[k];
      if (days < min) issues.push({ key: `retention.${who === 'default' ? 'default' : `agencies.${who}`}.${k}`, message: `config: retention.${who === 'default' ? 'default' : `agencies.${who}`}.${k}: ${days} days is shorter than the policy's minimumDays ${min}: a minimum period can never be shortened` });
    }
  }
  if (issues.length > 0) fail(issues);

  if (options.requireHotlists !== false && c.hotlists.length === 0) {
    fail([
      {
        key: 'hotlists',
        message: 'config: hotlists: no hotlist configured (list them under hotlists in the config file, or pass --hotlist FILE)',
      },
    ]);
  }

  const config: ServiceConfig = {
    ...c,
    nats: resolveNatsPaths(c.nats, base),
    hotlists: c.hotlists.map((h) => ({ ...h, file: absolute(base, h.file) })),
    audit: { ...c.audit, file: c.audit.file === undefined ? undefined : absolute(base, c.audit.file) },
    retention: {
      default: c.retention.default,
      agencies: Object.fromEntries(
        Object.entries(c.retention.agencies).map(([ori, p]) => [
          ori,
          {
            policy: p.policy ?? ori,
            nonhitDays: p.nonhitDays ?? c.retention.default.nonhitDays,
            hitDays: p.hitDays ?? c.retention.default.hitDays,
            basis: p.basis ?? c.retention.default.basis,
            minimumDays: p.minimumDays ?? c.retention.default.minimumDays,
          },
        ]),
      ),
    },
    configFile,
  };
  return stripUndefined(config);
}

/** Drops keys whose value is undefined, so logs and equality checks see only what is set. */
function stripUndefined<T>(value: T): T {
  if (Array.isArray(value)) {
    const items: readonly unknown[] = value;
    return items.map((v) => stripUndefined(v)) as T;
  }
  if (isObject(value)) {
    const out: RawObject = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = stripUndefined(v);
    return out as T;
  }
  return value;
}

const SECRET_KEY = /pass|token|seed|secret/i;

/** A copy of the configuration safe to log: passwords, tokens, seeds and URL credentials replaced by `[redacted]`. */
export function redactConfig(config: ServiceConfig): Json {
  const walk = (value: unknown, key: string): Json => {
    if (value === undefined) return null;
    if (SECRET_KEY.test(key) && value !== null) return '[redacted]';
    if (Array.isArray(value)) return value.map((v) => walk(v, key === 'servers' ? 'server' : ''));
    if (isObject(value)) {
      const out: { [k: string]: Json } = {};
      for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = walk(v, k);
      return out;
    }
    if (typeof value === 'string' && key === 'server') return redactUrl(value);
    if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string' || value === null) return value;
    return typeof value === 'bigint' || typeof value === 'symbol' || typeof value === 'function' ? String(value) : null;
  };
  return walk(config, '');
}
