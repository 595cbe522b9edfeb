/**
 * Input bounds of a read (docs/wire-format.md "Input bounds"). A read that breaks one is
 * dead-lettered on its own: without them one read could cost the service its connection (an
 * agency of 5 kB makes an alert subject longer than the server's control line, and the server
 * closes the connection), its batch (a value 10 000 deep throws in JSON.stringify) or a
 * meaningless retention date (`ts` of 1e20).
 *
 * The object path checks every read here. The core's fast path (core-wasm/assembly/skip.ts
 * and reads.ts, same limits) hands every read that may break a bound to the object path, so
 * both paths reject the same reads with the same codes and reasons.
 */

/** Objects and arrays nested below a read, at most (`{"a":[1]}` as a field value is 2 levels). */
export const MAX_NESTING = 16;
/** Longest string (a value or a key, anywhere in a read), in UTF-8 bytes. */
export const MAX_STRING_BYTES = 4096;
/** Most elements of an array, or keys of an object, anywhere in a read. */
export const MAX_ITEMS = 1024;
/** Longest `agency` in bytes: it becomes a token of the alert subject. */
export const MAX_AGENCY_BYTES = 64;
/** Longest `cameraId` in bytes. */
export const MAX_CAMERA_ID_BYTES = 128;
/** Earliest accepted `ts`: 2000-01-01T00:00:00Z. */
export const TS_MIN_MS = Date.UTC(2000, 0, 1);
/** Latest accepted `ts`: this far past the time the service received the read (clock skew). */
export const TS_AHEAD_MS = 86_400_000;

/** Why a read breaks a bound: a dead-letter code and reason. */
export interface Violation {
  code: 'TOO_DEEP' | 'BAD_FIELD' | 'BAD_TS';
  reason: string;
}

/** The reason of every read that nests too deep (the fast path gives it without decoding the read). */
export const TOO_DEEP_REASON = `read nests objects or arrays more than ${MAX_NESTING} levels deep`;

/**
 * Text fit for the `Platesieve-Reason` header: one line (a header value must not hold CR or
 * LF, and a reason may quote a payload or name a field), at most `max` characters.
 */
export function oneLine(text: string, max = 300): string {
  // eslint-disable-next-line no-control-regex -- control characters are what is replaced
  const line = text.replace(/[\x00-\x1f\x7f]+/g, ' ');
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
}

/** A field name as a reason shows it (any key may be a field name). */
function named(field: string): string {
  return oneLine(field, 64);
}

/** Latest accepted `ts` of a batch received at `receivedAt`. */
export function maxTs(receivedAt: number): number {
  return receivedAt + TS_AHEAD_MS;
}

/** Bytes of `s` in UTF-8 when more than `max`, else -1 (no encoding for short strings). */
function bytesOver(s: string, max: number): number {
  // A UTF-16 unit is 1 to 3 bytes of UTF-8 (a surrogate pair, 2 units, is 4).
  if (s.length * 3 <= max) return -1;
  const n = s.length > max ? s.length : Buffer.byteLength(s, 'utf8');
  return n > max ? n : -1;
}

// Results of walk(): too deep, and the first size bound broken (the walk goes on after
// one, so that depth is found wherever it is, as on the fast path).
let tooDeep = false;
let sizeReason: string | undefined;

