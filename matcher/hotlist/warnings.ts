/**
 * Warnings about entries that load but look wrong: a list type that is none of the documented
 * ones (a typo such as `STOLEN_VEHICEL` would otherwise load as a local list and get the
 * default tiers), and a state that is not a two-letter code (`COLORADO` never matches a read
 * of `CO`). They warn rather than reject: local list types are allowed (docs/contracts.md
 * "Hotlist entry"), and the file is the agency's to fix.
 */
import { normalizeCode, STANDARD_LIST_TYPES } from '../policy/index.js';
import type { HotlistEntry } from '../types.js';
import type { HotlistWarningCode } from './types.js';

/** At most this many warnings are kept per file; the rest are only counted. */
export const MAX_KEPT_WARNINGS = 1000;

/** A warning before it is given its file and line. */
export interface EntryWarning {
  code: HotlistWarningCode;
  reason: string;
}

/** Edit distance, bounded: returns `max + 1` as soon as it must exceed `max`. */
function distanceWithin(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      if (v < best) best = v;
    }
    if (best > max) return max + 1;
    prev = cur;
  }
  return prev[b.length];
}

/**
 * Checks loaded entries of one file. `declared` are the list types the file's options name
 * (code table targets, `defaultList`): a local list declared there is not a typo.
 */
export class EntryChecker {
  private readonly known: ReadonlySet<string>;
  /** Verdict per list type: a file has a handful of them, over millions of rows. */
  private readonly lists = new Map<string, EntryWarning | null>();

  constructor(declared: Iterable<string>) {
    this.known = new Set<string>([...STANDARD_LIST_TYPES, ...declared]);
  }

  /** The warnings of one entry (empty for almost every entry). */
  check(entry: HotlistEntry): EntryWarning[] {
    const out: EntryWarning[] = [];
    const list = this.listWarning(entry.list);
    if (list !== null) out.push(list);
    const state = entry.state;
    if (state !== undefined && !isStateCode(state)) {
      out.push({
        code: 'INVALID_STATE',
        reason: `state ${JSON.stringify(state)} is not a two-letter code: the entry matches only reads with no state (or the same text), ` +
          'never a read of a state code; use the postal / NCIC state code',
      });
    }
    return out;
  }

  private listWarning(list: string): EntryWarning | null {
    let verdict = this.lists.get(list);
    if (verdict !== undefined) return verdict;
    verdict = this.known.has(list) ? null : { code: 'UNKNOWN_LIST', reason: unknownListReason(list, this.known) };
    if (this.lists.size < 10_000) this.lists.set(list, verdict);
    return verdict;
  }
}

/** Two letters A-Z, as {@link normalizeState} leaves a state code. */
function isStateCode(state: string): boolean {
  if (state.length !== 2) return false;
  for (let i = 0; i < 2; i++) {
    const c = state.charCodeAt(i);
    if (c < 0x41 || c > 0x5a) return false;
  }
  return true;
}

function unknownListReason(list: string, known: ReadonlySet<string>): string {
  const code = normalizeCode(list);
  let guess: string | undefined;
  if (code !== list && known.has(code)) guess = code;
  else {
    let best = 3;
    for (const k of known) {
      const d = distanceWithin(code, k, Math.min(2, best - 1));
      if (d < best) {
        best = d;
        guess = k;
      }
    }
  }
  const which = guess === undefined
    ? `one of the documented list types (${STANDARD_LIST_TYPES.join(', ')})`
    : `a documented list type: did you mean ${guess}? (list types are compared exactly)`;
  return `list type ${JSON.stringify(list)} is not ${which}; it loads as a local list ` +
    '(declare a local list type in the codes option to silence this)';
}
