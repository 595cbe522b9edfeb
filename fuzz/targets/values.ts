/**
 * A small value model for generated reads, written as msgpack (msgpack-writer.ts) or JSON
 * (json-writer.ts) with the encoding choices left to the writer. Maps are lists of pairs so
 * a map can repeat a key or have a key that is not a string, which no encoder library
 * would write but a producer in another language might.
 */
import type { Rng } from '../rng.js';

/** A generated value. */
export type Val =
  | { t: 'nil' }
  | { t: 'bool'; v: boolean }
  | { t: 'int'; v: number }
  | { t: 'float'; v: number }
  | { t: 'str'; v: string }
  | { t: 'bin'; v: Uint8Array }
  | { t: 'ext'; type: number; v: Uint8Array }
  | { t: 'arr'; v: Val[] }
  | { t: 'map'; v: Array<[Val, Val]> }
  | { t: 'deep'; depth: number; v: Val };

/** Shorthands for values. */
export const nil: Val = { t: 'nil' };
/** A string value. */
export const str = (v: string): Val => ({ t: 'str', v });
/** An integer value (the writer picks its width). */
export const int = (v: number): Val => ({ t: 'int', v });
/** A number value, integral or not. */
export const float = (v: number): Val => ({ t: 'float', v });
/** A map of string keys. */
export const map = (pairs: Array<[string, Val]>): Val => ({ t: 'map', v: pairs.map(([k, v]) => [str(k), v]) });

