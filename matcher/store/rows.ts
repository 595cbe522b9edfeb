/**
 * From what the service publishes to the rows the store COPYs: a record, an alert or a dead
 * letter becomes one line of COPY text for its table (the column order is schema.ts's), plus
 * the keys the writer needs (id, expiry day, plate) to deduplicate, route and hold it.
 */
import { normalizePlate, collapsePlate } from '../core/plate.js';
import type { Alert, ReadRecord } from '../types.js';
import { DAY_MS, policyFor, type RetentionConfig } from '../service/retention.js';
import { copyArray, copyBytes, copyNullable, copyText, utcDay } from './copy-text.js';

/** Column lists, in the order the lines below are written. */
export const READ_COLUMNS =
  'id, expires_day, ts, plate, plate_norm, plate_key, cand_norms, cand_keys, state, camera_id, agency, hit, alert_ids, policy, class, expires_at, basis, record';
export const ALERT_COLUMNS = 'alert_id, expires_day, read_id, ts, agency, entry_id, list, match, score, historical, policy, alert';
export const DEADLETTER_COLUMNS = 'id, expires_day, received_at, agency, policy, code, reason, data';

/** A row ready to COPY. */
export interface Row {
  /** Read id, alert id or dead-letter id. */
  id: string;
  day: string;
  line: string;
}

/** A read row, with what holds need. */
export interface ReadRow extends Row {
  ts: number;
  /** Epoch ms when the row falls due (the record's, raised to its policy's minimum). */
  expiresAt: number;
  plateNorm: string;
  plateKey: string;
  candNorms?: string[];
  candKeys?: string[];
  /** The record as stored (JSON), for evidence copies. */
  json: string;
}

/** Minimum retention days by policy name (El Centro: 730); a policy not named has none. */
export type Minimums = ReadonlyMap<string, number>;

/** Thrown for a message the store cannot turn into a row: it is terminated, never retried. */
export class BadStoreMessage extends Error {
  readonly code = 'BAD_STORE_MESSAGE';
}

// The range of a JavaScript Date: beyond it a time has no day (and no partition).
const inRange = (ms: number): boolean => ms >= 0 && ms <= 8.64e15;

const norm = (plate: string): string => {
  const n = normalizePlate(plate);
  return n.ok ? n.plate : plate.toUpperCase().replace(/[^A-Z0-9]/g, '');
};

/**
 * The row of a record. Its expiry is the record's own `retention.expiresAt`, raised to the
 * policy's minimum when the record carries less (a minimum can never be shortened).
 */
export function readRow(rec: ReadRecord, classes: ReadonlyMap<string, string>, minimums: Minimums): ReadRow {
  if (typeof rec !== 'object' || rec === null || typeof rec.id !== 'string' || typeof rec.plate !== 'string') throw new BadStoreMessage('a record needs a string id and plate');
  const r = rec.retention as Partial<ReadRecord['retention']> | undefined;
  if (r === undefined || typeof r.expiresAt !== 'number' || !Number.isFinite(r.expiresAt) || typeof r.policy !== 'string' || typeof r.class !== 'string') {
    throw new BadStoreMessage(`record ${rec.id} has no retention tag`);
  }
  // Whole milliseconds in the database (reads may carry sub-millisecond times); an expiry is
  // rounded up, never down, so no row goes early.
  const ts = Math.floor(typeof rec.ts === 'number' && Number.isFinite(rec.ts) ? rec.ts : r.expiresAt);
  if (!inRange(ts) || !inRange(r.expiresAt)) throw new BadStoreMessage(`record ${rec.id}: ts or retention.expiresAt is not a time between 1970 and 275760`);
  const min = minimums.get(r.policy) ?? 0;
  const expiresAt = Math.ceil(Math.max(r.expiresAt, ts + min * DAY_MS));
  const plateNorm = norm(rec.plate);
  const plateKey = collapsePlate(plateNorm, classes);
  let candNorms: string[] | undefined;
  let candKeys: string[] | undefined;
  if (Array.isArray(rec.candidates) && rec.candidates.length > 0) {
    candNorms = [];
    for (const c of rec.candidates) if (typeof c?.plate === 'string') candNorms.push(norm(c.plate));
    candKeys = candNorms.map((p) => collapsePlate(p, classes));
    if (candNorms.length === 0) candNorms = candKeys = undefined;
  }
  const json = JSON.stringify(rec);
  const day = utcDay(expiresAt);
  const line = [
    copyText(rec.id), day, String(ts), copyText(rec.plate), copyText(plateNorm), copyText(plateKey), copyArray(candNorms), copyArray(candKeys),
    copyNullable(rec.state), copyNullable(rec.cameraId), copyNullable(rec.agency), rec.hit === true ? 't' : 'f',
    copyArray(Array.isArray(rec.alertIds) ? rec.alertIds : []), copyText(r.policy), copyText(r.class), String(expiresAt), copyText(r.basis ?? ''), copyText(json),
  ].join('\t');
  return { id: rec.id, day, line, ts, expiresAt, plateNorm, plateKey, candNorms, candKeys, json };
}

