/**
 * Evidence holds: a case's records copied into `evidence`, where no retention job deletes
 * them, until the hold is released. A hold names a plate (with an optional time window) or
 * read ids. Records of a held plate that arrive while the hold is active are copied too
 * (the writer asks {@link ActiveHolds}). Purpose rules and auditing are the caller's
 * (store-api.ts): this module only reads and writes the tables.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { normalizePlate } from '../core/plate.js';
import type { ReadRow } from './rows.js';
import { SCHEMA } from './schema.js';
import { inTransaction } from './tx.js';

/** What `hold add` asks for. */
export interface HoldRequest {
  case: string;
  purpose: string;
  reason: string;
  /** A plate (normalized here), with an optional window of read times (epoch ms)... */
  plate?: string;
  from?: number;
  to?: number;
  /** ...or the ids of stored reads. */
  readIds?: string[];
}

/** A hold as stored: the request (its plate normalized), who placed it, its release. */
export interface Hold extends HoldRequest {
  holdId: string;
  createdBy: string;
  createdAt: string;
  releasedBy?: string;
  releasedAt?: string;
  releaseReason?: string;
  /** Records in evidence under this hold. */
  records: number;
}

interface HoldDbRow {
  hold_id: string;
  case_no: string;
  purpose: string;
  reason: string;
  plate_norm: string | null;
  from_ts: string | null;
  to_ts: string | null;
  read_ids: string[] | null;
  created_by: string;
  created_at: Date;
  released_by: string | null;
  released_at: Date | null;
  release_reason: string | null;
  records: string;
}

const num = (v: string | null): number | undefined => (v === null ? undefined : Number(v));

function toHold(r: HoldDbRow): Hold {
  const h: Hold = {
    holdId: r.hold_id, case: r.case_no, purpose: r.purpose, reason: r.reason, plate: r.plate_norm ?? undefined, from: num(r.from_ts), to: num(r.to_ts),
    readIds: r.read_ids ?? undefined, createdBy: r.created_by, createdAt: r.created_at.toISOString(), releasedBy: r.released_by ?? undefined,
    releasedAt: r.released_at?.toISOString(), releaseReason: r.release_reason ?? undefined, records: Number(r.records),
  };
  for (const k of Object.keys(h) as Array<keyof Hold>) if (h[k] === undefined) delete h[k];
  return h;
}

/** The normalized plate of a hold request, or an error message. */
export function holdPlate(plate: string): string {
  const n = normalizePlate(plate);
  if (!n.ok) throw new Error(`--plate ${JSON.stringify(plate)}: ${n.reason}`);
  return n.plate;
}

