/**
 * Turning core hits into {@link Alert} objects: scores, the entry's fields, and what the
 * officer must verify. Runs only for hits, so plain objects and strings are fine here.
 */
import type { Alert, AlertTier, HotlistEntry, PlateRead } from './types.js';
import { normalizeState } from './core/plate.js';
import type { Hit } from './hits.js';

const VERIFY_BASE =
  'Lead only, not grounds for a stop: compare the plate image with the hotlist record (every character and the state), ' +
  'then confirm the record is current with NCIC/state (CCIC, CLETS) before any enforcement action.';

/** What the officer must confirm for this hit. */
export function verifyText(tier: AlertTier, distance: number, readPlate: string, entryPlate: string, stateMismatch: boolean, readState: string, entryState: string): string {
  let lead = '';
  if (tier === 'partial') {
    return `Partial-plate match: read ${readPlate} fits pattern ${entryPlate} entered for a case; many vehicles fit a partial plate, so ` +
      'this is only a possible suspect vehicle: confirm the vehicle description and the case with the investigating officer. ' + VERIFY_BASE;
  }
  if (tier === 'ocr') lead = `OCR-equivalent match: read ${readPlate}, listed ${entryPlate}; confirm each confusable character. `;
  else if (tier === 'fuzzy') lead = `Near match (${distance} edit${distance === 1 ? '' : 's'}): read ${readPlate}, listed ${entryPlate}; likely a different vehicle unless the image confirms. `;
  if (stateMismatch) lead += `State differs: read ${readState || 'unknown'}, listed ${entryState}. `;
  return lead + VERIFY_BASE;
}

/** Stable id of an entry: its own id, else source and record number, else its position. */
export function entryIdOf(entry: HotlistEntry, index: number): string {
  if (typeof entry.id === 'string' && entry.id !== '') return entry.id;
  if (typeof entry.ref === 'string' && entry.ref !== '') return `${entry.source ?? 'LOCAL'}:${entry.ref}`;
  return `#${index}`;
}

/** Epoch milliseconds of a read's `ts`, or undefined. */
export function tsMillis(ts: PlateRead['ts']): number | undefined {
  if (typeof ts === 'number') return ts;
  if (typeof ts === 'string') {
    const t = Date.parse(ts);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

export interface AlertContext {
  hotlistVersion: string;
  refreshedAt(source: string | undefined): number;
  now: number;
}

/**
 * Builds the alert of one (read, entry) hit. `entryId` is the entry's {@link entryIdOf}, for a
 * caller that worked it out ahead (on a big list, reading the id string is a cache miss).
 */
export function buildAlert(
  read: PlateRead,
  readId: string,
  entry: HotlistEntry,
  entryIndex: number,
  hit: Hit,
  ctx: AlertContext,
  entryId: string = entryIdOf(entry, entryIndex),
): Alert {
  const { tier, distance, score, matchedPlate, stateMismatch } = hit;
  const partial = tier === 'partial';
  const hotlistPlate = partial ? undefined : hit.entryPlate;
  const hotlistState = normalizeState(entry.state) || undefined;
  const alert: Alert = {
    readId,
    plate: read.plate,
    matchedPlate,
    state: read.state,
    ts: tsMillis(read.ts),
    cameraId: read.cameraId,
    agency: read.agency,
    entryId,
    hotlistPlate,
    pattern: partial ? hit.entryPlate : undefined,
    case: partial ? entry.case : undefined,
    hotlistState,
    list: entry.list,
    priority: typeof entry.priority === 'number' ? entry.priority : 3,
    source: entry.source,
    ref: entry.ref,
    match: tier,
    distance,
    score,
    imageRef: read.imageRef,
    hotlistVersion: ctx.hotlistVersion,
    hotlistAgeS: Math.max(0, Math.floor((ctx.now - ctx.refreshedAt(entry.source)) / 1000)),
    verify: verifyText(tier, distance, matchedPlate, hit.entryPlate, stateMismatch, normalizeState(read.state), hotlistState ?? ''),
  };
  if (stateMismatch) alert.stateMismatch = true;
  return alert;
}
