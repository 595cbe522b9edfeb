/**
 * Reading msgpack reads without decoding them. Nearly every read hits nothing, and its
 * record is the read's own fields plus a retention tag: decoding it into an object and
 * encoding that object back to JSON was most of the service's CPU (docs/architecture.md
 * "Fast path"). The scanner finds the extent of every read of a message and the few fields
 * the matcher needs (plate, state, agency, confidence, ts and the nested candidates and
 * vehicle); record-json.ts then writes the record straight from the read's bytes.
 *
 * A read the scanner is not sure to treat exactly as msgpackr would (a non-ASCII string,
 * binary or extension values, a duplicate or non-string key, a `ts` that is not a number,
 * ...) is marked for the object path: msgpackr decodes it and the service handles it as
 * before. The property tests check that both paths give byte-identical records.
 */
import { Unpackr } from 'msgpackr';
import type { OcrCandidate, PlateRead, VehicleDescription } from '../types.js';

/**
 * msgpackr set up as the service decodes every payload: maps as plain objects, and 64-bit
 * integers as numbers (other languages' encoders write epoch milliseconds as uint64, which
 * msgpackr would otherwise turn into a BigInt that no JSON encoder takes).
 */
export const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

/** A read found by the scanner, with the fields matching needs decoded. */
export interface ScannedRead extends PlateRead {
  plate: string;
  /** Absolute byte range of the read's map in the scanned buffer. */
  start: number;
  end: number;
  /** True when the read has no `id` (the record gets a generated one). */
  idMissing: boolean;
  /** True when the read has no `ts` (the record gets the receive time). */
  tsMissing: boolean;
}

/** The reads of one message, each scanned, or undefined where the object path must take it. */
export interface ScannedMessage {
  single: boolean;
  /** Absolute start and end of item i at [2i], [2i + 1]. */
  spans: number[];
  reads: Array<ScannedRead | undefined>;
}

const MAX_DEPTH = 32;
/** Maps with more keys than this are left to msgpackr (the duplicate check is quadratic). */
const MAX_KEYS = 32;

// Set by skip() when a value is well-formed msgpack that the record writer does not take.
let unsupported = false;
const keyStarts = new Int32Array(MAX_DEPTH * MAX_KEYS);
const keyLengths = new Int32Array(MAX_DEPTH * MAX_KEYS);

function isAscii(u8: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (u8[i] > 0x7f) return false;
  return true;
}

/** Offset and length of the string at `at` (length -1 when it is not a string). */
function strHeader(u8: Uint8Array, at: number): number {
  const b = u8[at];
  if (b >= 0xa0 && b <= 0xbf) return b & 0x1f;
  if (b === 0xd9) return u8[at + 1];
  if (b === 0xda) return (u8[at + 1] << 8) | u8[at + 2];
  if (b === 0xdb) return ((u8[at + 1] << 24) | (u8[at + 2] << 16) | (u8[at + 3] << 8) | u8[at + 4]) >>> 0;
  return -1;
}

function strHeaderSize(b: number): number {
  return b === 0xd9 ? 2 : b === 0xda ? 3 : b === 0xdb ? 5 : 1;
}

function u16(u8: Uint8Array, at: number): number {
  return (u8[at] << 8) | u8[at + 1];
}

function u32(u8: Uint8Array, at: number): number {
  return ((u8[at] << 24) | (u8[at + 1] << 16) | (u8[at + 2] << 8) | u8[at + 3]) >>> 0;
}

function sameBytes(u8: Uint8Array, a: number, b: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (u8[a + i] !== u8[b + i]) return false;
  return true;
}

const PROTO = [0x5f, 0x5f, 0x70, 0x72, 0x6f, 0x74, 0x6f, 0x5f, 0x5f]; // __proto__

function isProto(u8: Uint8Array, at: number, n: number): boolean {
  if (n !== 9) return false;
  for (let i = 0; i < 9; i++) if (u8[at + i] !== PROTO[i]) return false;
  return true;
}

/**
 * End of the map of `n` pairs whose first key is at `at`; flags `unsupported` unless every key
 * is a distinct ASCII string other than `__proto__`.
 */
