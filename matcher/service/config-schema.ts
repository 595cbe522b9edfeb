/**
 * The building blocks of the `platesieve serve` configuration schema (config.ts assembles
 * it): value helpers that carry one message each saying what is expected, and the sections
 * other than `nats` and `metrics`. The configuration's types are derived from these schemas
 * (z.output), so the schema is the one definition of what a setting may hold.
 */
import { z } from 'zod';

/** Retention basis written into records when the configuration names none. */
export const DEFAULT_RETENTION_BASIS =
  'Agency ALPR policy: reads are kept for the retention period of their class, then deleted unless held as evidence.';

// ---------------------------------------------------------------------------------------------
// Value helpers. Each carries one message that says what is expected; the formatter adds the
// key and the value found.

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const TIERS = ['exact', 'ocr', 'fuzzy'] as const;
const NAME_RE = /^[A-Za-z0-9_-]+$/;
export const SUBJECT_RE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** Numeric strings (from `${VAR}` expansion) count as numbers; anything else is left to fail. */
function numeric(value: unknown): unknown {
  return typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
}

export function int(min: number, max?: number) {
  const msg = max === undefined ? `must be an integer >= ${min}` : `must be an integer from ${min} to ${max}`;
  const base = z.number({ error: msg }).int({ error: msg }).min(min, { error: msg });
  return z.preprocess(numeric, max === undefined ? base : base.max(max, { error: msg }));
}

export function num(min: number, max: number | undefined, exclusiveMin = false) {
  const msg =
    max === undefined
      ? `must be a number ${exclusiveMin ? '>' : '>='} ${min}`
      : `must be a number from ${min} to ${max}`;
  let base = z.number({ error: msg });
  base = exclusiveMin ? base.gt(min, { error: msg }) : base.min(min, { error: msg });
  if (max !== undefined) base = base.max(max, { error: msg });
  return z.preprocess(numeric, base);
}

export const str = () => z.string({ error: 'must be a non-empty string' }).min(1, { error: 'must be a non-empty string' });
export const name = (what: string) =>
  z.string({ error: `must be a ${what} of letters, digits, "_" and "-"` }).regex(NAME_RE, {
    error: `must be a ${what} of letters, digits, "_" and "-"`,
  });
const bool = () =>
  z.preprocess(
    (v) => (v === 'true' ? true : v === 'false' ? false : v),
    z.boolean({ error: 'must be true or false' }),
  );
export const obj = <T extends z.core.$ZodLooseShape>(shape: T) => z.strictObject(shape, { error: 'must be an object' });
const tierList = () =>
  z
    .array(z.enum(TIERS, { error: 'must be one of "exact", "ocr", "fuzzy"' }), {
      error: 'must be a list of tiers ("exact", "ocr", "fuzzy")',
    })
    .min(1, { error: 'must name at least one tier' });

// ---------------------------------------------------------------------------------------------
// Sections

/** The `jetstream` section: JetStream mode reads from a durable pull consumer and stores its outputs in a stream. */
export const jetstreamSchema = obj({
  readsStream: name('stream name').default('ALPR_READS'),
  outStream: name('stream name').default('ALPR_OUT'),
  consumer: name('consumer name').default('platesieve'),
  createStreams: bool().default(true),
  ackWaitMs: int(1).default(30_000),
  maxAckPending: int(1).default(20_000),
  fetchBatch: int(1).default(1000),
  duplicateWindowMs: int(1).default(120_000),
  /** Deliveries of a reads message whose outputs cannot be stored before it is dead-lettered and terminated. */
  maxDeliver: int(1).default(5),
});

/** JetStream mode: reads from a durable pull consumer, outputs stored in a stream. */
export type JetStreamConfig = z.output<typeof jetstreamSchema>;

