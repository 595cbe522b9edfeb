/**
 * Writing records as JSON bytes. A read the scanner took (msgpack-scan.ts) becomes its
 * record without ever being a JavaScript object: its map is transcoded to JSON and the
 * `hit`, `alertIds` and `retention` fields are appended, byte for byte what
 * `JSON.stringify(buildRecord(read, ...))` would give (the property tests hold the two
 * together). Records of a group go out as JSON arrays no larger than the server's
 * `max_payload`.
 */
import { numberAt, type ScannedRead } from './msgpack-scan.js';
import { DAY_MS, type RetentionPolicy } from './retention.js';

const encoder = new TextEncoder();

/** A growable byte buffer, reused from batch to batch. */
export class ByteWriter {
  buf: Uint8Array;
  len = 0;

  constructor(initial = 64 * 1024) {
    this.buf = new Uint8Array(initial);
  }

  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(b: number): void {
    if (this.len === this.buf.length) this.ensure(1);
    this.buf[this.len++] = b;
  }

  /** A string known to be ASCII (numbers, pre-escaped text). */
  ascii(s: string): void {
    this.ensure(s.length);
    const buf = this.buf;
    let at = this.len;
    for (let i = 0; i < s.length; i++) buf[at++] = s.charCodeAt(i);
    this.len = at;
  }

  /** Any string, as UTF-8. */
  utf8(s: string): void {
    this.ensure(s.length * 3);
    this.len += encoder.encodeInto(s, this.buf.subarray(this.len)).written;
  }

  bytes(src: Uint8Array): void {
    this.ensure(src.length);
    this.buf.set(src, this.len);
    this.len += src.length;
  }
}

// The transcoder writes into a buffer made large enough once per record (see
// writeNonhitRecord), so each put* function takes the output and a position and returns
// the new position, with no bounds or growth checks per byte. `cur` is the input cursor.
let cur = 0;

const digits = new Uint8Array(24);
// "00" .. "99": two digits per division.
const PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  PAIRS[2 * i] = 0x30 + ((i / 10) | 0);
  PAIRS[2 * i + 1] = 0x30 + (i % 10);
}

/** A non-negative int32's digits, `pad` wide at least (zeros in front). */
function putInt(o: Uint8Array, p: number, n: number, pad: number): number {
  let k = 0;
  while (n >= 100) {
    const q = (n / 100) | 0;
    const r = (n - q * 100) << 1;
    digits[k++] = PAIRS[r + 1];
    digits[k++] = PAIRS[r];
    n = q;
  }
  if (n >= 10) {
    digits[k++] = PAIRS[(n << 1) + 1];
    digits[k++] = PAIRS[n << 1];
  } else {
    digits[k++] = 0x30 + n;
  }
  while (k < pad) digits[k++] = 0x30;
  while (k > 0) o[p++] = digits[--k];
  return p;
}

function putAscii(o: Uint8Array, p: number, s: string): number {
  for (let i = 0; i < s.length; i++) o[p++] = s.charCodeAt(i);
  return p;
}

// Floats repeat (confidences to three places, a camera's coordinates): their text is kept
// rather than made again with String() each time.
const floatText = new Map<number, string>();
const FLOAT_CACHE = 4096;

/** A number as JSON.stringify writes it (at most 24 bytes). */
function putNumber(o: Uint8Array, p: number, v: number): number {
  if ((v | 0) === v && v >= 0) return putInt(o, p, v, 0);
  if (Number.isSafeInteger(v)) {
    // Epoch milliseconds and other integers beyond int32, in two int32 halves.
    let a = v;
    if (a < 0) {
      o[p++] = 0x2d;
      a = -a;
    }
    if (a < 100_000_000) return putInt(o, p, a, 0);
    const hi = Math.floor(a / 100_000_000);
    return putInt(o, putInt(o, p, hi, 0), a - hi * 100_000_000, 8);
  }
  if (!Number.isFinite(v)) return putAscii(o, p, 'null');
  let t = floatText.get(v);
  if (t === undefined) {
    if (floatText.size >= FLOAT_CACHE) floatText.clear();
    floatText.set(v, (t = String(v)));
  }
  return putAscii(o, p, t);
}

/** A number as JSON.stringify writes it, into a growable writer. */
export function writeNumber(w: ByteWriter, v: number): void {
  w.ensure(24);
  w.len = putNumber(w.buf, w.len, v);
}

const HEX = '0123456789abcdef';

/** A control character, `"` or `\` as JSON.stringify escapes it. */
function putEscape(o: Uint8Array, p: number, c: number): number {
  o[p++] = 0x5c;
  switch (c) {
    case 0x22: case 0x5c: o[p++] = c; return p;
    case 0x08: o[p++] = 0x62; return p;
    case 0x09: o[p++] = 0x74; return p;
    case 0x0a: o[p++] = 0x6e; return p;
    case 0x0c: o[p++] = 0x66; return p;
    case 0x0d: o[p++] = 0x72; return p;
    default:
      o[p++] = 0x75;
      o[p++] = 0x30;
      o[p++] = 0x30;
      o[p++] = HEX.charCodeAt(c >> 4);
      o[p++] = HEX.charCodeAt(c & 15);
      return p;
  }
}