function skipMap(u8: Uint8Array, at: number, end: number, n: number, depth: number): number {
  if (n > MAX_KEYS) unsupported = true;
  const base = depth * MAX_KEYS;
  for (let k = 0; k < n; k++) {
    if (at >= end) return -1;
    const len = strHeader(u8, at);
    if (len < 0) {
      unsupported = true;
    } else {
      const s = at + strHeaderSize(u8[at]);
      if (s + len > end) return -1;
      if (!isAscii(u8, s, s + len) || isProto(u8, s, len)) unsupported = true;
      else if (k < MAX_KEYS) {
        for (let j = 0; j < k; j++) {
          if (keyLengths[base + j] === len && sameBytes(u8, keyStarts[base + j], s, len)) unsupported = true;
        }
        keyStarts[base + k] = s;
        keyLengths[base + k] = len;
      }
    }
    at = skip(u8, at, end, depth + 1);
    if (at < 0) return -1;
    at = skip(u8, at, end, depth + 1);
    if (at < 0) return -1;
  }
  return at;
}

function skipArray(u8: Uint8Array, at: number, end: number, n: number, depth: number): number {
  for (let k = 0; k < n; k++) {
    if (at >= end) return -1;
    at = skip(u8, at, end, depth + 1);
    if (at < 0) return -1;
  }
  return at;
}

/** Skips `n` payload bytes after a header of `h` bytes; -1 past the end. */
function over(at: number, h: number, n: number, end: number): number {
  const e = at + h + n;
  return e > end ? -1 : e;
}

/**
 * End offset of the msgpack value at `at`, or -1 when it is malformed or runs past `end`.
 * Sets `unsupported` for values the record writer leaves to msgpackr.
 */
export function skip(u8: Uint8Array, at: number, end: number, depth = 0): number {
  if (at >= end) return -1;
  if (depth >= MAX_DEPTH) {
    unsupported = true;
  }
  const b = u8[at];
  if (b <= 0x7f || b >= 0xe0) return at + 1;
  if (b <= 0x8f) return depth >= MAX_DEPTH ? -1 : skipMap(u8, at + 1, end, b & 0x0f, depth);
  if (b <= 0x9f) return depth >= MAX_DEPTH ? -1 : skipArray(u8, at + 1, end, b & 0x0f, depth);
  if (b <= 0xbf) {
    const e = over(at, 1, b & 0x1f, end);
    if (e > 0 && !isAscii(u8, at + 1, e)) unsupported = true;
    return e;
  }
  switch (b) {
    case 0xc0: case 0xc2: case 0xc3: return at + 1;
    case 0xc4: unsupported = true; return at + 1 < end ? over(at, 2, u8[at + 1], end) : -1;
    case 0xc5: unsupported = true; return at + 2 < end ? over(at, 3, u16(u8, at + 1), end) : -1;
    case 0xc6: unsupported = true; return at + 4 < end ? over(at, 5, u32(u8, at + 1), end) : -1;
    case 0xc7: unsupported = true; return at + 1 < end ? over(at, 3, u8[at + 1], end) : -1;
    case 0xc8: unsupported = true; return at + 2 < end ? over(at, 4, u16(u8, at + 1), end) : -1;
    case 0xc9: unsupported = true; return at + 4 < end ? over(at, 6, u32(u8, at + 1), end) : -1;
    case 0xca: return over(at, 1, 4, end);
    case 0xcb: return over(at, 1, 8, end);
    case 0xcc: case 0xd0: return over(at, 1, 1, end);
    case 0xcd: case 0xd1: return over(at, 1, 2, end);
    case 0xce: case 0xd2: return over(at, 1, 4, end);
    case 0xcf: case 0xd3: return over(at, 1, 8, end);
    case 0xd4: unsupported = true; return over(at, 2, 1, end);
    case 0xd5: unsupported = true; return over(at, 2, 2, end);
    case 0xd6: unsupported = true; return over(at, 2, 4, end);
    case 0xd7: unsupported = true; return over(at, 2, 8, end);
    case 0xd8: unsupported = true; return over(at, 2, 16, end);
    case 0xd9: case 0xda: case 0xdb: {
      const h = strHeaderSize(b);
      if (at + h > end) return -1;
      const e = over(at, h, strHeader(u8, at), end);
      if (e > 0 && !isAscii(u8, at + h, e)) unsupported = true;
      return e;
    }
    case 0xdc: return at + 2 < end && depth < MAX_DEPTH ? skipArray(u8, at + 3, end, u16(u8, at + 1), depth) : -1;
    case 0xdd: return at + 4 < end && depth < MAX_DEPTH ? skipArray(u8, at + 5, end, u32(u8, at + 1), depth) : -1;
    case 0xde: return at + 2 < end && depth < MAX_DEPTH ? skipMap(u8, at + 3, end, u16(u8, at + 1), depth) : -1;
    case 0xdf: return at + 4 < end && depth < MAX_DEPTH ? skipMap(u8, at + 5, end, u32(u8, at + 1), depth) : -1;
    default: return -1; // 0xc1: never used
  }
}

