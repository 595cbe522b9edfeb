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
import { completeRead, decodeReads, encodeRecords, type Reject, type RejectCode } from './wire.js';
import { buildRecord, retentionFor, type RetentionConfig } from './retention.js';

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
  nonhit: Array<{ policy: string; data: Uint8Array[] }>;
  nonhitCount: number;
  hitReads: HitRead[];
  rejects: Reject[];
}

export interface TaskResult {
  outcomes: MessageOutcome[];
  reads: number;
  matchMicros: number;
}

export function processTask(task: Task, matcher: HitMatcher, settings: ProcessorSettings): TaskResult {
  const n = task.keys.length;
  const outcomes: MessageOutcome[] = new Array(n);
  const reads: Array<PlateRead & { id: string; ts: number }> = [];
  const origin: number[] = []; // per read: message index << 16 | index in message
  let total = 0;

  for (let m = 0; m < n; m++) {
    const bytes = task.buf.subarray(task.offsets[m], task.offsets[m + 1]);
    const out: MessageOutcome = { reads: 0, single: true, nonhit: [], nonhitCount: 0, hitReads: [], rejects: [] };
    outcomes[m] = out;
    const decoded = decodeReads(bytes, settings.maxMessageBytes);
    if (!decoded.ok) {
      out.rejects.push(decoded.reject);
      continue;
    }
    out.single = decoded.single;
    out.reads = decoded.items.length;
    total += decoded.items.length;
    if (decoded.items.length > 0xffff) {
      out.rejects.push({ index: null, code: 'MESSAGE_TOO_LARGE', reason: `message carries ${decoded.items.length} reads (at most 65535)` });
      continue;
    }
    for (let i = 0; i < decoded.items.length; i++) {
      const item = decoded.items[i];
      if (typeof item !== 'object' || item === null || Array.isArray(item)) {
        out.rejects.push({ index: i, code: 'NOT_AN_OBJECT', reason: 'read is not an object' });
        continue;
      }
      const read = completeRead(item as PlateRead, task.keys[m], i, task.receivedAt);
      if (typeof read === 'string') {
        out.rejects.push({ index: i, code: 'BAD_FIELD', reason: read });
        continue;
      }
      reads.push(read);
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
    outcomes[o >>> 16].rejects.push({ index: o & 0xffff, code: bad.code as RejectCode, reason: bad.reason });
  }
  let h = 0;
  while (h < hits.length) {
    const r = hits[h].read;
    let end = h;
    while (end < hits.length && hits[end].read === r) end++;
    mark[r] = 1;
    const o = origin[r];
    outcomes[o >>> 16].hitReads.push({ index: o & 0xffff, read: reads[r], hits: hits.slice(h, end) });
    h = end;
  }

  // Records of the reads that hit nothing, one encoded message per input message.
  const retention = settings.retention;
  let r = 0;
  for (let m = 0; m < n; m++) {
    const out = outcomes[m];
    let byPolicy: Map<string, unknown[]> | undefined;
    while (r < reads.length && origin[r] >>> 16 === m) {
      if (mark[r] === 0) {
        const read = reads[r];
        const tag = retentionFor(read.agency, false, read.ts, retention);
        byPolicy ??= new Map();
        let group = byPolicy.get(tag.policy);
        if (group === undefined) byPolicy.set(tag.policy, (group = []));
        group.push(buildRecord(read, [], tag));
        out.nonhitCount++;
      }
      r++;
    }
    if (byPolicy !== undefined) {
      for (const [policy, records] of byPolicy) out.nonhit.push({ policy, data: encodeRecords(records, out.single, settings.maxOutputBytes) });
    }
  }
  return { outcomes, reads: total, matchMicros };
}
