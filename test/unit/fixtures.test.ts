import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { distance as lev } from 'fastest-levenshtein';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OCR_CLASSES, collapsePlate, isJunkPlate, normalizePlate, ocrClassMap } from '../../matcher/core/plate.js';
import type { HotlistEntry, PlateRead } from '../../matcher/types.js';
import {
  ERROR_KINDS,
  createRng,
  generateHotlist,
  generatePlate,
  generateReads,
  type ErrorKind,
  type ReadTruth,
} from '../../fixtures/generator.js';
import { PlateKeySet, plateKey } from '../../fixtures/plate-formats.js';
import { MALFORMED_LINES, buildSample } from '../../fixtures/sample.js';
import { HOTLIST_COLUMNS, hotlistRow } from '../../fixtures/files.js';

const classMap = ocrClassMap(DEFAULT_OCR_CLASSES);
const collapse = (p: string): string => collapsePlate(p, classMap);

function norm(raw: string): string {
  const r = normalizePlate(raw);
  if (!r.ok) throw new Error(`generated plate ${JSON.stringify(raw)} is invalid: ${r.reason}`);
  return r.plate;
}

/** A feed with lots of hits and errors so that every kind shows up many times. */
const hotlist = generateHotlist({ seed: 11, size: 5000 });
const feed = generateReads({
  seed: 12,
  count: 20_000,
  hotlist,
  hitRate: 0.3,
  candidates: true,
  noise: { confusable: 0.15, substitution: 0.1, dropEdge: 0.05, extraEdge: 0.05, twoErrors: 0.05 },
});

describe('createRng', () => {
  it('gives the same sequence for the same seed and a different one for another seed', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const xs = Array.from({ length: 100 }, () => a());
    expect(Array.from({ length: 100 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 100 }, () => c())).not.toEqual(xs);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
  });
});

describe('generateHotlist', () => {
  it('is deterministic: same seed, same entries', () => {
    expect(generateHotlist({ seed: 5, size: 2000 })).toEqual(generateHotlist({ seed: 5, size: 2000 }));
    expect(generateHotlist({ seed: 6, size: 2000 })).not.toEqual(generateHotlist({ seed: 5, size: 2000 }));
  });

  it('gives unique, normalized plates and valid fields', () => {
    const plates = new Set<string>();
    for (const e of hotlist) {
      expect(e.plate).toBe(norm(e.plate as string));
      expect(isJunkPlate(e.plate as string)).toBe(false);
      plates.add(e.plate as string);
      expect(e.priority).toBeGreaterThanOrEqual(1);
      expect(e.priority).toBeLessThanOrEqual(5);
      expect(['NCIC', 'CCIC', 'LOCAL', 'STATE']).toContain(e.source);
      expect(e.ref).toMatch(/^[A-Z]\d{9}$/);
      expect(e.id).toMatch(/^E\d{6}$/);
    }
    expect(plates.size).toBe(hotlist.length);
    const lists = new Set(hotlist.map((e) => e.list));
    for (const l of ['STOLEN_VEHICLE', 'STOLEN_PLATE', 'WANTED', 'BOLO']) expect(lists.has(l)).toBe(true);
    expect(hotlist.filter((e) => e.state === 'CO').length / hotlist.length).toBeGreaterThan(0.5);
  });

  it('keeps entries of big lists small: no id, only the fields the matcher reads', () => {
    const big = generateHotlist({ seed: 1, size: 100_001 });
    expect(Object.keys(big[0]).sort()).toEqual(['list', 'plate', 'priority', 'ref', 'source', 'state']);
    expect(new Set(big.map((e) => e.ref)).size).toBe(big.length);
  });

  it('follows the list weights it is given', () => {
    const h = generateHotlist({ seed: 3, size: 1000, lists: { AMBER: 1, LOCAL_GANG: 1 } });
    expect(new Set(h.map((e) => e.list))).toEqual(new Set(['AMBER', 'LOCAL_GANG']));
    expect(h.filter((e) => e.list === 'LOCAL_GANG').every((e) => e.source === 'LOCAL')).toBe(true);
  });
});

