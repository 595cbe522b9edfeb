/**
 * Writes batches of records, alerts and dead letters to PostgreSQL in one transaction each,
 * with COPY. Idempotent by read id, alert id and dead-letter id: the fast path COPYs straight
 * into the tables; a batch that meets a row already stored (a redelivery) is rolled back and
 * written again through a staging table with `ON CONFLICT DO NOTHING`, so a duplicate costs one
 * retry and never a second row. Records of plates under an active evidence hold are copied into
 * `evidence` in the same transaction (holds.ts owns the hold rules).
 */
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { Pool, PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { PartitionSet, type PartitionedTable } from './partitions.js';
import { ALERT_COLUMNS, DEADLETTER_COLUMNS, READ_COLUMNS, type ReadRow, type Row } from './rows.js';
import { SCHEMA } from './schema.js';
import type { ActiveHolds } from './holds.js';

/** One batch, already turned into rows. */
export interface RowBatch {
  reads: ReadRow[];
  alerts: Row[];
  deadletters: Row[];
}

/** What a write did. */
export interface WriteResult {
  /** Rows inserted per table (duplicates not counted). */
  reads: number;
  alerts: number;
  deadletters: number;
  /** Rows that were already stored (redeliveries). */
  duplicates: number;
  /** Records copied into evidence for an active hold. */
  held: number;
  /** Whether the batch went through the staging path. */
  staged: boolean;
}

const COLUMNS: Record<PartitionedTable, { columns: string; key: string }> = {
  reads: { columns: READ_COLUMNS, key: 'id, expires_day' },
  alerts: { columns: ALERT_COLUMNS, key: 'alert_id, expires_day' },
  deadletters: { columns: DEADLETTER_COLUMNS, key: 'id, expires_day' },
};

/** Drops repeats of the same key within one batch (a redelivery can overlap its first delivery). */
function unique<T extends Row>(rows: T[]): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const r of rows) {
    const k = `${r.id}\u0000${r.day}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(r);
  }
  return out;
}

async function copyInto(client: PoolClient, target: string, columns: string, rows: readonly Row[]): Promise<void> {
  if (rows.length === 0) return;
  const stream = client.query(copyFrom(`COPY ${target} (${columns}) FROM STDIN`));
  // A few large chunks: one string per 4096 rows keeps the stream's per-chunk cost low.
  function* chunks(): Generator<string> {
    for (let i = 0; i < rows.length; i += 4096) {
      let s = '';
      for (let j = i; j < Math.min(rows.length, i + 4096); j++) s += rows[j].line + '\n';
      yield s;
    }
  }
  await pipeline(Readable.from(chunks()), stream);
}

const HOUR_MS = 3_600_000;

/**
 * The read-time bounds of each day's reads in a batch, rounded out to the hour (what
 * `partition_ts` holds, migrations/v5-search.ts): a partition's row then changes about once an
 * hour instead of with every batch, and two writers rarely wait on each other's row.
 */
export function tsBounds(reads: readonly ReadRow[]): Map<string, { min: number; max: number }> {
  const out = new Map<string, { min: number; max: number }>();
  for (const r of reads) {
    const lo = Math.floor(r.ts / HOUR_MS) * HOUR_MS;
    const hi = lo + HOUR_MS - 1;
    const b = out.get(r.day);
    if (b === undefined) out.set(r.day, { min: lo, max: hi });
    else {
      if (lo < b.min) b.min = lo;
      if (hi > b.max) b.max = hi;
    }
  }
  return out;
}

/** Writes row batches; one per store process (it caches which partitions exist). */
export class StoreWriter {
  readonly partitions = new PartitionSet();
  /** Bounds this process knows are committed in partition_ts, by day: a batch inside them writes none. */
  private readonly bounds = new Map<string, { min: number; max: number }>();

  constructor(
    private readonly pool: Pool,
    private readonly holds?: ActiveHolds,
  ) {}

  /**
   * Writes one batch in one transaction. Rejects (and the caller naks) when the database fails
   * or does not answer within `timeoutMs`: a connection killed in the middle of a COPY can leave
   * the COPY stream waiting forever, so the watchdog destroys that connection instead.
   */
  async write(batch: RowBatch, timeoutMs = 30_000): Promise<WriteResult> {
    const b: RowBatch = { reads: unique(batch.reads), alerts: unique(batch.alerts), deadletters: unique(batch.deadletters) };
    const client = await this.pool.connect();
    let released = false;
    let timer: NodeJS.Timeout | undefined;
    const watchdog = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        released = true;
        client.release(new Error('store write timed out'));
        reject(new Error(`the database did not finish a batch write within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.writeWith(client, b), watchdog]);
    } catch (err) {
      // A connection that failed mid-transaction is not given back to the pool for reuse.
      if (!released) client.release(err instanceof Error ? err : new Error(String(err)));
      released = true;
      throw err;
    } finally {
      clearTimeout(timer);
      if (!released) client.release();
    }
  }

  private async writeWith(client: PoolClient, b: RowBatch): Promise<WriteResult> {
    for (const t of ['reads', 'alerts', 'deadletters'] as const) {
      if (b[t].length > 0) await this.partitions.ensure(client, t, new Set(b[t].map((r) => r.day)));
    }
    const held = this.holds?.matching(b.reads) ?? [];
    try {
      return await this.transaction(client, b, held, false);
    } catch (err) {
      if ((err as { code?: string }).code !== '23505') throw err;
      return await this.transaction(client, b, held, true);
    }
  }

  /**
   * Widens the read-time bounds of the batch's partitions where they grow, in the batch's
   * transaction (a search that sees the reads sees their bounds); days in order, so two writers
   * lock the rows in the same order. Returns the bounds as committed, to cache after COMMIT.
   */
  private async widenBounds(client: PoolClient, reads: readonly ReadRow[]): Promise<Map<string, { min: number; max: number }>> {
    const grow = [...tsBounds(reads)].filter(([day, v]) => {
      const known = this.bounds.get(day);
      return known === undefined || v.min < known.min || v.max > known.max;
    }).sort(([a], [b]) => (a < b ? -1 : 1));
    const out = new Map<string, { min: number; max: number }>();
    if (grow.length === 0) return out;
    const { rows } = await client.query<{ day: string; min_ts: string; max_ts: string }>(
      `INSERT INTO ${SCHEMA}.partition_ts AS p (tbl, day, min_ts, max_ts)
       SELECT 'reads', d, lo, hi FROM unnest($1::date[], $2::bigint[], $3::bigint[]) AS x(d, lo, hi)
       ON CONFLICT (tbl, day) DO UPDATE SET min_ts = least(p.min_ts, excluded.min_ts), max_ts = greatest(p.max_ts, excluded.max_ts)
       RETURNING day::text AS day, min_ts, max_ts`,
      [grow.map(([d]) => d), grow.map(([, v]) => v.min), grow.map(([, v]) => v.max)],
    );
    for (const r of rows) out.set(r.day, { min: Number(r.min_ts), max: Number(r.max_ts) });
    return out;
  }

  private async transaction(client: PoolClient, b: RowBatch, held: Array<{ holdId: string; row: ReadRow }>, staged: boolean): Promise<WriteResult> {
    const result: WriteResult = { reads: 0, alerts: 0, deadletters: 0, duplicates: 0, held: 0, staged };
    await client.query('BEGIN');
    try {
      for (const t of ['reads', 'alerts', 'deadletters'] as const) {
        const rows = b[t];
        if (rows.length === 0) continue;
        const { columns, key } = COLUMNS[t];
        if (!staged) {
          await copyInto(client, `${SCHEMA}.${t}`, columns, rows);
          result[t] = rows.length;
          continue;
        }
        const stage = `platesieve_stage_${t}`;
        await client.query(`CREATE TEMP TABLE IF NOT EXISTS ${stage} (LIKE ${SCHEMA}.${t}) ON COMMIT DELETE ROWS`);
        await copyInto(client, stage, columns, rows);
        const r = await client.query(`INSERT INTO ${SCHEMA}.${t} (${columns}) SELECT ${columns} FROM ${stage} ON CONFLICT (${key}) DO NOTHING`);
        result[t] = r.rowCount ?? 0;
        result.duplicates += rows.length - result[t];
      }
      const widened = await this.widenBounds(client, b.reads);
      if (held.length > 0) {
        const r = await client.query(
          `INSERT INTO ${SCHEMA}.evidence (hold_id, read_id, ts, plate_norm, plate_key, record)
           SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::json[]) ON CONFLICT DO NOTHING`,
          [held.map((h) => h.holdId), held.map((h) => h.row.id), held.map((h) => h.row.ts), held.map((h) => h.row.plateNorm), held.map((h) => h.row.plateKey), held.map((h) => h.row.json)],
        );
        result.held = r.rowCount ?? 0;
      }
      await client.query('COMMIT');
      for (const [day, v] of widened) this.bounds.set(day, v);
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }
}
