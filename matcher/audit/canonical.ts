/**
 * Canonical JSON and the chain hash. Keys are sorted at every level and no whitespace is
 * written, so the same record always gives the same bytes; a line of the log must be exactly
 * the canonical form of its record, which also rules out duplicate keys and reformatting.
 */
import { createHash } from 'node:crypto';
import type { JsonValue } from './types.js';

/** Canonical JSON of a value that is JSON already (see {@link toJsonValue}). */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = value[k];
    if (v === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(k)}:${canonicalJson(v)}`;
    first = false;
  }
  return `${out}}`;
}

/**
 * Turns anything into plain JSON the way `JSON.stringify` would (dates to strings, undefined
 * dropped, non-finite numbers to null), so that what is hashed is what reads back.
 */
export function toJsonValue(value: unknown): JsonValue | undefined {
  if (value === undefined) return undefined;
  const text = JSON.stringify(value);
  return text === undefined ? undefined : (JSON.parse(text) as JsonValue);
}

/** sha256 of `prev` followed by the canonical JSON of the record without its hash, hex. */
export function chainHash(prev: string, recordWithoutHash: { [key: string]: JsonValue }): string {
  return createHash('sha256').update(prev).update(canonicalJson(recordWithoutHash)).digest('hex');
}

/** The `prev` of the genesis record. */
export function genesisPrev(format: string, logId: string): string {
  return createHash('sha256').update(`${format}:${logId}`).digest('hex');
}
