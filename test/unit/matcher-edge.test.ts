/**
 * Edge cases of the library matcher: normalization limits, invalid reads, states,
 * duplicates and junk, candidates, alert fields, stats, scores and option validation.
 */
import { describe, expect, it } from 'vitest';
import { type AlertTier, createMatcher } from '../../matcher/index.js';
import { InvalidReadError, OptionsError } from '../../matcher/errors.js';
import type { Alert, HotlistEntry, MatchTier, MatcherOptions, PlateRead } from '../../matcher/types.js';

const ALL_TIERS: readonly MatchTier[] = ['exact', 'ocr', 'fuzzy'];

function entry(id: string, plate: string, extra: Partial<HotlistEntry> = {}): HotlistEntry {
  return { id, plate, list: 'STOLEN_VEHICLE', ...extra };
}

function only(alerts: readonly Alert[]): Alert {
  expect(alerts).toHaveLength(1);
  return alerts[0];
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('plate normalization at the limits', () => {
  const matcher = createMatcher({ entries: [entry('ten', 'ABCDE12345'), entry('one', 'X')] });

  it('matches 1- and 10-character plates and rejects 11 characters as PLATE_TOO_LONG', () => {
    const res = matcher.matchBatch([
      { id: 'a', plate: 'ABCDE12345' },
      { id: 'b', plate: 'ABCDE123456' },
      { id: 'c', plate: 'x' },
      { id: 'd', plate: 'ABCDE-12345' },
    ]);
    expect(res.alerts.map((a) => `${a.readId}:${a.entryId}:${a.match}`).sort()).toEqual(['a:ten:exact', 'c:one:exact', 'd:ten:exact']);
    expect(res.invalid).toEqual([expect.objectContaining({ index: 1, readId: 'b', code: 'PLATE_TOO_LONG' })]);
  });

  it('reports an empty plate, or one of separators only, as EMPTY_PLATE', () => {
    const res = matcher.matchBatch([{ id: 'e1', plate: '' }, { id: 'e2', plate: ' -.\u00b7 ' }, { id: 'ok', plate: 'X' }]);
    expect(res.invalid.map((x) => [x.index, x.code])).toEqual([
      [0, 'EMPTY_PLATE'],
      [1, 'EMPTY_PLATE'],
    ]);
    expect(res.alerts.map((a) => a.readId)).toEqual(['ok']);
  });

  it('ignores case and the separators space - . and ·, and reports the plate as read', () => {
    const reads: PlateRead[] = ['abcde12345', 'ABCDE 12345', 'AB-CDE.123·45', 'a b c d e-1.2.3.4.5'].map((plate, i) => ({ id: `s${i}`, plate }));
    const res = matcher.matchBatch(reads);
    expect(res.invalid).toEqual([]);
    expect(res.alerts).toHaveLength(4);
    for (const a of res.alerts) {
      const read = reads.find((r) => r.id === a.readId);
      expect(a.match).toBe('exact');
      expect(a.plate).toBe(read?.plate);
      expect(a.matchedPlate).toBe('ABCDE12345');
    }
  });

  it('reports each invalid character as INVALID_CHARACTER and still matches the rest of the batch', () => {
    const bad = ['AB#123', 'ÄBC123', 'AB_123', 'AB/123', 'AB\t123', 'AB\u00a0123', 'AB😀1', 'AB—1', 'ＡＢ1'];
    const reads: PlateRead[] = [...bad.map((plate, i) => ({ id: `bad${i}`, plate })), { id: 'good', plate: 'X' }];
    const res = matcher.matchBatch(reads);
    expect(res.invalid.map((x) => x.index)).toEqual(bad.map((_, i) => i));
    for (const x of res.invalid) {
      expect(x.code).toBe('INVALID_CHARACTER');
      expect(x.readId).toBe(`bad${x.index}`);
      expect(x.reason.length).toBeGreaterThan(0);
    }
    expect(res.alerts.map((a) => a.readId)).toEqual(['good']);
  });

  it('reports a batch item that is not an object, or has no plate, without throwing', () => {
    const reads = [null, { id: 'np' }, { id: 'num', plate: 12 }, { id: 'good', plate: 'X' }] as unknown as PlateRead[];
    const res = matcher.matchBatch(reads);
    expect(res.invalid.map((x) => x.index)).toEqual([0, 1, 2]);
    expect(res.invalid[0].code).toBe('NOT_AN_OBJECT');
    expect(['MISSING_PLATE', 'BAD_FIELD']).toContain(res.invalid[1].code);
    expect(['MISSING_PLATE', 'BAD_FIELD']).toContain(res.invalid[2].code);
    expect(res.alerts.map((a) => a.readId)).toEqual(['good']);
  });
});

describe('match(read)', () => {
  const matcher = createMatcher({ entries: [entry('e', 'ABC123')] });

  it('returns the alerts of one read', () => {
    expect(only(matcher.match({ id: 'r', plate: 'ABC123' })).entryId).toBe('e');
    expect(matcher.match({ id: 'r', plate: 'ZZZ999' })).toEqual([]);
  });

  it.each([
    ['', 'EMPTY_PLATE'],
    ['ABCDEF123456', 'PLATE_TOO_LONG'],
    ['AB*123', 'INVALID_CHARACTER'],
  ])('throws InvalidReadError for %s with reason %s', (plate, reason) => {
    const err = thrown(() => matcher.match({ id: 'bad', plate }));
    expect(err).toBeInstanceOf(InvalidReadError);
    const e = err as InvalidReadError;
    expect(e.code).toBe('ERR_INVALID_READ');
    expect(e.reason).toBe(reason);
    expect(e.readId).toBe('bad');
    expect(e.name).toBe('InvalidReadError');
  });
});

describe('states', () => {
  const entries = [entry('ca', 'ABC123', { state: 'CA' }), entry('any', 'XYZ789')];

  it('matches an entry with a state against a read of unknown state', () => {
    const m = createMatcher({ entries });
    expect(only(m.match({ plate: 'ABC123' })).entryId).toBe('ca');
    expect(only(m.match({ plate: 'ABC123', state: '' })).entryId).toBe('ca');
    expect(only(m.match({ plate: 'ABC123', state: 'ca' })).entryId).toBe('ca');
  });

  it('matches an entry without a state against any read state', () => {
    const m = createMatcher({ entries });
    expect(only(m.match({ plate: 'XYZ789', state: 'NV' })).entryId).toBe('any');
  });

  it('rejects a different state by default, and matches it with a lower score and stateMismatch when set to match', () => {
    expect(createMatcher({ entries }).match({ plate: 'ABC123', state: 'NV' })).toEqual([]);
    const m = createMatcher({ entries, stateMismatch: 'match' });
    const mismatched = only(m.match({ plate: 'ABC123', state: 'NV', confidence: 0.9 }));
    const same = only(m.match({ plate: 'ABC123', state: 'CA', confidence: 0.9 }));
    expect(mismatched.stateMismatch).toBe(true);
    expect(same.stateMismatch ?? false).toBe(false);
    expect(mismatched.score).toBeLessThan(same.score);
  });
});

describe('hotlist hygiene', () => {
  it('alerts once for duplicate hotlist rows (same plate, state and list) and counts the merge', () => {
    const m = createMatcher({
      entries: [entry('first', 'ABC123', { state: 'CA' }), entry('second', 'abc-123', { state: 'ca' }), entry('other-list', 'ABC123', { state: 'CA', list: 'WANTED' })],
    });
    const alerts = m.match({ plate: 'ABC123', state: 'CA' });
    expect(alerts.map((a) => a.entryId).sort()).toEqual(['first', 'other-list']);
    expect(m.stats().duplicatesMerged).toBe(1);
    expect(m.stats().entries).toBe(2);
  });

  it('skips junk entries (0, 00, 000) and counts them', () => {
    const m = createMatcher({ entries: [entry('j1', '0'), entry('j2', '00'), entry('j3', '000'), entry('real', 'ABC123')] });
    expect(m.matchBatch([{ plate: '0' }, { plate: '00' }, { plate: '000' }]).alerts).toEqual([]);
    expect(m.stats().junkSkipped).toBe(3);
    expect(m.stats().entries).toBe(1);
  });
});

describe('candidates', () => {
  const m = createMatcher({ entries: [entry('e', 'ABC123')], tiers: ALL_TIERS });

  it('alerts on a candidate that matches exactly when the read plate does not', () => {
    const a = only(m.match({ id: 'r', plate: 'XYZ999', confidence: 0.9, candidates: [{ plate: 'ABC123', confidence: 0.6 }] }));
    expect(a.match).toBe('exact');
    expect(a.matchedPlate).toBe('ABC123');
    expect(a.plate).toBe('XYZ999');
  });

  it('alerts each entry once, with the best tier over the plate and its candidates', () => {
    const a = only(
      m.match({ id: 'r', plate: 'A8C123', confidence: 0.9, candidates: [{ plate: 'ABC124', confidence: 0.5 }, { plate: 'ABC123', confidence: 0.4 }] }),
    );
    expect(a.match).toBe('exact');
    expect(a.matchedPlate).toBe('ABC123');
  });
});

describe('alert fields', () => {
  const refreshedAt = Date.now() - 3_600_000;
  const options: MatcherOptions = {
    entries: [
      entry('E-1', 'ABC123', { state: 'CA', list: 'AMBER', priority: 1, source: 'NCIC', ref: 'V123456789', case: 'C-9' }),
      entry('E-2', 'XYZ789', { list: 'BOLO', source: 'LOCAL' }),
    ],
    hotlistVersion: 'v-test-1',
    sourceRefreshedAt: { NCIC: refreshedAt },
  };
  const m = createMatcher(options);

  it('carries every field of the read and the entry', () => {
    const read: PlateRead = {
      id: 'read-1',
      plate: 'abc 123',
      state: 'CA',
      ts: 1_700_000_000_000,
      cameraId: 'cam-7',
      agency: 'CO0010000',
      confidence: 0.93,
      imageRef: 's3://bucket/img.jpg',
    };
    const a = only(m.match(read));
    expect(a).toMatchObject({
      readId: 'read-1',
      plate: 'abc 123',
      matchedPlate: 'ABC123',
      state: 'CA',
      ts: 1_700_000_000_000,
      cameraId: 'cam-7',
      agency: 'CO0010000',
      entryId: 'E-1',
      hotlistPlate: 'ABC123',
      hotlistState: 'CA',
      list: 'AMBER',
      priority: 1,
      source: 'NCIC',
      ref: 'V123456789',
      match: 'exact',
      distance: 0,
      imageRef: 's3://bucket/img.jpg',
      hotlistVersion: 'v-test-1',
    });
    expect(a.score).toBeGreaterThanOrEqual(0.8);
    expect(a.score).toBeLessThanOrEqual(1);
    expect(a.hotlistAgeS).toBeGreaterThanOrEqual(3599);
    expect(a.hotlistAgeS).toBeLessThan(3700);
    expect(typeof a.verify).toBe('string');
    expect(a.verify.length).toBeGreaterThan(0);
    expect(a.alertId).toBeUndefined();
  });

  it('converts an ISO 8601 ts to epoch milliseconds', () => {
    const a = only(m.match({ plate: 'ABC123', ts: '2024-01-02T03:04:05.000Z' }));
    expect(a.ts).toBe(Date.parse('2024-01-02T03:04:05.000Z'));
  });

  it('gives a read without id a generated readId, and an entry source without refresh time an age near zero', () => {
    const a = only(m.match({ plate: 'XYZ789' }));
    expect(typeof a.readId).toBe('string');
    expect(a.readId.length).toBeGreaterThan(0);
    expect(a.hotlistAgeS).toBeGreaterThanOrEqual(0);
    expect(a.hotlistAgeS).toBeLessThan(120);
    expect(a.priority).toBeGreaterThanOrEqual(1);
    expect(a.priority).toBeLessThanOrEqual(5);
  });

  it('labels alerts with a default hotlist version that depends on the entries', () => {
    const v1 = createMatcher({ entries: [entry('a', 'ABC123')] }).stats().hotlistVersion;
    const v1again = createMatcher({ entries: [entry('a', 'ABC123')] }).stats().hotlistVersion;
    const v2 = createMatcher({ entries: [entry('a', 'ABC124')] }).stats().hotlistVersion;
    expect(v1.length).toBeGreaterThan(0);
    expect(v1again).toBe(v1);
    expect(v2).not.toBe(v1);
    expect(createMatcher({ entries: [entry('a', 'ABC123')] }).match({ plate: 'ABC123' })[0].hotlistVersion).toBe(v1);
  });
});

describe('stats()', () => {
  it('reports entries, merges, junk, fuzzy index size and memory', () => {
    const entries: HotlistEntry[] = [
      entry('a', 'ABC123'),
      entry('a-dup', 'ABC123'),
      entry('junk', '000'),
      entry('b', 'XYZ789', { list: 'AMBER' }),
      entry('c', 'QRS456', { list: 'AMBER' }),
    ];
    const m = createMatcher({ entries, listTiers: { AMBER: ALL_TIERS }, hotlistVersion: 'v9' });
    const s = m.stats();
    expect(s.entries).toBe(3);
    expect(s.duplicatesMerged).toBe(1);
    expect(s.junkSkipped).toBe(1);
    expect(s.fuzzyEntries).toBe(2);
    expect(s.fuzzyKeys).toBeGreaterThanOrEqual(2);
    expect(s.memoryBytes).toBeGreaterThan(0);
    expect(s.bytesPerEntry).toBeCloseTo(s.memoryBytes / s.entries, 0);
    expect(s.buildTimeMs).toBeGreaterThanOrEqual(0);
    expect(s.prefilterBits).toBeGreaterThan(0);
    expect(s.prefilterFalsePositiveRate).toBeGreaterThanOrEqual(0);
    expect(s.prefilterFalsePositiveRate).toBeLessThanOrEqual(0.02);
    expect(s.hotlistVersion).toBe('v9');
  });

  it('measures a prefilter false-positive rate near the one asked for', () => {
    const entries: HotlistEntry[] = [];
    for (let i = 0; i < 20_000; i++) entries.push(entry(`p${i}`, `P${i.toString(36).toUpperCase()}X`));
    for (const target of [0.01, 0.05]) {
      const s = createMatcher({ entries, prefilterFalsePositiveRate: target }).stats();
      expect(s.prefilterFalsePositiveRate).toBeGreaterThan(0);
      expect(s.prefilterFalsePositiveRate).toBeLessThanOrEqual(target * 2);
      expect(s.prefilterBits).toBeGreaterThan(0);
    }
  });

  it('indexes nothing for the fuzzy tier when no list uses it', () => {
    const s = createMatcher({ entries: [entry('a', 'ABC123')] }).stats();
    expect(s.fuzzyEntries).toBe(0);
    expect(s.fuzzyKeys).toBe(0);
  });

  it('builds an empty hotlist that matches nothing', () => {
    const m = createMatcher({ entries: [] });
    expect(m.stats().entries).toBe(0);
    expect(m.matchBatch([{ plate: 'ABC123' }]).alerts).toEqual([]);
  });
});

describe('scores', () => {
  const entries = [
    entry('exact', 'ABC123', { list: 'L1' }),
    entry('ocr', 'A8C123', { list: 'L2' }),
    entry('fuzzy', 'ABC124', { list: 'L3' }),
  ];
  const m = createMatcher({ entries, tiers: ALL_TIERS, maxDistance: 1 });

  it('ranks exact above ocr above fuzzy for the same read', () => {
    for (const confidence of [undefined, 1, 0.9, 0.5, 0.1, 0]) {
      const alerts = m.match({ plate: 'ABC123', confidence });
      const by = Object.fromEntries(alerts.map((a) => [a.entryId, a]));
      expect(by.exact.match).toBe('exact');
      expect(by.ocr.match).toBe('ocr');
      expect(by.fuzzy.match).toBe('fuzzy');
      expect(by.fuzzy.distance).toBe(1);
      expect(by.exact.score).toBeGreaterThan(by.ocr.score);
      expect(by.ocr.score).toBeGreaterThan(by.fuzzy.score);
    }
  });

  it('keeps each tier in its score band and every score in [0, 1]', () => {
    const bands: Record<AlertTier, [number, number]> = { exact: [0.8, 1], ocr: [0.55, 0.79], fuzzy: [0.2, 0.54], partial: [0.05, 0.19] };
    for (const confidence of [undefined, 1, 0.99, 0.7, 0.3, 0.01, 0]) {
      for (const plate of ['ABC123', 'A8C123', 'ABC124', 'A8C124', 'ABC12', 'ABC1234']) {
        for (const a of m.match({ plate, confidence })) {
          const [lo, hi] = bands[a.match];
          expect(a.score).toBeGreaterThanOrEqual(lo);
          expect(a.score).toBeLessThanOrEqual(hi);
        }
      }
    }
  });

  it('lowers the score within a tier when the read confidence is lower', () => {
    for (const plate of ['ABC123', 'A8C123', 'ABC125']) {
      const high = m.match({ plate, confidence: 0.95 });
      const low = m.match({ plate, confidence: 0.4 });
      expect(low.length).toBe(high.length);
      for (const h of high) {
        const l = low.find((x) => x.entryId === h.entryId);
        expect(l?.match).toBe(h.match);
        expect(l?.score).toBeLessThan(h.score);
      }
    }
  });

  it('drops alerts below minScore', () => {
    const strict = createMatcher({ entries, tiers: ALL_TIERS, minScore: 0.8 });
    expect(strict.match({ plate: 'ABC123', confidence: 1 }).map((a) => a.match)).toEqual(['exact']);
  });
});

describe('option validation', () => {
  const entries = [entry('a', 'ABC123')];
  const cases: Array<[string, Partial<MatcherOptions>, RegExp]> = [
    ['a bad tier name', { tiers: ['exact', 'soundex' as MatchTier] }, /^tiers/],
    ['a bad tier name in listTiers', { listTiers: { AMBER: ['exact', 'nearby' as MatchTier] } }, /^listTiers/],
    ['maxDistance 3', { maxDistance: 3 }, /^maxDistance$/],
    ['maxDistance -1', { maxDistance: -1 }, /^maxDistance$/],
    ['maxDistance 1.5', { maxDistance: 1.5 }, /^maxDistance$/],
    ['a character in two OCR classes', { ocrClasses: ['0O', 'O8'] }, /^ocrClasses/],
    ['an OCR class with a character outside A-Z0-9', { ocrClasses: ['0O#'] }, /^ocrClasses/],
    ['ocrClasses not an array', { ocrClasses: '0O' as unknown as string[] }, /^ocrClasses/],
    ['a bad stateMismatch', { stateMismatch: 'maybe' as 'match' }, /^stateMismatch$/],
  ];

  it.each(cases)('throws OptionsError naming the key for %s', (_name, bad, keyPattern) => {
    const err = thrown(() => createMatcher({ entries, ...bad }));
    expect(err).toBeInstanceOf(OptionsError);
    const e = err as OptionsError;
    expect(e.code).toBe('ERR_OPTIONS');
    expect(e.key).toMatch(keyPattern);
    expect(e.message).toContain(`options.${e.key}`);
  });

  it('throws OptionsError when entries is missing', () => {
    const err = thrown(() => createMatcher({} as MatcherOptions));
    expect(err).toBeInstanceOf(OptionsError);
    expect((err as OptionsError).key).toMatch(/^entries/);
  });
});