// Floats are read through a DataView of the buffer being scanned, made once per buffer.
let viewOf: Uint8Array | undefined;
let view: DataView = new DataView(new ArrayBuffer(8));

function floatAt(u8: Uint8Array, at: number, n: 4 | 8): number {
  if (viewOf !== u8) {
    viewOf = u8;
    view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  }
  return n === 8 ? view.getFloat64(at) : view.getFloat32(at);
}

/** Number at `at` as msgpackr decodes it (64-bit integers as numbers), or NaN when not a number. */
export function numberAt(u8: Uint8Array, at: number): number {
  const b = u8[at];
  if (b <= 0x7f) return b;
  if (b >= 0xe0) return b - 0x100;
  switch (b) {
    case 0xca: return floatAt(u8, at + 1, 4);
    case 0xcb: return floatAt(u8, at + 1, 8);
    case 0xcc: return u8[at + 1];
    case 0xcd: return u16(u8, at + 1);
    case 0xce: return u32(u8, at + 1);
    case 0xcf: return u32(u8, at + 1) * 0x100000000 + u32(u8, at + 5);
    case 0xd0: return (u8[at + 1] << 24) >> 24;
    case 0xd1: return (u16(u8, at + 1) << 16) >> 16;
    case 0xd2: return u32(u8, at + 1) | 0;
    case 0xd3: return (u32(u8, at + 1) | 0) * 0x100000000 + u32(u8, at + 5);
    default: return Number.NaN;
  }
}

function isNumber(b: number): boolean {
  return b <= 0x7f || b >= 0xe0 || (b >= 0xca && b <= 0xd3);
}

const fromCharCode = String.fromCharCode;

/** The ASCII string of `n` bytes at `s` (the scanner has checked they are ASCII). */
function ascii(u8: Uint8Array, s: number, n: number): string {
  switch (n) {
    case 0: return '';
    case 1: return fromCharCode(u8[s]);
    case 2: return fromCharCode(u8[s], u8[s + 1]);
    case 3: return fromCharCode(u8[s], u8[s + 1], u8[s + 2]);
    case 4: return fromCharCode(u8[s], u8[s + 1], u8[s + 2], u8[s + 3]);
    case 5: return fromCharCode(u8[s], u8[s + 1], u8[s + 2], u8[s + 3], u8[s + 4]);
    case 6: return fromCharCode(u8[s], u8[s + 1], u8[s + 2], u8[s + 3], u8[s + 4], u8[s + 5]);
    case 7: return fromCharCode(u8[s], u8[s + 1], u8[s + 2], u8[s + 3], u8[s + 4], u8[s + 5], u8[s + 6]);
    case 8: return fromCharCode(u8[s], u8[s + 1], u8[s + 2], u8[s + 3], u8[s + 4], u8[s + 5], u8[s + 6], u8[s + 7]);
    default: return fromCharCode.apply(null, u8.subarray(s, s + n) as unknown as number[]);
  }
}

/** The string value at `at` (already checked ASCII), or undefined when it is not a string. */
function stringAt(u8: Uint8Array, at: number): string | undefined {
  const n = strHeader(u8, at);
  return n < 0 ? undefined : ascii(u8, at + strHeaderSize(u8[at]), n);
}

// States and agencies repeat from read to read: a small cache of their strings, keyed by
// their bytes, saves making the same short string again for every read.
const INTERN_SLOTS = 512;
const INTERN_MAX = 16;
const internBytes = new Uint8Array(INTERN_SLOTS * INTERN_MAX);
const internLength = new Int8Array(INTERN_SLOTS).fill(-1);
const internStrings: string[] = new Array<string>(INTERN_SLOTS).fill('');

