/**
 * One entry's historical hits (historical.ts runs this for every entry added; the benchmark
 * hook historical-bench.ts runs the same functions): the search of the stored reads of its
 * window, the alerts built, and their claims inserted into `historical_hits` before anything is
 * published. Kept apart from the entry-following loop so that what is timed is the code that
 * runs, not a copy of it.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { verifyText } from '../alerts.js';
import { normalizeState } from '../core/plate.js';
import { DEFAULT_TIERS } from '../options.js';
import { DAY_MS } from '../service/retention.js';
import type { Alert, MatchTier } from '../types.js';
import { entryPattern, entryPlate, type WatchedEntry } from './entry-watch.js';
import { SCHEMA } from './schema.js';
import type { searchReads, SearchHit, SearchQuery, SearchSettings } from './search.js';

const S = SCHEMA;
/** Claims inserted in one statement. */
const INSERT_CHUNK = 5_000;
/** Most reads one entry's search returns (an entry matching more is a bad entry, not news). */
export const SEARCH_LIMIT = 100_000;

/** The deterministic id of the historical alert of one read and one entry (also its Nats-Msg-Id). */
export function historicalAlertId(readId: string, entryKey: string): string {
  return `hist-${createHash('sha256').update(`${readId}\u0000${entryKey}`).digest('hex').slice(0, 32)}`;
}

/** The alert of one historical hit: the service's alert fields, the read's time, camera and agency, and `historical: true`. */
export function historicalAlert(w: WatchedEntry, hit: SearchHit, now: number, entryKeyOf: string = w.key): Alert {
  const rec = hit.record;
  const e = w.entry;
  const tier = hit.match;
  const pattern = entryPattern(e);
  const listed = entryPlate(e) ?? pattern ?? '';
  const hotlistState = normalizeState(e.state) || undefined;
  const readState = normalizeState(rec.state);
  const stateMismatch = hotlistState !== undefined && readState !== '' && readState !== hotlistState;
  const ts = typeof rec.ts === 'number' ? rec.ts : hit.ts;
  const when = typeof ts === 'number' ? new Date(ts).toISOString() : 'an unknown time';
  const alert: Alert = {
    alertId: historicalAlertId(rec.id, entryKeyOf),
    readId: rec.id,
    plate: rec.plate,
    matchedPlate: hit.matchedPlate,
    state: rec.state,
    ts,
    cameraId: rec.cameraId,
    agency: rec.agency,
    entryId: w.entryId,
    hotlistPlate: pattern === undefined ? listed : undefined,
    pattern,
    case: pattern !== undefined ? e.case : undefined,
    hotlistState,
    list: e.list,
    priority: typeof e.priority === 'number' ? e.priority : 3,
    source: e.source,
    ref: e.ref,
    match: tier,
    distance: hit.distance,
    score: hit.score,
    imageRef: rec.imageRef,
    hotlistVersion: w.version,
    hotlistAgeS: Math.max(0, Math.floor((now - w.arrivedAt) / 1000)),
    verify: `Historical hit: this read was made at ${when}, before the entry was added (${new Date(w.arrivedAt).toISOString()}); ` +
      'it says where the vehicle was then, not where it is now. ' + verifyText(tier, hit.distance, hit.matchedPlate, listed, stateMismatch, readState, hotlistState ?? ''),
    historical: true,
  };
  if (stateMismatch) alert.stateMismatch = true;
  return alert;
}

/** What searching for one entry needs: the store's pool and search, and the service's matching settings. */
export interface EntrySearchContext {
  pool: pg.Pool;
  search: typeof searchReads;
  settings: SearchSettings;
  matching: { tiers?: MatchTier[]; listTiers?: Record<string, MatchTier[]>; maxDistance: number; minScore: number };
  now: () => number;
}

/** What one entry's search found and claimed. */
export interface EntrySearchOutcome {
  /** Reads the entry matches in its window, at or above minScore. */
  hits: number;
  /** Alerts this call claimed (inserted into historical_hits): the ones to publish. */
  claimed: Alert[];
  truncated: boolean;
  /** Milliseconds of the search alone, and of everything after it up to the claims committed. */
  searchMs: number;
  claimMs: number;
}