/** One entry of `hotlists`: a hotlist file the service loads and refreshes. */
export const hotlistSchema = obj({
  /** The file; relative paths in a config file are resolved against the file's folder (absolute once loaded). */
  file: str(),
  /** Source of rows that name none (NCIC, CCIC, LOCAL, ...). */
  source: str().default('LOCAL'),
  /** List type of rows that name none. */
  defaultList: str().optional(),
  /** Priority of rows that name none (1 highest .. 5). */
  defaultPriority: int(1, 5).optional(),
  /** Format; default from the extension, else sniffed (docs/hotlists.md). */
  format: z.enum(['csv', 'ndjson', 'delimited', 'ncic-fixed'], { error: 'must be "csv", "ndjson", "delimited" or "ncic-fixed"' }).optional(),
  /** A built-in extract layout. */
  layout: z.enum(['ncic-fixed', 'ncic-pipe', 'state-csv'], { error: 'must be "ncic-fixed", "ncic-pipe" or "state-csv"' }).optional(),
  /** Where each entry field is: column number, header name, or { start, end } for fixed width. */
  columns: z
    .record(z.string(), z.union([z.number().int().min(0), z.string(), z.object({ start: z.number().int().min(0), end: z.number().int().min(1) }).strict()]), {
      error: 'must map entry fields to a column number, a header name or { start, end }',
    })
    .optional(),
  delimiter: z.string().length(1, { error: 'must be one character' }).optional(),
  hasHeader: z.boolean({ error: 'must be true or false' }).optional(),
  /** Extra file or reason codes mapped to list types. */
  codes: z.record(z.string(), z.string(), { error: 'must map file or reason codes to list types' }).optional(),
  /** Refuse the file when more than this fraction of rows is invalid (0..1). */
  maxInvalidFraction: num(0, 1).optional(),
  /** Older than this, the source makes the service report itself degraded. */
  maxAgeHours: num(0, undefined, true).default(24),
  /** How often the file is checked for a new version (its modification time); a change reloads every source. */
  refreshMinutes: num(0, undefined).default(5),
  /** A new version with fewer than this fraction of the entries in force is refused as truncated. */
  minRetainedFraction: num(0, 1).default(0.5),
});

/** One hotlist file the service loads and refreshes (`file` absolute once loaded). */
export type HotlistSourceConfig = z.output<typeof hotlistSchema>;

/** The `matching` section: matcher options (MatcherOptions in matcher/types.ts). */
export const matchingSchema = obj({
  tiers: tierList().optional(),
  listTiers: z
    .record(z.string(), tierList(), { error: 'must map list types to lists of tiers' })
    .optional(),
  maxDistance: int(0, 2).default(1),
  stateMismatch: z.enum(['reject', 'match'], { error: 'must be "reject" or "match"' }).default('reject'),
  minScore: num(0, 1).default(0),
  /** Per list type, a higher score threshold than minScore (replay only for now: docs/replay.md). */
  listMinScore: z.record(z.string(), num(0, 1), { error: 'must map list types to scores between 0 and 1' }).optional(),
  /** Partial patterns' literals also match their OCR equivalents. */
  partialOcr: z.boolean({ error: 'must be true or false' }).default(false),
  ocrClasses: z
    .array(
      z
        .string({ error: 'must be a class of 2 or more characters A-Z0-9, such as "0ODQ"' })
        .regex(/^[A-Z0-9]{2,}$/, { error: 'must be a class of 2 or more characters A-Z0-9, such as "0ODQ"' }),
      { error: 'must be a list of classes such as ["0ODQ", "1IL"]' },
    )
    .optional(),
});

/** Matcher options (see MatcherOptions in matcher/types.ts). */
export type MatchingConfig = z.output<typeof matchingSchema>;

/** Most messages in a batch (`pool.batchSize`): beyond it a batch only holds up the reads in it longer. */
export const MAX_BATCH_SIZE = 65_536;
// A policy name becomes a subject token and part of output ids (docs/wire-format.md "Input bounds").
const POLICY_MSG = 'must be a policy name of 1 to 64 characters, none of them a control character';
// eslint-disable-next-line no-control-regex -- the class names the control characters a policy name must not hold
const policyName = () => z.string({ error: POLICY_MSG }).regex(/^[^\x00-\x1f\x7f]{1,64}$/, { error: POLICY_MSG });