/** The ASCII string of `n` bytes at `s`, from the cache when it was seen before. */
function interned(u8: Uint8Array, s: number, n: number): string {
  if (n > INTERN_MAX) return ascii(u8, s, n);
  let h = 0x811c9dc5 ^ n;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ u8[s + i], 0x01000193);
  const slot = (h >>> 0) & (INTERN_SLOTS - 1);
  const base = slot * INTERN_MAX;
  if (internLength[slot] === n) {
    let same = true;
    for (let i = 0; i < n; i++) {
      if (internBytes[base + i] !== u8[s + i]) {
        same = false;
        break;
      }
    }
    if (same) return internStrings[slot];
  }
  const str = ascii(u8, s, n);
  internBytes.set(u8.subarray(s, s + n), base);
  internLength[slot] = n;
  internStrings[slot] = str;
  return str;
}

/** The string value at `at` (already checked ASCII) through the cache, or undefined when it is not a string. */
function internedAt(u8: Uint8Array, at: number): string | undefined {
  const n = strHeader(u8, at);
  return n < 0 ? undefined : interned(u8, at + strHeaderSize(u8[at]), n);
}

// Field names the scanner looks at, by length and bytes.
const enum Field { Other, Id, Plate, State, Ts, Agency, Confidence, Candidates, Vehicle, Reserved }

function fieldOf(u8: Uint8Array, s: number, n: number): Field {
  const c = u8[s];
  switch (n) {
    case 2:
      if (c === 0x69 && u8[s + 1] === 0x64) return Field.Id; // id
      if (c === 0x74 && u8[s + 1] === 0x73) return Field.Ts; // ts
      return Field.Other;
    case 3: return c === 0x68 && u8[s + 1] === 0x69 && u8[s + 2] === 0x74 ? Field.Reserved : Field.Other; // hit
    case 5: return c === 0x70 && word(u8, s, 'plate') ? Field.Plate : c === 0x73 && word(u8, s, 'state') ? Field.State : Field.Other;
    case 6: return c === 0x61 && word(u8, s, 'agency') ? Field.Agency : Field.Other;
    case 7: return c === 0x76 && word(u8, s, 'vehicle') ? Field.Vehicle : Field.Other;
    case 8: return c === 0x61 && word(u8, s, 'alertIds') ? Field.Reserved : Field.Other;
    case 9: return c === 0x72 && word(u8, s, 'retention') ? Field.Reserved : Field.Other;
    case 10:
      if (c === 0x63 && word(u8, s, 'confidence')) return Field.Confidence;
      if (c === 0x63 && word(u8, s, 'candidates')) return Field.Candidates;
      return Field.Other;
    default: return Field.Other;
  }
}

function word(u8: Uint8Array, s: number, w: string): boolean {
  for (let i = 1; i < w.length; i++) if (u8[s + i] !== w.charCodeAt(i)) return false;
  return true;
}

// scanRead()'s result beside its return value (the end offset).
let lastRead: ScannedRead | undefined;

/**
 * Scans the item at `start`, a read when it is a map: returns the end of the item (-1 when
 * malformed) and sets `lastRead` to its matching fields, or to undefined when the object
 * path must take it (see the file comment). One pass: the map's keys are checked here
 * (distinct ASCII strings, not `__proto__`) and its values skipped once.
 */