/**
 * Searches the reads of the last `days` days before `started` for one entry, leaves out the
 * reads already alerted for it (live, or a historical alert claimed before) and claims an alert
 * for each of the others. Nothing is published here: the caller publishes `claimed`, then
 * {@link markPublished}.
 */
export async function searchAndClaim(ctx: EntrySearchContext, w: WatchedEntry, days: number, started: number): Promise<EntrySearchOutcome> {
  const { pool } = ctx;
  const m = ctx.matching;
  const plate = entryPlate(w.entry);
  const pattern = entryPattern(w.entry);
  const out: EntrySearchOutcome = { hits: 0, claimed: [], truncated: false, searchMs: 0, claimMs: 0 };
  if (days <= 0 || (plate === undefined && pattern === undefined)) return out;
  const tiers: readonly MatchTier[] = m.tiers ?? m.listTiers?.[w.entry.list] ?? DEFAULT_TIERS;
  const state = normalizeState(w.entry.state) || undefined;
  const query: SearchQuery = plate !== undefined
    ? { plate, tiers: [...tiers], maxDistance: m.maxDistance, from: started - days * DAY_MS, to: started, limit: SEARCH_LIMIT }
    : { pattern, from: started - days * DAY_MS, to: started, limit: SEARCH_LIMIT };
  if (state !== undefined) query.state = state;
  const t0 = ctx.now();
  const result = await ctx.search(pool, query, ctx.settings, { now: started });
  const t1 = ctx.now();
  out.searchMs = t1 - t0;
  out.truncated = result.truncated;
  const hits = result.hits.filter((h) => h.score >= m.minScore);
  out.hits = hits.length;
  if (hits.length === 0) return out;
  const ids = hits.map((h) => h.record.id);
  // Reads the service alerted for this entry live, or a historical alert claimed before.
  const seen = await pool.query<{ read_id: string }>(
    `SELECT read_id FROM ${S}.alerts WHERE entry_id = $1 AND read_id = ANY($2::text[])
     UNION SELECT read_id FROM ${S}.historical_hits WHERE entry_key = $3 AND read_id = ANY($2::text[])`,
    [w.entryId, ids, w.key],
  );
  const skip = new Set(seen.rows.map((r) => r.read_id));
  const at = ctx.now();
  const alerts = new Map<string, Alert>();
  for (const h of hits) if (!skip.has(h.record.id) && !alerts.has(h.record.id)) alerts.set(h.record.id, historicalAlert(w, h, at));
  const list = [...alerts.values()];
  for (let i = 0; i < list.length; i += INSERT_CHUNK) {
    const part = list.slice(i, i + INSERT_CHUNK);
    const res = await pool.query<{ read_id: string }>(
      `INSERT INTO ${S}.historical_hits (read_id, entry_key, alert_id, read_ts, alert)
       SELECT r, $1, a, t, j::json FROM unnest($2::text[], $3::text[], $4::bigint[], $5::text[]) AS x(r, a, t, j)
       ON CONFLICT (read_id, entry_key) DO NOTHING RETURNING read_id`,
      [w.key, part.map((a) => a.readId), part.map((a) => a.alertId!), part.map((a) => a.ts ?? at), part.map((a) => JSON.stringify(a))],
    );
    const mine = new Set(res.rows.map((r) => r.read_id));
    out.claimed = out.claimed.concat(part.filter((a) => mine.has(a.readId)));
  }
  out.claimMs = ctx.now() - t1;
  return out;
}

/** Marks claimed alerts of one entry published (JetStream acked them) and drops their content. */
export async function markPublished(pool: pg.Pool, entryKey: string, readIds: readonly string[]): Promise<void> {
  await pool.query(`UPDATE ${S}.historical_hits SET published_at = now(), alert = NULL WHERE entry_key = $1 AND read_id = ANY($2::text[])`, [entryKey, readIds]);
}

/** Marks an entry searched, with the number of alerts it raised. */
export async function markSearched(pool: pg.Pool, entryKey: string, alerts: number): Promise<void> {
  await pool.query(`UPDATE ${S}.known_entries SET searched_at = now(), hits = $2, error = NULL WHERE entry_key = $1`, [entryKey, alerts]);
}