/** The ASCII bytes [s, s + n) of `u8` as a JSON string (at most 6n + 2 bytes). */
function putString(o: Uint8Array, p: number, u8: Uint8Array, s: number, n: number): number {
  o[p++] = 0x22;
  const e = s + n;
  for (let i = s; i < e; i++) {
    const c = u8[i];
    if (c >= 0x20 && c !== 0x22 && c !== 0x5c) o[p++] = c;
    else p = putEscape(o, p, c);
  }
  o[p++] = 0x22;
  return p;
}

function u16(u8: Uint8Array, at: number): number {
  return (u8[at] << 8) | u8[at + 1];
}

function u32(u8: Uint8Array, at: number): number {
  return ((u8[at] << 24) | (u8[at + 1] << 16) | (u8[at + 2] << 8) | u8[at + 3]) >>> 0;
}

/** `n` key/value pairs from `cur`, comma-separated. */
function putPairs(o: Uint8Array, p: number, u8: Uint8Array, n: number): number {
  for (let i = 0; i < n; i++) {
    if (i > 0) o[p++] = 0x2c;
    // Keys are strings (the scanner checked): fixstr, str8, str16 or str32.
    const at = cur;
    const b = u8[at];
    let s: number;
    let len: number;
    if (b >= 0xa0 && b <= 0xbf) {
      s = at + 1;
      len = b & 0x1f;
    } else if (b === 0xd9) {
      s = at + 2;
      len = u8[at + 1];
    } else if (b === 0xda) {
      s = at + 3;
      len = u16(u8, at + 1);
    } else {
      s = at + 5;
      len = u32(u8, at + 1);
    }
    p = putString(o, p, u8, s, len);
    o[p++] = 0x3a;
    cur = s + len;
    p = putValue(o, p, u8);
  }
  return p;
}

function putArray(o: Uint8Array, p: number, u8: Uint8Array, n: number): number {
  o[p++] = 0x5b;
  for (let i = 0; i < n; i++) {
    if (i > 0) o[p++] = 0x2c;
    p = putValue(o, p, u8);
  }
  o[p++] = 0x5d;
  return p;
}

/**
 * The msgpack value at `cur` as JSON; advances `cur` past it. Only for values the scanner
 * found supported: ASCII strings, numbers, nil, booleans, arrays, string-keyed maps.
 */
function putValue(o: Uint8Array, p: number, u8: Uint8Array): number {
  const at = cur;
  const b = u8[at];
  if (b <= 0x7f) {
    cur = at + 1;
    return putInt(o, p, b, 0);
  }
  if (b >= 0xa0 && b <= 0xbf) {
    const n = b & 0x1f;
    cur = at + 1 + n;
    return putString(o, p, u8, at + 1, n);
  }
  if (b <= 0x8f) {
    cur = at + 1;
    o[p++] = 0x7b;
    p = putPairs(o, p, u8, b & 0x0f);
    o[p++] = 0x7d;
    return p;
  }
  if (b <= 0x9f) {
    cur = at + 1;
    return putArray(o, p, u8, b & 0x0f);
  }
  if (b >= 0xe0) {
    cur = at + 1;
    o[p++] = 0x2d;
    return putInt(o, p, 0x100 - b, 0);
  }
  switch (b) {
    case 0xc0: cur = at + 1; return putAscii(o, p, 'null');
    case 0xc2: cur = at + 1; return putAscii(o, p, 'false');
    case 0xc3: cur = at + 1; return putAscii(o, p, 'true');
    case 0xd9: case 0xda: case 0xdb: {
      const h = b === 0xd9 ? 2 : b === 0xda ? 3 : 5;
      const n = b === 0xd9 ? u8[at + 1] : b === 0xda ? u16(u8, at + 1) : u32(u8, at + 1);
      cur = at + h + n;
      return putString(o, p, u8, at + h, n);
    }
    case 0xdc: cur = at + 3; return putArray(o, p, u8, u16(u8, at + 1));
    case 0xdd: cur = at + 5; return putArray(o, p, u8, u32(u8, at + 1));
    case 0xde: case 0xdf: {
      const n = b === 0xde ? u16(u8, at + 1) : u32(u8, at + 1);
      cur = at + (b === 0xde ? 3 : 5);
      o[p++] = 0x7b;
      p = putPairs(o, p, u8, n);
      o[p++] = 0x7d;
      return p;
    }
    default: {
      // Numbers: 0xca..0xd3.
      cur = at + NUMBER_SIZE[b - 0xca];
      return putNumber(o, p, numberAt(u8, at));
    }
  }
}

// Bytes of a number by marker, 0xca (float32) .. 0xd3 (int64).
const NUMBER_SIZE = [5, 9, 2, 3, 5, 9, 2, 3, 5, 9];

