/**
 * Configuration of `platesieve serve`: one schema, defaults in one place, validated once at
 * start. The reference is docs/configuration.md; keep the two in step.
 *
 * Precedence, lowest first: schema defaults < config file (with `${VAR}` expansion) <
 * `PLATESIEVE_NATS_*` environment variables (only for keys the file leaves unset) < flags.
 * Every problem is reported at once, one line per key, naming the key and what was expected.
 */
import { readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../errors.js';
import type { MatchTier, StateMismatchPolicy } from '../types.js';

// ---------------------------------------------------------------------------------------------
// Public types

/** Retention policy applied to the records of one agency's reads. */
export interface RetentionPolicyConfig {
  /** Policy name written into every record (`retention.policy`). */
  policy: string;
  /** Days a read that hit nothing is kept. */
  nonhitDays: number;
  /** Days a read that raised an alert is kept. */
  hitDays: number;
  /** Legal basis text written into every record. */
  basis: string;
}

/** One hotlist file the service loads and refreshes. */
export interface HotlistSourceConfig {
  /** Absolute path (relative paths in the file are resolved against the file's folder). */
  file: string;
  /** Source of rows that name none (NCIC, CCIC, LOCAL, ...). */
  source: string;
  /** List type of rows that name none. */
  defaultList?: string;
  /** Priority of rows that name none (1 highest .. 5). */
  defaultPriority?: number;
  /** Format; default from the extension, else sniffed (docs/hotlists.md). */
  format?: 'csv' | 'ndjson' | 'delimited' | 'ncic-fixed';
  /** A built-in extract layout. */
  layout?: 'ncic-fixed' | 'ncic-pipe' | 'state-csv';
  /** Where each entry field is: column number, header name, or { start, end } for fixed width. */
  columns?: Record<string, number | string | { start: number; end: number }>;
  delimiter?: string;
  hasHeader?: boolean;
  /** Extra file or reason codes mapped to list types. */
  codes?: Record<string, string>;
  /** Refuse the file when more than this fraction of rows is invalid (0..1). */
  maxInvalidFraction?: number;
  /** Older than this, the source makes the service report itself degraded. */
  maxAgeHours: number;
  /** How often the file is checked for a new version (its modification time); a change reloads every source. */
  refreshMinutes: number;
  /** A new version with fewer than this fraction of the entries in force is refused as truncated. */
  minRetainedFraction: number;
}

/** TLS files; any of them present turns TLS on. An empty object means TLS with system CAs. */
export interface NatsTlsConfig {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/** Connection to the NATS cluster. Secrets may come from the environment. */
export interface NatsConfig {
  servers: string[];
  name: string;
  user?: string;
  pass?: string;
  token?: string;
  credsFile?: string;
  nkeySeedFile?: string;
  tls?: NatsTlsConfig;
  /** -1 = forever. */
  maxReconnectAttempts: number;
  reconnectTimeWaitMs: number;
}

/** JetStream mode: reads from a durable pull consumer, outputs stored in a stream. */
export interface JetStreamConfig {
  readsStream: string;
  outStream: string;
  consumer: string;
  createStreams: boolean;
  ackWaitMs: number;
  maxAckPending: number;
  fetchBatch: number;
  duplicateWindowMs: number;
  /** Deliveries of a reads message whose outputs cannot be stored before it is dead-lettered and terminated. */
  maxDeliver: number;
}

/** Matcher options (see MatcherOptions in matcher/types.ts). */
export interface MatchingConfig {
  tiers?: MatchTier[];
  listTiers?: Record<string, MatchTier[]>;
  maxDistance: number;
  stateMismatch: StateMismatchPolicy;
  minScore: number;
  /** Partial patterns' literals also match their OCR equivalents. */
  partialOcr: boolean;
  ocrClasses?: string[];
}

/** Batching and the worker pool. */
export interface PoolConfig {
  /** Worker threads; 0 (the default, from the 2-core benchmark) = match on the main thread. */
  workers: number;
  /** A batch is sent when it holds this many reads... */
  batchSize: number;
  /** ...or when its first read has waited this long. */
  batchWaitMs: number;
  /** Batches in the pool at once; beyond it, intake waits. */
  maxInFlight: number;
}

/** Pino log levels accepted by `log.level`. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** The validated configuration of `platesieve serve`, every default filled in. */
export interface ServiceConfig {
  nats: NatsConfig;
  subjects: { prefix: string };
  queueGroup: string;
  mode: 'core' | 'jetstream';
  jetstream: JetStreamConfig;
  hotlists: HotlistSourceConfig[];
  matching: MatchingConfig;
  pool: PoolConfig;
  suppression: { windowMs: number };
  /**
   * `coalesce`: in core mode, the non-hit records of a batch go out together (one array
   * message per retention policy) rather than one message per input message. JetStream
   * mode always publishes per input message (redelivery dedupe needs it).
   */
  records: { coalesce: boolean };
  retention: {
    default: RetentionPolicyConfig;
    /** Keyed by agency ORI; every field filled (missing ones come from `default`, policy from the ORI). */
    agencies: Record<string, RetentionPolicyConfig>;
  };
  /** `null`: no metrics server. Port 0 picks a free port. */
  metrics: { port: number; host: string } | null;
  /** Live entry changes through a JetStream KV bucket (null: off); `required`: fail to start without it. */
  liveUpdates: { bucket: string | null; required: boolean };
  /** Append-only, hash-chained audit log of hotlist loads and refusals (docs/audit.md); no file, no log. */
  audit: { file?: string; actor: string };
  log: { level: LogLevel };
  shutdownTimeoutMs: number;
  /** Absolute path of the file the configuration came from, if any. */
  configFile?: string;
}

/** Command-line flags that override the file. */
export interface ConfigOverrides {
  /** `--nats URL` (repeatable): replaces `nats.servers`. */
  nats?: readonly string[];
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

/** Environment variables read for secrets, by config key. */
export const NATS_ENV_VARS = {
  user: 'PLATESIEVE_NATS_USER',
  pass: 'PLATESIEVE_NATS_PASS',
  token: 'PLATESIEVE_NATS_TOKEN',
  credsFile: 'PLATESIEVE_NATS_CREDS',
  nkeySeedFile: 'PLATESIEVE_NATS_NKEY_SEED_FILE',
} as const;

export const DEFAULT_RETENTION_BASIS =
  'Agency ALPR policy: reads are kept for the retention period of their class, then deleted unless held as evidence.';

// ---------------------------------------------------------------------------------------------
// Schema. Each field carries one message that says what is expected; the formatter adds the key
// and the value found.

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const TIERS = ['exact', 'ocr', 'fuzzy'] as const;
const NAME_RE = /^[A-Za-z0-9_-]+$/;
const SUBJECT_RE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** Numeric strings (from `${VAR}` expansion) count as numbers; anything else is left to fail. */
function numeric(value: unknown): unknown {
  return typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
}

function int(min: number, max?: number) {
  const msg = max === undefined ? `must be an integer >= ${min}` : `must be an integer from ${min} to ${max}`;
  const base = z.number({ error: msg }).int({ error: msg }).min(min, { error: msg });
  return z.preprocess(numeric, max === undefined ? base : base.max(max, { error: msg }));
}

function num(min: number, max: number | undefined, exclusiveMin = false) {
  const msg =
    max === undefined
      ? `must be a number ${exclusiveMin ? '>' : '>='} ${min}`
      : `must be a number from ${min} to ${max}`;
  let base = z.number({ error: msg });
  base = exclusiveMin ? base.gt(min, { error: msg }) : base.min(min, { error: msg });
  if (max !== undefined) base = base.max(max, { error: msg });
  return z.preprocess(numeric, base);
}

const str = () => z.string({ error: 'must be a non-empty string' }).min(1, { error: 'must be a non-empty string' });
const name = (what: string) =>
  z.string({ error: `must be a ${what} of letters, digits, "_" and "-"` }).regex(NAME_RE, {
    error: `must be a ${what} of letters, digits, "_" and "-"`,
  });
const bool = () =>
  z.preprocess(
    (v) => (v === 'true' ? true : v === 'false' ? false : v),
    z.boolean({ error: 'must be true or false' }),
  );
const obj = <T extends z.core.$ZodLooseShape>(shape: T) => z.strictObject(shape, { error: 'must be an object' });
const tierList = () =>
  z
    .array(z.enum(TIERS, { error: 'must be one of "exact", "ocr", "fuzzy"' }), {
      error: 'must be a list of tiers ("exact", "ocr", "fuzzy")',
    })
    .min(1, { error: 'must name at least one tier' });

const natsSchema = obj({
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
  maxReconnectAttempts: int(-1).default(-1),
  reconnectTimeWaitMs: int(0).default(500),
});

const jetstreamSchema = obj({
  readsStream: name('stream name').default('ALPR_READS'),
  outStream: name('stream name').default('ALPR_OUT'),
  consumer: name('consumer name').default('platesieve'),
  createStreams: bool().default(true),
  ackWaitMs: int(1).default(30_000),
  maxAckPending: int(1).default(20_000),
  fetchBatch: int(1).default(1000),
  duplicateWindowMs: int(1).default(120_000),
  maxDeliver: int(1).default(5),
});

const hotlistSchema = obj({
  file: str(),
  source: str().default('LOCAL'),
  defaultList: str().optional(),
  defaultPriority: int(1, 5).optional(),
  format: z.enum(['csv', 'ndjson', 'delimited', 'ncic-fixed'], { error: 'must be "csv", "ndjson", "delimited" or "ncic-fixed"' }).optional(),
  layout: z.enum(['ncic-fixed', 'ncic-pipe', 'state-csv'], { error: 'must be "ncic-fixed", "ncic-pipe" or "state-csv"' }).optional(),
  columns: z
    .record(z.string(), z.union([z.number().int().min(0), z.string(), z.object({ start: z.number().int().min(0), end: z.number().int().min(1) }).strict()]), {
      error: 'must map entry fields to a column number, a header name or { start, end }',
    })
    .optional(),
  delimiter: z.string().length(1, { error: 'must be one character' }).optional(),
  hasHeader: z.boolean({ error: 'must be true or false' }).optional(),
  codes: z.record(z.string(), z.string(), { error: 'must map file or reason codes to list types' }).optional(),
  maxInvalidFraction: num(0, 1).optional(),
  maxAgeHours: num(0, undefined, true).default(24),
  refreshMinutes: num(0, undefined).default(5),
  minRetainedFraction: num(0, 1).default(0.5),
});

const retentionPolicySchema = obj({
  policy: str().default('default'),
  nonhitDays: num(0, undefined, true).default(30),
  hitDays: num(0, undefined, true).default(365),
  basis: str().default(DEFAULT_RETENTION_BASIS),
});

const agencyRetentionSchema = obj({
  policy: str().optional(),
  nonhitDays: num(0, undefined, true).optional(),
  hitDays: num(0, undefined, true).optional(),
  basis: str().optional(),
});

const metricsSchema = z
  .union(
    [
      z.null(),
      z.literal(false),
      obj({
        port: int(0, 65535).default(9464),
        host: str().default('0.0.0.0'),
      }),
    ],
    { error: 'must be an object { port, host }, or null/false to turn metrics off' },
  )
  .transform((v) => (v === false ? null : v));

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
  matching: obj({
    tiers: tierList().optional(),
    listTiers: z
      .record(z.string(), tierList(), { error: 'must map list types to lists of tiers' })
      .optional(),
    maxDistance: int(0, 2).default(1),
    stateMismatch: z.enum(['reject', 'match'], { error: 'must be "reject" or "match"' }).default('reject'),
    minScore: num(0, 1).default(0),
    partialOcr: z.boolean({ error: 'must be true or false' }).default(false),
    ocrClasses: z
      .array(
        z
          .string({ error: 'must be a class of 2 or more characters A-Z0-9, such as "0ODQ"' })
          .regex(/^[A-Z0-9]{2,}$/, { error: 'must be a class of 2 or more characters A-Z0-9, such as "0ODQ"' }),
        { error: 'must be a list of classes such as ["0ODQ", "1IL"]' },
      )
      .optional(),
  }).prefault({}),
  pool: obj({
    workers: int(0).default(0),
    batchSize: int(1).default(512),
    batchWaitMs: num(0, undefined).default(2),
    maxInFlight: int(1).default(4),
  }).prefault({}),
  suppression: obj({ windowMs: int(0).default(300_000) }).prefault({}),
  records: obj({ coalesce: z.boolean({ error: 'must be true or false' }).default(true) }).prefault({}),
  retention: obj({
    default: retentionPolicySchema.prefault({}),
    agencies: z
      .record(
        z.string().regex(/^[A-Za-z0-9]+$/, { error: 'agency keys must be ORIs (letters and digits)' }),
        agencyRetentionSchema,
        { error: 'must map agency ORIs to retention policies' },
      )
      .default({}),
  }).prefault({}),
  metrics: metricsSchema.prefault({}),
  log: obj({ level: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info') }).prefault(
    {},
  ),
  shutdownTimeoutMs: int(0).default(10_000),
  audit: obj({ file: str().optional(), actor: str().default('platesieve-service') }).prefault({}),
  liveUpdates: obj({
    bucket: z.union([z.string().regex(/^[-_A-Za-z0-9]+$/, { error: 'must be a bucket name (letters, digits, "-", "_") or null' }), z.null()]).default('alpr-hotlist'),
    required: z.boolean({ error: 'must be true or false' }).default(false),
  }).prefault({}),
});

// ---------------------------------------------------------------------------------------------
// Loading

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type RawObject = Record<string, unknown>;

function isObject(v: unknown): v is RawObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function keyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

function fail(issues: ConfigIssue[], cause?: unknown): never {
  throw new ConfigError(issues[0].key, issues.map((i) => i.message).join('\n'), { issues, cause });
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  try {
    const text = JSON.stringify(value);
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
  } catch {
    return String(value);
  }
}

/** Reads and parses the file: YAML for .yaml/.yml, JSON for .json, else sniffed from the first character. */
function readConfigFile(file: string): RawObject {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    fail([{ key: '', message: `config: cannot read ${file}: ${(err as Error).message}` }], err);
  }
  const ext = extname(file).toLowerCase();
  const json = ext === '.json' || (ext !== '.yaml' && ext !== '.yml' && /^\s*[{[]/.test(text));
  let data: unknown;
  try {
    data = json ? JSON.parse(text) : parseYaml(text, { prettyErrors: true });
  } catch (err) {
    const what = json ? 'JSON' : 'YAML';
    const detail = (err as Error).message.split('\n')[0];
    fail([{ key: '', message: `config: ${file} is not valid ${what}: ${detail}` }], err);
  }
  if (data === null || data === undefined) return {};
  if (!isObject(data)) fail([{ key: '', message: `config: ${file} must hold an object of settings (got ${describe(data)})` }]);
  return data;
}

const VAR_RE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Expands `${VAR}` and `${VAR:-default}` in every string value; `$$` is a literal `$`. */
function expandVars(value: unknown, path: PropertyKey[], env: NodeJS.ProcessEnv, issues: ConfigIssue[]): unknown {
  if (typeof value === 'string') {
    return value.replace(VAR_RE, (match, name: string | undefined, fallback: string | undefined) => {
      if (name === undefined) return '$';
      const found = env[name];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      const key = keyPath(path);
      issues.push({ key, message: `config: ${key} refers to \${${name}}, which is not set in the environment` });
      return match;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => expandVars(v, [...path, i], env, issues));
  if (isObject(value)) {
    const out: RawObject = {};
    for (const [k, v] of Object.entries(value)) out[k] = expandVars(v, [...path, k], env, issues);
    return out;
  }
  return value;
}

function child(raw: RawObject, key: string): RawObject | undefined {
  const v = raw[key];
  if (v === undefined) {
    const created: RawObject = {};
    raw[key] = created;
    return created;
  }
  return isObject(v) ? v : undefined; // not an object: left for the schema to report
}

function formatIssue(issue: z.core.$ZodIssue): ConfigIssue[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => {
      const key = keyPath([...issue.path, k]);
      return { key, message: `config: ${key} is not a known setting` };
    });
  }
  const key = keyPath(issue.path);
  const input = (issue as { input?: unknown }).input;
  const shown = key || '(top level)';
  if (input === undefined) return [{ key, message: `config: ${shown} is required: it ${issue.message}` }];
  return [{ key, message: `config: ${shown} ${issue.message} (got ${describe(input)})` }];
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
): ServiceConfig {
  const cwd = process.cwd();
  const configFile = file === undefined ? undefined : resolve(cwd, file);
  const base = configFile === undefined ? cwd : dirname(configFile);
  const issues: ConfigIssue[] = [];

  const fromFile = configFile === undefined ? {} : readConfigFile(configFile);
  const raw = expandVars(fromFile, [], env, issues) as RawObject;

  // Environment: secrets and credentials the file leaves unset. Paths relative to the working directory.
  const nats = child(raw, 'nats');
  if (nats !== undefined) {
    for (const [key, variable] of Object.entries(NATS_ENV_VARS)) {
      const value = env[variable];
      if (nats[key] !== undefined || value === undefined || value === '') continue;
      nats[key] = key.endsWith('File') ? resolve(cwd, value) : value;
    }
  }

  // Flags win over everything.
  if (overrides.nats !== undefined && overrides.nats.length > 0 && nats !== undefined) {
    nats.servers = overrides.nats.flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  }
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

  if (c.hotlists.length === 0) {
    fail([
      {
        key: 'hotlists',
        message: 'config: hotlists: no hotlist configured (list them under hotlists in the config file, or pass --hotlist FILE)',
      },
    ]);
  }

  const tls = c.nats.tls;
  const config: ServiceConfig = {
    ...c,
    nats: {
      ...c.nats,
      credsFile: c.nats.credsFile === undefined ? undefined : absolute(base, c.nats.credsFile),
      nkeySeedFile: c.nats.nkeySeedFile === undefined ? undefined : absolute(base, c.nats.nkeySeedFile),
      tls:
        tls === undefined
          ? undefined
          : {
              caFile: tls.caFile === undefined ? undefined : absolute(base, tls.caFile),
              certFile: tls.certFile === undefined ? undefined : absolute(base, tls.certFile),
              keyFile: tls.keyFile === undefined ? undefined : absolute(base, tls.keyFile),
            },
    },
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
  if (Array.isArray(value)) return value.map((v) => stripUndefined(v)) as T;
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
    if (typeof value === 'string' && key === 'server') return value.replace(/\/\/[^/@\s]*@/, '//[redacted]@');
    if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string' || value === null) return value;
    return String(value);
  };
  return walk(config, '');
}
