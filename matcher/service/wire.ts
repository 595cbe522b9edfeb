/**
 * Message payloads. A reads message is one read or an array of reads, msgpack, or JSON when
 * its first byte is `{` or `[` (DESIGN.md "NATS"). Outputs are JSON, so any language reads
 * them with its standard library: an alert a message; records as record-json.ts writes them.
 * This is the object path; msgpack reads mostly take the fast path (core-reads.ts).
 */
import { unpackr } from './msgpack.js';
import type { PlateRead } from '../types.js';

/** Why (part of) a message was dead-lettered. Stable codes. */
export type RejectCode =
  | 'EMPTY_MESSAGE'
  | 'MESSAGE_TOO_LARGE'
  | 'BAD_JSON'
  | 'BAD_MSGPACK'
  | 'TRUNCATED'
  | 'NOT_A_READ'
  | 'MISSING_PLATE'
  | 'EMPTY_PLATE'
  | 'PLATE_TOO_LONG'
  | 'INVALID_CHARACTER'
  | 'BAD_FIELD'
  | 'NOT_AN_OBJECT';

/** A rejected message (index null) or a rejected read of it (its position in the array). */
export interface Reject {
  index: number | null;
  code: RejectCode;
  reason: string;
}

export type Decoded =
  | { ok: true; items: unknown[]; single: boolean }
  | { ok: false; reject: Reject };

const textDecoder = new TextDecoder('utf-8', { fatal: true });

function firstByte(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return b;
  }
  return -1;
}

/** Decodes a reads message into its items (not yet validated as reads). */
export function decodeReads(bytes: Uint8Array, maxBytes: number): Decoded {
  if (bytes.length === 0) return { ok: false, reject: { index: null, code: 'EMPTY_MESSAGE', reason: 'message has no payload' } };
  if (bytes.length > maxBytes) {
    return { ok: false, reject: { index: null, code: 'MESSAGE_TOO_LARGE', reason: `message is ${bytes.length} bytes (at most ${maxBytes})` } };
  }
  const first = firstByte(bytes);
  let value: unknown;
  if (first === 0x7b || first === 0x5b) {
    try {
      value = JSON.parse(textDecoder.decode(bytes));
    } catch (err) {
      return { ok: false, reject: { index: null, code: 'BAD_JSON', reason: `not valid JSON: ${(err as Error).message}` } };
    }
  } else {
    try {
      value = unpackr.unpack(bytes);
    } catch (err) {
      const e = err as Error & { incomplete?: boolean };
      if (e.incomplete) return { ok: false, reject: { index: null, code: 'TRUNCATED', reason: 'msgpack payload ends inside a value' } };
      return { ok: false, reject: { index: null, code: 'BAD_MSGPACK', reason: `not valid msgpack: ${e.message}` } };
    }
  }
  if (Array.isArray(value)) return { ok: true, items: value, single: false };
  if (typeof value === 'object' && value !== null) return { ok: true, items: [value], single: true };
  return { ok: false, reject: { index: null, code: 'NOT_A_READ', reason: `payload is a ${value === null ? 'null' : typeof value}, not a read or an array of reads` } };
}

/**
 * Gives a decoded read the fields the outputs rely on: an `id` (`<message key>-<index>`
 * when missing, so a redelivered message gets the same ids) and `ts` in epoch ms (the
 * receive time when missing). Returns undefined when `ts` is unusable.
 */
export function completeRead(item: PlateRead, key: string, index: number, receivedAt: number): (PlateRead & { id: string; ts: number }) | string {
  const read = item as PlateRead & { id: string; ts: number };
  if (read.id === undefined || read.id === null || read.id === '') read.id = `${key}-${index}`;
  else if (typeof read.id !== 'string') read.id = String(read.id);
  const ts = read.ts;
  if (ts === undefined || ts === null) read.ts = receivedAt;
  else if (typeof ts === 'string') {
    const ms = Date.parse(ts);
    if (Number.isNaN(ms)) return 'ts must be epoch milliseconds or an ISO 8601 string';
    read.ts = ms;
  } else if (typeof ts !== 'number' || !Number.isFinite(ts)) return 'ts must be epoch milliseconds or an ISO 8601 string';
  return read;
}

const textEncoder = new TextEncoder();

/** JSON bytes of one value. */
export function encodeJson(value: unknown): Uint8Array {
  return textEncoder.encode(JSON.stringify(value));
}
