/**
 * Property tests: the matcher returns exactly the alerts of the brute-force reference
 * (test/helpers/reference.ts) on random hotlists and reads. Plates come from a small
 * alphabet full of OCR-confusable characters and are short, so exact collisions, OCR
 * confusions and near misses are frequent; reads are often mutations of hotlist plates.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createMatcher } from '../../matcher/index.js';
import type { HotlistEntry, MatchTier, MatcherOptions, PlateRead } from '../../matcher/types.js';
import { referenceMatch, type ReferenceOptions } from '../helpers/reference.js';

const ALPHABET = 'A0OB8S5Z2DQ1IX7';
const LISTS = ['STOLEN_VEHICLE', 'AMBER', 'BOLO'] as const;
const RUNS = Number(process.env.PROPERTY_RUNS ?? 500);

const char = fc.constantFrom(...ALPHABET);
/** Mostly short plates (many collisions), sometimes up to the 10-character limit. */
function plateArb(minLength: number): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: char, minLength, maxLength: Math.max(minLength, 4) }) },
    { weight: 2, arbitrary: fc.string({ unit: char, minLength, maxLength: 10 }) },
  );
}
const stateArb = fc.constantFrom('', '', 'CA', 'NV');

interface Edit {
  kind: 'sub' | 'ins' | 'del';
  pos: number;
  ch: string;
}
const editArb: fc.Arbitrary<Edit> = fc.record({
  kind: fc.constantFrom('sub', 'ins', 'del'),
  pos: fc.nat(20),
  ch: char,
});

/** Applies edits, keeping the plate within minLength..10 characters. */
function mutate(plate: string, edits: readonly Edit[], minLength: number): string {
  let p = plate;
  for (const e of edits) {
    const i = e.pos % (p.length + 1);
    if (e.kind === 'sub' && p.length > 0) p = p.slice(0, i % p.length) + e.ch + p.slice((i % p.length) + 1);
    else if (e.kind === 'ins' && p.length < 10) p = p.slice(0, i) + e.ch + p.slice(i);
    else if (e.kind === 'del' && p.length > minLength) p = p.slice(0, i % p.length) + p.slice((i % p.length) + 1);
  }
  return p;
}

/** Cosmetic changes normalization must undo: lower case and separators. */
function decorate(plate: string, how: number): string {
  switch (how) {
    case 1:
      return plate.toLowerCase();
    case 2:
      return plate.length > 1 ? `${plate.slice(0, 1)}-${plate.slice(1)}` : ` ${plate}`;
    case 3:
      return plate.split('').join('\u00b7');
    default:
      return plate;
  }
}

/** A plate spec: random, or a mutation of the hotlist entry at `from` (mod the hotlist size). */
function plateSpecArb(minLength: number) {
  return fc.record({
    random: plateArb(minLength),
    from: fc.option(fc.nat(1000), { freq: 3 }),
    edits: fc.array(editArb, { maxLength: 2 }),
    decoration: fc.constantFrom(0, 0, 0, 1, 2, 3),
  });
}
type PlateSpec = { random: string; from: number | null; edits: Edit[]; decoration: number };

function resolvePlate(spec: PlateSpec, entries: readonly HotlistEntry[], minLength: number): string {
  const base = spec.from !== null && entries.length > 0 ? (entries[spec.from % entries.length].plate ?? spec.random) : spec.random;
  return decorate(mutate(base, spec.edits, minLength), spec.decoration);
}

const INVALID_PLATES = ['', ' - ', 'AB#1', 'ABCDE123456', 'ÄB1'];

/**
 * A random hotlist and batch. `minLength` is the shortest plate: 1 for exact and ocr; for the
 * fuzzy tier maxDistance + 1, so that no match needs every character edited (those cases,
 * where the deletion neighbourhoods meet only at the empty string, have their own tests).
 */
