/**
 * The records store's schema, as versioned migrations: this module is its one owner (the
 * tables are described, with the reasons for each index, in docs/store.md). Every migration runs
 * in its own transaction under an advisory lock, so several `store` processes starting at once
 * apply each version once.
 *
 * Why the tables look as they do:
 * - `reads`, `alerts` and `deadletters` are partitioned by range of `expires_day`, the UTC day
 *   on which a row falls due: deleting a day is `DROP TABLE` of one partition, cheap and exact,
 *   and a partition holds only rows due that day, so no row goes early (see retention.ts).
 * - Uniqueness is (id, expires_day): a partitioned table's keys must hold the partition key, and
 *   a redelivered record carries the same `expiresAt`, so it lands on the same key.
 * - Search keys: `plate_norm` (normalized plate) and `plate_key` (its OCR-collapsed form under the
 *   classes recorded in `store_meta`), with the same for OCR candidates as arrays. Exact and OCR
 *   searches probe the btree on `plate_key`; fuzzy d=1 probes it with the query's neighbours;
 *   patterns and d=2 use the trigram index (search.ts).
 * - `evidence` keeps copies of held records with no expiry, outside the partitions.
 */
import type { PoolClient } from 'pg';
import { v3People } from './migrations/v3-people.js';
import { v4Audit } from './migrations/v4-audit.js';
import { v5Search } from './migrations/v5-search.js';
import { v6Dispositions } from './migrations/v6-dispositions.js';
import { v7Sharing } from './migrations/v7-sharing.js';
import { v8Escalations } from './migrations/v8-escalations.js';
import { v9Sensitive } from './migrations/v9-sensitive.js';

/** One schema version. `sql` runs in one transaction. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The schema the store creates, every table in it; search_path is never relied on. */
export const SCHEMA = 'platesieve';

