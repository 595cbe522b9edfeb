/**
 * Input decoding for `platesieve match`: NDJSON lines or a stream of msgpack values, yielded
 * in arrays (one per chunk read) of decoded values or problems, each with its position
 * (NDJSON: physical line; msgpack: 1-based value index).
 */
import type { Readable } from 'node:stream';
import { Unpackr } from 'msgpackr';
import { readLines } from '../hotlist/lines.js';

/** Input encodings. */
export type InputFormat = 'ndjson' | 'msgpack';

/** One decoded input value, or why a record could not be decoded. */
export type InputItem =
  | { kind: 'value'; pos: number; value: unknown }
  | { kind: 'problem'; pos: number; code: 'BAD_JSON' | 'NOT_AN_OBJECT' | 'TRUNCATED'; reason: string };

/** The input cannot be decoded any further (a corrupt msgpack stream cannot be resynchronized). */
export class InputDecodeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InputDecodeError';
  }
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (typeof v === 'object') return v.constructor?.name ?? 'an object';
  return typeof v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

// Only plain objects are reads: msgpack extensions decode to class instances (msgpackr turns
// the reserved byte 0xc1 into a `C1Type`), which are garbage here, not reads.
function item(pos: number, value: unknown): InputItem {
  if (isPlainObject(value)) return { kind: 'value', pos, value };
  return { kind: 'problem', pos, code: 'NOT_AN_OBJECT', reason: `expected a read object, got ${describe(value)}` };
}

/** Decodes NDJSON; blank lines are skipped. */
export async function* ndjsonItems(source: Readable): AsyncGenerator<InputItem[]> {
  for await (const lines of readLines(source)) {
    const out: InputItem[] = [];
    for (const { text, line } of lines) {
      if (text.length === 0 || text.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        out.push({ kind: 'problem', pos: line, code: 'BAD_JSON', reason: `not valid JSON: ${(err as Error).message}` });
        continue;
      }
      out.push(item(line, value));
    }
    if (out.length > 0) yield out;
  }
}

/**
 * Decodes a stream of concatenated msgpack values. A value split across two chunks is kept
 * (the bytes from its start) and decoded when the next chunk arrives: msgpackr marks such a
 * read `incomplete` and gives the start of the value as `lastPosition`.
 */
export async function* msgpackItems(source: Readable): AsyncGenerator<InputItem[]> {
  // One Unpackr for the whole stream; plain objects for maps, as JSON input gives.
  const unpackr = new Unpackr({ mapsAsObjects: true });
  let leftover: Buffer | undefined;
  let index = 0;
  for await (const chunk of source) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    const buf = leftover === undefined ? bytes : Buffer.concat([leftover, bytes]);
    leftover = undefined;
    const out: InputItem[] = [];
    try {
      unpackr.unpackMultiple(buf, (value: unknown) => {
        out.push(item(++index, value));
      });
    } catch (err) {
      const e = err as Error & { incomplete?: boolean; lastPosition?: number };
      if (!e.incomplete) {
        throw new InputDecodeError(`invalid msgpack at value ${index + 1}: ${e.message}`, { cause: err });
      }
      leftover = buf.subarray(e.lastPosition ?? 0);
    }
    if (out.length > 0) yield out;
  }
  if (leftover !== undefined && leftover.length > 0) {
    yield [{ kind: 'problem', pos: index + 1, code: 'TRUNCATED', reason: `input ends inside a msgpack value (${leftover.length} bytes left)` }];
  }
}

/** The decoder of a format. */
export function decodeInput(source: Readable, format: InputFormat): AsyncGenerator<InputItem[]> {
  return format === 'msgpack' ? msgpackItems(source) : ndjsonItems(source);
}
