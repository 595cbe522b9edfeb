/**
 * Scoring of hits on the host: the table-driven fuzzy factors and OCR collapse, and the
 * plates read back from the core's packed keys, held to plain string implementations of
 * the same definitions (core/score.ts documents the formula).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fuzzyFactors, confusionFactor } from '../../matcher/core/score.js';
import { collapsePlate, ocrClassMap, ocrCollapseTable, DEFAULT_OCR_CLASSES, normalizeState } from '../../matcher/core/plate.js';
import { charCode, unpackPlate } from '../../matcher/core/codes.js';

const CONFUSION: Record<string, number> = {
  '0O': 0.95, '0D': 0.8, '0Q': 0.7, 'DO': 0.75, 'OQ': 0.7, 'DQ': 0.6,
  '1I': 0.9, '1L': 0.7, 'IL': 0.7,
  '2Z': 0.8, '5S': 0.85, '8B': 0.85, '6G': 0.75,
};
const pair = (a: string, b: string): number => CONFUSION[a < b ? a + b : b + a] ?? 0.7;

/** The factors by a full edit-distance table and its traceback over strings, every time. */
function referenceFactors(read: string, entry: string, classes: readonly string[]): { edits: number; confusion: number } {
  const map = ocrClassMap(classes);
  const cr = collapsePlate(read, map);
  const ce = collapsePlate(entry, map);
  const n = cr.length;
  const m = ce.length;
  const d: number[][] = Array.from({ length: n + 1 }, (_, i) => Array.from({ length: m + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= m; j++) {
      d[i][j] = Math.min(d[i - 1][j - 1] + (cr[i - 1] === ce[j - 1] ? 0 : 1), d[i - 1][j] + 1, d[i][j - 1] + 1);
    }
  }
  let edits = 1;
  let confusion = 1;
  let i = n;
  let j = m;
  while (i > 0 || j > 0) {
    if (i > 0 && j > 0 && d[i][j] === d[i - 1][j - 1] + (cr[i - 1] === ce[j - 1] ? 0 : 1)) {
      if (cr[i - 1] !== ce[j - 1]) edits *= 0.45;
      else if (read[i - 1] !== entry[j - 1]) confusion *= pair(read[i - 1], entry[j - 1]);
      i--;
      j--;
    } else if (i > 0 && d[i][j] === d[i - 1][j] + 1) {
      edits *= i === 1 || i === n ? 0.6 : 0.45;
      i--;
    } else {
      edits *= j === 1 || j === m ? 0.6 : 0.45;
      j--;
    }
  }
  return { edits, confusion };
}

const ALPHABET = 'A0ODQ1IL2Z5S8B6GX7';
const plate = fc.string({ unit: fc.constantFrom(...ALPHABET), minLength: 1, maxLength: 10 });
const edit = fc.record({ kind: fc.constantFrom('sub', 'ins', 'del'), pos: fc.nat(10), ch: fc.constantFrom(...ALPHABET) });

function mutate(p: string, edits: ReadonlyArray<{ kind: string; pos: number; ch: string }>): string {
  for (const e of edits) {
    const i = e.pos % (p.length + 1);
    if (e.kind === 'sub' && p.length > 0) p = p.slice(0, i % p.length) + e.ch + p.slice((i % p.length) + 1);
    else if (e.kind === 'ins' && p.length < 10) p = p.slice(0, i) + e.ch + p.slice(i);
    else if (e.kind === 'del' && p.length > 1) p = p.slice(0, i % p.length) + p.slice((i % p.length) + 1);
  }
  return p;
}

describe('fuzzy factors', () => {
  for (const [name, classes, runs] of [['the default OCR classes', DEFAULT_OCR_CLASSES, 3000], ['other OCR classes', ['AX', '7Z2', 'B8'], 1000]] as const) {
    it(`equal the full traceback for plates within two edits, of equal and of different lengths, with ${name}`, () => {
      const table = ocrCollapseTable(classes);
      fc.assert(
        fc.property(plate, fc.array(edit, { maxLength: 2 }), (entry, edits) => {
          const read = mutate(entry, edits);
          expect(fuzzyFactors(read, entry, table)).toEqual(referenceFactors(read, entry, classes));
        }),
        { numRuns: runs },
      );
    });
  }

  it('weigh one substitution as an inner edit wherever it is, and aligned confusions by their pair', () => {
    const table = ocrCollapseTable(DEFAULT_OCR_CLASSES);
    expect(fuzzyFactors('XBC123', 'ABC123', table)).toEqual({ edits: 0.45, confusion: 1 });
    expect(fuzzyFactors('ABC12X', 'ABC123', table)).toEqual({ edits: 0.45, confusion: 1 });
    expect(fuzzyFactors('0BC12X', 'OBC123', table)).toEqual({ edits: 0.45, confusion: 0.95 });
    expect(fuzzyFactors('ABC1234', 'ABC123', table)).toEqual({ edits: 0.6, confusion: 1 });
  });
});

describe('OCR collapse table', () => {
  it('maps every character as the class map does', () => {
    for (const classes of [DEFAULT_OCR_CLASSES, ['AX', '7Z2']]) {
      const map = ocrClassMap(classes);
      const table = ocrCollapseTable(classes);
      for (const ch of '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ') {
        expect(String.fromCharCode(table[ch.charCodeAt(0)])).toBe(map.get(ch) ?? ch);
      }
    }
  });

  it('gives the confusion factor of either order of a pair', () => {
    expect(confusionFactor('0', 'O')).toBe(0.95);
    expect(confusionFactor('O', '0')).toBe(0.95);
    expect(confusionFactor('S5', '5S')).toBeCloseTo(0.85 * 0.85, 12);
    expect(confusionFactor('2', 'A')).toBe(0.7); // a pair of configured classes not in the table
  });
});

describe('packed plates read back from linear memory', () => {
  it('unpack every length and character from their two 32-bit words', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'), minLength: 0, maxLength: 10 }), (p) => {
        let key = 0n;
        for (let i = 0; i < p.length; i++) key |= BigInt(charCode(p[i])) << BigInt(6 * i);
        expect(unpackPlate(Number(key & 0xffffffffn), Number(key >> 32n))).toBe(p);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('normalizeState', () => {
  it('keeps normalized states and trims and upper-cases the rest', () => {
    expect(normalizeState('CO')).toBe('CO');
    expect(normalizeState(' co ')).toBe('CO');
    expect(normalizeState('Co')).toBe('CO');
    expect(normalizeState('\u00a0CA')).toBe('CA');
    expect(normalizeState('')).toBe('');
    expect(normalizeState(undefined)).toBe('');
  });
});
