/**
 * Byte-level mutation of valid seeds: bit flips, truncation, insertion and overwriting with
 * interesting bytes and values, deleting, duplicating and splicing ranges, and for msgpack
 * huge lengths in container and string headers and deep nesting. Structured generators
 * give inputs that reach deep into a decoder; mutating them finds the edges the generator
 * does not think of.
 */
import type { Rng } from './rng.js';

/** Bytes that mean something to one of the decoders (msgpack type bytes, JSON and CSV syntax). */
const INTERESTING_BYTES = [
  0x00, 0x01, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc7, 0xca, 0xcb, 0xcf, 0xd3, 0xd4,
  0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff, 0x22, 0x2c, 0x0a, 0x0d, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x7c, 0x3a,
  0x20, 0x09, 0xef, 0xbb, 0xed, 0xa0,
];

/** Multi-byte values at the edges of 8-, 16- and 32-bit fields (big-endian, as msgpack writes them). */
const INTERESTING_VALUES: ReadonlyArray<readonly number[]> = [
  [0xff], [0x7f], [0x80], [0xff, 0xff], [0x7f, 0xff], [0x80, 0x00], [0x00, 0x00], [0xff, 0xff, 0xff, 0xff],
  [0x7f, 0xff, 0xff, 0xff], [0x80, 0x00, 0x00, 0x00], [0x00, 0x01, 0x00, 0x00], [0xff, 0xff, 0xff, 0xfb], [0xff, 0xff, 0xff, 0xf0],
];

/** Text that means something to one of the text decoders (JSON, CSV, YAML, patterns). */
const INTERESTING_TEXT = [
  '"', '""', ',', '\n', '\r\n', '\r', '|', '\t', '\\', '\\u0000', '\\ud800', '{', '}', '[', ']', ':', 'null', 'true', '-0', '1e999',
  '9007199254740993', '\u0000', '\ufeff', '\u00b7', 'é', '😀', '\ud800', '  ', '#', '*', '?', '&a', '*a', '!!binary', '<<', '---', '...',
  '${X}', '${X:-1}', '$$', '__proto__', 'constructor', '%YAML 1.1\n', '- ', '? ', '!', '@', '`',
];

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Options of {@link mutateBytes}. */
export interface MutateOptions {
  /** Other inputs to splice from. */
  donors?: readonly Uint8Array[];
  /** Use the msgpack mutations too (huge lengths, nesting). */
  msgpack?: boolean;
  /** Text tokens to insert (text formats). */
  text?: boolean;
  /** Longest output: mutations that would grow beyond it are skipped. */
  maxLength?: number;
}

const encoder = new TextEncoder();

/** A msgpack header that claims a huge length or count (its body is whatever follows). */
function hugeHeader(rng: Rng): Uint8Array {
  const big = rng.pick([0xffffffff, 0x7fffffff, 0x80000000, 0xfffffff0, 0xfffffffb, 0x10000, 0xffff, 0x100000, rng.u32()]);
  const w32 = [(big >>> 24) & 0xff, (big >>> 16) & 0xff, (big >>> 8) & 0xff, big & 0xff];
  const w16 = [(big >>> 8) & 0xff, big & 0xff];
  switch (rng.int(9)) {
    case 0: return Uint8Array.from([0xdb, ...w32]); // str 32
    case 1: return Uint8Array.from([0xdd, ...w32]); // array 32
    case 2: return Uint8Array.from([0xdf, ...w32]); // map 32
    case 3: return Uint8Array.from([0xc6, ...w32]); // bin 32
    case 4: return Uint8Array.from([0xc9, ...w32, rng.int(256)]); // ext 32
    case 5: return Uint8Array.from([0xda, ...w16]); // str 16
    case 6: return Uint8Array.from([0xdc, ...w16]); // array 16
    case 7: return Uint8Array.from([0xde, ...w16]); // map 16
    default: return Uint8Array.from([0xd9, w16[1]]); // str 8
  }
}

/** `depth` levels of one-element arrays or one-key maps around a value (or around nothing). */
export function nestMsgpack(rng: Rng, depth: number, inner: Uint8Array): Uint8Array {
  const map = rng.chance(0.5);
  const head = map ? Uint8Array.from([0x81, 0xa1, 0x61]) : Uint8Array.from([0x91]);
  const out = new Uint8Array(head.length * depth + inner.length);
  for (let i = 0; i < depth; i++) out.set(head, i * head.length);
  out.set(inner, head.length * depth);
  return out;
}

