/**
 * Brute-force reference matcher, written from the matching semantics in docs/contracts.md and the
 * shared contract, not from the core. No index, no filter: every read is compared with every
 * entry, with a plain dynamic-programming Levenshtein. Slow on purpose; property tests hold
 * the real matcher equal to it.
 */
import type { HotlistEntry, MatchTier, PlateRead, StateMismatchPolicy } from '../../matcher/types.js';

/** Options of {@link referenceMatch}; the subset of MatcherOptions that decides which alerts exist. */
export interface ReferenceOptions {
  tiers?: readonly MatchTier[];
  listTiers?: Readonly<Record<string, readonly MatchTier[]>>;
  ocrClasses?: readonly string[];
  maxDistance?: number;
  stateMismatch?: StateMismatchPolicy;
}

/** One expected alert: `entryIndex` is the index (in the given entries) of the entry that survives merging. */
export interface ReferenceHit {
  readIndex: number;
  entryIndex: number;
  match: MatchTier;
  distance: number;
  stateMismatch: boolean;
  /** The normalized plate (read plate or candidate) that gave this hit. */
  matchedPlate: string;
  /**
   * Distances of every plate of the read (plate and candidates) that reaches the best tier,
   * ascending. `distance` is the smallest; a matcher that ranks same-tier plates by score
   * (confidence, which edit) may legitimately report another one of these.
   */
  tierDistances: number[];
}

/** Outcome of normalizing one raw plate: the normalized plate, or null when it is invalid. */
export function refNormalize(raw: string): string | null {
  let out = '';
  for (const ch of raw) {
    if (ch === ' ' || ch === '-' || ch === '.' || ch === '\u00b7') continue;
    const up = ch >= 'a' && ch <= 'z' ? ch.toUpperCase() : ch;
    if (!/^[A-Z0-9]$/.test(up)) return null;
    out += up;
  }
  if (out.length === 0 || out.length > 10) return null;
  return out;
}

/** Why a raw plate is invalid, or null when it is valid (same order of checks as the contract). */
export function refInvalidCode(raw: string): 'INVALID_CHARACTER' | 'EMPTY_PLATE' | 'PLATE_TOO_LONG' | null {
  let n = 0;
  for (const ch of raw) {
    if (ch === ' ' || ch === '-' || ch === '.' || ch === '\u00b7') continue;
    const up = ch >= 'a' && ch <= 'z' ? ch.toUpperCase() : ch;
    if (!/^[A-Z0-9]$/.test(up)) return 'INVALID_CHARACTER';
    n++;
  }
  if (n === 0) return 'EMPTY_PLATE';
  if (n > 10) return 'PLATE_TOO_LONG';
  return null;
}

const DEFAULT_CLASSES = ['0ODQ', '1IL', '2Z', '5S', '8B', '6G'];

/** Character -> representative (first character of its class). */
function classMapOf(classes: readonly string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const cls of classes) for (const ch of cls) map[ch] = cls[0];
  return map;
}

function collapse(plate: string, map: Record<string, string>): string {
  let out = '';
  for (const ch of plate) out += map[ch] ?? ch;
  return out;
}

/** Textbook Levenshtein (unit cost substitution, insertion, deletion). */
export function levenshtein(a: string, b: string): number {
  const prev: number[] = [];
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(up + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

function state(s: string | undefined): string {
  return typeof s === 'string' ? s.trim().toUpperCase() : '';
}

const TIER_RANK: Record<MatchTier, number> = { exact: 0, ocr: 1, fuzzy: 2 };

/** True when hit a is better than hit b: better tier, then smaller distance. */
function better(a: { match: MatchTier; distance: number }, b: { match: MatchTier; distance: number }): boolean {
  if (TIER_RANK[a.match] !== TIER_RANK[b.match]) return TIER_RANK[a.match] < TIER_RANK[b.match];
  return a.distance < b.distance;
}

/**
 * Every (read, entry) hit, at most one per pair (the best over the read plate and its
 * candidates). Invalid reads produce nothing; invalid candidates are ignored; junk entries
 * (all '0') are skipped; duplicate entries (same plate, state and list) merge into the first.
 * Sorted by readIndex, then entryIndex.
 */
export function referenceMatch(
  entries: readonly HotlistEntry[],
  reads: readonly PlateRead[],
  options: ReferenceOptions = {},
): ReferenceHit[] {
  const map = classMapOf(options.ocrClasses ?? DEFAULT_CLASSES);
  const maxDistance = options.maxDistance ?? 1;
  const allowMismatch = options.stateMismatch === 'match';

  interface Indexed {
    index: number;
    plate: string;
    collapsed: string;
    state: string;
    tiers: ReadonlySet<MatchTier>;
  }
  const indexed: Indexed[] = [];
  const seen = new Set<string>();
  entries.forEach((entry, index) => {
    const plate = refNormalize(entry.plate ?? '');
    if (plate === null) return; // the real matcher rejects these; tests give only valid plates
    if (/^0+$/.test(plate)) return;
    const st = state(entry.state);
    const key = `${plate}\u0000${st}\u0000${entry.list}`;
    if (seen.has(key)) return;
    seen.add(key);
    const tiers = options.tiers ?? options.listTiers?.[entry.list] ?? ['exact', 'ocr'];
    indexed.push({ index, plate, collapsed: collapse(plate, map), state: st, tiers: new Set(tiers) });
  });

  const hits: ReferenceHit[] = [];
  reads.forEach((read, readIndex) => {
    const main = refNormalize(read.plate);
    if (main === null) return;
    const plates = [main];
    for (const cand of read.candidates ?? []) {
      const p = refNormalize(cand.plate);
      if (p !== null) plates.push(p);
    }
    const readState = state(read.state);
    for (const e of indexed) {
      let mismatch = false;
      if (e.state !== '' && readState !== '' && e.state !== readState) {
        if (!allowMismatch) continue;
        mismatch = true;
      }
      let best: ReferenceHit | null = null;
      const found: Array<{ match: MatchTier; distance: number }> = [];
      for (const p of plates) {
        let hit: { match: MatchTier; distance: number } | null = null;
        if (e.tiers.has('exact') && p === e.plate) hit = { match: 'exact', distance: 0 };
        else {
          const c = collapse(p, map);
          if (e.tiers.has('ocr') && c === e.collapsed) hit = { match: 'ocr', distance: 0 };
          else if (e.tiers.has('fuzzy')) {
            const d = levenshtein(c, e.collapsed);
            if (d <= maxDistance) hit = { match: 'fuzzy', distance: d };
          }
        }
        if (hit) found.push(hit);
        if (hit && (best === null || better(hit, best))) {
          best = { readIndex, entryIndex: e.index, match: hit.match, distance: hit.distance, stateMismatch: mismatch, matchedPlate: p, tierDistances: [] };
        }
      }
      if (best) {
        const tier = best.match;
        best.tierDistances = [...new Set(found.filter((h) => h.match === tier).map((h) => h.distance))].sort((a, b) => a - b);
        hits.push(best);
      }
    }
  });
  return hits;
}