/** A retention policy (`retention.default`). */
export const retentionPolicySchema = obj({
  /** Policy name written into every record (`retention.policy`). */
  policy: policyName().default('default'),
  /** Days a read that hit nothing is kept. */
  nonhitDays: num(0, undefined, true).default(30),
  /** Days a read that raised an alert is kept. */
  hitDays: num(0, undefined, true).default(365),
  /** Legal basis text written into every record. */
  basis: str().default(DEFAULT_RETENTION_BASIS),
  /** Shortest period the policy allows (El Centro: 730); no period may be shorter, the store never keeps a record less. */
  minimumDays: num(0, undefined).default(0),
});

/** An agency's retention policy (`retention.agencies.<ORI>`): what it leaves out comes from `default`, its name from the ORI. */
export const agencyRetentionSchema = obj({
  policy: policyName().optional(),
  nonhitDays: num(0, undefined, true).optional(),
  hitDays: num(0, undefined, true).optional(),
  basis: str().optional(),
  minimumDays: num(0, undefined).optional(),
});

/** Retention policy applied to the records of one agency's reads. */
export type RetentionPolicyConfig = z.output<typeof retentionPolicySchema>;

/** The `store` section (`platesieve store`, docs/store.md); `serve` ignores it. */
export const storeSchema = obj({
  /** PostgreSQL URL; PLATESIEVE_DB_URL when absent. */
  db: str().optional(),
  /** Durable consumer name on each output stream, shared by every store process. */
  consumer: name('consumer name').default('platesieve-store'),
  /** Messages written in one transaction at most... */
  batchSize: int(1, 100_000).default(4000),
  /** ...or rows (an array message holds many records): a transaction stays well inside the 60 s ack wait. */
  batchRows: int(1, 1_000_000).default(20_000),
  /** ...or when the first has waited this long. */
  batchWaitMs: num(0, undefined).default(100),
  /** Messages delivered and not yet acknowledged, per consumer. */
  maxAckPending: int(1).default(20_000),
  /** Database connections of one store process. */
  poolSize: int(1, 100).default(4),
  /** Batches written at once, each its own transaction on its own connection (at most poolSize - 1 leaves one for searches). */
  writers: int(1, 16).default(2),
  /** Minutes between retention runs inside `store` (0: never; run `platesieve store retention` from a scheduler instead). */
  retentionEveryMinutes: num(0, undefined).default(60),
  /** Days of stored reads searched for an entry when it is added (historical hits); per list in historicalDaysByList. 0: off. */
  historicalDays: num(0, undefined).default(7),
  historicalDaysByList: z.record(z.string().min(1), num(0, undefined), { error: 'must map list types to days' }).default({}),
});

/** The `pool` section: batching and the worker pool. */
export const poolSchema = obj({
  /** Worker threads; 0 (the default, from the 2-core benchmark) = match on the main thread. */
  workers: int(0).default(0),
  /** A batch is sent when it holds this many reads... */
  batchSize: int(1, MAX_BATCH_SIZE).default(512),
  /** ...or when its first read has waited this long. */
  batchWaitMs: num(0, undefined).default(2),
  /** Batches in the pool at once; beyond it, intake waits. */
  maxInFlight: int(1).default(4),
});

/** Batching and the worker pool. */
export type PoolConfig = z.output<typeof poolSchema>;

/** Pino log levels accepted by `log.level`. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The `ops` section (`platesieve ops`, docs/ops.md): the operations HTTP API. Its database is
 * the store's (`store.db`, or PLATESIEVE_DB_URL); its NATS connection and bucket are the
 * service's (`nats`, `liveUpdates.bucket`). Nothing but the database holds state, so any
 * number of instances can run behind a load balancer.
 */
