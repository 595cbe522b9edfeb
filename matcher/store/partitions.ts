/**
 * Daily partitions of the store's partitioned tables (schema.ts): one per table and UTC expiry
 * day, named `<table>_pYYYYMMDD`. Created on demand before a batch is copied, dropped by the
 * retention job (retention.ts) once their day has passed.
 */
import type { PoolClient } from 'pg';
import { SCHEMA } from './schema.js';

/** The partitioned tables. */
export const PARTITIONED = ['reads', 'alerts', 'deadletters'] as const;
export type PartitionedTable = (typeof PARTITIONED)[number];

/** Partition name of a table and day (YYYY-MM-DD). */
export function partitionName(table: PartitionedTable, day: string): string {
  return `${table}_p${day.replace(/-/g, '')}`;
}

/** The day (YYYY-MM-DD) of a partition name, or undefined when it is not one of ours. */
export function partitionDay(name: string): string | undefined {
  const m = /_p(\d{4})(\d{2})(\d{2})$/.exec(name);
  return m === null ? undefined : `${m[1]}-${m[2]}-${m[3]}`;
}

function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

/** Creates missing partitions; remembers the ones it knows exist so a batch costs no DDL once warm. */
export class PartitionSet {
  private readonly known = new Set<string>();

  async ensure(client: PoolClient, table: PartitionedTable, days: Iterable<string>): Promise<void> {
    for (const day of days) {
      const name = partitionName(table, day);
      if (this.known.has(name)) continue;
      // A partition another store process creates at the same moment: IF NOT EXISTS, and a
      // duplicate-table race (42P07) is as good as success.
      try {
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${SCHEMA}.${name} PARTITION OF ${SCHEMA}.${table} FOR VALUES FROM ('${day}') TO ('${nextDay(day)}')`,
        );
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code !== '42P07' && code !== '23505') throw err;
      }
      this.known.add(name);
    }
  }

  /** Forgets a dropped partition. */
  forget(table: PartitionedTable, day: string): void {
    this.known.delete(partitionName(table, day));
  }

  /** Forgets every partition (after the retention job ran in another process). */
  clear(): void {
    this.known.clear();
  }
}

/** The partitions of a table with their days, oldest first. */
export async function listPartitions(client: PoolClient, table: PartitionedTable): Promise<Array<{ name: string; day: string }>> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
       JOIN pg_namespace n ON n.oid = p.relnamespace WHERE n.nspname = $1 AND p.relname = $2`,
    [SCHEMA, table],
  );
  return rows
    .map((r) => ({ name: r.name, day: partitionDay(r.name) }))
    .filter((r): r is { name: string; day: string } => r.day !== undefined)
    .sort((a, b) => a.day.localeCompare(b.day));
}
