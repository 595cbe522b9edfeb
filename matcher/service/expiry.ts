/**
 * Hotlist entry expiry. An entry stops matching at its `expires`, whatever its origin (a file
 * or a live change): hits on a lapsed entry are dropped when their batch is finalized, and the
 * entry itself is left out of the next build (the file loader drops expired rows at load; the
 * live overlay and compaction drop lapsed live entries). A date-only `expires` means "through
 * that day", as in hotlist files (docs/hotlists.md): the entry lapses at the next UTC midnight.
 */
import type { HotlistEntry } from '../types.js';
import { parseHotlistDate } from '../hotlist/index.js';

const DAY_MS = 86_400_000;

/**
 * The instant (epoch ms) an `expires` value lapses: `undefined` when there is none (the entry
 * never lapses), `null` when it is not a date a hotlist file would accept.
 */
export function lapseTime(expires: unknown): number | undefined | null {
  if (expires === undefined || expires === null || expires === '') return undefined;
  const d = parseHotlistDate(expires);
  if (!d.ok) return null;
  return d.ms + (d.dateOnly ? DAY_MS : 0);
}

/**
 * Whether `entry` has lapsed at `now`. Called for every hit on the main thread, so the usual
 * case (a number, as loaders and `hotlist add` store it) is a compare; a string (a live entry
 * written straight to the bucket) is parsed. An unparseable `expires` does not lapse here: the
 * live checks refuse such an entry before it is ever matched.
 */
export function lapsed(entry: HotlistEntry, now: number): boolean {
  const e = entry.expires;
  if (e === undefined) return false;
  if (typeof e === 'number') return e <= now;
  const at = lapseTime(e);
  return typeof at === 'number' && at <= now;
}
