/**
 * Database-side measurements of the store benchmark (bench/store.bench.ts): statements on the
 * maintenance database, the reads table's bytes per row and per index, and the CPU time of the
 * processes an ingest run keeps busy (from /proc).
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';

const S = 'platesieve';

/** One statement on the server's maintenance database (CREATE / DROP DATABASE). */
export async function admin(adminUrl: string, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** Heap+TOAST and each index, summed over the partitions. */
export async function sizes(pool: pg.Pool): Promise<Record<string, unknown>> {
  const q = async (sql: string): Promise<number> => Number((await pool.query<{ v: string }>(sql)).rows[0].v);
  const rows = await q(`SELECT count(*) AS v FROM ${S}.reads`);
  const part = (rel: string, fn = 'pg_relation_size'): Promise<number> => q(`SELECT coalesce(sum(${fn}(relid)), 0) AS v FROM pg_partition_tree('${S}.${rel}')`);
  const heap = await part('reads', 'pg_table_size');
  const indexes: Record<string, number> = {};
  for (const ix of ['reads_pkey', 'reads_plate_key', 'reads_plate_trgm', 'reads_cand_keys', 'reads_cand_trgm', 'reads_ts']) indexes[ix] = await part(ix);
  const total = heap + Object.values(indexes).reduce((x, y) => x + y, 0);
  const partitions = await q(`SELECT count(*) AS v FROM pg_partition_tree('${S}.reads') WHERE isleaf`);
  const json = await q(`SELECT avg(pg_column_size(record)) AS v FROM ${S}.reads TABLESAMPLE SYSTEM (0.2)`);
  const per = (b: number): number => Math.round(b / rows);
  return {
    rows, partitions, totalBytes: total, bytesPerRow: per(total), heapBytesPerRow: per(heap), recordJsonBytes: Math.round(json),
    indexBytesPerRow: Object.fromEntries(Object.entries(indexes).map(([k, v]) => [k, per(v)])), indexBytes: indexes, heapBytes: heap,
  };
}

/** CPU seconds (user + system) a process has used, from /proc (0 when it is gone). */
export function procCpuS(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return 0;
  }
}

/**
 * CPU seconds by PostgreSQL process: the backends of the bench database and the server's
 * background processes (WAL writer, checkpointer, background writer): what the store costs the
 * server. Other databases' backends (other jobs on the machine) are left out.
 */
export async function postgresCpu(url: string): Promise<Map<number, number>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE (datname = current_database() AND pid <> pg_backend_pid()) OR backend_type IN ('walwriter', 'checkpointer', 'background writer')`,
    );
    return new Map(rows.map((r) => [r.pid, procCpuS(r.pid)]));
  } finally {
    await c.end();
  }
}