const S = SCHEMA;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'reads, alerts, dead letters, holds, evidence, retention runs',
    sql: `
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS fuzzystrmatch;

CREATE TABLE ${S}.store_meta (
  key   text PRIMARY KEY,
  value jsonb NOT NULL
);

CREATE TABLE ${S}.reads (
  id          text    NOT NULL,
  expires_day date    NOT NULL,
  ts          bigint  NOT NULL,
  plate       text    NOT NULL,
  plate_norm  text    NOT NULL,
  plate_key   text    NOT NULL,
  cand_norms  text[],
  cand_keys   text[],
  state       text,
  camera_id   text,
  agency      text,
  hit         boolean NOT NULL,
  alert_ids   text[]  NOT NULL,
  policy      text    NOT NULL,
  class       text    NOT NULL,
  expires_at  bigint  NOT NULL,
  basis       text    NOT NULL,
  record      json    NOT NULL,
  PRIMARY KEY (id, expires_day)
) PARTITION BY RANGE (expires_day);
CREATE INDEX reads_plate_key ON ${S}.reads (plate_key, ts);
CREATE INDEX reads_plate_trgm ON ${S}.reads USING gin (plate_key gin_trgm_ops);
CREATE INDEX reads_cand_keys ON ${S}.reads USING gin (cand_keys) WHERE cand_keys IS NOT NULL;
-- Trigram index over the candidate keys joined by spaces: fuzzy d=2 and '*' patterns against OCR
-- candidates without scanning the window (search.ts probes for it; measured 1.1-1.5 s -> 60-350 ms).
CREATE FUNCTION ${S}.cand_text(text[]) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ SELECT array_to_string($1, ' ') $$;
CREATE INDEX reads_cand_trgm ON ${S}.reads USING gin (${S}.cand_text(cand_keys) gin_trgm_ops) WHERE cand_keys IS NOT NULL;
CREATE INDEX reads_ts ON ${S}.reads USING brin (ts);

CREATE TABLE ${S}.alerts (
  alert_id    text    NOT NULL,
  expires_day date    NOT NULL,
  read_id     text    NOT NULL,
  ts          bigint  NOT NULL,
  agency      text,
  entry_id    text    NOT NULL,
  list        text,
  match       text    NOT NULL,
  score       real,
  historical  boolean NOT NULL DEFAULT false,
  policy      text    NOT NULL,
  alert       json    NOT NULL,
  PRIMARY KEY (alert_id, expires_day)
) PARTITION BY RANGE (expires_day);
CREATE INDEX alerts_read ON ${S}.alerts (read_id);
CREATE INDEX alerts_entry ON ${S}.alerts (entry_id, read_id);

CREATE TABLE ${S}.deadletters (
  id          text    NOT NULL,
  expires_day date    NOT NULL,
  received_at bigint  NOT NULL,
  agency      text,
  policy      text    NOT NULL,
  code        text,
  reason      text,
  data        bytea   NOT NULL,
  PRIMARY KEY (id, expires_day)
) PARTITION BY RANGE (expires_day);

CREATE TABLE ${S}.policies (
  policy       text    PRIMARY KEY,
  nonhit_days  integer NOT NULL,
  hit_days     integer NOT NULL,
  minimum_days integer NOT NULL DEFAULT 0,
  basis        text    NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ${S}.holds (
  hold_id        text PRIMARY KEY,
  case_no        text NOT NULL,
  purpose        text NOT NULL,
  reason         text NOT NULL,
  plate_norm     text,
  from_ts        bigint,
  to_ts          bigint,
  read_ids       text[],
  created_by     text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  released_by    text,
  released_at    timestamptz,
  release_reason text
);
CREATE INDEX holds_active_plate ON ${S}.holds (plate_norm) WHERE released_at IS NULL;

CREATE TABLE ${S}.evidence (
  hold_id   text   NOT NULL REFERENCES ${S}.holds (hold_id),
  read_id   text   NOT NULL,
  ts        bigint NOT NULL,
  plate_norm text  NOT NULL,
  plate_key text   NOT NULL,
  record    json   NOT NULL,
  copied_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (hold_id, read_id)
);
CREATE INDEX evidence_read ON ${S}.evidence (read_id);

CREATE TABLE ${S}.retention_runs (
  run_id     bigserial PRIMARY KEY,
  ran_at     timestamptz NOT NULL DEFAULT now(),
  actor      text NOT NULL,
  dry_run    boolean NOT NULL,
  through_day date NOT NULL,
  report     jsonb NOT NULL
);
`,
  },
  {
    version: 2,
    name: 'historical hits: known hotlist entries, alerts published per (read, entry)',
    // known_entries: every hotlist entry key a store has seen (historical.ts); the row is the
    // claim of the store that searches for it (claimed_at refreshed while it works; a claim
    // gone stale is taken over). historical_hits: one row per (read, entry) alerted, inserted
    // before the alert is published (the claim), published_at set once JetStream acked it;
    // `alert` is kept only until then (to publish again after a crash), then cleared, so the
    // row holds ids only and never outlives the read's retention with its content.
    sql: `
CREATE TABLE ${S}.known_entries (
  entry_key   text PRIMARY KEY,
  entry_id    text NOT NULL,
  list        text,
  origin      text NOT NULL,
  first_seen  timestamptz NOT NULL DEFAULT now(),
  arrived_at  timestamptz,
  baseline    boolean NOT NULL DEFAULT false,
  claimed_at  timestamptz NOT NULL DEFAULT now(),
  attempts    integer NOT NULL DEFAULT 0,
  searched_at timestamptz,
  hits        integer,
  error       text
);
CREATE INDEX known_entries_unsearched ON ${S}.known_entries (claimed_at) WHERE searched_at IS NULL;

CREATE TABLE ${S}.historical_hits (
  read_id      text   NOT NULL,
  entry_key    text   NOT NULL,
  alert_id     text   NOT NULL,
  read_ts      bigint NOT NULL,
  claimed_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz,
  alert        json,
  PRIMARY KEY (read_id, entry_key)
);
CREATE INDEX historical_hits_unpublished ON ${S}.historical_hits (claimed_at) WHERE published_at IS NULL;
CREATE INDEX historical_hits_read_ts ON ${S}.historical_hits USING brin (read_ts);
`,
  },
  v3People,
  v4Audit,
  v5Search,
  v6Dispositions,
  v7Sharing,
  v8Escalations,
  v9Sensitive,
];

/** The newest schema version this code knows. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

// Any constant: one lock for every platesieve store migrating the same database.
const MIGRATION_LOCK = 7_140_221;

/** What {@link migrate} did. */
export interface MigrateResult {
  from: number;
  to: number;
  applied: Array<{ version: number; name: string }>;
}

/**
 * Brings the schema to {@link SCHEMA_VERSION}. Refuses a database whose schema is newer than this
 * code (an older binary must not write into a layout it does not know).
 */
export async function migrate(client: PoolClient): Promise<MigrateResult> {
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${S}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${S}.migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${S}.migrations`);
    const done = new Set(rows.map((r) => r.version));
    const from = Math.max(0, ...done);
    if (from > SCHEMA_VERSION) {
      throw new Error(`the database schema is version ${from}, newer than this platesieve (${SCHEMA_VERSION}): upgrade platesieve`);
    }
    const applied: MigrateResult['applied'] = [];
    // Every version not applied yet, not only those above the highest: a database migrated by a
    // development build that lacked a version in between still gets it.
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query(`INSERT INTO ${S}.migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push({ version: m.version, name: m.name });
    }
    return { from, to: SCHEMA_VERSION, applied };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
  }
}

/** The current schema version of a database (0: none). */
export async function schemaVersion(client: PoolClient): Promise<number> {
  const { rows } = await client.query<{ t: string | null }>(`SELECT to_regclass('${S}.migrations')::text AS t`);
  if (rows[0]?.t === null || rows[0]?.t === undefined) return 0;
  const r = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${S}.migrations`);
  return r.rows[0]?.v ?? 0;
}
