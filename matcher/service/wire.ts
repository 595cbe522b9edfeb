/**
 * Message payloads. A reads message is one read or an array of reads, msgpack, or JSON when
 * its first byte is `{` or `[` (docs/contracts.md "NATS"). Outputs are JSON, so any language reads
 * them with its standard library: an alert a message; records as record-json.ts writes them.
 * This is the object path; msgpack reads mostly take the fast path (core-reads.ts).
 */
import { msgpackItems, unpackr } from './msgpack.js';
import type { PlateRead } from '../types.js';
import { checkTs, oneLine, TOO_DEEP_REASON, type Violation } from './bounds.js';

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
  | 'BAD_TS'
  | 'TOO_DEEP'
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

/** An item of a message that could not be decoded on its own: rejected with this code, its neighbours kept. */
export class BadItem {
  constructor(readonly code: RejectCode, readonly reason: string) {}
}

// The TextDecoder drops a leading byte order mark (ignoreBOM is false).
const textDecoder = new TextDecoder('utf-8', { fatal: true });

/**
 * An error message fit for the `Platesieve-Reason` header: one line (a JSON.parse message
 * quotes the payload, CR and LF included, and a header value must not hold them), bounded.
 */
export function reasonText(message: string): string {
  return oneLine(message, 300);
}

/** The reason of an item msgpackr cannot decode (both paths give the same). */
export function badMsgpackReason(err: unknown): string {
  return reasonText(`not valid msgpack: ${(err as Error).message}`);
}

/** A UTF-8 byte order mark (EF BB BF) starts the payload: some JSON producers write one. */
function hasBom(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
}

function firstByte(bytes: Uint8Array): number {
  for (let i = hasBom(bytes) ? 3 : 0; i < bytes.length; i++) {
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
    // JSON.parse does not recurse: a deep read is found by the bounds check, read by read.
    try {
      value = JSON.parse(textDecoder.decode(bytes));
    } catch (err) {
      return { ok: false, reject: { index: null, code: 'BAD_JSON', reason: reasonText(`not valid JSON: ${(err as Error).message}`) } };
    }
  } else {
    const items = msgpackItems(bytes);
    if (items !== undefined && items.anyDeep) {
      if (items.ok) return { ok: true, items: unpackEach(bytes, items.starts, items.deep), single: items.single };
      // Malformed and too deep to hand to msgpackr: its error would depend on the stack left.
      if (items.truncated) return { ok: false, reject: { index: null, code: 'TRUNCATED', reason: 'msgpack payload ends inside a value' } };
      return { ok: false, reject: { index: null, code: 'BAD_MSGPACK', reason: 'not valid msgpack (and nested too deep to decode)' } };
    }
    try {
      value = unpackr.unpack(bytes);
    } catch (err) {
      const e = err as Error & { incomplete?: boolean };
      if (e.incomplete) return { ok: false, reject: { index: null, code: 'TRUNCATED', reason: 'msgpack payload ends inside a value' } };
      // Well-formed reads, one of which msgpackr refuses (an unknown extension, say): that one only.
      if (items?.ok === true) return { ok: true, items: unpackEach(bytes, items.starts, items.deep), single: items.single };
      return { ok: false, reject: { index: null, code: 'BAD_MSGPACK', reason: badMsgpackReason(e) } };
    }
  }
  if (Array.isArray(value)) return { ok: true, items: value, single: false };
  if (typeof value === 'object' && value !== null) return { ok: true, items: [value], single: true };
  return { ok: false, reject: { index: null, code: 'NOT_A_READ', reason: `payload is a ${value === null ? 'null' : typeof value}, not a read or an array of reads` } };
}

/** The items of a msgpack message decoded one by one: a deep one or one msgpackr refuses becomes a {@link BadItem}. */
function unpackEach(bytes: Uint8Array, starts: readonly number[], deep: readonly boolean[]): unknown[] {
  const out: unknown[] = new Array(deep.length);
  for (let i = 0; i < deep.length; i++) {
    if (deep[i]) {
      out[i] = new BadItem('TOO_DEEP', TOO_DEEP_REASON);
      continue;
    }
    try {
      out[i] = unpackr.unpack(bytes.subarray(starts[i], starts[i + 1]));
    } catch (err) {
      out[i] = new BadItem('BAD_MSGPACK', badMsgpackReason(err));
    }
  }
  return out;
}

/**
 * Gives a decoded read, in place, the fields the outputs rely on: an `id` (`<message
 * key>-<index>` when missing, so a redelivered message gets the same ids) and `ts` in epoch
 * ms (the receive time when missing). Returns why not when `ts` is unusable (BAD_FIELD) or
 * outside the accepted window (BAD_TS, see bounds.ts); undefined when the read is complete.
 */
export function completeRead(item: PlateRead, key: string, index: number, receivedAt: number): Violation | undefined {
  const read = item as PlateRead & { id: string; ts: number };
  if (read.id === undefined || read.id === null || read.id === '') read.id = `${key}-${index}`;
  else if (typeof read.id !== 'string') read.id = String(read.id);
  const ts = read.ts;
  let ms: number;
  if (ts === undefined || ts === null) ms = receivedAt;
  else if (typeof ts === 'string') ms = Date.parse(ts);
  else if (typeof ts === 'number') ms = ts;
  else ms = NaN;
  if (!Number.isFinite(ms)) return { code: 'BAD_FIELD', reason: 'ts must be epoch milliseconds or an ISO 8601 string' };
  const outside = checkTs(ms, receivedAt);
  if (outside !== undefined) return outside;
  read.ts = ms;
  return undefined;
}

const textEncoder = new TextEncoder();

/** JSON bytes of one value. */
export function encodeJson(value: unknown): Uint8Array {
  return textEncoder.encode(JSON.stringify(value));
}
