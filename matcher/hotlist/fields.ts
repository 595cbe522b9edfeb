/**
 * Turns one row of a hotlist file (CSV or NDJSON, already split into named values) into a
 * validated {@link HotlistEntry}, or says why not. Shared by both formats so that a row means
 * the same thing whichever file it came from.
 */
import { isJunkPlate, normalizePlate, normalizeState } from '../core/plate.js';
import { parsePattern } from '../core/patterns.js';
import {
  checkListType, checkPurpose, checkText, FORBIDDEN_CATEGORIES, normalizeCode, STANDARD_LIST_TYPES, type PurposeCheck,
} from '../policy/index.js';
import type { HotlistEntry, VehicleDescription } from '../types.js';
import type { HotlistRejectCode } from './types.js';

/** A column / key of a hotlist file that maps onto {@link HotlistEntry}. */
export type FieldKey =
  | 'id' | 'plate' | 'pattern' | 'state' | 'list' | 'priority' | 'source' | 'ref' | 'ori'
  | 'entered' | 'expires' | 'case' | 'notes' | 'enteredBy' | 'purpose'
  | 'make' | 'model' | 'colour' | 'type' | 'vehicle'
  /** A file or reason code (NCIC `V`, state `STOLEN`), translated to `list` by the code table. Extracts only. */
  | 'code';

// Names are compared lower-cased with spaces, `_`, `-` and `.` removed, so `Entered By`,
// `entered_by` and `enteredBy` are one column.
const FIELD_BY_NAME: ReadonlyMap<string, FieldKey> = new Map<string, FieldKey>([
  ['id', 'id'], ['plate', 'plate'], ['pattern', 'pattern'], ['state', 'state'], ['list', 'list'],
  ['priority', 'priority'], ['source', 'source'], ['ref', 'ref'], ['ori', 'ori'],
  ['entered', 'entered'], ['expires', 'expires'], ['case', 'case'], ['notes', 'notes'],
  ['enteredby', 'enteredBy'], ['purpose', 'purpose'], ['make', 'make'], ['model', 'model'],
  ['colour', 'colour'], ['color', 'colour'], ['type', 'type'], ['vehicle', 'vehicle'],
]);

/** The entry field a column or key names, or undefined for an unknown one (kept in notes). */
export function fieldKeyOf(name: string): FieldKey | undefined {
  return FIELD_BY_NAME.get(name.toLowerCase().replace(/[\s_.-]/g, ''));
}

/** One row: values of known fields, and unknown columns in file order. */
export interface RowInput {
  values: Partial<Record<FieldKey, unknown>>;
  extras: ReadonlyArray<readonly [string, unknown]>;
}

/** Settings resolved once per file. */
export interface RowContext {
  defaultList?: string;
  defaultSource?: string;
  defaultPriority?: number;
  /** Code table of `code` columns, keys as {@link normalizeCode} makes them. */
  codes?: ReadonlyMap<string, string>;
  now: number;
}

/** What became of a row. */
export type RowOutcome =
  | { kind: 'entry'; entry: HotlistEntry }
  | { kind: 'rejected'; code: HotlistRejectCode; reason: string }
  | { kind: 'junk' }
  | { kind: 'expired' };

const DAY_MS = 86_400_000;

/** Thrown inside a row's validation and caught by rowToEntry, which turns it into a `rejected` outcome. */
class RowReject extends Error {
  constructor(readonly code: HotlistRejectCode, readonly reason: string) {
    super(reason);
    this.name = 'RowReject';
  }
}

