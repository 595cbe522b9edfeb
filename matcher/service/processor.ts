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
import type { Hit, HitMatcher } from '../hits.js';
import { completeRead, decodeReads, type Reject, type RejectCode } from './wire.js';
import { buildRecord, policyFor, retentionFor, type RetentionConfig } from './retention.js';
import { scanMessage, unpackr, type ScannedRead } from './msgpack-scan.js';
import { ByteWriter, RecordsMessages, writeNonhitRecord } from './record-json.js';

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
}

interface Groups {
  byPolicy: Map<string, RecordsMessages>;
}

// One writer per retention policy and thread, reused from batch to batch.
const writers = new Map<string, ByteWriter>();

function writerFor(policy: string): ByteWriter {
  let w = writers.get(policy);
  if (w === undefined) writers.set(policy, (w = new ByteWriter()));
  return w;
}

function groupFor(groups: Groups, policy: string, maxBytes: number, single: boolean): RecordsMessages {
  let g = groups.byPolicy.get(policy);
  if (g === undefined) groups.byPolicy.set(policy, (g = new RecordsMessages(writerFor(policy), maxBytes, single)));
  return g;
}

function finishGroups(groups: Groups): NonhitGroup[] {
  const out: NonhitGroup[] = [];
  for (const [policy, g] of groups.byPolicy) out.push({ policy, data: g.finish(), counts: g.counts });
  groups.byPolicy.clear();
  return out;
}

function firstByte(bytes: Uint8Array, from: number, to: number): number {
  for (let i = from; i < to; i++) {
    const b = bytes[i];
    if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return b;
  }
  return -1;
}

type Read = PlateRead & { id?: string; ts: number };

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

export function processTask(task: Task, matcher: HitMatcher, settings: ProcessorSettings): TaskResult {
  const n = task.keys.length;
  const buf = task.buf;
  const outcomes: MessageOutcome[] = new Array(n);
  const reads: Read[] = [];
  // Per read: its scan when the fast path took it (records written from its bytes), else undefined.
  const scanned: Array<ScannedRead | undefined> = [];
  const origin: number[] = []; // per read: message index << 16 | index in message
  let total = 0;

  for (let m = 0; m < n; m++) {
    const from = task.offsets[m];
    const to = task.offsets[m + 1];
    const out: MessageOutcome = { reads: 0, single: true, nonhit: NO_GROUPS, nonhitCount: 0, hitReads: NO_HITS, rejects: NO_REJECTS };
    outcomes[m] = out;
    const first = to - from <= settings.maxMessageBytes ? firstByte(buf, from, to) : -1;
    const scan = first >= 0 && first !== 0x7b && first !== 0x5b && settings.objectPath !== true ? scanMessage(buf, from, to) : undefined;
    if (scan !== undefined) {
      out.single = scan.single;
      out.reads = scan.reads.length;
      total += scan.reads.length;
      if (scan.reads.length > 0xffff) {
        addReject(out, { index: null, code: 'MESSAGE_TOO_LARGE', reason: `message carries ${scan.reads.length} reads (at most 65535)` });
        continue;
      }
      for (let i = 0; i < scan.reads.length; i++) {
        const sr = scan.reads[i];
        let read: Read | Rejected;
        if (sr !== undefined) {
          if (sr.tsMissing) sr.ts = task.receivedAt;
          read = sr as Read;
        } else {
          let item: unknown;
          try {
            item = unpackr.unpack(buf.subarray(scan.spans[2 * i], scan.spans[2 * i + 1]));
          } catch (err) {
            addReject(out, { index: i, code: 'BAD_MSGPACK', reason: `not valid msgpack: ${(err as Error).message}` });
            continue;
          }
          read = objectRead(item, task.keys[m], i, task.receivedAt);
        }
        if (read instanceof Rejected) {
          addReject(out, read.reject);
          continue;
        }
        reads.push(read);
        scanned.push(sr);
        origin.push((m << 16) | i);
      }
      continue;
    }
    const decoded = decodeReads(buf.subarray(from, to), settings.maxMessageBytes);
    if (!decoded.ok) {
      addReject(out, decoded.reject);
      continue;
    }
    out.single = decoded.single;
    out.reads = decoded.items.length;
    total += decoded.items.length;
    if (decoded.items.length > 0xffff) {
      addReject(out, { index: null, code: 'MESSAGE_TOO_LARGE', reason: `message carries ${decoded.items.length} reads (at most 65535)` });
      continue;
    }
    for (let i = 0; i < decoded.items.length; i++) {
      const read = objectRead(decoded.items[i], task.keys[m], i, task.receivedAt);
      if (read instanceof Rejected) {
        addReject(out, read.reject);
        continue;
      }
      reads.push(read);
      scanned.push(undefined);
      origin.push((m << 16) | i);
    }
  }

  const started = performance.now();
  const base = matcher.match(reads);
  const { invalid } = base;
  let hits = base.hits;
  if (task.overlay !== undefined) {
    const extra = overlayMatcher(task.overlay).match(reads).hits;
    if (extra.length > 0) {
      const offset = task.overlay.offset;
      for (const h of extra) h.entry += offset;
      // Hits of one read must stay contiguous and best first.
      hits = [...hits, ...extra].sort((a, b) => a.read - b.read || b.score - a.score);
    }
  }
  const matchMicros = (performance.now() - started) * 1000;

  // Mark reads: 0 = no hit, 1 = hit, 2 = invalid.
  const mark = new Uint8Array(reads.length);
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
    const sr = scanned[r];
    // A hit read becomes an alert: it needs every field, so the fast path decodes it now.
    const read = sr === undefined ? reads[r] : (objectRead(unpackr.unpack(buf.subarray(sr.start, sr.end)), task.keys[o >>> 16], o & 0xffff, task.receivedAt) as Read);
    const out = outcomes[o >>> 16];
    const hitRead: HitRead = { index: o & 0xffff, read: read as HitRead['read'], hits: hits.slice(h, end) };
    if (out.hitReads === NO_HITS) out.hitReads = [hitRead];
    else out.hitReads.push(hitRead);
    h = end;
  }

  // Records of the reads that hit nothing: one message (or more, when too large) per
  // retention policy and input message, or per policy and batch when coalescing.
  const retention = settings.retention;
  const coalesce = settings.coalesceRecords === true;
  const groups: Groups = { byPolicy: new Map() };
  let r = 0;
  for (let m = 0; m < n; m++) {
    const out = outcomes[m];
    const key = task.keys[m];
    for (; r < reads.length && origin[r] >>> 16 === m; r++) {
      if (mark[r] !== 0) continue;
      const read = reads[r];
      const policy = policyFor(read.agency, retention);
      const group = groupFor(groups, policy.policy, settings.maxOutputBytes, out.single && !coalesce);
      const sr = scanned[r];
      if (sr !== undefined) {
        group.begin();
        writeNonhitRecord(group.w, buf, sr, key, origin[r] & 0xffff, read.ts, policy);
        group.commit();
      } else {
        group.addJson(JSON.stringify(buildRecord(read as Read & { id: string }, [], retentionFor(read.agency, false, read.ts, retention))));
      }
      out.nonhitCount++;
    }
    if (!coalesce && groups.byPolicy.size > 0) out.nonhit = finishGroups(groups);
  }
  const result: TaskResult = { outcomes, reads: total, matchMicros };
  if (coalesce) result.nonhit = finishGroups(groups);
  return result;
}
