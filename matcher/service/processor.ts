/**
 * The per-batch work that scales with reads: decode the messages, match every read of the
 * batch in one core call, and encode the records of reads that hit nothing (nearly all of
 * them). Pure and synchronous, so it runs the same on the main thread (`pool.workers: 0`)
 * or in a worker thread. Hits go back as plain objects: the main thread turns them into
 * alerts (it alone holds the hotlist entries and the suppression state).
 */
import { performance } from 'node:perf_hooks';
import type { MatcherSnapshot, PlateRead } from '../types.js';
import { createHitMatcherFromSnapshot } from '../matcher.js';
import type { Hit, HitMatcher, HitResult } from '../hits.js';
import { completeRead, decodeReads, type Reject, type RejectCode } from './wire.js';
import type { RetentionConfig } from './retention.js';
import { unpackr } from './msgpack.js';
import { coreReadsOf, F_FAST, F_ID_MISSING, M_OK, type CoreReads } from './core-reads.js';
import { finishGroups, NonhitWriter, type Groups } from './nonhit-records.js';

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

// One instantiated overlay per thread, replaced when its version changes.
let overlayCache: { version: number; matcher: HitMatcher } | undefined;

function overlayMatcher(o: OverlayTask): HitMatcher {
  if (overlayCache?.version !== o.version) overlayCache = { version: o.version, matcher: createHitMatcherFromSnapshot(o.snapshot) };
  return overlayCache.matcher;
}

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
}

/** A read as the processor holds it: `ts` in epoch ms (the receive time when it had none). */
export type Read = PlateRead & { id?: string; ts: number };

// A class, not a tag field: a read may carry any field, `code` included.
class Rejected {
  constructor(readonly reject: Reject) {}
}

/** Checks a decoded item and completes it as a read (object path). */
function objectRead(item: unknown, key: string, i: number, receivedAt: number): Read | Rejected {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return new Rejected({ index: i, code: 'NOT_AN_OBJECT', reason: 'read is not an object' });
  const read = completeRead(item as PlateRead, key, i, receivedAt);
  return typeof read === 'string' ? new Rejected({ index: i, code: 'BAD_FIELD', reason: read }) : read;
}

// Most messages have no rejects, no hits and (coalescing) no records of their own: their
// outcomes share these empty arrays until something is added (one array less per message).
const NO_REJECTS: Reject[] = Object.freeze([]) as unknown as Reject[];
const NO_HITS: HitRead[] = Object.freeze([]) as unknown as HitRead[];
const NO_GROUPS: NonhitGroup[] = Object.freeze([]) as unknown as NonhitGroup[];

function addReject(out: MessageOutcome, r: Reject): void {
  if (out.rejects === NO_REJECTS) out.rejects = [r];
  else out.rejects.push(r);
}

/** A match's hits and invalid reads, their read indices mapped to the batch's. */
function mapped(r: HitResult, toBatch: Int32Array | number[]): HitResult {
  for (const h of r.hits) h.read = toBatch[h.read];
  for (const x of r.invalid) x.index = toBatch[x.index];
  return r;
}

/** Two hit lists, each in read order, merged in read order (hits of one read stay together). */
function mergeHits(a: Hit[], b: Hit[]): Hit[] {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  const out: Hit[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i].read < b[j].read)) out.push(a[i++]);
    else out.push(b[j++]);
  }
  return out;
}

/** Records a message's shape; false (and a reject) when it carries more reads than a key can number. */
function takeReads(out: MessageOutcome, single: boolean, k: number): boolean {
  out.single = single;
  out.reads = k;
  if (k <= 0xffff) return true;
  addReject(out, { index: null, code: 'MESSAGE_TOO_LARGE', reason: `message carries ${k} reads (at most 65535)` });
  return false;
}

