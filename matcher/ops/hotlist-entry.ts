/**
 * A live hotlist entry from an API request body, checked as `platesieve hotlist add` checks
 * one (matcher/cli/live.ts): exactly one of plate and pattern, priority 1..5, an expiry in the
 * future ({@link entryFromBody}), then, after the purpose rules (the route audits a refusal),
 * an entry the matcher accepts ({@link checkEntry}).
 */
import { createMatcher } from '../matcher.js';
import { lapseTime } from '../service/expiry.js';
import type { HotlistEntry, VehicleDescription } from '../types.js';
import { OpsError } from './errors.js';

/** What POST /api/hotlist/entries takes. */
export interface EntryBody {
  id: string;
  plate?: string;
  pattern?: string;
  list: string;
  state?: string;
  priority?: number;
  source?: string;
  case?: string;
  enteredBy?: string;
  purpose?: string;
  expires?: string | number;
  notes?: string;
  vehicle?: VehicleDescription;
}

/** Bucket keys are NATS subject tokens: this is what `hotlist add --id` accepts too. */
export const ENTRY_ID_PATTERN = '^[-_A-Za-z0-9=]+$';

export const entryBodySchema = {
  type: 'object',
  required: ['id', 'list'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', pattern: ENTRY_ID_PATTERN, maxLength: 200 },
    plate: { type: 'string', minLength: 1, maxLength: 32 },
    pattern: { type: 'string', minLength: 1, maxLength: 64 },
    list: { type: 'string', minLength: 1, maxLength: 64 },
    state: { type: 'string', minLength: 1, maxLength: 8 },
    priority: { type: 'integer', minimum: 1, maximum: 5 },
    source: { type: 'string', minLength: 1, maxLength: 64 },
    case: { type: 'string', minLength: 1 },
    enteredBy: { type: 'string', minLength: 1 },
    purpose: { type: 'string', minLength: 1 },
    expires: { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', minLength: 1 }] },
    notes: { type: 'string' },
    vehicle: { type: 'object', additionalProperties: false, properties: { make: { type: 'string' }, model: { type: 'string' }, colour: { type: 'string' }, type: { type: 'string' } } },
  },
} as const;

/**
 * The entry to write. A partial entry's `enteredBy` defaults to the logged-in user: whoever
 * enters a pattern answers for it.
 */
export function entryFromBody(b: EntryBody, actor: string, now: number): HotlistEntry {
  if ((b.plate === undefined) === (b.pattern === undefined)) throw new OpsError('ERR_BAD_REQUEST', 'give exactly one of plate and pattern');
  const entry: HotlistEntry = { id: b.id, list: b.list, source: b.source ?? 'LOCAL' };
  if (b.plate !== undefined) entry.plate = b.plate;
  if (b.pattern !== undefined) entry.pattern = b.pattern;
  if (b.state !== undefined) entry.state = b.state;
  if (b.priority !== undefined) entry.priority = b.priority;
  for (const key of ['case', 'enteredBy', 'purpose', 'notes'] as const) if (b[key] !== undefined) entry[key] = b[key];
  if (b.vehicle !== undefined && Object.keys(b.vehicle).length > 0) entry.vehicle = { ...b.vehicle };
  if (b.expires !== undefined) {
    // A date-only value means "through that day", as in hotlist files (docs/hotlists.md).
    const at = lapseTime(b.expires);
    if (at === null || at === undefined) throw new OpsError('ERR_BAD_REQUEST', `expires ${JSON.stringify(b.expires)}: expected an ISO 8601 date`);
    if (at <= now) throw new OpsError('ERR_BAD_REQUEST', `expires ${JSON.stringify(b.expires)}: ${new Date(at).toISOString()} is already past; an entry must expire in the future`);
    entry.expires = at;
  }
  if (entry.pattern !== undefined) entry.enteredBy ??= actor;
  entry.entered = now;
  return entry;
}

/** The matcher's own checks (plate normalizes, pattern parses, partial fields present); after the purpose rules. */
export function checkEntry(entry: HotlistEntry): void {
  createMatcher({ entries: [entry] });
}
