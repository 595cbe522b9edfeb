/**
 * What crosses between the service's main thread and the thread that processes a batch
 * (processor.ts): the task of messages, the processor's settings and the batch's results;
 * and the reads of a batch as the processor and its non-hit writer (nonhit-records.ts) hold
 * them.
 */
import type { MatcherSnapshot, PlateRead } from '../types.js';
import type { Hit } from '../hits.js';
import type { Reject } from './wire.js';
import type { RetentionConfig } from './retention.js';

/** A batch of messages: payloads concatenated in one buffer (transferred, not cloned). */
export interface Task {
  buf: Uint8Array;
  /** Message i is buf[offsets[i], offsets[i + 1]). */
  offsets: Uint32Array;
  /** Per message: the key read ids derive from (`<stream>.<seq>` in JetStream mode). */
  keys: string[];
  receivedAt: number;
  /** Live entries to match besides the snapshot (liveUpdates); their hits are numbered from `offset`. */
  overlay?: OverlayTask;
  /** Plates under an active evidence hold (holds.ts): their reads' records are tagged `hold`. */
  holds?: HoldsTask;
}

/** A task of messages: their payloads copied into one buffer (which a worker takes by transfer). */
export function taskOf(payloads: readonly Uint8Array[], keys: string[], receivedAt: number): Task {
  let size = 0;
  for (const p of payloads) size += p.length;
  const buf = new Uint8Array(size);
  const offsets = new Uint32Array(payloads.length + 1);
  let at = 0;
  for (let i = 0; i < payloads.length; i++) {
    buf.set(payloads[i], at);
    at += payloads[i].length;
    offsets[i + 1] = at;
  }
  return { buf, offsets, keys, receivedAt };
}

/** A small hotlist of live entries, carried by every task while it is not empty. */
export interface OverlayTask {
  version: number;
  snapshot: MatcherSnapshot;
  offset: number;
}

/**
 * The plates under active evidence holds, compiled into a small exact-tier matcher (one entry
 * per plate), carried by every task while any hold is active.
 */
export interface HoldsTask {
  version: number;
  snapshot: MatcherSnapshot;
  /** Per entry of the snapshot: the holds on its plate, each with its window of read times. */
  holds: ReadonlyArray<ReadonlyArray<{ holdId: string; from?: number; to?: number }>>;
}

/** How processTask works: bounds, retention, and the shape of its record outputs. */
export interface ProcessorSettings {
  maxMessageBytes: number;
  /** Largest output payload (the server's max_payload less room for headers). */
  maxOutputBytes: number;
  retention: RetentionConfig;
  /**
   * Publish the non-hit records of a whole batch together (arrays, one message per policy)
   * rather than per input message. Core mode only: JetStream's redelivery dedupe needs the
   * outputs of an input message to be the same whatever batch it lands in.
   */
  coalesceRecords?: boolean;
  /**
   * Decode every msgpack read with msgpackr and encode its record with JSON.stringify, as
   * before the fast path: the reference the fast path is tested and benchmarked against.
   */
  objectPath?: boolean;
}

/** A read of a message that hit at least one entry. */
export interface HitRead {
  /** Position of the read in its message. */
  index: number;
  read: PlateRead & { id: string; ts: number };
  hits: Hit[];
  /** The active holds covering the read (its plate, its time): its record is tagged `hold`. */
  holdIds?: string[];
}

/** A read that hit no entry but is under an evidence hold. */
export interface HeldRead {
  index: number;
  read: PlateRead & { id: string; ts: number };
  holdIds: string[];
}

export interface MessageOutcome {
  /** Reads the message carried (valid or not). */
  reads: number;
  /** True when the message carried one read rather than an array. */
  single: boolean;
  /** Encoded records of the reads that hit nothing, by retention policy: usually one message each, more when too large for one. */
  nonhit: NonhitGroup[];
  nonhitCount: number;
  hitReads: HitRead[];
  /** Reads that hit nothing but are held: their records leave as class `hold`, not in `nonhit`. */
  heldReads: HeldRead[];
  rejects: Reject[];
}

/** Encoded records of reads that hit nothing, under one retention policy. */
export interface NonhitGroup {
  policy: string;
  /** Usually one message; more when the records exceed the largest payload. */
  data: Uint8Array[];
  /** Records in each message. */
  counts: number[];
}

export interface TaskResult {
  outcomes: MessageOutcome[];
  reads: number;
  matchMicros: number;
  /** With `coalesceRecords`: the batch's non-hit records (the outcomes then carry none). */
  nonhit?: NonhitGroup[];
  /** Reads the core's fast path took (scanned and written without a JavaScript object). */
  fastReads?: number;
  /** Reads whose record is tagged `hold` (hit or not). */
  heldReads?: number;
}

/** A read as the processor holds it: `ts` in epoch ms (the receive time when it had none). */
export type Read = PlateRead & { id?: string; ts: number };

/** The reads of a batch: those the core scanned (fast) and those decoded by msgpackr or JSON.parse. */
export interface BatchReads {
  /** Per read of the batch, in message order: message index * 2^16 + index in message. */
  origin: number[];
  /** Per read: its item in the core (fast path) or -1. */
  item: number[];
  /** Per read: its decoded object (object path), or undefined until a fast read needs one. */
  objects: Array<Read | undefined>;
  /** Fast reads: their items, and their batch indices. */
  fastItems: Uint32Array;
  fastToBatch: Int32Array;
  fastCount: number;
  /** Object-path reads and their batch indices. */
  objectReads: Read[];
  objectToBatch: number[];
  /** Some fast read has no `id`: the core needs the message keys. */
  needKeys: boolean;
}