export const opsSchema = obj({
  /** Loopback by default: put TLS (`tls`) or a TLS-terminating proxy in front before exposing it. */
  host: str().default('127.0.0.1'),
  /** Port 0 picks a free port. */
  port: int(0, 65535).default(8443),
  /** PEM files; both present turn HTTPS on. */
  tls: obj({ certFile: str(), keyFile: str() }).optional(),
  /** `postgres`: the PostgreSQL audit log every service shares; else a file path (embedded use, one instance). */
  audit: str().default('postgres'),
  /** Absolute session lifetime. */
  sessionTtlMinutes: num(0, undefined, true).default(480),
  /** A session unused this long ends. */
  idleTimeoutMinutes: num(0, undefined, true).default(30),
  /** Failed logins in a row before the account is locked... */
  maxFailures: int(1, 100).default(5),
  /** ...for this long. */
  lockoutMinutes: num(0, undefined, true).default(15),
  /** Login attempts per client address and minute, per instance (0: no limit). */
  loginsPerMinute: int(0).default(20),
  /** Database connections of one instance. */
  poolSize: int(1, 100).default(4),
  /** Honour X-Forwarded-For from the load balancer (client addresses in audit records and the login limit). */
  trustProxy: z.boolean({ error: 'must be true or false' }).default(false),
  /** Serve the browser console (docs/console.md) at `/`. */
  console: z.boolean({ error: 'must be true or false' }).default(true),
  /**
   * Metrics endpoints (`http://host:9464/metrics` of `serve` and `store`) the console's
   * dashboards sample; the last hour is kept in memory per instance.
   */
  dashboardSources: z.array(obj({ name: name('source name'), url: str() }), { error: 'must be a list of { name, url }' }).default([]),
  /** Seconds between two samples of each dashboard source. */
  dashboardSeconds: num(0, undefined, true).default(10),
});

/** The operations API's settings. */
export type OpsConfig = z.output<typeof opsSchema>;

/**
 * The `escalation` section: NCIC-style confirmation windows. An alert not dispositioned within
 * its window is escalated once (metric, log, `alpr.escalations.<agency>`) by the store.
 */
export const escalationSchema = obj({
  enabled: z.boolean({ error: 'must be true or false' }).default(true),
  /** Window of an urgent alert: priority at or above `urgentPriority` (1 is highest). */
  urgentMinutes: num(0, undefined, true).default(10),
  /** Window of every other (routine) alert. */
  routineMinutes: num(0, undefined, true).default(60),
  /** Priorities 1..urgentPriority are urgent. */
  urgentPriority: int(1, 5).default(2),
  /** Per list type, a window in minutes that overrides the two above. */
  lists: z.record(z.string().min(1), num(0, undefined, true), { error: 'must map list types to minutes' }).default({}),
  /** Seconds between two sweeps for alerts past their window. */
  checkSeconds: num(0, undefined, true).default(15),
});

/** Confirmation windows and escalation. */
export type EscalationConfig = z.output<typeof escalationSchema>;

/** One sensitive-place tag's rule. */
export const sensitiveTagSchema = obj({
  description: str().optional(),
  /** The policy clause the rule serves, quoted in refusals. */
  citation: str().optional(),
  /** Purpose codes for which tagged reads may be returned; absent: the criminal-investigation purposes (investigative ones except INTERNAL_AFFAIRS and CIVIL_LITIGATION). */
  purposes: z.array(str(), { error: 'must be a list of purpose codes' }).optional(),
  /** A supervisor's approval is required before tagged reads are returned. */
  approval: z.boolean({ error: 'must be true or false' }).default(true),
});

/**
 * The `sensitivePlaces` section: camera tags (healthcare facility, place of worship, protest
 * site, local tags) whose reads search and export return only under the tag's rule
 * (Englewood PD 425.5(g)-(i)). Tags here are added to, or replace, the default ones.
 */
export const sensitivePlacesSchema = obj({
  tags: z.record(name('tag'), sensitiveTagSchema, { error: 'must map tag names to rules' }).default({}),
  /** Camera id to its tags. */
  cameras: z.record(z.string().min(1), z.array(name('tag')), { error: 'must map camera ids to lists of tags' }).default({}),
  /** Hours a supervisor's approval of sensitive-place access stays valid. */
  approvalHours: num(0, undefined, true).default(72),
});

/** Sensitive places. */
export type SensitivePlacesConfig = z.output<typeof sensitivePlacesSchema>;
