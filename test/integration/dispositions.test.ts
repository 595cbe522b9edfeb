import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../matcher/store/schema.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';

let db: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  db = await createTestDatabase('dispositions');
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  const client = await pool.connect();
  try {
    await migrate(client);
  } finally {
    client.release();
  }
});

afterAll(async () => {
  await pool.end();
  await db.drop();
});

const insert = `INSERT INTO platesieve.dispositions (alert_id, agency, outcome, reason, note, by, at, verified_with, source)
  VALUES ($1, 'A1', $2, $3, NULL, 'op1', 1700000000000, 'NCIC', 'api')`;

describe('dispositions table (migration 6)', () => {
  it('stores one disposition per alert and refuses a second', async () => {
    await pool.query(insert, ['al-1', 'confirmed', null]);
    await expect(pool.query(insert, ['al-1', 'rejected', 'misread'])).rejects.toMatchObject({ code: '23505' });
    const { rows } = await pool.query<{ outcome: string }>('SELECT outcome FROM platesieve.dispositions');
    expect(rows).toEqual([{ outcome: 'confirmed' }]);
  });

  it('refuses unknown outcomes and reasons', async () => {
    await expect(pool.query(insert, ['al-2', 'maybe', null])).rejects.toMatchObject({ code: '23514' });
    await expect(pool.query(insert, ['al-3', 'rejected', 'tired'])).rejects.toMatchObject({ code: '23514' });
  });
});