/** Text of a field: trimmed string, or undefined when absent or blank. Numbers become text. */
function text(values: RowInput['values'], key: FieldKey): string | undefined {
  const v = values[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') {
    const t = v.trim();
    return t === '' ? undefined : t;
  }
  if (typeof v === 'number' && Number.isFinite(v) && key !== 'plate' && key !== 'pattern') return String(v);
  throw new RowReject(key === 'plate' ? 'INVALID_PLATE' : 'BAD_FIELD', `${key} must be text, got ${describe(v)}`);
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

/** Result of {@link parseHotlistDate}. */
export type DateParse = { ok: true; ms: number; dateOnly: boolean } | { ok: false };

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_DATE_TIME = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

function utcDate(y: number, m: number, d: number): number | undefined {
  const ms = Date.UTC(y, m - 1, d);
  const check = new Date(ms);
  return check.getUTCFullYear() === y && check.getUTCMonth() === m - 1 && check.getUTCDate() === d ? ms : undefined;
}

/**
 * Parses a date of a hotlist file: epoch milliseconds (number or digits), `YYYYMMDD` (NCIC
 * style), ISO 8601 date (`2025-03-01`, UTC) or date-time (`2025-03-01T10:00:00Z`; no zone
 * means UTC). Nothing else: `Date.parse` alone accepts too much to catch a wrong column.
 */
export function parseHotlistDate(v: unknown): DateParse {
  if (typeof v === 'number') return Number.isFinite(v) ? { ok: true, ms: v, dateOnly: false } : { ok: false };
  if (typeof v !== 'string') return { ok: false };
  const s = v.trim();
  if (/^\d{8}$/.test(s)) {
    const ms = utcDate(Number(s.slice(0, 4)), Number(s.slice(4, 6)), Number(s.slice(6, 8)));
    return ms === undefined ? { ok: false } : { ok: true, ms, dateOnly: true };
  }
  if (/^-?\d+$/.test(s)) return { ok: true, ms: Number(s), dateOnly: false };
  const d = ISO_DATE.exec(s);
  if (d) {
    const ms = utcDate(Number(d[1]), Number(d[2]), Number(d[3]));
    return ms === undefined ? { ok: false } : { ok: true, ms, dateOnly: true };
  }
  const dt = ISO_DATE_TIME.exec(s);
  if (!dt) return { ok: false };
  const day = ISO_DATE.exec(dt[1]);
  if (!day || utcDate(Number(day[1]), Number(day[2]), Number(day[3])) === undefined) return { ok: false };
  let zone = dt[3] ?? 'Z';
  if (/^[+-]\d{2}$/.test(zone)) zone += ':00';
  else if (/^[+-]\d{4}$/.test(zone)) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const ms = Date.parse(`${dt[1]}T${dt[2]}${zone.toUpperCase()}`);
  return Number.isNaN(ms) ? { ok: false } : { ok: true, ms, dateOnly: false };
}

function date(values: RowInput['values'], key: 'entered' | 'expires'): { ms: number; dateOnly: boolean } | undefined {
  const v = values[key];
  if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) return undefined;
  const parsed = parseHotlistDate(v);
  if (!parsed.ok) {
    throw new RowReject('INVALID_DATE', `${key} ${JSON.stringify(v)} is not a date (ISO 8601, YYYYMMDD or epoch milliseconds)`);
  }
  return parsed;
}

function priority(values: RowInput['values']): number | undefined {
  const v = values.priority;
  if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) return undefined;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 5) return v;
  if (typeof v === 'string' && /^[1-5]$/.test(v.trim())) return Number(v.trim());
  throw new RowReject('INVALID_PRIORITY', `priority ${JSON.stringify(v)} is not an integer 1..5`);
}

