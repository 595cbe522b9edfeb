import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { createMatcher, createMatcherFromSnapshot, type Alert, type HotlistEntry, type PlateRead } from '../../matcher/index.js';

function entriesAndReads(): { entries: HotlistEntry[]; reads: PlateRead[] } {
  const entries: HotlistEntry[] = [];
  const reads: PlateRead[] = [];
  for (let i = 0; i < 2000; i++) {
    const plate = `${String.fromCharCode(65 + (i % 26))}${String.fromCharCode(65 + ((i * 7) % 26))}${1000 + i}`;
    entries.push({ id: `e${i}`, plate, state: i % 3 ? 'CA' : 'NV', list: i % 10 ? 'STOLEN_VEHICLE' : 'AMBER' });
    if (i % 4 === 0) reads.push({ id: `r${i}`, plate, state: 'CA' });
    if (i % 5 === 0) reads.push({ id: `o${i}`, plate: plate.replace(/1/g, 'I').replace(/0/g, 'O'), state: 'CA' });
    if (i % 9 === 0) reads.push({ id: `f${i}`, plate: plate.slice(1), state: '' });
  }
  return { entries, reads };
}

const comparable = (alerts: Alert[]) => alerts.map(({ hotlistAgeS: _age, ...rest }) => rest);

describe('hotlist snapshots', () => {
  const { entries, reads } = entriesAndReads();
  const options = { entries, listTiers: { AMBER: ['exact', 'ocr', 'fuzzy'] as const }, maxDistance: 2 };

  it('gives the same alerts from a snapshot as from the matcher that made it', () => {
    const built = createMatcher({ ...options, listTiers: { AMBER: ['exact', 'ocr', 'fuzzy'] } });
    const again = createMatcherFromSnapshot(built.snapshot(), entries);
    const a = built.matchBatch(reads);
    expect(a.alerts.length).toBeGreaterThan(300);
    expect(comparable(again.matchBatch(reads).alerts)).toEqual(comparable(a.alerts));
    expect(again.stats().hotlistVersion).toBe(built.stats().hotlistVersion);
    expect(again.stats().memoryBytes).toBe(built.stats().memoryBytes);
  });

  it('instantiates in a worker thread from posted bytes without recompiling', async () => {
    const built = createMatcher({ ...options, listTiers: { AMBER: ['exact', 'ocr', 'fuzzy'] } });
    const expected = built.matchBatch(reads);
    const worker = new Worker(fileURLToPath(new URL('../helpers/snapshot-worker.mjs', import.meta.url)), {
      workerData: { snapshot: built.snapshot(), entries, reads },
    });
    const message = await new Promise<{ result: typeof expected; stats: { buildTimeMs: number } }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(comparable(message.result.alerts)).toEqual(comparable(expected.alerts));
    // The stats are the builder's: the worker built nothing.
    expect(message.stats.buildTimeMs).toBe(built.stats().buildTimeMs);
  });

  it('refuses bytes that are not a snapshot', () => {
    const built = createMatcher({ entries: [{ plate: 'ABC', list: 'BOLO' }] });
    const snap = built.snapshot();
    snap.bytes = new Uint8Array(snap.bytes.byteLength);
    expect(() => createMatcherFromSnapshot(snap, [])).toThrow(/not a platesieve hotlist snapshot/);
  });
});
