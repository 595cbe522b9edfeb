/**
 * Evidence holds on the service's hot path (held.ts): reads of a held plate, inside the hold's
 * window, leave with records of class `hold` and the hold ids, on `records.hold.<policy>`;
 * hit reads keep their alerts and are tagged too; a read whose candidate alone equals a held
 * plate, a read outside the window, and every other read are untouched. Fast path and object
 * path agree.
 */
import { describe, expect, it } from 'vitest';
import { Packr } from 'msgpackr';
import { createHitMatcherFromSnapshot, createMatcher } from '../../matcher/matcher.js';
import { processTask, taskOf, type ProcessorSettings, type TaskResult } from '../../matcher/service/processor.js';
import { holdsTask } from '../../matcher/service/held.js';
import { parseActiveHolds } from '../../matcher/service/holds-watch.js';
import { emptyFinalized, finalizeBatch, type HotlistVersion } from '../../matcher/service/finalize.js';
import { AlertSuppressor } from '../../matcher/service/suppression.js';
import { ServiceMetrics } from '../../matcher/service/metrics.js';
import { subjectsFor } from '../../matcher/service/subjects.js';
import type { EntryStore } from '../../matcher/service/compile.js';
import type { HotlistEntry, ReadRecord } from '../../matcher/types.js';

const entries: HotlistEntry[] = [{ id: 'e1', plate: 'ABC123', list: 'STOLEN_VEHICLE' }];
const matcher = createHitMatcherFromSnapshot(createMatcher({ entries }).snapshot());
const retention = { default: { policy: 'default-30d', nonhitDays: 30, hitDays: 365, basis: 'basis' }, agencies: {} };
const settings = (extra: Partial<ProcessorSettings> = {}): ProcessorSettings => ({ maxMessageBytes: 1 << 20, maxOutputBytes: 1 << 20, retention, ...extra });
const T = 1_736_200_000_000;
const packr = new Packr({ useRecords: false });

const reads = [
  { id: 'r-held', plate: 'hld-777', ts: T - 1000 },
  { id: 'r-early', plate: 'HLD777', ts: T - 10 * 86_400_000 },
  { id: 'r-cand', plate: 'XXX000', ts: T - 1000, candidates: [{ plate: 'HLD777', confidence: 0.4 }] },
  { id: 'r-hit-held', plate: 'ABC123', ts: T - 1000 },
  { id: 'r-hit', plate: 'ABC123', ts: T - 5 * 86_400_000 },
  { id: 'r-other', plate: 'ZZZ999', ts: T - 1000 },
];
const holds = holdsTask([
  { holdId: 'hold-a', plate: 'HLD777', from: T - 86_400_000 },
  { holdId: 'hold-b', plate: 'ABC123', from: T - 86_400_000, to: T },
  { holdId: 'hold-c', plate: 'HLD777' },
], 1)!;

function run(objectPath: boolean, withHolds = true): TaskResult {
  const messages = reads.map((r) => packr.pack(r));
  const task = taskOf(messages, messages.map((_, i) => `k.${i}`), T);
  if (withHolds) task.holds = holds;
  return processTask(task, matcher, settings({ objectPath }));
}

function finalized(result: TaskResult): { subject: string; records: ReadRecord[] }[] {
  const gen: HotlistVersion = {
    version: 'v1', entries: { length: entries.length, get: (i: number) => entries[i] } as unknown as EntryStore,
    refreshed: new Map(), maxAge: new Map(), loadedAt: T,
  };
  const fin = finalizeBatch(
    reads.map((r, i) => ({ data: packr.pack(r), subject: 'alpr.reads.x', key: `k.${i}` })), result, gen, undefined,
    { subjects: subjectsFor('alpr'), metrics: new ServiceMetrics(), suppressor: new AlertSuppressor({ windowMs: 0 }), retention, maxOutputBytes: 1 << 20 },
    emptyFinalized(),
  );
  return [...fin.outputs, ...fin.deferred]
    .filter((o) => o.subject.startsWith('alpr.records.'))
    .map((o) => {
      const text = Buffer.from(o.data).toString('utf8');
      const parsed = JSON.parse(text) as ReadRecord | ReadRecord[];
      return { subject: o.subject, records: Array.isArray(parsed) ? parsed : [parsed] };
    });
}