/** Plates of the fuzz hotlist (hits), plates that hit nothing, and invalid ones. */
export const HIT_PLATES = ['ABC123', 'abc-123', 'A8C123', '7XYZ88', 'QAQ', 'QQQ77', 'QZQ1'];
const NOHIT_PLATES = ['NOHIT1', 'ZZZ999', '123ABC', 'X', 'AB 12.3', 'A·B'];
const BAD_PLATES = ['', '   ', 'AB@12', 'ÄBC123', '12345678901', 'A B.C-1·2', '-', '\u0000', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', '😀'];
const TEXTS = ['', 'CAM-0138', 'x'.repeat(4097), 'y'.repeat(129), 'a"b\\c', '\u0000\u001f\u007f\n\t\b\f\r', 'Citroën', '😀', '\ud800', 'x'.repeat(40), '__proto__', '</script>'];
const KEYS = ['cameraId', 'imageRef', 'lat', 'lon', 'heading', 'make', 'extra', 'note', 'a', '', 'Plate', 'ID', '__proto__', 'constructor', 'hit', 'alertIds', 'retention', 'candidates', 'é', 'x"y'];
const NUMBERS = [0, -0, 0.5, 0.834, 1, 1.5, -1, 255, 256, 65535, 65536, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 64, 1_736_143_202_176, -1_736_143_202_176, 1e21, 1e-7, 5e-324, Number.MAX_VALUE, NaN, Infinity, -Infinity, 39.7392, -104.9903];

/** An ASCII string of printable characters (the fast path's kind of text). */
export function asciiText(rng: Rng, max = 12): string {
  let s = '';
  for (let n = rng.size(max); n > 0; n--) s += String.fromCharCode(0x20 + rng.int(95));
  return s;
}

/** Any text: ASCII, control characters, non-ASCII, lone surrogates. */
export function anyText(rng: Rng): string {
  switch (rng.int(4)) {
    case 0: return asciiText(rng);
    case 1: return rng.pick(TEXTS);
    case 2: {
      let s = '';
      for (let n = rng.size(10); n > 0; n--) s += String.fromCharCode(rng.chance(0.5) ? rng.int(0x80) : rng.int(0x10000));
      return s;
    }
    default: return asciiText(rng, 300);
  }
}

/** A number: small, 32-bit, an edge value (NaN, -0, 2^53, ...) or any magnitude. */
export function anyNumber(rng: Rng): Val {
  switch (rng.int(4)) {
    case 0: return int(rng.range(-200, 200));
    case 1: return int((rng.u32() | 0) * (rng.chance(0.3) ? 65536 : 1));
    case 2: return float(rng.pick(NUMBERS));
    default: return float((rng.float() - 0.5) * 10 ** rng.range(-8, 16));
  }
}

/**
 * Any value, nested `depth` levels at most. Binary and extension values are rare: an
 * extension anywhere sends its whole message to the object path, and the differential
 * test means something only while most reads take the fast path.
 */
export function anyVal(rng: Rng, depth = 2): Val {
  const kinds: Array<readonly [number, () => Val]> = [
    [2, () => nil],
    [2, () => ({ t: 'bool', v: rng.chance(0.5) })],
    [6, () => anyNumber(rng)],
    [6, () => str(anyText(rng))],
    [1, () => ({ t: 'bin', v: rng.bytes(rng.size(20)) })],
    [0.5, () => ({ t: 'ext', type: rng.pick([-1, -1, 0, 0x42, 0x62, 0x65, 0x69, 0x70, 0x72, 0x73, 0x74, 0x78, rng.range(-128, 127)]), v: rng.bytes(rng.pick([1, 2, 4, 8, 12, 16, rng.size(30)])) })],
    [0.5, () => ({ t: 'deep', depth: rng.chance(0.9) ? rng.pick([8, 15, 16, 17, 31, 33, 200]) : rng.pick([5000, 9000, 20_000]), v: anyVal(rng, 0) })],
  ];
  if (depth > 0) {
    kinds.push([2, () => ({ t: 'arr', v: Array.from({ length: rng.size(5) }, () => anyVal(rng, depth - 1)) })]);
    kinds.push([2, () => {
      const pairs: Array<[Val, Val]> = [];
      for (let n = rng.size(4); n > 0; n--) pairs.push([rng.chance(0.95) ? str(rng.pick(KEYS)) : anyVal(rng, 0), anyVal(rng, depth - 1)]);
      return { t: 'map', v: pairs };
    }]);
  }
  return rng.weighted(kinds)();
}

/** Mostly `good`, sometimes anything. */
function mostly(rng: Rng, good: () => Val): Val {
  return rng.chance(0.97) ? good() : anyVal(rng, 1);
}

function plateVal(rng: Rng): Val {
  return rng.weighted<() => Val>([
    [10, () => str(rng.pick(NOHIT_PLATES))],
    [6, () => str(rng.pick(HIT_PLATES))],
    [1.5, () => str(rng.pick(BAD_PLATES))],
    [0.5, () => str(asciiText(rng, 30))],
    [0.5, () => anyVal(rng, 1)],
  ])();
}

/**
 * A read: the fields of docs/wire-format.md, mostly well-formed (so the fast path takes it),
 * now and then with a value of another type, a field the record sets itself, candidates,
 * a repeated or non-string key, or extra fields of any value.
 */
export function readVal(rng: Rng): Val {
  const pairs: Array<[Val, Val]> = [];
  const add = (k: string, v: Val): void => void pairs.push([str(k), v]);
  if (rng.chance(0.8)) add('id', mostly(rng, () => str(rng.pick(['R-1', 'a"b', 'x\\y', `r${rng.int(1000)}`]))));
  if (rng.chance(0.97)) add('plate', plateVal(rng));
  // Two letters or none take the fast path; any other state is the host's.
  if (rng.chance(0.6)) add('state', mostly(rng, () => str(rng.chance(0.9) ? rng.pick(['CO', 'co', 'CA', '', 'WY']) : rng.pick(['C', 'COL', 'C1', 'É1']))));
  if (rng.chance(0.6)) {
    // Around the harness's receive time (1_736_000_000_000), now and then outside the accepted window.
    const ts = (): Val => rng.weighted<() => Val>([
      [20, () => int(1_736_000_000_000 - rng.int(86_400_000 * 30))],
      [3, () => float(1_735_900_000_000 + rng.float() * 1e8)],
      [0.5, () => int(1_736_000_000_000 + 86_400_000 + rng.range(-2, 2))],
      [0.5, () => int(rng.int(2 ** 31))],
      [0.5, () => str(rng.pick(['2025-01-06T05:20:02Z', 'yesterday', '']))],
    ])();
    add('ts', mostly(rng, ts));
  }
  if (rng.chance(0.5)) add('cameraId', mostly(rng, () => str(asciiText(rng))));
  if (rng.chance(0.5)) add('agency', mostly(rng, () => str(rng.pick(['CO0010000', 'CO0560500', 'X', '']))));
  if (rng.chance(0.5)) add('confidence', mostly(rng, () => float(rng.float())));
  if (rng.chance(0.3)) add('lat', anyNumber(rng));
  if (rng.chance(0.2)) add('vehicle', mostly(rng, () => map([['make', str(rng.pick(['FORD', 'TOYOTA']))], ['colour', str(rng.pick(['RED', 'red', 'BLK']))]])));
  if (rng.chance(0.05)) add('candidates', { t: 'arr', v: Array.from({ length: rng.size(3) }, () => map([['plate', plateVal(rng)], ['confidence', float(rng.float())]])) });
  for (let n = rng.chance(0.2) ? rng.size(4) : 0; n > 0; n--) pairs.push([rng.chance(0.98) ? str(rng.pick(KEYS)) : anyVal(rng, 0), rng.chance(0.7) ? str(asciiText(rng)) : anyVal(rng)]);
  // Shuffle: field order matters to the record and to the scanner.
  for (let i = pairs.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [pairs[i], pairs[j]] = [pairs[j], pairs[i]];
  }
  if (rng.chance(0.03) && pairs.length > 0) pairs.push([pairs[0][0], anyVal(rng, 0)]); // a repeated key
  return { t: 'map', v: pairs };
}

/** A reads message: one read, or an array of reads (now and then something else). */
export function messageVal(rng: Rng): Val {
  const reads = (n: number): Val => ({ t: 'arr', v: Array.from({ length: n }, () => (rng.chance(0.98) ? readVal(rng) : anyVal(rng, 1))) });
  // Big arrays are rare: they cost as much as a hundred small cases.
  return rng.weighted<() => Val>([
    [90, () => readVal(rng)],
    [95, () => reads(rng.size(7))],
    [1, () => reads(rng.pick([100, 300]))],
    [10, () => anyVal(rng)],
  ])();
}
