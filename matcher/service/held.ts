/**
 * Evidence holds on the hot path (docs/store.md "Holds"): the plates under an active hold are
 * compiled into a small exact-tier matcher that each batch of a task carrying them is matched
 * against in one more core call, like the live overlay. A read whose own plate is held, at a
 * time its hold covers, leaves with its record tagged `hold` (and the hold ids): a read that
 * hit nothing is taken out of the non-hit records and handed to the main thread, a hit read
 * carries the ids beside its hits. A candidate plate equal to a held plate does not count:
 * the store holds stored records by their plate alone, and the tag must say the same.
 */
import { createHitMatcherFromSnapshot, createMatcher } from '../matcher.js';
import type { Hit, HitMatcher } from '../hits.js';
import { normalizePlate } from '../core/plate.js';
import type { HeldRead, HitRead, HoldsTask, MessageOutcome, Read } from './task.js';

/** One active plate hold, as the store publishes it (hold-mirror.ts in the store). */
export interface ActivePlateHold {
  holdId: string;
  /** Normalized plate. */
  plate: string;
  /** Window of read times (epoch ms), inclusive; absent: open. */
  from?: number;
  to?: number;
}

/** The task form of a set of active holds (undefined when there are none). */
export function holdsTask(holds: readonly ActivePlateHold[], version: number): HoldsTask | undefined {
  if (holds.length === 0) return undefined;
  const byPlate = new Map<string, Array<{ holdId: string; from?: number; to?: number }>>();
  for (const h of holds) {
    const list = byPlate.get(h.plate) ?? [];
    list.push({ holdId: h.holdId, ...(h.from !== undefined ? { from: h.from } : {}), ...(h.to !== undefined ? { to: h.to } : {}) });
    byPlate.set(h.plate, list);
  }
  const plates = [...byPlate.keys()];
  // One entry per plate, no state: a hold is on a plate whatever state a read says.
  const matcher = createMatcher({
    entries: plates.map((plate, i) => ({ id: `hold.${i}`, plate, list: 'EVIDENCE_HOLD' })),
    tiers: ['exact'],
    stateMismatch: 'match',
    hotlistVersion: `holds-${version}`,
  });
  return { version, snapshot: matcher.snapshot(), holds: plates.map((p) => byPlate.get(p)!) };
}

// One instantiated holds matcher per thread, replaced when its version changes.
let cache: { version: number; matcher: HitMatcher } | undefined;

/** This thread's matcher of the task's held plates. */
export function holdsMatcher(t: HoldsTask): HitMatcher {
  if (cache?.version !== t.version) cache = { version: t.version, matcher: createHitMatcherFromSnapshot(t.snapshot) };
  return cache.matcher;
}

/** What {@link applyHolds} needs of the processor's batch. */
export interface HeldBatch {
  /** 0 no hit, 1 hit, 2 invalid; set to 3 here for a held read that hit nothing. */
  mark: Uint8Array;
  objectOf(b: number): Read;
  hitReadOf(b: number): HitRead | undefined;
  outcomeOf(b: number): MessageOutcome;
  positionOf(b: number): number;
}

/**
 * Tags the reads of `hits` (the holds matcher's hits on the batch) whose plate and time a hold
 * covers. Returns how many reads are held.
 */
export function applyHolds(t: HoldsTask, hits: readonly Hit[], batch: HeldBatch, empty: readonly HeldRead[]): number {
  let held = 0;
  for (const h of hits) {
    if (batch.mark[h.read] === 2 || batch.mark[h.read] === 3) continue;
    const read = batch.objectOf(h.read);
    const own = normalizePlate(read.plate);
    if (!own.ok || own.plate !== h.entryPlate) continue;
    const holdIds: string[] = [];
    for (const w of t.holds[h.entry]) {
      if ((w.from === undefined || read.ts >= w.from) && (w.to === undefined || read.ts <= w.to)) holdIds.push(w.holdId);
    }
    if (holdIds.length === 0) continue;
    held++;
    const hitRead = batch.mark[h.read] === 1 ? batch.hitReadOf(h.read) : undefined;
    if (hitRead !== undefined) {
      hitRead.holdIds = holdIds;
      continue;
    }
    batch.mark[h.read] = 3;
    const out = batch.outcomeOf(h.read);
    const entry: HeldRead = { index: batch.positionOf(h.read), read: read as HeldRead['read'], holdIds };
    if (out.heldReads === empty) out.heldReads = [entry];
    else out.heldReads.push(entry);
  }
  return held;
}