function isPlain(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Walks a decoded value `nesting` levels below its read; true once something is too deep (stop). */
function walk(v: unknown, nesting: number, field: string): boolean {
  if (typeof v === 'string') {
    if (sizeReason === undefined) {
      const n = bytesOver(v, MAX_STRING_BYTES);
      if (n >= 0) sizeReason = `${named(field)} holds a string of ${n} bytes (at most ${MAX_STRING_BYTES})`;
    }
    return false;
  }
  if (typeof v !== 'object' || v === null) return false;
  if (ArrayBuffer.isView(v)) {
    if (sizeReason === undefined && v.byteLength > MAX_STRING_BYTES) sizeReason = `${named(field)} holds ${v.byteLength} bytes of binary (at most ${MAX_STRING_BYTES})`;
    return false;
  }
  const array = Array.isArray(v);
  if (!array && !isPlain(v)) return false; // a Date or another msgpack extension value: no nesting
  if (nesting > MAX_NESTING) {
    tooDeep = true;
    return true;
  }
  if (array) {
    const a = v as unknown[];
    if (sizeReason === undefined && a.length > MAX_ITEMS) sizeReason = `${named(field)} holds an array of ${a.length} elements (at most ${MAX_ITEMS})`;
    for (let i = 0; i < a.length; i++) if (walk(a[i], nesting + 1, field)) return true;
    return false;
  }
  const o = v as Record<string, unknown>;
  let keys = 0;
  for (const k in o) {
    keys++;
    if (sizeReason === undefined && bytesOver(k, MAX_STRING_BYTES) >= 0) sizeReason = `${named(field)} holds a key of ${Buffer.byteLength(k, 'utf8')} bytes (at most ${MAX_STRING_BYTES})`;
    if (walk(o[k], nesting + 1, field)) return true;
  }
  if (sizeReason === undefined && keys > MAX_ITEMS) sizeReason = `${named(field)} holds an object of ${keys} keys (at most ${MAX_ITEMS})`;
  return false;
}

/**
 * The nesting bound of a decoded item (read or not), checked before anything else so that
 * both paths give TOO_DEEP for it whatever else is wrong with it.
 */
export function checkNesting(item: unknown): Violation | undefined {
  tooDeep = false;
  sizeReason = undefined;
  walk(item, 0, 'read');
  return tooDeep ? { code: 'TOO_DEEP', reason: TOO_DEEP_REASON } : undefined;
}

/** Printable ASCII, nothing else: what an alert subject token is made of. */
const SUBJECT_CHARS = /^[\x20-\x7e]*$/;
/** No control character (C0 or DEL): header- and log-safe. */
// eslint-disable-next-line no-control-regex -- control characters are what is refused
const NO_CONTROL = /^[^\x00-\x1f\x7f]*$/;

/**
 * The size bounds of a read (an object) and of the fields that name subjects or keys:
 * `agency` (a string of at most 64 printable ASCII bytes; `.`, `*`, `>` and spaces still
 * become `_` in the subject) and `cameraId` (at most 128 bytes, no control character).
 * Call after {@link checkNesting} (it reuses that walk's findings).
 */
export function checkFields(read: Record<string, unknown>): Violation | undefined {
  const agency = read.agency;
  if (agency !== undefined && agency !== null) {
    if (typeof agency !== 'string' || agency.length > MAX_AGENCY_BYTES || !SUBJECT_CHARS.test(agency)) {
      return { code: 'BAD_FIELD', reason: `agency must be a string of at most ${MAX_AGENCY_BYTES} printable ASCII characters (it names the alert subject)` };
    }
  }
  const camera = read.cameraId;
  if (camera !== undefined && camera !== null) {
    if (typeof camera !== 'string' || bytesOver(camera, MAX_CAMERA_ID_BYTES) >= 0 || !NO_CONTROL.test(camera)) {
      return { code: 'BAD_FIELD', reason: `cameraId must be a string of at most ${MAX_CAMERA_ID_BYTES} bytes without control characters` };
    }
  }
  // Walk again field by field for a reason that names the field (only when the first walk found something).
  if (sizeReason !== undefined) {
    sizeReason = undefined;
    let keys = 0;
    for (const k in read) {
      keys++;
      if (bytesOver(k, MAX_STRING_BYTES) >= 0) return { code: 'BAD_FIELD', reason: `read has a key of ${Buffer.byteLength(k, 'utf8')} bytes (at most ${MAX_STRING_BYTES})` };
      walk(read[k], 1, k);
      if (sizeReason !== undefined) return { code: 'BAD_FIELD', reason: sizeReason };
    }
    if (keys > MAX_ITEMS) return { code: 'BAD_FIELD', reason: `read has ${keys} fields (at most ${MAX_ITEMS})` };
  }
  return undefined;
}

/** The `ts` window check: a reason when `ms` (epoch ms) is outside it, for a read received at `receivedAt`. */
export function checkTs(ms: number, receivedAt: number): Violation | undefined {
  if (ms >= TS_MIN_MS && ms <= maxTs(receivedAt)) return undefined;
  return {
    code: 'BAD_TS',
    reason: `ts ${String(ms)} is outside the accepted window, ${new Date(TS_MIN_MS).toISOString()} to ${new Date(maxTs(receivedAt)).toISOString()} (receive time + 1 day)`,
  };
}