describe('generatePlate', () => {
  it('gives normalized plates in the requested state', () => {
    const rng = createRng(9);
    for (let i = 0; i < 500; i++) {
      const { plate, state } = generatePlate(rng, 'CA');
      expect(state).toBe('CA');
      expect(plate).toBe(norm(plate));
      expect(plate.length).toBeGreaterThanOrEqual(2);
      expect(plate.length).toBeLessThanOrEqual(8);
    }
  });
});

describe('plateKey and PlateKeySet', () => {
  it('map distinct plates to distinct keys and find them again', () => {
    const rng = createRng(4);
    const set = new PlateKeySet(10);
    const seen = new Map<number, string>();
    for (let i = 0; i < 20_000; i++) {
      const { plate } = generatePlate(rng);
      const k = plateKey(plate);
      if (seen.has(k)) expect(seen.get(k)).toBe(plate);
      seen.set(k, plate);
      set.add(k);
    }
    expect(set.size).toBe(seen.size);
    for (const k of seen.keys()) expect(set.has(k)).toBe(true);
    expect(set.has(plateKey('ZZZZZZZZZZ'))).toBe(seen.has(plateKey('ZZZZZZZZZZ')));
  });
});

describe('generateReads', () => {
  it('is deterministic: same seed, same reads and truth', () => {
    const a = generateReads({ seed: 3, count: 3000, hotlist, hitRate: 0.1, candidates: true });
    const b = generateReads({ seed: 3, count: 3000, hotlist, hitRate: 0.1, candidates: true });
    expect(b).toEqual(a);
    expect(generateReads({ seed: 4, count: 3000, hotlist, hitRate: 0.1 }).reads).not.toEqual(a.reads);
  });

  it('never reads a vehicle that is not hotlisted as a hotlisted plate, candidates included', () => {
    const listed = new Set(hotlist.map((e) => e.plate));
    let checked = 0;
    feed.reads.forEach((r, i) => {
      if (feed.truth[i].entryIndex >= 0) return;
      expect(listed.has(feed.truth[i].truePlate)).toBe(false);
      expect(listed.has(norm(r.plate))).toBe(false);
      for (const c of r.candidates ?? []) expect(listed.has(norm(c.plate))).toBe(false);
      checked++;
    });
    expect(checked).toBeGreaterThan(10_000);
  });

  it('produces every error kind, each with the truth it claims', () => {
    const seen = new Map<ErrorKind, number>();
    feed.reads.forEach((r: PlateRead, i) => {
      const t: ReadTruth = feed.truth[i];
      expect(t.readId).toBe(r.id);
      const read = norm(r.plate);
      const truth = t.truePlate;
      seen.set(t.error, (seen.get(t.error) ?? 0) + 1);
      switch (t.error) {
        case 'none':
          expect(read).toBe(truth);
          break;
        case 'confusable': {
          expect(read.length).toBe(truth.length);
          const diff = [...read].filter((ch, k) => ch !== truth[k]);
          expect(diff.length).toBe(1);
          expect(read).not.toBe(truth);
          expect(collapse(read)).toBe(collapse(truth));
          break;
        }
        case 'substitution':
          expect(read.length).toBe(truth.length);
          expect([...read].filter((ch, k) => ch !== truth[k]).length).toBe(1);
          expect(collapse(read)).not.toBe(collapse(truth));
          break;
        case 'drop_edge':
          expect([truth.slice(1), truth.slice(0, -1)]).toContain(read);
          break;
        case 'extra_edge':
          expect(read.length).toBe(truth.length + 1);
          expect([read.slice(1), read.slice(0, -1)]).toContain(truth);
          break;
        case 'two_errors':
          expect(lev(read, truth)).toBe(2);
          break;
      }
      expect(t.stateUnread).toBe(r.state === '');
      if (!t.stateUnread) expect(r.state).toBe(t.trueState);
      if (t.entryIndex >= 0) {
        expect(truth).toBe(hotlist[t.entryIndex].plate);
        if (hotlist[t.entryIndex].state !== '') expect(t.trueState).toBe(hotlist[t.entryIndex].state);
      }
      expect(r.confidence).toBeGreaterThan(0);
      expect(r.confidence).toBeLessThan(1);
    });
    for (const k of ERROR_KINDS) expect(seen.get(k) ?? 0, k).toBeGreaterThan(200);
  });

  it('reads hotlisted vehicles at about the hit rate and spreads them over entries', () => {
    const { truth } = generateReads({ seed: 8, count: 50_000, hotlist, hitRate: 0.01 });
    const hot = truth.filter((t) => t.entryIndex >= 0);
    expect(hot.length / truth.length).toBeGreaterThan(0.008);
    expect(hot.length / truth.length).toBeLessThan(0.012);
    expect(new Set(hot.map((t) => t.entryIndex)).size).toBeGreaterThan(hot.length * 0.8);
  });

  it('gives clean reads higher confidence than misreads, with overlap', () => {
    const clean: number[] = [];
    const wrong: number[] = [];
    feed.reads.forEach((r, i) => (feed.truth[i].error === 'none' ? clean : wrong).push(r.confidence as number));
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(clean)).toBeGreaterThan(0.85);
    expect(mean(wrong)).toBeLessThan(0.8);
    expect(wrong.filter((c) => c > 0.85).length).toBeGreaterThan(0);
  });

  it('writes some plates as printed, with a space or dash, and gives reads the feed fields', () => {
    expect(feed.reads.some((r) => /[ -]/.test(r.plate))).toBe(true);
    const cameras = new Set(feed.reads.map((r) => r.cameraId));
    expect(cameras.size).toBeGreaterThan(100);
    for (const r of feed.reads.slice(0, 100)) {
      expect(r.agency).toMatch(/^CO\d{7}$/);
      expect(typeof r.ts).toBe('number');
    }
    const ts = feed.reads.map((r) => r.ts as number);
    expect(ts.every((t, k) => k === 0 || t >= ts[k - 1])).toBe(true);
  });
});

