/**
 * The per-batch work that scales with reads: decode the messages, match every read of the
 * batch in one core call, and encode the records of reads that hit nothing (nearly all of
 * them). Pure and synchronous, so it runs the same on the main thread (`pool.workers: 0`)
 * or in a worker thread. Hits go back as plain objects: the main thread turns them into
 * alerts (it alone holds the hotlist entries and the suppression state).
 */
import { performance } from 'node:perf_hooks';
import type { PlateRead } from '../types.js';
import { createHitMatcherFromSnapshot } from '../matcher.js';
import type { Hit, HitMatcher, HitResult } from '../hits.js';
import { badMsgpackReason, BadItem, completeRead, decodeReads, type Reject } from './wire.js';
import { unpackr } from './msgpack.js';
import { coreReadsOf, type CoreReads } from './core-reads.js';
import { F_DEEP, F_FAST, F_ID_MISSING, M_OK } from '../core/layout.js';
import { checkFields, checkNesting, maxTs, TOO_DEEP_REASON, TS_MIN_MS } from './bounds.js';
import { finishGroups, NonhitWriter, type Groups } from './nonhit-records.js';
import { applyHolds, holdsMatcher } from './held.js';
import type { BatchReads, HeldRead, HitRead, MessageOutcome, NonhitGroup, OverlayTask, ProcessorSettings, Read, Task, TaskResult } from './task.js';

export { taskOf } from './task.js';
export type { BatchReads, HitRead, MessageOutcome, NonhitGroup, OverlayTask, ProcessorSettings, Read, Task, TaskResult } from './task.js';

// One instantiated overlay per thread, replaced when its version changes.
let overlayCache: { version: number; matcher: HitMatcher } | undefined;

function overlayMatcher(o: OverlayTask): HitMatcher {
  if (overlayCache?.version !== o.version) overlayCache = { version: o.version, matcher: createHitMatcherFromSnapshot(o.snapshot) };
  return overlayCache.matcher;
}

// A class, not a tag field: a read may carry any field, `code` included.
class Rejected {
  constructor(readonly reject: Reject) {}
}

/**
 * Checks a decoded item against the input bounds (bounds.ts: nesting first, whatever else is
 * wrong with it, as the fast path does) and completes it as a read (object path).
 */
function objectRead(item: unknown, key: string, i: number, receivedAt: number): Read | Rejected {
  if (item instanceof BadItem) return new Rejected({ index: i, code: item.code, reason: item.reason });
  const deep = checkNesting(item);
  if (deep !== undefined) return new Rejected({ index: i, ...deep });
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return new Rejected({ index: i, code: 'NOT_AN_OBJECT', reason: 'read is not an object' });
  const bad = checkFields(item as Record<string, unknown>);
  if (bad !== undefined) return new Rejected({ index: i, ...bad });
  const ts = completeRead(item as PlateRead, key, i, receivedAt);
  return ts !== undefined ? new Rejected({ index: i, ...ts }) : (item as Read);
}

// Most messages have no rejects, no hits and (coalescing) no records of their own: their
// outcomes share these empty arrays until something is added (one array less per message).
const NO_REJECTS: Reject[] = Object.freeze([]) as unknown as Reject[];
const NO_HITS: HitRead[] = Object.freeze([]) as unknown as HitRead[];
const NO_GROUPS: NonhitGroup[] = Object.freeze([]) as unknown as NonhitGroup[];
const NO_HELD: HeldRead[] = Object.freeze([]) as unknown as HeldRead[];

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

// A read's origin, its message and its position there, packed in one number: message *
// 2^16 + index. Exact for any number of messages (a shift would wrap at 2^16 messages and
// give reads to the wrong message); index < 2^16 since takeReads refuses larger messages.
const ORIGIN = 0x10000;

function originOf(m: number, i: number): number {
  return m * ORIGIN + i;
}

/** The message of an origin. */
function messageOf(o: number): number {
  return Math.floor(o / ORIGIN);
}

