import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createMatcher, normalizePlate } from '../../matcher/index.js';

// The core normalizes plates in WebAssembly; the host's normalizePlate serves loading and
// scoring. These must agree on every input, or a read would be judged twice differently.
const alphabet = 'ABZaz09 -.·#/_é😀\t'.split('').concat(['\u00b7', '\u01b7', '\u00ff']);
const rawPlate = fc.array(fc.constantFrom(...alphabet), { minLength: 0, maxLength: 30 }).map((a) => a.join(''));

describe('core plate codec', () => {
  it('normalizes every raw plate exactly as the host normalizePlate does', () => {
    const matcher = createMatcher({ entries: [{ plate: 'A', list: 'BOLO' }] });
    fc.assert(
      fc.property(fc.array(rawPlate, { minLength: 1, maxLength: 50 }), (plates) => {
        const reads = plates.map((plate, i) => ({ id: `r${i}`, plate }));
        const { invalid } = matcher.matchBatch(reads);
        const byIndex = new Map(invalid.map((x) => [x.index, x.code]));
        plates.forEach((plate, i) => {
          const host = normalizePlate(plate);
          expect(byIndex.get(i)).toBe(host.ok ? undefined : host.code);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('matches a read whose plate normalizes to a listed plate, whatever its separators and case', () => {
    const matcher = createMatcher({ entries: [{ id: 'e', plate: 'AB12CD', list: 'STOLEN_PLATE' }] });
    for (const plate of ['ab12cd', 'AB-12-CD', 'A.B 1·2-C.D', ' AB12CD ', 'A-B-1-2-C-D-.-.-.-.-.-.-.-.-.-']) {
      const alerts = matcher.match({ plate });
      expect(alerts.map((a) => [a.entryId, a.match])).toEqual([['e', 'exact']]);
      expect(alerts[0].matchedPlate).toBe('AB12CD');
    }
  });

  it('keeps ten-character plates and rejects eleven', () => {
    const matcher = createMatcher({ entries: [{ id: 'ten', plate: 'ABCDEFGHJK', list: 'BOLO' }] });
    expect(matcher.match({ plate: 'abcdefghjk' })).toHaveLength(1);
    const { invalid } = matcher.matchBatch([{ plate: 'ABCDEFGHJKL' }]);
    expect(invalid[0].code).toBe('PLATE_TOO_LONG');
  });
});
