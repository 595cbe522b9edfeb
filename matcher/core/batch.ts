/**
 * The batch bridge: the only code that writes reads into the core's linear memory.
 * Plates are copied byte by byte into fixed 32-byte query records (no string crosses the
 * boundary, no per-read call); one matchBatch call matches them all and hits come back as
 * fixed 16-byte records. The buffers are allocated once per matcher.
 */
import type { InvalidReadCode } from '../types.js';
import { normalizePlate } from './plate.js';
import { coreAlloc, type CoreExports } from './wasm.js';
import {
  QUERY_LEN, QUERY_RECORD, QUERY_STATE, RAW_PLATE_CAPACITY, RESULT_DIST, RESULT_ENTRY, RESULT_FLAGS, RESULT_POSITION,
  RESULT_QUERY, RESULT_RECORD, RESULT_TIER,
} from './layout.js';

/** Receives each hit: query index, entry index (input order), tier bit, distance, flags, table position. */
export type HitSink = (query: number, entry: number, tier: number, distance: number, flags: number, position: number) => void;

/** Calls `sink` for each of the `hits` result records at `out` in `buffer` (layout.ts). */
export function readResults(buffer: ArrayBuffer, out: number, hits: number, sink: HitSink): void {
  const u32 = new Uint32Array(buffer, out, hits * (RESULT_RECORD >> 2));
  const u8 = new Uint8Array(buffer, out, hits * RESULT_RECORD);
  for (let h = 0; h < hits; h++) {
    const b = h * RESULT_RECORD;
    sink(u32[(b + RESULT_QUERY) >> 2], u32[(b + RESULT_ENTRY) >> 2], u8[b + RESULT_TIER], u8[b + RESULT_DIST], u8[b + RESULT_FLAGS], u32[(b + RESULT_POSITION) >> 2]);
  }
}

export const DEFAULT_QUERY_CAPACITY = 4096;
export const DEFAULT_RESULT_CAPACITY = 16384;

export class BatchBridge {
  readonly capacity: number;
  private readonly core: CoreExports;
  /** Address of the packed query records (for the pattern pass over the same batch). */
  readonly input: number;
  /** Address of the status bytes. */
  readonly status: number;
  private out: number;
  private resultCapacity: number;
  private buffer: ArrayBuffer;
  private u8: Uint8Array;
  private u16: Uint16Array;
  /** Number of queries packed so far. */
  count = 0;
  /** Plates longer than a record holds, normalized by the host: query -> failure code. */
  private readonly hostStatus = new Map<number, InvalidReadCode>();

  /** `resultCapacity` is where the result buffer starts; it doubles when one query needs more. */
  constructor(core: CoreExports, capacity = DEFAULT_QUERY_CAPACITY, resultCapacity = DEFAULT_RESULT_CAPACITY) {
    this.core = core;
    this.capacity = capacity;
    this.resultCapacity = resultCapacity;
    this.input = coreAlloc(core, capacity * QUERY_RECORD, 'the query batch');
    this.status = coreAlloc(core, capacity, 'the status batch');
    this.out = coreAlloc(core, resultCapacity * RESULT_RECORD, 'the result batch');
    this.buffer = core.memory.buffer;
    this.u8 = new Uint8Array(this.buffer);
    this.u16 = new Uint16Array(this.buffer);
  }

  /** Starts a new batch. */
  reset(): void {
    this.count = 0;
    if (this.hostStatus.size > 0) this.hostStatus.clear();
    this.refreshViews();
  }

  /** Views over linear memory die when it grows (a new ArrayBuffer): take them again. */
  private refreshViews(): void {
    if (this.buffer !== this.core.memory.buffer) {
      this.buffer = this.core.memory.buffer;
      this.u8 = new Uint8Array(this.buffer);
      this.u16 = new Uint16Array(this.buffer);
    }
  }

  /** Packs one query; the caller checks `count < capacity` first. Returns its index. */
  add(plate: string, stateCode: number): number {
    const q = this.count++;
    const rec = this.input + q * QUERY_RECORD;
    const u8 = this.u8;
    let n = plate.length;
    if (n > RAW_PLATE_CAPACITY) {
      // Rare: more separators than a record holds. Normalize here and pack the result.
      const r = normalizePlate(plate);
      if (r.ok) plate = r.plate;
      else this.hostStatus.set(q, r.code);
      n = r.ok ? plate.length : 0;
    }
    for (let i = 0; i < n; i++) {
      const c = plate.charCodeAt(i);
      u8[rec + i] = c > 0xff ? 0xff : c;
    }
    u8[rec + QUERY_LEN] = n;
    this.u16[(rec + QUERY_STATE) >> 1] = stateCode;
    return q;
  }

  /** Matches the packed queries, calling `sink` for every hit in query order. */
  run(sink: HitSink): void {
    // Whoever packed the queries may have grown linear memory (the service's fast path).
    this.refreshViews();
    const core = this.core;
    let start = 0;
    while (start < this.count) {
      const hits = core.matchBatch(this.input, this.count, start, this.status, this.out, this.resultCapacity);
      if (hits > 0) readResults(this.buffer, this.out, hits, sink);
      start = core.getResumeAt() >>> 0;
      if (core.getOverflow()) this.growResults();
    }
  }

  /** One query has more hits than the result buffer holds: double it (rare, never shrinks). */
  private growResults(): void {
    this.resultCapacity *= 2;
    this.out = coreAlloc(this.core, this.resultCapacity * RESULT_RECORD, 'the result batch');
    this.refreshViews();
  }

  /** Core status per query of the last run (codec.ts STATUS_*). */
  statuses(): Uint8Array {
    this.refreshViews();
    return this.u8.subarray(this.status, this.status + this.count);
  }

  /** Failure code of an oversized plate the host normalized, if query q was one. */
  hostFailure(q: number): InvalidReadCode | undefined {
    return this.hostStatus.size === 0 ? undefined : this.hostStatus.get(q);
  }

  /** Empty-call baseline: the crossing alone. */
  runEmpty(): number {
    return this.core.emptyBatch(this.input, this.count);
  }
}
