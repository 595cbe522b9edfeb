/**
 * What a user would write without platesieve, measured beside the core in the same process:
 *  (a) normalize with toUpperCase + replace + a validity regex, then `Set.has` of the plate
 *      and of its OCR-collapsed form (exact + ocr, no state check);
 *  (b) mnemonist SymSpell at distance 1 over the collapsed plates (ocr + fuzzy d=1; note that
 *      its verification is Damerau-Levenshtein, so a transposition also counts as one edit);
 *  (c) fastest-levenshtein `distance` against every collapsed plate (a full scan per read).
 */
import { SymSpell } from 'mnemonist';
import { distance } from 'fastest-levenshtein';
import type { HotlistEntry, PlateRead } from '../matcher/types.js';

const SEPARATORS = /[ \-.\u00b7]/g;
const VALID = /^[A-Z0-9]{1,10}$/;
const CONFUSABLE = /[ODQILZSBG]/g;
const REP: Record<string, string> = { O: '0', D: '0', Q: '0', I: '1', L: '1', Z: '2', S: '5', B: '8', G: '6' };
const toRep = (ch: string): string => REP[ch];

/** Plain-JS normalization: null when invalid. */
export function jsNormalize(raw: string): string | null {
  const p = raw.toUpperCase().replace(SEPARATORS, '');
  return VALID.test(p) ? p : null;
}

/** Plain-JS OCR collapse with the default classes. */
export function jsCollapse(plate: string): string {
  return plate.replace(CONFUSABLE, toRep);
}

/** Baseline (a): two `Set`s of strings. */
export class JsSetBaseline {
  readonly exact = new Set<string>();
  readonly collapsed = new Set<string>();

  constructor(entries: readonly HotlistEntry[]) {
    for (const e of entries) {
      const p = jsNormalize(e.plate ?? '');
      if (p === null || /^0+$/.test(p)) continue;
      this.exact.add(p);
      this.collapsed.add(jsCollapse(p));
    }
  }

  /** Number of reads that hit (exact or ocr). */
  matchAll(reads: readonly PlateRead[]): number {
    let hits = 0;
    for (let i = 0; i < reads.length; i++) {
      const p = jsNormalize(reads[i].plate);
      if (p === null) continue;
      if (this.exact.has(p) || this.collapsed.has(jsCollapse(p))) hits++;
    }
    return hits;
  }
}

/** Unique collapsed plates of a hotlist (the key space of baselines b and c). */
export function collapsedPlates(entries: readonly HotlistEntry[], limit = Infinity): string[] {
  const out = new Set<string>();
  for (const e of entries) {
    if (out.size >= limit) break;
    const p = jsNormalize(e.plate ?? '');
    if (p !== null && !/^0+$/.test(p)) out.add(jsCollapse(p));
  }
  return [...out];
}

/** Baseline (b): SymSpell at distance 1 (mnemonist), verbosity 2 = every match within the distance. */
export class SymSpellBaseline {
  readonly index: SymSpell;

  constructor(collapsed: readonly string[]) {
    this.index = new SymSpell({ maxDistance: 1, verbosity: 2 });
    for (const p of collapsed) this.index.add(p);
  }

  /** Number of (read, plate) matches found. */
  matchAll(reads: readonly PlateRead[]): number {
    let hits = 0;
    for (let i = 0; i < reads.length; i++) {
      const p = jsNormalize(reads[i].plate);
      if (p === null) continue;
      hits += this.index.search(jsCollapse(p)).length;
    }
    return hits;
  }
}

/** Baseline (c): a full scan with fastest-levenshtein, distance <= 1 after collapsing. */
export function levenshteinScan(collapsed: readonly string[], reads: readonly PlateRead[]): number {
  let hits = 0;
  for (let i = 0; i < reads.length; i++) {
    const p = jsNormalize(reads[i].plate);
    if (p === null) continue;
    const c = jsCollapse(p);
    for (let j = 0; j < collapsed.length; j++) {
      const e = collapsed[j];
      // the length check is what anyone would add; it does not change the result
      if (Math.abs(e.length - c.length) <= 1 && distance(c, e) <= 1) hits++;
    }
  }
  return hits;
}
