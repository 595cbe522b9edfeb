/**
 * The host side of the core's fast path for msgpack reads (core-wasm/assembly/reads.ts).
 * Nearly every read hits nothing, and its record is the read's own fields plus a retention
 * tag: decoding it into an object and encoding that object back to JSON was most of the
 * service's CPU. Here a batch's messages are copied into the core's memory once, one call
 * scans them all, the reads' query records are packed in the core, and one call per
 * retention policy writes the JSON records of the reads that hit nothing. Reads the core
 * leaves to the host (see reads.ts) take the object path: msgpackr, then JSON.stringify.
 */
import type { CoreExports } from '../core/wasm.js';
import { coreAlloc } from '../core/wasm.js';
import {
  I_AGENCY, I_AGENCY_LEN, I_END, I_FLAGS, I_PLATE, I_PLATE_LEN, I_START, I_STATE, ITEM_RECORD, MSG_RECORD,
  QUERY_LEN, QUERY_RECORD, QUERY_STATE, STATE_PAIRS,
} from '../core/layout.js';
import type { HitMatcher } from '../hits.js';
import { DAY_MS, type RetentionPolicy } from './retention.js';

const encoder = new TextEncoder();

interface Region {
  ptr: number;
  bytes: number;
}

/** A policy's constant record parts, in the core's memory. */
interface CoreTail {
  head: number;
  headLen: number;
  tail: number;
  tailLen: number;
}

/** One matcher's scratch regions in its core, grown (never shrunk) as batches need. */
export class CoreReads {
  readonly core: CoreExports;
  private readonly regions = new Map<string, Region>();
  private readonly tails = new Map<RetentionPolicy, CoreTail>();
  private readonly states: number;
  private buffer: ArrayBuffer;
  u8: Uint8Array;
  u16: Uint16Array;
  u32: Uint32Array;
  f64: Float64Array;
  /** Message keys of the batch (for reads without `id`), when putKeys wrote them. */
  private keysPtr = 0;
  private keyEndsPtr = 0;
  /** Addresses of the last scan. */
  bufPtr = 0;
  itemsPtr = 0;
  msgsPtr = 0;

  constructor(matcher: HitMatcher) {
    this.core = matcher.core;
    // State codes by letter pair (layout.ts I_STATE): 0 none, 1 + 26a + b.
    this.states = coreAlloc(this.core, STATE_PAIRS * 2, 'the state table');
    this.buffer = this.core.memory.buffer;
    this.u8 = new Uint8Array(this.buffer);
    this.u16 = new Uint16Array(this.buffer);
    this.u32 = new Uint32Array(this.buffer);
    this.f64 = new Float64Array(this.buffer);
    const table = this.u16;
    for (let a = 0; a < 26; a++) {
      for (let b = 0; b < 26; b++) table[(this.states >> 1) + 1 + 26 * a + b] = matcher.stateCode(String.fromCharCode(0x41 + a, 0x41 + b));
    }
  }

  /** Views over linear memory die when it grows: take them again. */
  refresh(): void {
    if (this.buffer !== this.core.memory.buffer) {
      this.buffer = this.core.memory.buffer;
      this.u8 = new Uint8Array(this.buffer);
      this.u16 = new Uint16Array(this.buffer);
      this.u32 = new Uint32Array(this.buffer);
      this.f64 = new Float64Array(this.buffer);
    }
  }

  /** A scratch region of at least `bytes`, 8-aligned; doubles when too small. */
  private region(name: string, bytes: number): number {
    let r = this.regions.get(name);
    if (r === undefined || r.bytes < bytes) {
      const size = Math.max(bytes, (r?.bytes ?? 4096) * 2);
      r = { ptr: coreAlloc(this.core, size, `the ${name} region`), bytes: size };
      this.regions.set(name, r);
      this.refresh();
    }
    return r.ptr;
  }

  /**
   * Copies the batch's messages into the core and scans them: returns the number of items
   * (reads, valid or not) of the messages the core could read; message records tell which.
   * Reads whose numeric `ts` is outside [minTs, maxTs] are left to the object path.
   */
  scan(buf: Uint8Array, offsets: Uint32Array, minTs: number, maxTs: number): number {
    const n = offsets.length - 1;
    const bufPtr = this.region('messages', buf.length + 8);
    const offPtr = this.region('offsets', offsets.length * 4);
    const msgsPtr = this.region('message records', n * MSG_RECORD);
    this.u8.set(buf, bufPtr);
    this.u32.set(offsets, offPtr >> 2);
    let cap = Math.max(1024, n * 2);
    for (;;) {
      const itemsPtr = this.region('item records', cap * ITEM_RECORD);
      cap = this.regions.get('item records')!.bytes / ITEM_RECORD;
      const count = this.core.scanTask(bufPtr, offPtr, n, msgsPtr, itemsPtr, cap, minTs, maxTs);
      if (count >= 0) {
        this.keysPtr = 0;
        this.keyEndsPtr = 0;
        this.bufPtr = bufPtr;
        this.itemsPtr = itemsPtr;
        this.msgsPtr = msgsPtr;
        return count;
      }
      cap *= 2;
    }
  }