/** Places a hold: stores it and copies the matching stored records into evidence, in one transaction. */
export async function addHold(pool: Pool, req: HoldRequest, actor: string, now = Date.now()): Promise<Hold> {
  const holdId = `hold-${randomUUID()}`;
  const plate = req.plate === undefined ? null : holdPlate(req.plate);
  await inTransaction(pool, async (client) => {
    await client.query(
      `INSERT INTO ${SCHEMA}.holds (hold_id, case_no, purpose, reason, plate_norm, from_ts, to_ts, read_ids, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [holdId, req.case, req.purpose, req.reason, plate, req.from ?? null, req.to ?? null, req.readIds ?? null, actor],
    );
    // Only records still stored (not past their expiry) can be held: a hold never brings back what is due.
    const where =
      plate !== null
        ? `r.plate_norm = $2 AND ($3::bigint IS NULL OR r.ts >= $3) AND ($4::bigint IS NULL OR r.ts <= $4)`
        : `r.id = ANY($2::text[])`;
    const params: unknown[] = plate !== null ? [holdId, plate, req.from ?? null, req.to ?? null, now] : [holdId, req.readIds ?? [], now];
    const nowParam = plate !== null ? '$5' : '$3';
    await client.query(
      `INSERT INTO ${SCHEMA}.evidence (hold_id, read_id, ts, plate_norm, plate_key, record)
       SELECT DISTINCT ON (r.id) $1, r.id, r.ts, r.plate_norm, r.plate_key, r.record FROM ${SCHEMA}.reads r
       WHERE ${where} AND r.expires_at > ${nowParam} ORDER BY r.id ON CONFLICT DO NOTHING`,
      params,
    );
  });
  const h = await getHold(pool, holdId);
  if (h === undefined) throw new Error(`hold ${holdId} vanished after it was stored`);
  return h;
}

const SELECT_HOLDS = `SELECT h.*, (SELECT count(*) FROM ${SCHEMA}.evidence e WHERE e.hold_id = h.hold_id) AS records FROM ${SCHEMA}.holds h`;

export async function getHold(pool: Pool, holdId: string): Promise<Hold | undefined> {
  const { rows } = await pool.query<HoldDbRow>(`${SELECT_HOLDS} WHERE h.hold_id = $1`, [holdId]);
  return rows[0] === undefined ? undefined : toHold(rows[0]);
}

/** Holds, newest first; released ones only with `all`. */
export async function listHolds(pool: Pool, options: { all?: boolean; case?: string } = {}): Promise<Hold[]> {
  const { rows } = await pool.query<HoldDbRow>(
    `${SELECT_HOLDS} WHERE ($1 OR h.released_at IS NULL) AND ($2::text IS NULL OR h.case_no = $2) ORDER BY h.created_at DESC`,
    [options.all === true, options.case ?? null],
  );
  return rows.map(toHold);
}

/** Thrown when a hold to release does not exist or was released already. */
export class HoldNotFound extends Error {
  readonly code = 'HOLD_NOT_FOUND';
}

/**
 * Releases a hold: its evidence copies are deleted (the records themselves, where still within
 * their period, stay until their own expiry). Returns the hold as it was.
 */
export async function releaseHold(pool: Pool, holdId: string, reason: string, actor: string): Promise<Hold> {
  const before = await getHold(pool, holdId);
  if (before === undefined) throw new HoldNotFound(`no hold ${holdId}`);
  if (before.releasedAt !== undefined) throw new HoldNotFound(`hold ${holdId} was released on ${before.releasedAt} by ${before.releasedBy ?? '?'}`);
  await inTransaction(pool, async (client) => {
    const r = await client.query(
      `UPDATE ${SCHEMA}.holds SET released_at = now(), released_by = $2, release_reason = $3 WHERE hold_id = $1 AND released_at IS NULL`,
      [holdId, actor, reason],
    );
    if (r.rowCount !== 1) throw new HoldNotFound(`hold ${holdId} was released meanwhile`);
    await client.query(`DELETE FROM ${SCHEMA}.evidence WHERE hold_id = $1`, [holdId]);
  });
  return before;
}

/** Active plate holds, kept in memory by the store so that each batch is checked without a query. */
export class ActiveHolds {
  private byPlate = new Map<string, Array<{ holdId: string; from?: number; to?: number }>>();

  /** Reloads the active plate holds. */
  async refresh(pool: Pool): Promise<void> {
    const { rows } = await pool.query<{ hold_id: string; plate_norm: string; from_ts: string | null; to_ts: string | null }>(
      `SELECT hold_id, plate_norm, from_ts, to_ts FROM ${SCHEMA}.holds WHERE released_at IS NULL AND plate_norm IS NOT NULL`,
    );
    const next = new Map<string, Array<{ holdId: string; from?: number; to?: number }>>();
    for (const r of rows) {
      const list = next.get(r.plate_norm) ?? [];
      list.push({ holdId: r.hold_id, from: num(r.from_ts), to: num(r.to_ts) });
      next.set(r.plate_norm, list);
    }
    this.byPlate = next;
  }

  get size(): number {
    return this.byPlate.size;
  }

  /** The active plate holds, sorted by hold id (what the store publishes to the services). */
  list(): Array<{ holdId: string; plate: string; from?: number; to?: number }> {
    const out: Array<{ holdId: string; plate: string; from?: number; to?: number }> = [];
    for (const [plate, holds] of this.byPlate) {
      for (const h of holds) out.push({ holdId: h.holdId, plate, ...(h.from !== undefined ? { from: h.from } : {}), ...(h.to !== undefined ? { to: h.to } : {}) });
    }
    return out.sort((a, b) => (a.holdId < b.holdId ? -1 : a.holdId > b.holdId ? 1 : 0));
  }

  /** The rows of a batch that an active hold covers, with the hold. */
  matching(rows: readonly ReadRow[]): Array<{ holdId: string; row: ReadRow }> {
    if (this.byPlate.size === 0) return [];
    const out: Array<{ holdId: string; row: ReadRow }> = [];
    for (const row of rows) {
      const holds = this.byPlate.get(row.plateNorm);
      if (holds === undefined) continue;
      for (const h of holds) if ((h.from === undefined || row.ts >= h.from) && (h.to === undefined || row.ts <= h.to)) out.push({ holdId: h.holdId, row });
    }
    return out;
  }
}