/** A nesting depth: usually modest, sometimes past the scanner's limit (32) or the stack's. */
export function nestingDepth(rng: Rng): number {
  // The deep ones are rare: a 20 000-deep message costs as much as a thousand small cases.
  return rng.weighted<() => number>([
    [8, () => rng.range(1, 40)],
    [4, () => rng.pick([15, 16, 17, 31, 32, 33])],
    [2, () => rng.pick([64, 100, 1000])],
    [1, () => rng.pick([5000, 10_000, 20_000])],
  ])();
}

/** Applies one to `rounds` random mutations to a copy of `input`. */
export function mutateBytes(rng: Rng, input: Uint8Array, opts: MutateOptions = {}, rounds = 1 + rng.int(4)): Uint8Array {
  let b = input;
  const max = opts.maxLength ?? 1 << 20;
  for (let r = 0; r < rounds; r++) {
    const n = b.length;
    const at = rng.int(n + 1);
    const op = rng.int(opts.msgpack ? 14 : 11);
    let next: Uint8Array | undefined;
    switch (op) {
      case 0: { // flip 1..3 bits
        if (n === 0) break;
        next = b.slice();
        for (let k = rng.range(1, 3); k > 0; k--) next[rng.int(n)] ^= 1 << rng.int(8);
        break;
      }
      case 1: { // overwrite a byte with an interesting one
        if (n === 0) break;
        next = b.slice();
        next[rng.int(n)] = rng.pick(INTERESTING_BYTES);
        break;
      }
      case 2: // truncate
        next = b.slice(0, rng.int(n + 1));
        break;
      case 3: // insert an interesting byte
        next = concat(b.subarray(0, at), Uint8Array.of(rng.pick(INTERESTING_BYTES)), b.subarray(at));
        break;
      case 4: { // overwrite with an interesting value
        const v = Uint8Array.from(rng.pick(INTERESTING_VALUES));
        if (n < v.length) break;
        next = b.slice();
        next.set(v, rng.int(n - v.length + 1));
        break;
      }
      case 5: { // delete a range
        const len = rng.size(n - at);
        next = concat(b.subarray(0, at), b.subarray(at + len));
        break;
      }
      case 6: { // duplicate a range in place
        const from = rng.int(n + 1);
        const len = rng.size(n - from);
        next = concat(b.subarray(0, at), b.subarray(from, from + len), b.subarray(at));
        break;
      }
      case 7: { // splice from a donor (or from itself)
        const donor = opts.donors !== undefined && opts.donors.length > 0 ? rng.pick(opts.donors) : b;
        const from = rng.int(donor.length + 1);
        const len = rng.size(donor.length - from);
        const cut = at + rng.size(n - at);
        next = concat(b.subarray(0, at), donor.subarray(from, from + len), b.subarray(cut));
        break;
      }
      case 8: // random bytes
        next = concat(b.subarray(0, at), rng.bytes(rng.range(1, 8)), b.subarray(at));
        break;
      case 9: { // text token (or a random byte run in binary formats)
        const tok = opts.text ? encoder.encode(rng.pick(INTERESTING_TEXT)) : rng.bytes(rng.range(1, 4));
        next = concat(b.subarray(0, at), tok, b.subarray(at));
        break;
      }
      case 10: { // swap two bytes
        if (n < 2) break;
        next = b.slice();
        const i = rng.int(n);
        const j = rng.int(n);
        [next[i], next[j]] = [next[j], next[i]];
        break;
      }
      case 11: { // a huge length header in place of whatever byte was there
        const h = hugeHeader(rng);
        next = concat(b.subarray(0, at), h, b.subarray(Math.min(n, at + (rng.chance(0.5) ? 1 : h.length))));
        break;
      }
      case 12: // deep nesting around the rest
        next = concat(b.subarray(0, at), nestMsgpack(rng, nestingDepth(rng), b.subarray(at)));
        break;
      default: { // a container count off by a little (claims one element more or fewer)
        const i = b.findIndex((x, k) => k >= at && ((x >= 0x80 && x <= 0x9f) || (x >= 0xa0 && x <= 0xbf)));
        if (i < 0) break;
        next = b.slice();
        const mask = next[i] >= 0xa0 ? 0x1f : 0x0f;
        next[i] = (next[i] & ~mask) | ((next[i] + (rng.chance(0.5) ? 1 : -1)) & mask);
        break;
      }
    }
    if (next !== undefined && next.length <= max) b = next;
  }
  return b === input ? input.slice() : b;
}