/** An alert row: kept for the hit period of the agency whose read it was (never the longest). */
export function alertRow(alert: Alert & { historical?: boolean }, retention: RetentionConfig, minimums: Minimums, now: number): Row {
  if (typeof alert !== 'object' || alert === null || typeof alert.alertId !== 'string' || typeof alert.readId !== 'string') throw new BadStoreMessage('an alert needs a string alertId and readId');
  const policy = policyFor(alert.agency, retention);
  const ts = Math.floor(typeof alert.ts === 'number' && Number.isFinite(alert.ts) && inRange(alert.ts) ? alert.ts : now);
  const days = Math.max(policy.hitDays, minimums.get(policy.policy) ?? 0);
  const day = utcDay(ts + days * DAY_MS);
  const line = [
    copyText(alert.alertId), day, copyText(alert.readId), String(ts), copyNullable(alert.agency), copyText(String(alert.entryId ?? '')), copyNullable(alert.list),
    copyText(String(alert.match ?? '')), typeof alert.score === 'number' ? String(alert.score) : '\\N', alert.historical === true ? 't' : 'f', copyText(policy.policy), copyText(JSON.stringify(alert)),
  ].join('\t');
  return { id: alert.alertId, day, line };
}

/** A dead letter as the store receives it. */
export interface DeadLetterMessage {
  id: string;
  receivedAt: number;
  code?: string;
  reason?: string;
  data: Uint8Array;
}

// An agency ORI inside the original bytes, when they are JSON or msgpack that still decodes
// that far: a dead letter keeps the period of the agency whose read it was.
const AGENCY_JSON = /"agency"\s*:\s*"([A-Za-z0-9]{1,64})"/;

/** The agency a dead letter's original bytes name, if any can be found. */
export function deadLetterAgency(data: Uint8Array, decode: (b: Uint8Array) => unknown): string | undefined {
  const text = Buffer.from(data.buffer, data.byteOffset, Math.min(data.byteLength, 65_536)).toString('latin1');
  const m = AGENCY_JSON.exec(text);
  if (m !== null) return m[1];
  try {
    const v = decode(data) as { agency?: unknown } | Array<{ agency?: unknown }>;
    const first = Array.isArray(v) ? v[0] : v;
    return typeof first?.agency === 'string' && /^[A-Za-z0-9]{1,64}$/.test(first.agency) ? first.agency : undefined;
  } catch {
    return undefined;
  }
}

/** A dead-letter row: kept for the non-hit period of its agency's policy (the default's when none is known). */
export function deadLetterRow(dl: DeadLetterMessage, agency: string | undefined, retention: RetentionConfig, minimums: Minimums): Row {
  const policy = policyFor(agency, retention);
  const days = Math.max(policy.nonhitDays, minimums.get(policy.policy) ?? 0);
  const day = utcDay(dl.receivedAt + days * DAY_MS);
  const line = [
    copyText(dl.id), day, String(dl.receivedAt), copyNullable(agency), copyText(policy.policy), copyNullable(dl.code), copyNullable(dl.reason), copyBytes(dl.data),
  ].join('\t');
  return { id: dl.id, day, line };
}