function scenarioArb(minLength: number) {
  return fc
    .record({
      entries: fc.array(fc.record({ plate: plateArb(minLength), state: stateArb, list: fc.constantFrom(...LISTS) }), { maxLength: 25 }),
      reads: fc.array(
        fc.record({
          plate: plateSpecArb(minLength),
          state: stateArb,
          candidates: fc.array(fc.record({ plate: plateSpecArb(minLength), confidence: fc.double({ min: 0, max: 1, noNaN: true }) }), { maxLength: 2 }),
          invalid: fc.option(fc.constantFrom(...INVALID_PLATES), { freq: 12 }),
          confidence: fc.option(fc.double({ min: 0, max: 1, noNaN: true })),
        }),
        { minLength: 1, maxLength: 25 },
      ),
    })
    .map((s) => ({ ...s, minLength }));
}
type Scenario = ReturnType<typeof scenarioArb> extends fc.Arbitrary<infer T> ? T : never;

function build(s: Scenario): { entries: HotlistEntry[]; reads: PlateRead[] } {
  const entries: HotlistEntry[] = s.entries.map((e, i) => ({ id: `e${i}`, plate: e.plate, state: e.state, list: e.list, source: 'NCIC' }));
  const reads: PlateRead[] = s.reads.map((r, i) => {
    const read: PlateRead = { id: `r${i}`, plate: r.invalid ?? resolvePlate(r.plate, entries, s.minLength), state: r.state };
    if (r.confidence !== null) read.confidence = r.confidence;
    if (r.candidates.length > 0) {
      // candidates stay valid: what the core does with an invalid candidate is not part of this property
      read.candidates = r.candidates.map((c) => ({ plate: resolvePlate(c.plate as PlateSpec, entries, s.minLength), confidence: c.confidence }));
    }
    return read;
  });
  return { entries, reads };
}

function key(readId: string, entryId: string, match: string, distance: number, mismatch: boolean): string {
  return `${readId}|${entryId}|${match}|${distance}${mismatch ? '|mismatch' : ''}`;
}

/** Runs both matchers and compares alert sets and invalid-read positions. */
function check(s: Scenario, options: ReferenceOptions): void {
  const { entries, reads } = build(s);
  const matcherOptions: MatcherOptions = { entries, ...options };
  const matcher = createMatcher(matcherOptions);
  const got = matcher.matchBatch(reads);
  const expected = referenceMatch(entries, reads, options);

  // Among same-tier plates of one read (plate and candidates) the matcher keeps the best
  // score, which may not be the smallest distance: any distance the reference found in
  // that tier is accepted, and reported as the smallest so that the sets compare.
  const allowed = new Map(expected.map((h) => [`r${h.readIndex}|e${h.entryIndex}`, h.tierDistances]));
  const gotKeys = got.alerts
    .map((a) => {
      const ds = allowed.get(`${a.readId}|${a.entryId}`) ?? [];
      const d = ds.includes(a.distance) ? ds[0] : a.distance;
      return key(a.readId, a.entryId, a.match, d, a.stateMismatch === true);
    })
    .sort();
  const expKeys = expected.map((h) => key(`r${h.readIndex}`, `e${h.entryIndex}`, h.match, h.distance, h.stateMismatch)).sort();
  expect(gotKeys).toEqual(expKeys);

  const expInvalid = reads.flatMap((r, i) => (INVALID_PLATES.includes(r.plate) ? [i] : []));
  expect(got.invalid.map((x) => x.index).sort((a, b) => a - b)).toEqual(expInvalid);

  for (const a of got.alerts) {
    expect(a.score).toBeGreaterThanOrEqual(0);
    expect(a.score).toBeLessThanOrEqual(1);
  }
}

const TIER_SETS: readonly (readonly MatchTier[])[] = [['exact'], ['exact', 'ocr'], ['exact', 'ocr', 'fuzzy']];
const stateOptionArb = fc.constantFrom<'reject' | 'match'>('reject', 'match');

