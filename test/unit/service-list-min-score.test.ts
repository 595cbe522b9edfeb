/**
 * `matching.listMinScore` in `serve`: a hit on an entry of a list scoring below the list's
 * minimum raises no alert, and a read whose every hit is dropped is recorded as a non-hit;
 * other lists, and hits at or above the minimum, are untouched (finalize.ts).
 */
import { describe, expect, it } from 'vitest';
import { Packr } from 'msgpackr';
import { createHitMatcherFromSnapshot, createMatcher } from '../../matcher/matcher.js';
import { processTask, taskOf, type TaskResult } from '../../matcher/service/processor.js';
import { emptyFinalized, finalizeBatch, type FinalizeDeps, type HotlistVersion } from '../../matcher/service/finalize.js';
import { AlertSuppressor } from '../../matcher/service/suppression.js';
import { ServiceMetrics } from '../../matcher/service/metrics.js';
import { subjectsFor } from '../../matcher/service/subjects.js';
import type { EntryStore } from '../../matcher/service/compile.js';
import type { Alert, HotlistEntry, ReadRecord } from '../../matcher/types.js';

const entries: HotlistEntry[] = [
  { id: 'stolen', plate: 'ABC123', list: 'STOLEN_VEHICLE' },
  { id: 'wanted', plate: 'XYZ789', list: 'WANTED' },
];
const matcher = createHitMatcherFromSnapshot(createMatcher({ entries, tiers: ['exact', 'ocr', 'fuzzy'] }).snapshot());
const retention = { default: { policy: 'p', nonhitDays: 30, hitDays: 365, basis: 'basis' }, agencies: {} };
const T = 1_736_200_000_000;
const packr = new Packr({ useRecords: false });

const reads = [
  { id: 'r-exact', plate: 'ABC123', ts: T - 1000 },
  // OCR confusion 8/B: the same vehicle, read less surely, so a lower score.
  { id: 'r-ocr', plate: 'A8C123', ts: T - 1000 },
  { id: 'r-wanted-ocr', plate: 'XYZ78B', ts: T - 1000 },
];

function run(): TaskResult {
  const messages = reads.map((r) => packr.pack(r));
  return processTask(taskOf(messages, messages.map((_, i) => `k.${i}`), T), matcher, { maxMessageBytes: 1 << 20, maxOutputBytes: 1 << 20, retention, objectPath: true });
}

function finalized(listMinScore: FinalizeDeps['listMinScore']): { alerts: Alert[]; records: ReadRecord[] } {
  const gen: HotlistVersion = {
    version: 'v1', entries: { length: entries.length, get: (i: number) => entries[i] } as unknown as EntryStore,
    refreshed: new Map(), maxAge: new Map(), loadedAt: T,
  };
  const fin = finalizeBatch(
    reads.map((r, i) => ({ data: packr.pack(r), subject: 'alpr.reads.x', key: `k.${i}` })), run(), gen, undefined,
    { subjects: subjectsFor('alpr'), metrics: new ServiceMetrics(), suppressor: new AlertSuppressor({ windowMs: 0 }), retention, maxOutputBytes: 1 << 20, listMinScore },
    emptyFinalized(),
  );
  const out = [...fin.outputs, ...fin.deferred];
  const parse = (data: Uint8Array): unknown => JSON.parse(Buffer.from(data).toString('utf8'));
  const alerts = out.filter((o) => o.subject.startsWith('alpr.alerts.')).map((o) => parse(o.data) as Alert);
  const records = out.filter((o) => o.subject.startsWith('alpr.records.')).flatMap((o) => {
    const v = parse(o.data) as ReadRecord | ReadRecord[];
    return Array.isArray(v) ? v : [v];
  });
  return { alerts, records };
}

describe('listMinScore in serve', () => {
  const all = finalized(undefined);
  const score = (readId: string): number => all.alerts.find((a) => a.readId === readId)!.score;

  it('raises every hit without it', () => {
    expect(all.alerts.map((a) => a.readId).sort()).toEqual(['r-exact', 'r-ocr', 'r-wanted-ocr']);
    // The OCR reads score below the exact one: the threshold below sits between them.
    expect(score('r-ocr')).toBeLessThan(score('r-exact'));
  });

  it('drops the hits of a list below its minimum, and only those', () => {
    const floor = (score('r-ocr') + score('r-exact')) / 2;
    const { alerts, records } = finalized({ STOLEN_VEHICLE: floor });
    expect(alerts.map((a) => a.readId).sort()).toEqual(['r-exact', 'r-wanted-ocr']);
    const byId = new Map(records.map((r) => [r.id, r]));
    // A read whose only hit is dropped is a read like any other: a non-hit record, no alert ids.
    expect(byId.get('r-ocr')).toMatchObject({ hit: false, alertIds: [], retention: { class: 'nonhit' } });
    expect(byId.get('r-exact')).toMatchObject({ hit: true, retention: { class: 'hit' } });
    expect(byId.get('r-exact')!.alertIds).toHaveLength(1);
    expect(byId.get('r-wanted-ocr')).toMatchObject({ hit: true });
  });

  it('keeps a hit scoring exactly the minimum', () => {
    const { alerts } = finalized({ STOLEN_VEHICLE: score('r-ocr'), WANTED: score('r-wanted-ocr') });
    expect(alerts).toHaveLength(3);
  });
});
