/**
 * Writes generated values (values.ts) as msgpack, choosing among the encodings the format
 * allows: the shortest header or a wider one (a 3-byte string in a str32), integers as
 * fixints or in any wider integer type or as floats, floats as float32 or float64. Other
 * languages' encoders make each of these choices; msgpackr (the reference) reads them all.
 */
import type { Rng } from '../rng.js';
import type { Val } from './values.js';

const utf8 = new TextEncoder();

/** A growable byte buffer. */
export class Bytes {
  private buf = new Uint8Array(256);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  u8(a: number, b?: number, c?: number): void {
    this.room(3);
    this.buf[this.length++] = a & 0xff;
    if (b !== undefined) this.buf[this.length++] = b & 0xff;
    if (c !== undefined) this.buf[this.length++] = c & 0xff;
  }

  u16(v: number): void {
    this.u8(v >>> 8, v);
  }

  u32(v: number): void {
    this.u8(v >>> 24, v >>> 16);
    this.u8(v >>> 8, v);
  }

  /** Appends an ASCII string's code units. */
  ascii(s: string): void {
    this.room(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.length++] = s.charCodeAt(i);
  }

  raw(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  f64(v: number): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v);
    this.raw(b);
  }

  f32(v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v);
    this.raw(b);
  }

  i64(v: bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v));
    this.raw(b);
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** A header of `n` elements or bytes: the fix form when it fits (usually), else 8/16/32 bits. */
function header(out: Bytes, rng: Rng, n: number, fix: number, fixMax: number, w8: number, w16: number, w32: number): void {
  const wide = rng.chance(0.1);
  if (n <= fixMax && fix >= 0 && !wide) out.u8(fix | n);
  else if (n <= 0xff && w8 >= 0 && !(wide && rng.chance(0.5))) out.u8(w8, n);
  else if (n <= 0xffff && !(wide && rng.chance(0.5))) {
    out.u8(w16);
    out.u16(n);
  } else {
    out.u8(w32);
    out.u32(n);
  }
}

function writeInt(out: Bytes, rng: Rng, v: number): void {
  if (Object.is(v, -0) || !Number.isSafeInteger(v)) {
    out.u8(0xcb);
    out.f64(v);
    return;
  }
  const minimal = rng.chance(0.8);
  if (minimal && v >= 0 && v <= 0x7f) out.u8(v);
  else if (minimal && v < 0 && v >= -32) out.u8(v & 0xff);
  else if (v >= 0 && v <= 0xff && rng.chance(0.5)) out.u8(0xcc, v);
  else if (v >= -0x80 && v <= 0x7f && rng.chance(0.5)) out.u8(0xd0, v);
  else if (v >= 0 && v <= 0xffff && rng.chance(0.5)) {
    out.u8(0xcd);
    out.u16(v);
  } else if (v >= -0x8000 && v <= 0x7fff && rng.chance(0.5)) {
    out.u8(0xd1);
    out.u16(v);
  } else if (v >= 0 && v <= 0xffffffff && rng.chance(0.5)) {
    out.u8(0xce);
    out.u32(v);
  } else if (v >= -0x80000000 && v <= 0x7fffffff && rng.chance(0.5)) {
    out.u8(0xd2);
    out.u32(v);
  } else if (rng.chance(0.15)) {
    out.u8(0xcb);
    out.f64(v);
  } else {
    out.u8(v >= 0 && rng.chance(0.5) ? 0xcf : 0xd3);
    out.i64(BigInt(v));
  }
}

function writeStr(out: Bytes, rng: Rng, s: string): void {
  // Most generated text is ASCII: its bytes are its code units (TextEncoder costs more).
  let ascii = true;
  for (let i = 0; i < s.length && ascii; i++) ascii = s.charCodeAt(i) < 0x80;
  if (ascii) {
    header(out, rng, s.length, 0xa0, 31, 0xd9, 0xda, 0xdb);
    out.ascii(s);
    return;
  }
  const b = utf8.encode(s);
  header(out, rng, b.length, 0xa0, 31, 0xd9, 0xda, 0xdb);
  out.raw(b);
}

/** Appends `v` to `out`, each encoding choice made by `rng`. */
export function writeMsgpack(out: Bytes, rng: Rng, v: Val): void {
  switch (v.t) {
    case 'nil': out.u8(0xc0); return;
    case 'bool': out.u8(v.v ? 0xc3 : 0xc2); return;
    case 'int': writeInt(out, rng, v.v); return;
    case 'float':
      if (Number.isInteger(v.v) && !Object.is(v.v, -0) && rng.chance(0.5)) writeInt(out, rng, v.v);
      else if (Math.fround(v.v) === v.v || rng.chance(0.1)) {
        out.u8(0xca);
        out.f32(v.v);
      } else {
        out.u8(0xcb);
        out.f64(v.v);
      }
      return;
    case 'str': writeStr(out, rng, v.v); return;
    case 'bin': header(out, rng, v.v.length, -1, -1, 0xc4, 0xc5, 0xc6); out.raw(v.v); return;
    case 'ext': {
      const n = v.v.length;
      const fixed = [1, 2, 4, 8, 16].indexOf(n);
      if (fixed >= 0 && rng.chance(0.8)) out.u8(0xd4 + fixed, v.type);
      else {
        header(out, rng, n, -1, -1, 0xc7, 0xc8, 0xc9);
        out.u8(v.type);
      }
      out.raw(v.v);
      return;
    }
    case 'arr':
      header(out, rng, v.v.length, 0x90, 15, -1, 0xdc, 0xdd);
      for (const x of v.v) writeMsgpack(out, rng, x);
      return;
    case 'map':
      header(out, rng, v.v.length, 0x80, 15, -1, 0xde, 0xdf);
      for (const [k, x] of v.v) {
        writeMsgpack(out, rng, k);
        writeMsgpack(out, rng, x);
      }
      return;
    case 'deep':
      for (let i = 0; i < v.depth; i++) out.u8(0x91);
      writeMsgpack(out, rng, v.v);
      return;
  }
}

/** `v` as msgpack bytes. */
export function msgpackOf(rng: Rng, v: Val): Uint8Array {
  const out = new Bytes();
  writeMsgpack(out, rng, v);
  return out.bytes();
}