  /** Message m's status (layout.ts M_*), first item, items and whether it carried one read. */
  mStatus = 0;
  mFirst = 0;
  mCount = 0;
  mSingle = false;

  /** Reads message m's record into mStatus, mFirst, mCount, mSingle (no object per message); returns mStatus. */
  readMessage(m: number): number {
    const at = (this.msgsPtr + m * MSG_RECORD) >> 2;
    this.mStatus = this.u32[at] | 0;
    this.mFirst = this.u32[at + 1];
    this.mCount = this.u32[at + 2];
    this.mSingle = this.u32[at + 3] === 1;
    return this.mStatus;
  }

  /** Item flags (layout.ts F_*). Views as of the last refresh(): call it after anything that may grow memory. */
  flags(item: number): number {
    return this.u32[(this.itemsPtr + item * ITEM_RECORD + I_FLAGS) >> 2];
  }

  /** The item's bytes in the batch buffer `buf` (the object path decodes them). */
  bytesOf(buf: Uint8Array, item: number): Uint8Array {
    return buf.subarray(this.start(item), this.end(item));
  }

  /** Item span relative to the batch buffer. */
  start(item: number): number {
    this.refresh();
    return this.u32[(this.itemsPtr + item * ITEM_RECORD + I_START) >> 2] - this.bufPtr;
  }

  end(item: number): number {
    this.refresh();
    return this.u32[(this.itemsPtr + item * ITEM_RECORD + I_END) >> 2] - this.bufPtr;
  }

  /** The agency's byte range, relative to the batch buffer (length 0 when none). */
  agencyAt(item: number): number {
    this.refresh();
    return this.u32[(this.itemsPtr + item * ITEM_RECORD + I_AGENCY) >> 2] - this.bufPtr;
  }

  agencyLength(item: number): number {
    this.refresh();
    return this.u16[(this.itemsPtr + item * ITEM_RECORD + I_AGENCY_LEN) >> 1];
  }

  /**
   * Writes the batch's message keys into the core, for the ids of reads that have none
   * (`<key>-<index>`). The caller has checked that no key needs escaping in JSON.
   */
  putKeys(keys: readonly string[]): void {
    let size = 0;
    for (const k of keys) size += k.length;
    const ptr = this.region('keys', size + 8);
    const endsPtr = this.region('key ends', (keys.length + 1) * 4);
    let at = 0;
    const u8 = this.u8;
    this.u32[endsPtr >> 2] = 0;
    for (let m = 0; m < keys.length; m++) {
      const k = keys[m];
      for (let i = 0; i < k.length; i++) u8[ptr + at + i] = k.charCodeAt(i);
      at += k.length;
      this.u32[(endsPtr >> 2) + m + 1] = at;
    }
    this.keysPtr = ptr;
    this.keyEndsPtr = endsPtr;
  }

  /** Writes the item indices of `list` into the core's list region; returns its address. */
  private putList(list: Uint32Array | number[], n: number): number {
    const ptr = this.region('list', n * 4 + 4);
    if (list instanceof Uint32Array) this.u32.set(list.subarray(0, n), ptr >> 2);
    else for (let i = 0; i < n; i++) this.u32[(ptr >> 2) + i] = list[i];
    return ptr;
  }

  /** A packer for this matcher's own queries (HitMatcher.matchPacked): the core does it. */
  packer(list: Uint32Array): (queries: number, from: number, count: number) => void {
    return (queries, from, count) => {
      const listPtr = this.putList(list.subarray(from, from + count), count);
      this.core.packQueries(this.itemsPtr, listPtr, count, this.states, queries);
    };
  }

  /**
   * A packer for another matcher (the live-entries overlay: its own core and state codes):
   * plates copied from this core's memory, states through the other matcher's codes.
   */
  packerFor(other: CoreReads, list: Uint32Array): (queries: number, from: number, count: number) => void {
    return (queries, from, count) => {
      this.refresh();
      other.refresh();
      const src = this.u8;
      const dst = other.u8;
      const dst16 = other.u16;
      const table = other.states >> 1;
      for (let i = 0; i < count; i++) {
        const rec = this.itemsPtr + list[from + i] * ITEM_RECORD;
        const plate = this.u32[(rec + I_PLATE) >> 2];
        const len = this.u16[(rec + I_PLATE_LEN) >> 1];
        const q = queries + i * QUERY_RECORD;
        dst.set(src.subarray(plate, plate + len), q);
        dst[q + QUERY_LEN] = len;
        dst16[(q + QUERY_STATE) >> 1] = dst16[table + this.u16[(rec + I_STATE) >> 1]];
      }
    };
  }