/** The reads of a batch: those the core scanned (fast) and those decoded by msgpackr or JSON.parse. */
export interface BatchReads {
  /** Per read of the batch, in message order: message index << 16 | index in message. */
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

/** Message keys the core can put in a JSON string as they are. */
const PLAIN_KEY = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function gather(task: Task, settings: ProcessorSettings, outcomes: MessageOutcome[], core: CoreReads | undefined): { reads: BatchReads; total: number } {
  const n = task.keys.length;
  const buf = task.buf;
  const reads: BatchReads = {
    origin: [], item: [], objects: [], fastItems: new Uint32Array(0), fastToBatch: new Int32Array(0), fastCount: 0, objectReads: [], objectToBatch: [], needKeys: false,
  };
  let total = 0;
  const items = core !== undefined ? core.scan(buf, task.offsets) : 0;
  if (core !== undefined) {
    reads.fastItems = new Uint32Array(items);
    reads.fastToBatch = new Int32Array(items);
  }
  const addObject = (read: Read, m: number, i: number): void => {
    reads.objectToBatch.push(reads.origin.length);
    reads.objectReads.push(read);
    reads.origin.push((m << 16) | i);
    reads.item.push(-1);
    reads.objects.push(read);
  };
  for (let m = 0; m < n; m++) {
    const from = task.offsets[m];
    const to = task.offsets[m + 1];
    const out: MessageOutcome = { reads: 0, single: true, nonhit: NO_GROUPS, nonhitCount: 0, hitReads: NO_HITS, rejects: NO_REJECTS };
    outcomes[m] = out;
    if (core !== undefined && to - from <= settings.maxMessageBytes && core.readMessage(m) === M_OK) {
      const k = core.mCount;
      total += k;
      if (!takeReads(out, core.mSingle, k)) continue;
      const firstItem = core.mFirst;
      // A read without `id` gets `<key>-<index>`, which the core writes only for plain keys.
      let plainKey: boolean | undefined;
      for (let i = 0; i < k; i++) {
        const it = firstItem + i;
        const flags = core!.flags(it);
        if ((flags & F_ID_MISSING) !== 0) {
          plainKey ??= PLAIN_KEY.test(task.keys[m]);
          if (plainKey) reads.needKeys = true;
        }
        if ((flags & F_FAST) !== 0 && ((flags & F_ID_MISSING) === 0 || plainKey === true)) {
          const f = reads.fastCount++;
          reads.fastItems[f] = it;
          reads.fastToBatch[f] = reads.origin.length;
          reads.origin.push((m << 16) | i);
          reads.item.push(it);
          reads.objects.push(undefined);
          continue;
        }
        let decoded: unknown;
        try {
          decoded = unpackr.unpack(core!.bytesOf(buf, it));
        } catch (err) {
          addReject(out, { index: i, code: 'BAD_MSGPACK', reason: `not valid msgpack: ${(err as Error).message}` });
          continue;
        }
        const read = objectRead(decoded, task.keys[m], i, task.receivedAt);
        if (read instanceof Rejected) addReject(out, read.reject);
        else addObject(read, m, i);
      }
      continue;
    }
    const decoded = decodeReads(buf.subarray(from, to), settings.maxMessageBytes);
    if (!decoded.ok) {
      addReject(out, decoded.reject);
      continue;
    }
    total += decoded.items.length;
    if (!takeReads(out, decoded.single, decoded.items.length)) continue;
    for (let i = 0; i < decoded.items.length; i++) {
      const read = objectRead(decoded.items[i], task.keys[m], i, task.receivedAt);
      if (read instanceof Rejected) addReject(out, read.reject);
      else addObject(read, m, i);
    }
  }
  return { reads, total };
}

export function processTask(task: Task, matcher: HitMatcher, settings: ProcessorSettings): TaskResult {
  const n = task.keys.length;
  const buf = task.buf;
  const outcomes: MessageOutcome[] = new Array(n);
  const core = settings.objectPath === true ? undefined : coreReadsOf(matcher);
  const { reads, total } = gather(task, settings, outcomes, core);
  const { origin, objects } = reads;

  // A fast read as an object, decoded when it hits or is invalid (alerts need every field).
  const objectOf = (b: number): Read => {
    let o = objects[b];
    if (o === undefined) {
      const it = reads.item[b];
      const og = origin[b];
      o = objectRead(unpackr.unpack(core!.bytesOf(buf, it)), task.keys[og >>> 16], og & 0xffff, task.receivedAt) as Read;
      objects[b] = o;
    }
    return o;
  };

  const started = performance.now();
  const matchBoth = (m: HitMatcher, mc: CoreReads | undefined): HitResult => {
    const fromObjects = mapped(m.match(reads.objectReads), reads.objectToBatch);
    if (reads.fastCount === 0) return fromObjects;
    const pack = mc === core ? core!.packer(reads.fastItems) : core!.packerFor(mc!, reads.fastItems);
    const fromFast = mapped(m.matchPacked(reads.fastCount, pack, (f) => objectOf(reads.fastToBatch[f])), reads.fastToBatch);
    return {
      hits: mergeHits(fromFast.hits, fromObjects.hits),
      invalid: [...fromFast.invalid, ...fromObjects.invalid].sort((x, y) => x.index - y.index),
    };
  };
  const base = matchBoth(matcher, core);
  const { invalid } = base;
  let hits = base.hits;
  if (task.overlay !== undefined) {
    const om = overlayMatcher(task.overlay);
    const extra = matchBoth(om, reads.fastCount > 0 ? coreReadsOf(om) : undefined).hits;
    if (extra.length > 0) {
      const offset = task.overlay.offset;
      for (const h of extra) h.entry += offset;
      // Hits of one read must stay contiguous and best first.
      hits = [...hits, ...extra].sort((a, b) => a.read - b.read || b.score - a.score);
    }
  }
  const matchMicros = (performance.now() - started) * 1000;

  // Mark reads: 0 = no hit, 1 = hit, 2 = invalid.
  const count = origin.length;
  const mark = new Uint8Array(count);
  for (const bad of invalid) {
    mark[bad.index] = 2;
    const o = origin[bad.index];
    addReject(outcomes[o >>> 16], { index: o & 0xffff, code: bad.code as RejectCode, reason: bad.reason });
  }
  let h = 0;
  while (h < hits.length) {
    const r = hits[h].read;
    let end = h;
    while (end < hits.length && hits[end].read === r) end++;
    mark[r] = 1;
    const o = origin[r];
    const out = outcomes[o >>> 16];
    const hitRead: HitRead = { index: o & 0xffff, read: objectOf(r) as HitRead['read'], hits: hits.slice(h, end) };
    if (out.hitReads === NO_HITS) out.hitReads = [hitRead];
    else out.hitReads.push(hitRead);
    h = end;
  }

  // Records of the reads that hit nothing: one message (or more, when too large) per
  // retention policy and input message, or per policy and batch when coalescing.
  const coalesce = settings.coalesceRecords === true;
  const groups: Groups = { byPolicy: new Map() };
  const nonhit = new NonhitWriter(task, settings, reads, mark, core);
  if (coalesce) {
    nonhit.add(0, count, groups, false);
    for (let b = 0; b < count; b++) if (mark[b] === 0) outcomes[origin[b] >>> 16].nonhitCount++;
  } else {
    let r = 0;
    for (let m = 0; m < n; m++) {
      const out = outcomes[m];
      const first = r;
      while (r < count && origin[r] >>> 16 === m) r++;
      out.nonhitCount += nonhit.add(first, r, groups, out.single);
      if (groups.byPolicy.size > 0) out.nonhit = finishGroups(groups);
    }
  }
  const result: TaskResult = { outcomes, reads: total, matchMicros, fastReads: reads.fastCount };
  if (coalesce) result.nonhit = finishGroups(groups);
  return result;
}
