import { describe, expect, it } from 'vitest';
import { createMatcher, createMatcherFromSnapshot, InvalidEntryError, type HotlistEntry } from '../../matcher/index.js';

const DAY = 86_400_000;
const partial = (over: Partial<HotlistEntry> = {}): HotlistEntry => ({
  id: 'P1',
  pattern: '7AB?12?',
  list: 'BOLO',
  case: '26-004512',
  enteredBy: 'det.ortiz',
  purpose: 'HOMICIDE',
  expires: Date.now() + 30 * DAY,
  ...over,
});

describe('partial-plate entries in the matcher', () => {
  const entries: HotlistEntry[] = [
    { id: 'E1', plate: '7ABC123', state: 'CA', list: 'STOLEN_VEHICLE' },
    partial(),
    partial({ id: 'P2', pattern: '*X4K*', state: 'CO', vehicle: { colour: 'RED', type: 'PICKUP' } }),
    partial({ id: 'P3', pattern: '[8B]RT*' }),
  ];
  const matcher = createMatcher({ entries });

  it('alerts a read that fits a pattern, with the pattern, the case and a partial score', () => {
    const alerts = matcher.match({ id: 'r1', plate: '7ABX129', state: 'CA' });
    expect(alerts).toHaveLength(1);
    const a = alerts[0];
    expect(a).toMatchObject({ entryId: 'P1', match: 'partial', pattern: '7AB?12?', case: '26-004512', matchedPlate: '7ABX129' });
    expect(a.hotlistPlate).toBeUndefined();
    expect(a.score).toBeGreaterThanOrEqual(0.05);
    expect(a.score).toBeLessThanOrEqual(0.19);
    expect(a.verify).toMatch(/Partial-plate match/);
  });

  it('ranks an exact plate hit above a partial hit of the same read', () => {
    const alerts = matcher.match({ id: 'r2', plate: '7ABC123', state: 'CA' });
    expect(alerts.map((a) => [a.entryId, a.match])).toEqual([['E1', 'exact'], ['P1', 'partial']]);
    expect(alerts[0].score).toBeGreaterThan(alerts[1].score);
  });

  it('applies sets, stars, the state and the vehicle attributes the entry names', () => {
    expect(matcher.match({ plate: 'BRT77' }).map((a) => a.entryId)).toEqual(['P3']);
    expect(matcher.match({ plate: '8RT' }).map((a) => a.entryId)).toEqual(['P3']);
    expect(matcher.match({ plate: 'ART77' })).toEqual([]);
    // P2: state CO, red pickup.
    expect(matcher.match({ plate: 'QX4K9', state: 'CO' }).map((a) => a.entryId)).toEqual(['P2']);
    expect(matcher.match({ plate: 'QX4K9', state: 'NM' })).toEqual([]);
    expect(matcher.match({ plate: 'QX4K9', state: 'CO', vehicle: { colour: 'red', type: 'pickup' } })).toHaveLength(1);
    expect(matcher.match({ plate: 'QX4K9', state: 'CO', vehicle: { colour: 'BLUE' } })).toEqual([]);
    expect(matcher.match({ plate: 'QX4K9', state: 'CO', vehicle: { make: 'FORD' } })).toHaveLength(1);
  });

  it('matches OCR equivalents of literals only when partialOcr is on', () => {
    const strict = createMatcher({ entries: [partial({ pattern: 'B8?5' })] });
    const ocr = createMatcher({ entries: [partial({ pattern: 'B8?5' })], partialOcr: true });
    expect(strict.match({ plate: '8BQS' })).toEqual([]);
    const [a] = ocr.match({ plate: '8BQS' });
    expect(a.match).toBe('partial');
    expect(a.distance).toBe(3);
  });

  it('refuses a partial entry without case, enteredBy, purpose or expires', () => {
    for (const key of ['case', 'enteredBy', 'purpose', 'expires'] as const) {
      const e = partial();
      delete e[key];
      expect(() => createMatcher({ entries: [e] }), key).toThrow(InvalidEntryError);
      expect(() => createMatcher({ entries: [e] }), key).toThrow(new RegExp(`no ${key}`));
    }
  });

  it('refuses a partial entry whose purpose the policies forbid, or a malformed pattern', () => {
    expect(() => createMatcher({ entries: [partial({ purpose: 'CIVIL_IMMIGRATION' })] })).toThrow(/refused/);
    expect(() => createMatcher({ entries: [partial({ purpose: 'HOMICIDE', notes: 'track visits to the reproductive health clinic' })] })).toThrow(/refused/);
    expect(() => createMatcher({ entries: [partial({ pattern: '7A[B' })] })).toThrow(InvalidEntryError);
    expect(() => createMatcher({ entries: [partial({ pattern: '*' })] })).toThrow(InvalidEntryError);
  });

  it('carries the pattern index in the snapshot: a matcher made from it alerts the same', () => {
    const again = createMatcherFromSnapshot(matcher.snapshot(), entries);
    const reads = [{ id: 'a', plate: '7ABX129' }, { id: 'b', plate: 'QX4K9', state: 'CO' }, { id: 'c', plate: '8RT' }, { id: 'd', plate: 'ZZZ' }];
    const strip = (xs: Array<{ hotlistAgeS: number }>) => xs.map(({ hotlistAgeS: _, ...rest }) => rest);
    expect(strip(again.matchBatch(reads).alerts)).toEqual(strip(matcher.matchBatch(reads).alerts));
    expect(again.stats().partialEntries).toBe(3);
  });
});