  private tailOf(policy: RetentionPolicy): CoreTail {
    let t = this.tails.get(policy);
    if (t === undefined) {
      const head = encoder.encode(`,"hit":false,"alertIds":[],"retention":{"policy":${JSON.stringify(policy.policy)},"class":"nonhit","expiresAt":`);
      const tail = encoder.encode(`,"basis":${JSON.stringify(policy.basis)}}}`);
      const ptr = coreAlloc(this.core, head.length + tail.length, 'a retention tail');
      this.refresh();
      this.u8.set(head, ptr);
      this.u8.set(tail, ptr + head.length);
      t = { head: ptr, headLen: head.length, tail: ptr + head.length, tailLen: tail.length };
      this.tails.set(policy, t);
    }
    return t;
  }

  /**
   * Writes the non-hit records of `n` fast items (in `list`) under `policy`: returns the
   * bytes, the records comma-separated, and where each ends (its comma excluded).
   */
  writeRecords(list: number[], n: number, receivedAt: number, policy: RetentionPolicy): { readonly bytes: Uint8Array; readonly ends: Uint32Array } {
    // A batch's policies are written one after the other into one output region and read
    // afterwards, so memory is bounded by the batch, not by the number of policies. A region
    // that is too small is replaced by a larger one; the bump allocator never reuses the old
    // one, so what was written there stays valid until the next batch.
    const tail = this.tailOf(policy);
    const listPtr = this.putList(list, n);
    const endsRegion = this.regionAt('record ends', this.endsUsed + n * 4 + 4);
    if (endsRegion.fresh) this.endsUsed = 0;
    const endsPtr = endsRegion.ptr + this.endsUsed;
    this.endsUsed += n * 4 + 8;
    for (;;) {
      const region = this.regionAt('records', this.recordsUsed + 64 * 1024);
      if (region.fresh) this.recordsUsed = 0;
      const out = region.ptr + this.recordsUsed;
      const cap = region.bytes - this.recordsUsed;
      const written = this.core.writeRecords(
        this.itemsPtr, listPtr, n, receivedAt, tail.head, tail.headLen, tail.tail, tail.tailLen, policy.nonhitDays * DAY_MS, out, cap, endsPtr,
        this.keysPtr, this.keyEndsPtr,
      );
      if (written >= 0) {
        this.recordsUsed += (written + 7) & ~7;
        this.refresh();
        return new CoreBytes(this, out, written, endsPtr, n);
      }
      // Too small: a region twice the size (or more) and start over in it.
      this.regionAt('records', Math.max(region.bytes * 2, cap * 2));
      this.recordsUsed = 0;
    }
  }

  private recordsUsed = 0;
  private endsUsed = 0;

  /** Starts a batch's records: the output regions are reused from their start. */
  beginRecords(): void {
    this.recordsUsed = 0;
    this.endsUsed = 0;
  }

  /** The region `name` with room for `bytes`; `fresh` when it had to be allocated now. */
  private regionAt(name: string, bytes: number): { ptr: number; bytes: number; fresh: boolean } {
    const before = this.regions.get(name);
    const ptr = this.region(name, bytes);
    const r = this.regions.get(name)!;
    return { ptr, bytes: r.bytes, fresh: r !== before };
  }
}

/**
 * Records written in the core: views taken when read, since writing the next policy's may
 * grow linear memory (a new buffer) and leave older views detached.
 */
class CoreBytes {
  constructor(private readonly reads: CoreReads, private readonly out: number, private readonly length: number, private readonly endsPtr: number, private readonly n: number) {}

  get bytes(): Uint8Array {
    this.reads.refresh();
    return this.reads.u8.subarray(this.out, this.out + this.length);
  }

  get ends(): Uint32Array {
    this.reads.refresh();
    return this.reads.u32.subarray(this.endsPtr >> 2, (this.endsPtr >> 2) + this.n);
  }
}

const cache = new WeakMap<HitMatcher, CoreReads>();

/** The fast-path helper of a matcher (one per matcher, made on first use). */
export function coreReadsOf(matcher: HitMatcher): CoreReads {
  let c = cache.get(matcher);
  if (c === undefined) cache.set(matcher, (c = new CoreReads(matcher)));
  return c;
}