describe('fixtures/sample', () => {
  const dir = new URL('../../fixtures/sample/', import.meta.url);
  const csv = readFileSync(new URL('hotlist.csv', dir), 'utf8');
  const readLines = readFileSync(new URL('reads.ndjson', dir), 'utf8').trimEnd().split('\n');
  const truth = readFileSync(new URL('truth.ndjson', dir), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as ReadTruth);

  it('hotlist.csv parses, with the contract entry columns, junk rows, a duplicate and an AMBER entry', () => {
    const rows = parse<Record<string, string>>(csv, { columns: true });
    expect(csv.split('\n')[0]).toBe(HOTLIST_COLUMNS.join(','));
    expect(rows.length).toBeGreaterThan(190);
    expect(rows.filter((r) => isJunkPlate(r.plate)).map((r) => r.plate).sort()).toEqual(['0', '000']);
    expect(rows.some((r) => r.list === 'AMBER')).toBe(true);
    const keys = rows.filter((r) => !isJunkPlate(r.plate)).map((r) => `${r.plate}|${r.state}|${r.list}`);
    expect(keys.length - new Set(keys).size).toBe(1);
    for (const r of rows) if (!isJunkPlate(r.plate)) expect(normalizePlate(r.plate).ok).toBe(true);
  });

  it('reads.ndjson has the generated reads plus the malformed lines, and truth for every generated read', () => {
    const good: PlateRead[] = [];
    let bad = 0;
    for (const line of readLines) {
      let r: unknown;
      try {
        r = JSON.parse(line);
      } catch {
        bad++;
        continue;
      }
      const plate = (r as { plate?: unknown }).plate;
      if (typeof plate !== 'string' || !normalizePlate(plate).ok) bad++;
      else good.push(r as PlateRead);
    }
    expect(bad).toBe(MALFORMED_LINES.length);
    expect(good.map((r) => r.id)).toEqual(truth.map((t) => t.readId));
    const rows = parse<HotlistEntry>(csv, { columns: true });
    const hotKinds = new Set(truth.filter((t) => t.entryIndex >= 0).map((t) => t.error));
    expect([...hotKinds].sort()).toEqual([...ERROR_KINDS].sort());
    for (const t of truth) if (t.entryIndex >= 0) expect(rows[t.entryIndex].plate).toBe(t.truePlate);
  });

  it('is what the generator writes (regenerate with `node dist/fixtures/generate.js --sample`)', () => {
    const sample = buildSample();
    expect(csv).toBe([HOTLIST_COLUMNS.join(','), ...sample.hotlist.map(hotlistRow)].join('\n') + '\n');
    expect(readLines).toEqual(sample.readLines);
    expect(truth).toEqual(JSON.parse(JSON.stringify(sample.truth)));
  });
});
