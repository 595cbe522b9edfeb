/**
 * The `sensitivePlaces` configuration kept in the database (store_meta `sensitivePlaces`): the
 * operations API records the one it starts with, and a store opened without one (the CLI's
 * direct `--db` search without `--config`) applies it. Without this, a direct search would
 * know no tagged camera and return every sensitive read unwithheld.
 */
import type pg from 'pg';
import type { SensitivePlacesInput } from '../policy/sensitive.js';
import { SCHEMA } from '../store/schema.js';

/** Records the configuration (replacing any recorded earlier: the latest API start wins). */
export async function recordSensitivePlaces(pool: pg.Pool, input: SensitivePlacesInput): Promise<void> {
  const value = { tags: input.tags ?? {}, cameras: input.cameras ?? {}, ...(input.approvalHours !== undefined ? { approvalHours: input.approvalHours } : {}) };
  await pool.query(
    `INSERT INTO ${SCHEMA}.store_meta (key, value) VALUES ('sensitivePlaces', $1::jsonb) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
    [JSON.stringify(value)],
  );
}