/** The constant parts of a policy's non-hit record tail, pre-encoded once. */
interface Tail {
  head: Uint8Array;
  basis: Uint8Array;
}

const tails = new WeakMap<RetentionPolicy, Tail>();

function tailOf(policy: RetentionPolicy): Tail {
  let t = tails.get(policy);
  if (t === undefined) {
    t = {
      head: encoder.encode(`,"hit":false,"alertIds":[],"retention":{"policy":${JSON.stringify(policy.policy)},"class":"nonhit","expiresAt":`),
      basis: encoder.encode(`,"basis":${JSON.stringify(policy.basis)}}}`),
    };
    tails.set(policy, t);
  }
  return t;
}

/**
 * The non-hit record of a scanned read, as `JSON.stringify(buildRecord(completeRead(read),
 * [], retentionFor(...)))` would write it: the read's fields in order, a generated `id`
 * and the receive time as `ts` when they are missing, then `hit`, `alertIds`, `retention`.
 */
export function writeNonhitRecord(w: ByteWriter, u8: Uint8Array, read: ScannedRead, key: string, index: number, ts: number, policy: RetentionPolicy): void {
  const tail = tailOf(policy);
  const id = read.idMissing ? JSON.stringify(`${key}-${index}`) : '';
  // JSON takes at most 6 bytes per msgpack byte (a string byte escaped as \u00XX; `false`
  // and a comma for a 1-byte value), plus the generated fields and the tail.
  w.ensure(6 * (read.end - read.start) + 3 * id.length + tail.head.length + tail.basis.length + 96);
  const o = w.buf;
  let p = w.len;
  const b = u8[read.start];
  let n: number;
  if (b <= 0x8f) {
    n = b & 0x0f;
    cur = read.start + 1;
  } else if (b === 0xde) {
    n = u16(u8, read.start + 1);
    cur = read.start + 3;
  } else {
    n = u32(u8, read.start + 1);
    cur = read.start + 5;
  }
  o[p++] = 0x7b;
  p = putPairs(o, p, u8, n);
  if (read.idMissing) {
    p = putAscii(o, p, ',"id":');
    p += encoder.encodeInto(id, o.subarray(p)).written;
  }
  if (read.tsMissing) {
    p = putAscii(o, p, ',"ts":');
    p = putNumber(o, p, ts);
  }
  o.set(tail.head, p);
  p += tail.head.length;
  p = putNumber(o, p, ts + policy.nonhitDays * DAY_MS);
  o.set(tail.basis, p);
  w.len = p + tail.basis.length;
}

/**
 * Records of one group (an input message, or a whole batch when records are coalesced),
 * written one after the other into a JSON array that is cut into messages of at most
 * `maxBytes`; a group of one record from a single-read message is that record alone.
 */
export class RecordsMessages {
  readonly w: ByteWriter;
  private count = 0;
  private mark = 0;
  private readonly done: Uint8Array[] = [];
  /** Records in each finished message, in order. */
  readonly counts: number[] = [];

  constructor(writer: ByteWriter, private readonly maxBytes: number, private readonly single: boolean) {
    this.w = writer;
    writer.len = 0;
  }

  /** Records written so far. */
  get records(): number {
    let n = this.count;
    for (const c of this.counts) n += c;
    return n;
  }

  /** Call before writing a record into `w`. */
  begin(): void {
    this.mark = this.w.len;
    this.w.byte(this.count === 0 ? 0x5b : 0x2c);
  }

  /** Call after writing it: starts a new message when this one went over `maxBytes`. */
  commit(): void {
    const w = this.w;
    if (this.count > 0 && w.len + 1 > this.maxBytes) {
      const message = new Uint8Array(this.mark + 1);
      message.set(w.buf.subarray(0, this.mark));
      message[this.mark] = 0x5d;
      this.done.push(message);
      this.counts.push(this.count);
      w.buf.copyWithin(1, this.mark + 1, w.len);
      w.buf[0] = 0x5b;
      w.len = w.len - this.mark;
      this.count = 1;
    } else {
      this.count++;
    }
  }

  /** A record encoded elsewhere (the object path): its JSON text. */
  addJson(json: string): void {
    this.begin();
    this.w.utf8(json);
    this.commit();
  }

  /**
   * The messages, copied out (the writer is reused); `counts` then holds the records of
   * each. A message is a JSON array, or one record object for a single-read message.
   */
  finish(): Uint8Array[] {
    const w = this.w;
    if (this.count === 0) return this.done;
    if (this.single && this.count === 1 && this.done.length === 0) {
      this.counts.push(1);
      return [w.buf.slice(1, w.len)];
    }
    w.byte(0x5d);
    this.done.push(w.buf.slice(0, w.len));
    this.counts.push(this.count);
    this.count = 0;
    return this.done;
  }
}

/** Header naming the records in a records message that is an array, so a consumer can count without parsing. */
export const RECORDS_HEADER = 'Platesieve-Records';
