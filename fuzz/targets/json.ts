/**
 * Target `json`: the service's decode of a JSON reads message (wire.ts decodeReads: one read
 * or an array, then each read checked and completed) through processTask, on both paths
 * (JSON always takes the object path; the fast path must hand it over untouched). Messages
 * are written with the spellings JSON allows (escapes, exponents, white space) and some it
 * does not, then mutated as text.
 */
import type { Rng } from '../rng.js';
import { mutateBytes } from '../mutate.js';
import type { FuzzCase, Target } from '../types.js';
import { caseOf, coreBytes, runBothPaths, type ServiceCounters } from './service-harness.js';
import { messageVal, type Val } from './values.js';

const WS = ['', '', '', ' ', '\n', '\t', '\r\n', '  '];

function ws(rng: Rng): string {
  return rng.chance(0.8) ? '' : rng.pick(WS);
}

function numberText(rng: Rng, v: number): string {
  if (!Number.isFinite(v)) return rng.pick(['null', 'null', 'null', '1e999', '-1e999', 'NaN', 'Infinity']);
  if (Object.is(v, -0)) return '-0';
  switch (rng.int(8)) {
    case 0: return v.toExponential();
    case 1: return Number.isInteger(v) && Math.abs(v) < 1e15 ? `${v}.0` : String(v);
    case 2: return String(v).replace('e+', 'E');
    default: return String(v);
  }
}

function stringText(rng: Rng, s: string): string {
  const r = rng.int(100);
  // Every UTF-16 unit escaped (lone surrogates included), now and then.
  if (r < 10) return `"${Array.from({ length: s.length }, (_, i) => `\\u${s.charCodeAt(i).toString(16).padStart(4, '0')}`).join('')}"`;
  if (r < 12) return `"${s}"`; // raw control characters and quotes: not always JSON
  return JSON.stringify(s);
}

function write(rng: Rng, v: Val, out: string[]): void {
  switch (v.t) {
    case 'nil': out.push('null'); return;
    case 'bool': out.push(v.v ? 'true' : 'false'); return;
    case 'int': case 'float': out.push(numberText(rng, v.v)); return;
    case 'str': out.push(stringText(rng, v.v)); return;
    case 'bin': out.push(`[${[...v.v].join(',')}]`); return;
    case 'ext': out.push(JSON.stringify(Buffer.from(v.v).toString('base64'))); return;
    case 'arr':
      out.push('[', ws(rng));
      v.v.forEach((x, i) => {
        if (i > 0) out.push(',', ws(rng));
        write(rng, x, out);
      });
      out.push(ws(rng), ']');
      return;
    case 'map':
      out.push('{', ws(rng));
      v.v.forEach(([k, x], i) => {
        if (i > 0) out.push(',', ws(rng));
        out.push(k.t === 'str' ? stringText(rng, k.v) : JSON.stringify(JSON.stringify(k.t === 'int' || k.t === 'float' ? k.v : k.t)), ws(rng), ':', ws(rng));
        write(rng, x, out);
      });
      out.push(ws(rng), '}');
      return;
    case 'deep':
      out.push('['.repeat(v.depth));
      write(rng, v.v, out);
      out.push(']'.repeat(v.depth));
      return;
  }
}

const utf8 = new TextEncoder();

/** A JSON message: `{` or `[` first (after white space), as the service tells JSON from msgpack. */
function message(rng: Rng): Uint8Array {
  let v = messageVal(rng);
  // The service decides JSON by the first byte: a scalar message would be msgpack to it.
  if (v.t !== 'map' && v.t !== 'arr') v = { t: 'arr', v: [v] };
  const out: string[] = [ws(rng)];
  if (rng.chance(0.02)) out.push('['.repeat(rng.pick([100, 5000, 9000, 20_000])));
  write(rng, v, out);
  out.push(ws(rng));
  return utf8.encode(out.join(''));
}

function generate(rng: Rng): FuzzCase {
  const n = rng.weighted([[8, 1], [2, 2]]);
  const messages = Array.from({ length: n }, () => message(rng));
  if (rng.chance(0.5)) {
    const i = rng.int(n);
    messages[i] = mutateBytes(rng, messages[i], { text: true, donors: messages });
  }
  return caseOf(messages, rng.int(4));
}

const counters: ServiceCounters = { messages: 0, reads: 0, fastReads: 0 };

/** The JSON reads fuzz target. */
export const jsonTarget: Target = {
  name: 'json',
  description: 'JSON reads messages (wire.ts decodeReads, one read or an array) through processTask, both paths',
  generate,
  run: (c) => runBothPaths(c, counters),
  counters: () => ({ ...counters }),
  externalBytes: coreBytes,
};