describe('matcher agrees with the brute-force reference', () => {
  for (const tiers of TIER_SETS) {
    for (const maxDistance of [0, 1, 2]) {
      if (!tiers.includes('fuzzy') && maxDistance !== 1) continue; // maxDistance only matters with fuzzy
      it(`gives the same alerts for tiers ${tiers.join('+')}, maxDistance ${maxDistance}, any state policy`, () => {
        fc.assert(
          fc.property(scenarioArb(tiers.includes('fuzzy') ? maxDistance + 1 : 1), stateOptionArb, (s, stateMismatch) => check(s, { tiers, maxDistance, stateMismatch })),
          { numRuns: RUNS },
        );
      });
    }
  }

  it('gives the same alerts with the fuzzy tier alone and with exact+fuzzy or ocr+fuzzy (maxDistance 1, 2)', () => {
    fc.assert(
      fc.property(scenarioArb(3), fc.constantFrom<readonly MatchTier[]>(['fuzzy'], ['exact', 'fuzzy'], ['ocr', 'fuzzy']), fc.integer({ min: 1, max: 2 }), (s, tiers, maxDistance) =>
        check(s, { tiers, maxDistance }),
      ),
      { numRuns: RUNS },
    );
  });

  it('matches collapse-equal plates as fuzzy at distance 0 when maxDistance is 0 and the ocr tier is off', () => {
    fc.assert(
      fc.property(scenarioArb(1), fc.constantFrom<readonly MatchTier[]>(['fuzzy'], ['exact', 'fuzzy']), (s, tiers) => check(s, { tiers, maxDistance: 0 })),
      { numRuns: RUNS },
    );
  });

  it('matches plates of 1 and 2 characters that differ in every character within maxDistance', () => {
    fc.assert(
      fc.property(scenarioArb(1), fc.integer({ min: 1, max: 2 }), stateOptionArb, (s, maxDistance, stateMismatch) =>
        check(s, { tiers: ['exact', 'ocr', 'fuzzy'], maxDistance, stateMismatch }),
      ),
      { numRuns: RUNS },
    );
  });

  it('gives the same alerts with per-list tiers (lists not named get exact+ocr)', () => {
    const tierChoice = fc.constantFrom<readonly MatchTier[]>(['exact'], ['exact', 'ocr'], ['exact', 'ocr', 'fuzzy'], ['ocr']);
    const listTiersArb = fc.record(
      { AMBER: tierChoice, BOLO: tierChoice },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(scenarioArb(3), listTiersArb, fc.integer({ min: 0, max: 2 }), stateOptionArb, (s, listTiers, maxDistance, stateMismatch) =>
        check(s, { listTiers, maxDistance, stateMismatch }),
      ),
      { numRuns: RUNS },
    );
  });

  it('gives the same alerts with the default options', () => {
    fc.assert(fc.property(scenarioArb(1), (s) => check(s, {})), { numRuns: RUNS });
  });

  it('gives the same alerts with custom OCR classes', () => {
    // a random partition of some characters into classes of 2..4, first character the representative
    const classesArb = fc
      .tuple(fc.shuffledSubarray([...ALPHABET, '4', '9'], { minLength: 2 }), fc.array(fc.integer({ min: 2, max: 4 }), { minLength: 8, maxLength: 8 }))
      .map(([chars, sizes]) => {
        const classes: string[] = [];
        let at = 0;
        for (const size of sizes) {
          if (chars.length - at < 2) break;
          const take = Math.min(size, chars.length - at);
          classes.push(chars.slice(at, at + take).join(''));
          at += take;
        }
        return classes;
      });
    fc.assert(
      fc.property(scenarioArb(3), classesArb, fc.constantFrom<readonly MatchTier[]>(['exact', 'ocr'], ['exact', 'ocr', 'fuzzy']), fc.integer({ min: 0, max: 2 }), (s, ocrClasses, tiers, maxDistance) =>
        check(s, { ocrClasses, tiers, maxDistance }),
      ),
      { numRuns: RUNS },
    );
  });

  it('finds the same alerts with match(read) as with matchBatch([read])', () => {
    fc.assert(
      fc.property(scenarioArb(1), (s) => {
        const { entries, reads } = build(s);
        const matcher = createMatcher({ entries, tiers: ['exact', 'ocr', 'fuzzy'], maxDistance: 1 });
        for (const read of reads) {
          if (INVALID_PLATES.includes(read.plate)) continue;
          const single = matcher.match(read).map((a) => `${a.entryId}|${a.match}|${a.distance}|${a.score}`).sort();
          const batch = matcher.matchBatch([read]).alerts.map((a) => `${a.entryId}|${a.match}|${a.distance}|${a.score}`).sort();
          expect(single).toEqual(batch);
        }
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
  });
});