function vehicle(values: RowInput['values']): VehicleDescription | undefined {
  const out: VehicleDescription = {};
  const nested = values.vehicle;
  if (nested !== undefined && nested !== null) {
    if (typeof nested !== 'object' || Array.isArray(nested)) {
      throw new RowReject('BAD_FIELD', `vehicle must be an object, got ${describe(nested)}`);
    }
    const inner: Partial<Record<FieldKey, unknown>> = {};
    for (const [k, val] of Object.entries(nested)) {
      const key = fieldKeyOf(k);
      if (key === 'make' || key === 'model' || key === 'colour' || key === 'type') inner[key] = val;
    }
    for (const key of ['make', 'model', 'colour', 'type'] as const) {
      const t = text(inner, key);
      if (t !== undefined) out[key] = t;
    }
  }
  for (const key of ['make', 'model', 'colour', 'type'] as const) {
    const t = text(values, key);
    if (t !== undefined) out[key] = t;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function extrasAsNotes(extras: RowInput['extras']): string | undefined {
  const parts: string[] = [];
  for (const [name, v] of extras) {
    if (v === undefined || v === null) continue;
    const s = typeof v === 'string' ? v.trim() : JSON.stringify(v);
    if (s !== '') parts.push(`${name}=${s}`);
  }
  return parts.length > 0 ? parts.join('; ') : undefined;
}

/** A code through the code table; a standard list type stands for itself. */
function listOfCode(code: string, ctx: RowContext): string {
  const key = normalizeCode(code);
  const list = ctx.codes?.get(key);
  if (list !== undefined) return list;
  if ((STANDARD_LIST_TYPES as readonly string[]).includes(key)) return key;
  const check = checkListType(key);
  if (!check.ok && isForbidden(check)) throw forbidden(check);
  throw new RowReject(
    'UNKNOWN_CODE',
    `code ${JSON.stringify(code)} is not in the code table (${[...(ctx.codes?.keys() ?? [])].filter((k) => k.length === 1).join(' ')} or a list type); map it with the codes option`,
  );
}

function isForbidden(check: PurposeCheck): boolean {
  return !check.ok && (FORBIDDEN_CATEGORIES as readonly string[]).includes(check.category);
}

function forbidden(check: PurposeCheck): RowReject {
  if (check.ok) throw new Error('unreachable');
  return new RowReject('FORBIDDEN_PURPOSE', `${check.reason} [${check.citation}]`);
}

/**
 * Refuses an entry for a purpose the policies forbid: its list type, its notes (unknown
 * columns included) and its purpose, if any. Only forbidden categories reject here: a full-plate
 * entry needs no purpose code, so an unknown code or a missing case number does not.
 */
function screenPurpose(list: string, notes: string, purpose: string | undefined, caseNo: string | undefined): void {
  const checks: PurposeCheck[] = [checkListType(list)];
  if (purpose !== undefined) checks.push(checkPurpose({ purpose, case: caseNo ?? 'n/a' }), checkText(purpose, 'purpose'));
  checks.push(checkText(notes, 'notes'));
  for (const c of checks) if (isForbidden(c)) throw forbidden(c);
}

/** Validates one row. Never throws. */
export function rowToEntry(row: RowInput, ctx: RowContext): RowOutcome {
  try {
    return build(row, ctx);
  } catch (err) {
    if (err instanceof RowReject) return { kind: 'rejected', code: err.code, reason: err.reason };
    throw err;
  }
}

/**
 * A partial-plate row (docs/contracts.md "Hotlist entry"): its pattern must parse, and `case`, `enteredBy`, `purpose`
 * and `expires` are required, the purpose an allowed code (matcher/policy).
 */
function partialPattern(values: RowInput['values'], rawPattern: string): string {
  const parsed = parsePattern(rawPattern);
  if (!parsed.ok) throw new RowReject('INVALID_PATTERN', `pattern ${JSON.stringify(rawPattern)}: ${parsed.reason}`);
  const missing = (['case', 'enteredBy', 'purpose', 'expires'] as const).filter((k) => text(values, k) === undefined);
  if (missing.length > 0) {
    throw new RowReject('PARTIAL_INCOMPLETE', `partial entry without ${missing.join(', ')} (required with a pattern)`);
  }
  const verdict = checkPurpose({ purpose: text(values, 'purpose'), case: text(values, 'case') }, { requireCase: true });
  if (!verdict.ok && !isForbidden(verdict)) throw new RowReject('INVALID_PURPOSE', verdict.reason);
  return parsed.pattern.text;
}

function build(row: RowInput, ctx: RowContext): RowOutcome {
  const { values } = row;
  const rawPattern = text(values, 'pattern');
  const rawPlate = text(values, 'plate');
  let plate: string | undefined;
  let pattern: string | undefined;
  if (rawPattern !== undefined && rawPlate === undefined) {
    pattern = partialPattern(values, rawPattern);
  } else {
    if (rawPlate === undefined) throw new RowReject('MISSING_PLATE', 'plate is missing');
    const norm = normalizePlate(rawPlate);
    if (!norm.ok) throw new RowReject('INVALID_PLATE', `plate ${JSON.stringify(rawPlate)}: ${norm.reason}`);
    if (isJunkPlate(norm.plate)) return { kind: 'junk' };
    plate = norm.plate;
  }

  const code = text(values, 'code');
  const list = text(values, 'list') ?? (code === undefined ? undefined : listOfCode(code, ctx)) ?? ctx.defaultList;
  if (list === undefined) throw new RowReject('MISSING_LIST', 'list is missing (and no default list was given)');
  const notes = [text(values, 'notes'), extrasAsNotes(row.extras)].filter((s) => s !== undefined).join('; ');
  screenPurpose(list, notes, text(values, 'purpose'), text(values, 'case'));
  const prio = priority(values) ?? ctx.defaultPriority;
  const entered = date(values, 'entered');
  const expires = date(values, 'expires');
  // A date-only expiry means "through that day": it ends at the following UTC midnight.
  const expiresMs = expires === undefined ? undefined : expires.ms + (expires.dateOnly ? DAY_MS : 0);
  if (expiresMs !== undefined && expiresMs <= ctx.now) return { kind: 'expired' };

  const entry: HotlistEntry = plate !== undefined ? { plate, list } : { pattern, list };
  const id = text(values, 'id');
  if (id !== undefined) entry.id = id;
  const state = normalizeState(text(values, 'state'));
  if (state !== '') entry.state = state;
  if (prio !== undefined) entry.priority = prio;
  const source = text(values, 'source') ?? ctx.defaultSource;
  if (source !== undefined) entry.source = source;
  for (const key of ['ref', 'ori', 'case', 'enteredBy', 'purpose'] as const) {
    const t = text(values, key);
    if (t !== undefined) entry[key] = t;
  }
  if (entered !== undefined) entry.entered = entered.ms;
  if (expiresMs !== undefined) entry.expires = expiresMs;
  if (notes !== '') entry.notes = notes;
  const veh = vehicle(values);
  if (veh !== undefined) entry.vehicle = veh;
  return { kind: 'entry', entry };
}
