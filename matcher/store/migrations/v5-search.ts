/**
 * Migration 5: the read-time bounds of each `reads` partition, so that a search names only the
 * partitions its window can meet (search.ts).
 *
 * Why: `reads` is partitioned by expiry day, so a window on `ts` cannot prune partitions, and
 * planning a search grows with their number: at 10M reads, exact search p95 18 ms over 62
 * partitions but 72 ms over the 366 a year of 365-day hits makes (bench/README.md). A
 * partition's reads have read times close together (one day of reads per policy period), so
 * their bounds tell which partitions a window needs: about 62 for 30 days, whatever the periods.
 *
 * `partition_ts (tbl, day, min_ts, max_ts)`: every read stored in partition `day` has
 * `min_ts <= ts <= max_ts`. StoreWriter widens the row in the transaction that stores the reads
 * (rounded out to the hour, so that it changes about once an hour); a row is never narrowed,
 * and one left by a dropped partition is harmless. Existing partitions are backfilled here
 * (one pass over `reads`).
 */
import type { Migration } from '../schema.js';

// schema.ts's SCHEMA, spelled out: schema.ts imports this module to list it (an import cycle).
const S = 'platesieve';

export const v5Search: Migration = {
  version: 5,
  name: 'read-time bounds of the reads partitions, for search to prune them',
  sql: `
CREATE TABLE ${S}.partition_ts (
  tbl    text   NOT NULL,
  day    date   NOT NULL,
  min_ts bigint NOT NULL,
  max_ts bigint NOT NULL,
  PRIMARY KEY (tbl, day)
);
INSERT INTO ${S}.partition_ts (tbl, day, min_ts, max_ts)
  SELECT 'reads', expires_day, (min(ts) / 3600000) * 3600000, (max(ts) / 3600000) * 3600000 + 3599999
  FROM ${S}.reads GROUP BY expires_day;
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'platesieve_service') THEN
    GRANT SELECT, INSERT, UPDATE, DELETE ON ${S}.partition_ts TO platesieve_service;
  END IF;
END $$;
`,
};
