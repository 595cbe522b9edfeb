import { describe, expect, it } from 'vitest';
import { confusionPairs } from '../../matcher/dispositions/confusion.js';
import { computeAlertStats, type StatsRow } from '../../matcher/dispositions/stats.js';
import { InvalidDispositionError, validateDisposition } from '../../matcher/dispositions/validate.js';

const base = { alertId: 'a1', by: 'op1', at: 1_700_000_000_000 };

function problemOf(input: unknown): string | undefined {
  try {
    validateDisposition(input);
    return undefined;
  } catch (e) {
    if (e instanceof InvalidDispositionError) return e.problem;
    throw e;
  }
}

describe('validateDisposition', () => {
  it('accepts the three outcomes with their rules', () => {
    expect(validateDisposition({ ...base, outcome: 'confirmed', verifiedWith: 'NCIC' })).toEqual({
      ...base,
      outcome: 'confirmed',
      verifiedWith: 'NCIC',
    });
    expect(validateDisposition({ ...base, outcome: 'rejected', reason: 'misread' }).reason).toBe('misread');
    expect(validateDisposition({ ...base, outcome: 'rejected', reason: 'other', note: 'plate cover' }).note).toBe(
      'plate cover',
    );
    expect(validateDisposition({ ...base, outcome: 'no_action' }).outcome).toBe('no_action');
  });

  it('refuses bad dispositions with stable problems', () => {
    expect(problemOf(null)).toBe('NOT_OBJECT');
    expect(problemOf({ ...base, alertId: '' , outcome: 'confirmed' })).toBe('BAD_ALERT_ID');
    expect(problemOf({ ...base, outcome: 'maybe' })).toBe('BAD_OUTCOME');
    expect(problemOf({ ...base, outcome: 'rejected' })).toBe('REASON_REQUIRED');
    expect(problemOf({ ...base, outcome: 'rejected', reason: 'tired' })).toBe('BAD_REASON');
    expect(problemOf({ ...base, outcome: 'rejected', reason: 'other', note: '  ' })).toBe('NOTE_REQUIRED');
    expect(problemOf({ ...base, outcome: 'confirmed', reason: 'misread' })).toBe('REASON_NOT_ALLOWED');
    expect(problemOf({ ...base, by: '', outcome: 'confirmed' })).toBe('BAD_BY');
    expect(problemOf({ ...base, at: 1.5, outcome: 'confirmed' })).toBe('BAD_AT');
    expect(problemOf({ ...base, outcome: 'confirmed', verifiedWith: 7 })).toBe('BAD_VERIFIED_WITH');
  });
});

describe('confusionPairs', () => {
  it('aligns equal-length plates by position', () => {
    expect(confusionPairs('ABC1234', 'ABC1234')).toEqual([]);
    expect(confusionPairs('8BC1O34', 'BBC1034')).toEqual(['8>B', 'O>0']);
  });

  it('uses edit operations for different lengths', () => {
    expect(confusionPairs('ABC123', 'ABC1234')).toEqual(['>4']);
    expect(confusionPairs('AXBC123', 'ABC123')).toEqual(['X>']);
  });
});

describe('computeAlertStats (hand-computed set)', () => {
  const row = (list: string, score: number, outcome: StatsRow['outcome'], plate = 'ABC123', cameraId = 'c1'): StatsRow => ({
    list,
    tier: score === 1 ? 'exact' : 'fuzzy',
    score,
    cameraId,
    plate,
    hotlistPlate: 'ABC123',
    outcome,
  });
  const rows: StatsRow[] = [
    row('AMBER', 1, 'confirmed'),
    row('AMBER', 0.95, 'confirmed'),
    row('AMBER', 0.85, 'confirmed', 'A8C123'),
    row('AMBER', 0.82, 'rejected', 'A8C123', 'c2'),
    row('AMBER', 0.7, 'rejected', 'ABC12', 'c2'),
    row('STOLEN', 0.9, 'no_action'),
    row('STOLEN', 0.9, null),
  ];

  it('counts and rates by group', () => {
    const s = computeAlertStats(rows, 0.66);
    expect(s.total).toMatchObject({ alerts: 7, dispositioned: 6, confirmed: 3, rejected: 2, noAction: 1 });
    expect(s.byList.AMBER).toMatchObject({ alerts: 5, confirmedRate: 0.6, rejectedRate: 0.4 });
    expect(s.byList.STOLEN).toMatchObject({ alerts: 2, dispositioned: 1, confirmedRate: 0, rejectedRate: 0 });
    expect(s.byTier.exact).toMatchObject({ alerts: 1, confirmed: 1 });
    expect(s.byScoreBand['0.8-0.9']).toMatchObject({ alerts: 2, confirmed: 1, rejected: 1, confirmedRate: 0.5 });
    expect(s.byScoreBand['0.9-1.0']).toMatchObject({ alerts: 4, confirmed: 2, noAction: 1 });
    expect(s.byCamera.c2).toMatchObject({ alerts: 2, rejected: 2, rejectedRate: 1 });
    expect(s.byConfusion['8>B']).toMatchObject({ alerts: 2, confirmed: 1, rejected: 1 });
    expect(s.byConfusion['>3']).toMatchObject({ alerts: 1, rejected: 1 });
  });

  it('finds the threshold keeping the chosen share of confirmed alerts', () => {
    // AMBER confirmed 1, 0.95, 0.85: keep 0.66 -> 2 of 3 -> threshold 0.95, removes both rejected.
    expect(computeAlertStats(rows, 0.66).thresholds[0]).toEqual({
      list: 'AMBER', threshold: 0.95, confirmedKept: 2, confirmed: 3, rejectedRemoved: 2, rejected: 2,
    });
    // keep 1 -> threshold 0.85: removes the 0.82 and 0.7 rejections.
    expect(computeAlertStats(rows, 1).thresholds[0]).toMatchObject({ threshold: 0.85, rejectedRemoved: 2 });
    expect(computeAlertStats(rows, 1).thresholds[1]).toMatchObject({ list: 'STOLEN', threshold: null });
  });
});