describe('evidence holds in the processor', () => {
  for (const objectPath of [false, true]) {
    it(`tags held reads and only them (${objectPath ? 'object' : 'fast'} path)`, () => {
      const result = run(objectPath);
      expect(result.heldReads).toBe(3);
      const held = result.outcomes.flatMap((o) => o.heldReads.map((h) => ({ id: h.read.id, holdIds: h.holdIds })));
      // r-early is outside hold-a's window but inside hold-c's (open): held by hold-c only.
      expect(held.sort((a, b) => a.id.localeCompare(b.id))).toEqual([{ id: 'r-early', holdIds: ['hold-c'] }, { id: 'r-held', holdIds: ['hold-a', 'hold-c'] }]);
      const hitHeld = result.outcomes.flatMap((o) => o.hitReads).map((h) => ({ id: h.read.id, holdIds: h.holdIds }));
      expect(hitHeld).toEqual([{ id: 'r-hit-held', holdIds: ['hold-b'] }, { id: 'r-hit', holdIds: undefined }]);
      // Held reads are not among the non-hit records, and every other read is.
      const nonhitCounts = result.outcomes.map((o) => o.nonhitCount);
      expect(nonhitCounts).toEqual([0, 0, 1, 0, 0, 1]);
    });
  }

  it('publishes held records as class hold with their hold ids, on records.hold.<policy>', () => {
    const out = finalized(run(false));
    const bySubject = new Map<string, string[]>();
    for (const o of out) bySubject.set(o.subject, [...(bySubject.get(o.subject) ?? []), ...o.records.map((r) => r.id)]);
    expect([...bySubject.get('alpr.records.hold.default-30d')!].sort()).toEqual(['r-early', 'r-held', 'r-hit-held']);
    expect([...bySubject.get('alpr.records.hit.default-30d')!]).toEqual(['r-hit']);
    expect([...bySubject.get('alpr.records.nonhit.default-30d')!].sort()).toEqual(['r-cand', 'r-other']);
    const records = out.flatMap((o) => o.records);
    const heldHit = records.find((r) => r.id === 'r-hit-held')!;
    expect(heldHit.hit).toBe(true);
    expect(heldHit.alertIds.length).toBe(1);
    // The hold keeps the period the record would have had: a hit's.
    expect(heldHit.retention).toEqual({ policy: 'default-30d', class: 'hold', expiresAt: T - 1000 + 365 * 86_400_000, basis: 'basis', holdIds: ['hold-b'] });
    const heldRead = records.find((r) => r.id === 'r-held')!;
    expect(heldRead.hit).toBe(false);
    expect(heldRead.retention).toEqual({ policy: 'default-30d', class: 'hold', expiresAt: T - 1000 + 30 * 86_400_000, basis: 'basis', holdIds: ['hold-a', 'hold-c'] });
  });

  it('without holds, nothing is held', () => {
    const result = run(false, false);
    expect(result.heldReads ?? 0).toBe(0);
    expect(result.outcomes.flatMap((o) => o.heldReads)).toEqual([]);
    expect(finalized(result).some((o) => o.subject.includes('.hold.'))).toBe(false);
  });
});

describe('the active holds value', () => {
  it('accepts what the store writes and refuses anything else', () => {
    expect(parseActiveHolds({ at: 1, holds: [{ holdId: 'h', plate: 'ABC123', from: 5 }] })).toEqual({ ok: true, holds: [{ holdId: 'h', plate: 'ABC123', from: 5 }] });
    expect(parseActiveHolds({ holds: [{ holdId: 'h', plate: 'abc 123' }] }).ok).toBe(false);
    expect(parseActiveHolds({ holds: [{ plate: 'ABC123' }] }).ok).toBe(false);
    expect(parseActiveHolds({ holds: [{ holdId: 'h', plate: 'ABC123', to: 'soon' }] }).ok).toBe(false);
    expect(parseActiveHolds([]).ok).toBe(false);
  });
});
