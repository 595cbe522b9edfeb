import { describe, expect, it } from 'vitest';
import { compileHotlist } from '../../matcher/core/compile.js';
import { BatchBridge } from '../../matcher/core/batch.js';
import { resolveOptions } from '../../matcher/options.js';
import { createMatcher, type Alert, type HotlistEntry } from '../../matcher/index.js';
import { generateHotlist, generateReads } from '../../fixtures/generator.js';

describe('batch bridge', () => {
  it('drains a full result buffer and resumes, and grows it when one read alone overflows it', () => {
    // 12 lists carry the same plate: every read of it has 12 hits, more than the 5-record buffer.
    const entries: HotlistEntry[] = [];
    for (let l = 0; l < 12; l++) entries.push({ plate: 'SAME1', list: `L${l}` });
    for (let i = 0; i < 50; i++) entries.push({ plate: `P${i}X`, list: 'BOLO' });
    const compiled = compileHotlist(entries, resolveOptions({ entries }));
    const bridge = new BatchBridge(compiled.core, 256, 5);
    bridge.reset();
    const plates = ['SAME1', 'P1X', 'P2X', 'NOPE', 'SAME1', 'P3X', '5AMEI'];
    for (const p of plates) bridge.add(p, 0);
    const hits: Array<[number, number, number]> = [];
    bridge.run((q, entry, tier) => hits.push([q, entry, tier]));
    const perQuery = plates.map((_, q) => hits.filter((h) => h[0] === q).length);
    expect(perQuery).toEqual([12, 1, 1, 0, 12, 1, 12]);
    // No hit twice.
    expect(new Set(hits.map((h) => `${h[0]}:${h[1]}`)).size).toBe(hits.length);
  });

  it('gives the same fuzzy hits through a result buffer that fills mid-group as through a big one', () => {
    // Reads are matched in groups of 8 queries; a buffer of 3 records fills inside groups,
    // inside a query's exact and fuzzy hits, and at single queries with more hits than it holds.
    const entries = generateHotlist({ seed: 11, size: 5000 });
    const { reads } = generateReads({ seed: 12, count: 600, hotlist: entries, hitRate: 0.2 });
    const opts = resolveOptions({ entries, tiers: ['exact', 'ocr', 'fuzzy'], maxDistance: 2 });
    const compiled = compileHotlist(entries, opts);
    const run = (resultCapacity: number): string[] => {
      const bridge = new BatchBridge(compiled.core, 1024, resultCapacity);
      bridge.reset();
      for (const r of reads) bridge.add(r.plate, compiled.states.lookup(r.state));
      const hits: string[] = [];
      bridge.run((q, entry, tier, distance, flags) => hits.push(`${q}:${entry}:${tier}:${distance}:${flags}`));
      return hits;
    };
    const big = run(1 << 16);
    expect(big.length).toBeGreaterThan(250);
    const perQuery = new Map<string, number>();
    for (const h of big) perQuery.set(h.split(':')[0], (perQuery.get(h.split(':')[0]) ?? 0) + 1);
    expect(Math.max(...perQuery.values())).toBeGreaterThan(3);
    expect(run(3)).toEqual(big);
  });

  it('keeps the hits of a query with more fuzzy candidates than the core holds at once, in order, through any buffer', () => {
    // Every 3-letter plate over 10 letters with no OCR class: a read of one of them has 271
    // entries within 2 substitutions, more than the 256 candidates the core holds at once.
    const letters = 'ACEFHJKMNP';
    const entries: HotlistEntry[] = [];
    for (const a of letters) for (const b of letters) for (const c of letters) entries.push({ plate: a + b + c, list: 'BOLO' });
    const opts = resolveOptions({ entries, tiers: ['fuzzy'], maxDistance: 2 });
    const compiled = compileHotlist(entries, opts);
    const run = (resultCapacity: number): string[] => {
      const bridge = new BatchBridge(compiled.core, 64, resultCapacity);
      bridge.reset();
      for (const p of ['ACE', 'ZZZZZ', 'MNP', 'ACE']) bridge.add(p, 0);
      const hits: string[] = [];
      bridge.run((q, entry, _tier, distance) => hits.push(`${q}:${entry}:${distance}`));
      return hits;
    };
    const big = run(4096);
    // Past the 256 held, one entry found by two variants can come twice (the host keeps one).
    expect(new Set(big.filter((h) => h.startsWith('0:'))).size).toBeGreaterThanOrEqual(271);
    expect(run(7)).toEqual(big);
  });

  it('turns a batch with more hits than its hit records hold into every alert, once', () => {
    // One plate on 6000 lists: two reads of it are 12 000 hits, three times the 4096 records
    // the matcher starts with.
    const entries: HotlistEntry[] = [];
    for (let l = 0; l < 6000; l++) entries.push({ id: `e${l}`, plate: 'MANY1', list: `L${l}` });
    const { alerts } = createMatcher({ entries }).matchBatch([{ id: 'a', plate: 'MANY1' }, { id: 'b', plate: 'NONE2' }, { id: 'c', plate: 'MANY1' }]);
    expect(alerts.length).toBe(12_000);
    expect(new Set(alerts.map((a) => `${a.readId}:${a.entryId}`)).size).toBe(12_000);
    expect(alerts.every((a) => a.match === 'exact' && a.hotlistPlate === 'MANY1')).toBe(true);
  });

  it('rejects through the prefilter at about its target rate', () => {
    const entries: HotlistEntry[] = [];
    for (let i = 0; i < 100_000; i++) entries.push({ plate: `K${i.toString(36).toUpperCase()}`, list: 'STOLEN_PLATE' });
    const stats = createMatcher({ entries, prefilterFalsePositiveRate: 0.01 }).stats();
    expect(stats.prefilterFalsePositiveRate).toBeGreaterThan(0);
    expect(stats.prefilterFalsePositiveRate).toBeLessThan(0.02);
    const loose = createMatcher({ entries, prefilterFalsePositiveRate: 0.1 }).stats();
    expect(loose.prefilterBits).toBeLessThan(stats.prefilterBits);
    expect(loose.prefilterFalsePositiveRate).toBeGreaterThan(stats.prefilterFalsePositiveRate);
  });

  it('matches the same with the prefilter off', () => {
    const entries: HotlistEntry[] = [];
    for (let i = 0; i < 5000; i++) entries.push({ id: `e${i}`, plate: `Q${i}`, list: 'BOLO' });
    const reads = Array.from({ length: 3000 }, (_, i) => ({ id: `r${i}`, plate: i % 2 ? `Q${i}` : `O${i}` }));
    const on = createMatcher({ entries }).matchBatch(reads).alerts.map((a) => `${a.readId}:${a.entryId}:${a.match}`);
    const off = createMatcher({ entries, prefilter: false }).matchBatch(reads).alerts.map((a) => `${a.readId}:${a.entryId}:${a.match}`);
    expect(off).toEqual(on);
    expect(on.length).toBe(3000);
  });

  it('finds the same fuzzy alerts with the variant filter as without it (prefilter off)', () => {
    // A dense generated list: most reads have near matches, so the filter decides often.
    const entries = generateHotlist({ seed: 7, size: 20_000 });
    const { reads } = generateReads({ seed: 8, count: 4000, hotlist: entries, hitRate: 0.05 });
    const key = (a: Alert): string => `${a.readId}:${a.entryId}:${a.match}:${a.distance}:${a.score}`;
    for (const maxDistance of [1, 2]) {
      const on = createMatcher({ entries, tiers: ['exact', 'ocr', 'fuzzy'], maxDistance }).matchBatch(reads).alerts.map(key);
      const off = createMatcher({ entries, tiers: ['exact', 'ocr', 'fuzzy'], maxDistance, prefilter: false }).matchBatch(reads).alerts.map(key);
      expect(off).toEqual(on);
      expect(on.filter((k) => k.includes(':fuzzy:')).length).toBeGreaterThan(100);
    }
  });
});
