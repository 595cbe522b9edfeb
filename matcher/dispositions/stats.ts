/**
 * False-alert statistics over dispositioned alerts: counts and confirmed/rejected rates by
 * list, tier, score band, camera and confusion, and per list the score threshold that keeps a
 * chosen share of confirmed alerts. Pure, so a hand-computed set can check it.
 */
import { confusionPairs } from './confusion.js';
import type { DispositionOutcome } from './validate.js';

/** One alert with its disposition (null while none was made). */
export interface StatsRow {
  list: string;
  tier: string;
  score: number;
  cameraId: string;
  plate: string;
  hotlistPlate: string;
  outcome: DispositionOutcome | null;
}

/** Counts of one group. Rates are over dispositioned alerts (null when none). */
export interface GroupStats {
  alerts: number;
  dispositioned: number;
  confirmed: number;
  rejected: number;
  noAction: number;
  confirmedRate: number | null;
  rejectedRate: number | null;
}

/** Per list: the highest threshold keeping at least `keep` of the confirmed alerts. */
export interface ListThreshold {
  list: string;
  threshold: number | null;
  confirmedKept: number;
  confirmed: number;
  rejectedRemoved: number;
  rejected: number;
}

/** The statistics of a period. */
export interface AlertStats {
  total: GroupStats;
  byList: Record<string, GroupStats>;
  byTier: Record<string, GroupStats>;
  byScoreBand: Record<string, GroupStats>;
  byCamera: Record<string, GroupStats>;
  byConfusion: Record<string, GroupStats>;
  thresholds: ListThreshold[];
  keep: number;
}

function empty(): GroupStats {
  return { alerts: 0, dispositioned: 0, confirmed: 0, rejected: 0, noAction: 0, confirmedRate: null, rejectedRate: null };
}

function add(groups: Record<string, GroupStats>, key: string, outcome: DispositionOutcome | null): void {
  const g = (groups[key] ??= empty());
  count(g, outcome);
}

function count(g: GroupStats, outcome: DispositionOutcome | null): void {
  g.alerts++;
  if (outcome === null) return;
  g.dispositioned++;
  if (outcome === 'confirmed') g.confirmed++;
  else if (outcome === 'rejected') g.rejected++;
  else g.noAction++;
}

function finish(g: GroupStats): void {
  g.confirmedRate = g.dispositioned === 0 ? null : g.confirmed / g.dispositioned;
  g.rejectedRate = g.dispositioned === 0 ? null : g.rejected / g.dispositioned;
}

/** Score band label, 0.1 wide (`0.8-0.9`); a score of 1 falls in `0.9-1.0`. */
export function scoreBand(score: number): string {
  const lo = Math.min(9, Math.max(0, Math.floor(score * 10 + 1e-9)));
  return `${(lo / 10).toFixed(1)}-${((lo + 1) / 10).toFixed(1)}`;
}

/** Computes the statistics; `keep` is the share (0..1] of confirmed alerts a threshold keeps. */
export function computeAlertStats(rows: readonly StatsRow[], keep: number): AlertStats {
  const total = empty();
  const byList: Record<string, GroupStats> = {};
  const byTier: Record<string, GroupStats> = {};
  const byScoreBand: Record<string, GroupStats> = {};
  const byCamera: Record<string, GroupStats> = {};
  const byConfusion: Record<string, GroupStats> = {};
  for (const r of rows) {
    count(total, r.outcome);
    add(byList, r.list, r.outcome);
    add(byTier, r.tier, r.outcome);
    add(byScoreBand, scoreBand(r.score), r.outcome);
    add(byCamera, r.cameraId, r.outcome);
    // A pair counts once per alert even when it occurs twice in the plate.
    for (const pair of new Set(confusionPairs(r.plate, r.hotlistPlate))) add(byConfusion, pair, r.outcome);
  }
  finish(total);
  for (const groups of [byList, byTier, byScoreBand, byCamera, byConfusion]) Object.values(groups).forEach(finish);
  const thresholds = Object.keys(byList)
    .sort()
    .map((list) => threshold(list, rows.filter((r) => r.list === list), keep));
  return { total, byList, byTier, byScoreBand, byCamera, byConfusion, thresholds, keep };
}

function threshold(list: string, rows: readonly StatsRow[], keep: number): ListThreshold {
  const confirmed = rows.filter((r) => r.outcome === 'confirmed').map((r) => r.score).sort((a, b) => b - a);
  const rejected = rows.filter((r) => r.outcome === 'rejected').map((r) => r.score);
  if (confirmed.length === 0) {
    return { list, threshold: null, confirmedKept: 0, confirmed: 0, rejectedRemoved: 0, rejected: rejected.length };
  }
  // Keeping the top ceil(keep*n) confirmed scores: the threshold is the lowest of them.
  const need = Math.max(1, Math.ceil(keep * confirmed.length - 1e-9));
  const t = confirmed[need - 1];
  return {
    list,
    threshold: t,
    confirmedKept: confirmed.filter((s) => s >= t).length,
    confirmed: confirmed.length,
    rejectedRemoved: rejected.filter((s) => s < t).length,
    rejected: rejected.length,
  };
}