function scanRead(u8: Uint8Array, start: number, end: number, depth: number): number {
  lastRead = undefined;
  unsupported = false;
  const b = u8[start];
  let n: number;
  let at: number;
  if (b >= 0x80 && b <= 0x8f) {
    n = b & 0x0f;
    at = start + 1;
  } else if (b === 0xde && start + 2 < end) {
    n = u16(u8, start + 1);
    at = start + 3;
  } else {
    return skip(u8, start, end, depth); // not a map (or a huge one): msgpackr decides
  }
  if (n > MAX_KEYS) return skip(u8, start, end, depth);
  let plate: string | undefined;
  let state: string | undefined;
  let agency: string | undefined;
  let confidence: number | undefined;
  let ts: number | undefined;
  let candidates: OcrCandidate[] | undefined;
  let vehicle: VehicleDescription | undefined;
  let hasId = false;
  let slow = false;
  const base = depth * MAX_KEYS;
  for (let k = 0; k < n; k++) {
    if (at >= end) return -1;
    const len = strHeader(u8, at);
    let field = Field.Other;
    let v: number;
    if (len < 0) {
      slow = true;
      v = skip(u8, at, end, depth + 1);
      if (v < 0) return -1;
    } else {
      const s = at + strHeaderSize(u8[at]);
      v = s + len;
      if (v > end) return -1;
      if (!isAscii(u8, s, v) || isProto(u8, s, len)) slow = true;
      for (let j = 0; j < k; j++) {
        if (keyLengths[base + j] === len && sameBytes(u8, keyStarts[base + j], s, len)) slow = true;
      }
      keyStarts[base + k] = s;
      keyLengths[base + k] = len;
      field = fieldOf(u8, s, len);
    }
    const next = skip(u8, v, end, depth + 1);
    if (next < 0) return -1;
    at = next;
    if (slow) continue;
    const vb = u8[v];
    switch (field) {
      case Field.Plate:
        plate = stringAt(u8, v);
        if (plate === undefined) slow = true;
        break;
      case Field.State:
        state = internedAt(u8, v);
        if (state === undefined) slow = true;
        break;
      case Field.Agency:
        agency = internedAt(u8, v);
        if (agency === undefined) slow = true;
        break;
      case Field.Id:
        // An empty or non-string id is replaced or converted by the object path.
        if (strHeader(u8, v) <= 0) slow = true;
        hasId = true;
        break;
      case Field.Ts:
        ts = isNumber(vb) ? numberAt(u8, v) : Number.NaN;
        if (!Number.isFinite(ts)) slow = true;
        break;
      case Field.Confidence:
        if (isNumber(vb)) confidence = numberAt(u8, v);
        else slow = true;
        break;
      case Field.Candidates:
        if (!unsupported) candidates = unpackr.unpack(u8.subarray(v, next)) as OcrCandidate[];
        break;
      case Field.Vehicle:
        if (!unsupported) vehicle = unpackr.unpack(u8.subarray(v, next)) as VehicleDescription;
        break;
      case Field.Reserved:
        slow = true;
        break;
      default:
        break;
    }
  }
  if (!slow && !unsupported && plate !== undefined) {
    lastRead = {
      plate, state, agency, confidence, ts, candidates, vehicle,
      start, end: at, idMissing: !hasId, tsMissing: ts === undefined,
    };
  }
  return at;
}

/**
 * Scans a msgpack reads message at [from, to) of `u8`: one read (a map) or an array of
 * items. Returns undefined when the message is not well-formed msgpack ending exactly at
 * `to` (the object path then rejects it with msgpackr's reason), else every item's span and,
 * for each read the fast path takes, its scanned fields. The result object is reused by the
 * next call: take what is needed from it first.
 */
export function scanMessage(u8: Uint8Array, from: number, to: number): ScannedMessage | undefined {
  const b = u8[from];
  let n: number;
  let at: number;
  let single = false;
  if ((b >= 0x80 && b <= 0x8f) || b === 0xde || b === 0xdf) {
    single = true;
    n = 1;
    at = from;
  } else if (b >= 0x90 && b <= 0x9f) {
    n = b & 0x0f;
    at = from + 1;
  } else if (b === 0xdc && from + 2 < to) {
    n = u16(u8, from + 1);
    at = from + 3;
  } else if (b === 0xdd && from + 4 < to) {
    n = u32(u8, from + 1);
    at = from + 5;
  } else {
    return undefined;
  }
  if (n > to - at) return undefined; // every item takes at least a byte
  // One result, reused from message to message: the caller is done with it by the next call.
  const result = reused;
  const { spans, reads } = result;
  result.single = single;
  spans.length = 2 * n;
  reads.length = n;
  const depth = single ? 0 : 1;
  for (let i = 0; i < n; i++) {
    const e = scanRead(u8, at, to, depth);
    if (e < 0) return undefined;
    spans[2 * i] = at;
    spans[2 * i + 1] = e;
    reads[i] = lastRead;
    at = e;
  }
  return at === to ? result : undefined;
}

const reused: ScannedMessage = { single: false, spans: [], reads: [] };