/** The position in its message of an origin. */
function positionOf(o: number): number {
  return o % ORIGIN;
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
  const items = core !== undefined ? core.scan(buf, task.offsets, TS_MIN_MS, maxTs(task.receivedAt)) : 0;
  if (core !== undefined) {
    reads.fastItems = new Uint32Array(items);
    reads.fastToBatch = new Int32Array(items);
  }
  const addObject = (read: Read, m: number, i: number): void => {
    reads.objectToBatch.push(reads.origin.length);
    reads.objectReads.push(read);
    reads.origin.push(originOf(m, i));
    reads.item.push(-1);
    reads.objects.push(read);
  };
  for (let m = 0; m < n; m++) {
    const from = task.offsets[m];
    const to = task.offsets[m + 1];
    const out: MessageOutcome = { reads: 0, single: true, nonhit: NO_GROUPS, nonhitCount: 0, hitReads: NO_HITS, heldReads: NO_HELD, rejects: NO_REJECTS };
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
        const flags = core.flags(it);
        if ((flags & F_ID_MISSING) !== 0) {
          plainKey ??= PLAIN_KEY.test(task.keys[m]);
          if (plainKey) reads.needKeys = true;
        }
        if ((flags & F_FAST) !== 0 && ((flags & F_ID_MISSING) === 0 || plainKey === true)) {
          const f = reads.fastCount++;
          reads.fastItems[f] = it;
          reads.fastToBatch[f] = reads.origin.length;
          reads.origin.push(originOf(m, i));
          reads.item.push(it);
          reads.objects.push(undefined);
          continue;
        }
        if ((flags & F_DEEP) !== 0) {
          // msgpackr would recurse as deep as the read goes (and overflow the stack).
          addReject(out, { index: i, code: 'TOO_DEEP', reason: TOO_DEEP_REASON });
          continue;
        }
        let decoded: unknown;
        try {
          decoded = unpackr.unpack(core.bytesOf(buf, it));
        } catch (err) {
          addReject(out, { index: i, code: 'BAD_MSGPACK', reason: badMsgpackReason(err) });
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
  const outcomes = new Array<MessageOutcome>(n);
  const core = settings.objectPath === true ? undefined : coreReadsOf(matcher);
  const { reads, total } = gather(task, settings, outcomes, core);
  const { origin, objects } = reads;

  // A fast read as an object, decoded when it hits or is invalid (alerts need every field).
  const objectOf = (b: number): Read => {
    let o = objects[b];
    if (o === undefined) {
      const it = reads.item[b];
      const og = origin[b];
      o = objectRead(unpackr.unpack(core!.bytesOf(buf, it)), task.keys[messageOf(og)], positionOf(og), task.receivedAt) as Read;
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

  // Mark reads: 0 = no hit, 1 = hit, 2 = invalid, 3 = no hit but held (held.ts).
  const count = origin.length;
  const hitReadAt = task.holds !== undefined ? new Map<number, HitRead>() : undefined;
  const mark = new Uint8Array(count);
  for (const bad of invalid) {
    mark[bad.index] = 2;
    const o = origin[bad.index];
    addReject(outcomes[messageOf(o)], { index: positionOf(o), code: bad.code, reason: bad.reason });
  }
  let h = 0;
  while (h < hits.length) {
    const r = hits[h].read;
    let end = h;
    while (end < hits.length && hits[end].read === r) end++;
    mark[r] = 1;
    const o = origin[r];
    const out = outcomes[messageOf(o)];
    const hitRead: HitRead = { index: positionOf(o), read: objectOf(r) as HitRead['read'], hits: hits.slice(h, end) };
    if (out.hitReads === NO_HITS) out.hitReads = [hitRead];
    else out.hitReads.push(hitRead);
    hitReadAt?.set(r, hitRead);
    h = end;
  }
  let heldReads = 0;
  if (task.holds !== undefined) {
    // Only while a hold is active: one more core call for the batch, like the overlay.
    const hm = holdsMatcher(task.holds);
    const heldHits = matchBoth(hm, reads.fastCount > 0 ? coreReadsOf(hm) : undefined).hits;
    heldReads = applyHolds(task.holds, heldHits, {
      mark, objectOf, hitReadOf: (b) => hitReadAt!.get(b), outcomeOf: (b) => outcomes[messageOf(origin[b])], positionOf: (b) => positionOf(origin[b]),
    }, NO_HELD);
  }

  // Records of the reads that hit nothing: one message (or more, when too large) per
  // retention policy and input message, or per policy and batch when coalescing.
  const coalesce = settings.coalesceRecords === true;
  const groups: Groups = { byPolicy: new Map() };
  const nonhit = new NonhitWriter(task, settings, reads, mark, core);
  if (coalesce) {
    nonhit.add(0, count, groups, false);
    for (let b = 0; b < count; b++) if (mark[b] === 0) outcomes[messageOf(origin[b])].nonhitCount++;
  } else {
    let r = 0;
    for (let m = 0; m < n; m++) {
      const out = outcomes[m];
      const first = r;
      while (r < count && messageOf(origin[r]) === m) r++;
      out.nonhitCount += nonhit.add(first, r, groups, out.single);
      if (groups.byPolicy.size > 0) out.nonhit = finishGroups(groups);
    }
  }
  const result: TaskResult = { outcomes, reads: total, matchMicros, fastReads: reads.fastCount, heldReads };
  if (coalesce) result.nonhit = finishGroups(groups);
  return result;
}
