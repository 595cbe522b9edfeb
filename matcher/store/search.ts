/**
 * Retrospective search of the stored reads (docs/store.md "Retrospective search"): the reads
 * the matcher would have matched against one hotlist entry with the given plate (or pattern)
 * and state, under the same tiers, OCR classes, distance, pattern syntax and state rule, newest
 * first, each with the score the matcher gives it.
 *
 * Two steps, in one read-only transaction (one snapshot, so a retention run cannot drop a
 * partition between them), after reading which partitions the window needs (`partition_ts`,
 * search-sql.ts PARTITION_DAYS_SQL): only those are planned and scanned. An exact or ocr
 * search (one key) does both steps in one statement (equalKeyRows).
 * 1. SQL lists candidates, a guaranteed superset of the matches, with the indexes
 *    (search-sql.ts says which, and why each condition is looser than the matcher);
 * 2. the candidates' stored records are fetched in batches, newest first, and every one is
 *    matched with the library matcher (`createMatcher` with the one entry): the hits are the
 *    matcher's by construction. Fetching stops once `limit` hits are found.
 * Rows whose `expires_at` has passed are never returned (the retention job drops them by the
 * end of their day); evidence copies of held records are, whatever their expiry, once per read.
 */
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { PlatesieveError } from '../errors.js';
import { createMatcher } from '../matcher.js';
import type { Matcher } from '../types.js';
import { DEFAULT_MAX_DISTANCE, DEFAULT_TIERS } from '../options.js';
import { isJunkPlate, normalizePlate, normalizeState, ocrClassMap, collapsePlate } from '../core/plate.js';
import { parsePattern, type ParsedPattern } from '../core/patterns.js';
import { MATCH_TIERS, type AlertTier, type HotlistEntry, type MatchTier, type ReadRecord, type StateMismatchPolicy } from '../types.js';
import { utcDay } from './copy-text.js';
import {
  CAND_TEXT_PROBE, EVIDENCE_RECORDS_SQL, PARTITION_DAYS_SQL, candidateStatement, readRecordsStatement, keyAlphabet, patternKeys, patternRegex, type KeyCondition, type RowFilter,
} from './search-sql.js';

/** A search: one entry's plate or pattern, and the reads to look at. */
export interface SearchQuery {
  /** Exactly one of plate / pattern. */
  plate?: string;
  pattern?: string;
  /** Default as `match` (DEFAULT_TIERS); pattern searches ignore tiers (tier 'partial'). */
  tiers?: MatchTier[];
  /** 0..2, default DEFAULT_MAX_DISTANCE. */
  maxDistance?: number;
  /** The entry's state: the state rule applies as in the matcher. */
  state?: string;
  cameraId?: string;
  /** Read time window, epoch ms, inclusive. */
  from: number;
  to: number;
  /** Default 10000. */
  limit?: number;
}

/** The matching settings the stored reads are searched under. */
export interface SearchSettings {
  /** The OCR classes the stored keys were computed with (store_meta 'ocrClasses'). */
  ocrClasses: readonly string[];
  partialOcr: boolean;
  stateMismatch: StateMismatchPolicy;
}

/** One stored read the entry matches. */
export interface SearchHit {
  id: string;
  match: AlertTier;
  score: number;
  distance: number;
  matchedPlate: string;
  ts: number;
  record: ReadRecord;
}

export interface SearchResult {
  /** Newest first (ties by id). */
  hits: SearchHit[];
  /** Candidate rows fetched and verified. */
  scanned: number;
  /** True when more than `limit` reads matched (only the newest `limit` are returned). */
  truncated: boolean;
  ms: number;
  /**
   * Present when reads of sensitive places (tagged cameras) matched but were withheld
   * (docs/sensitive-places.md): a flag, never a count or which reads.
   */
  withheld?: { sensitive: true };
}

/** Why a search was refused. Stable codes; callers switch on these. */
export type SearchErrorCode =
  | 'ERR_SEARCH_QUERY' // not exactly one of plate / pattern, or a field of the wrong type
  | 'ERR_SEARCH_PLATE' // the plate does not normalize
  | 'ERR_SEARCH_PATTERN' // the pattern does not parse
  | 'ERR_SEARCH_WINDOW' // from / to missing, not finite, or from after to
  | 'ERR_SEARCH_DISTANCE' // maxDistance not an integer 0..2
  | 'ERR_SEARCH_TIERS' // tiers not an array of tier names
  | 'ERR_SEARCH_LIMIT'; // limit not a positive integer

/** A search query is malformed. `field` names the query field at fault. */
export class SearchError extends PlatesieveError {
  declare readonly code: SearchErrorCode;
  readonly field: string;
  constructor(code: SearchErrorCode, field: string, message: string) {
    super(code, `search: ${message}`);
    this.field = field;
  }
}

export const DEFAULT_SEARCH_LIMIT = 10_000;
/** Candidate records fetched and matched at once. */
const BATCH = 2000;
/** Most rows an equal-key search reads with their records in one statement (see equalKeyRows). */
const INLINE_ROWS = 5000;
/** The list name of the search's one entry. */
const SEARCH_LIST = 'SEARCH';

interface Candidate {
  src: 'r' | 'e';
  id: string;
  /** expires_day (reads) or hold_id (evidence). */
  k: string;
  ts: number;
  /** The stored record, when the candidate statement returned it. */
  record?: ReadRecord;
}

/** A validated query. */
interface Checked {
  entry: HotlistEntry;
  cond?: KeyCondition;
  tiers: MatchTier[];
  maxDistance: number;
  state: string;
  limit: number;
}

function checkQuery(q: SearchQuery, classMap: ReadonlyMap<string, string>): Checked {
  if (typeof q !== 'object' || q === null) throw new SearchError('ERR_SEARCH_QUERY', '', 'the query must be an object');
  const hasPlate = q.plate !== undefined;
  if (hasPlate === (q.pattern !== undefined)) throw new SearchError('ERR_SEARCH_QUERY', 'plate', 'give exactly one of plate and pattern');
  for (const key of ['from', 'to'] as const) {
    if (typeof q[key] !== 'number' || !Number.isFinite(q[key])) throw new SearchError('ERR_SEARCH_WINDOW', key, `${key} must be epoch milliseconds`);
  }
  if (q.from > q.to) throw new SearchError('ERR_SEARCH_WINDOW', 'from', 'from is after to');
  const maxDistance = q.maxDistance ?? DEFAULT_MAX_DISTANCE;
  if (!Number.isInteger(maxDistance) || maxDistance < 0 || maxDistance > 2) {
    throw new SearchError('ERR_SEARCH_DISTANCE', 'maxDistance', `maxDistance must be an integer from 0 to 2 (got ${String(q.maxDistance)})`);
  }
  const tiers = q.tiers ?? [...DEFAULT_TIERS];
  if (!Array.isArray(tiers) || tiers.some((t) => !MATCH_TIERS.includes(t))) {
    throw new SearchError('ERR_SEARCH_TIERS', 'tiers', `tiers must be an array of ${MATCH_TIERS.join(', ')}`);
  }
  const limit = q.limit ?? DEFAULT_SEARCH_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) throw new SearchError('ERR_SEARCH_LIMIT', 'limit', `limit must be a positive integer (got ${String(q.limit)})`);
  for (const key of ['state', 'cameraId'] as const) {
    if (q[key] !== undefined && typeof q[key] !== 'string') throw new SearchError('ERR_SEARCH_QUERY', key, `${key} must be a string`);
  }
  const state = normalizeState(q.state);

  if (hasPlate) {
    if (typeof q.plate !== 'string') throw new SearchError('ERR_SEARCH_PLATE', 'plate', 'plate must be a string');
    const n = normalizePlate(q.plate);
    if (!n.ok) throw new SearchError('ERR_SEARCH_PLATE', 'plate', n.reason);
    const entry: HotlistEntry = { id: 'search', plate: n.plate, list: SEARCH_LIST };
    if (state !== '') entry.state = state;
    // The matcher never indexes a placeholder plate (`0`, `00`...) nor matches with no tier.
    if (isJunkPlate(n.plate) || tiers.length === 0) return { entry, tiers, maxDistance, state, limit };
    const key = collapsePlate(n.plate, classMap);
    const d = tiers.includes('fuzzy') ? maxDistance : 0;
    const cond: KeyCondition = d === 0 ? { kind: 'equal', key } : { kind: 'fuzzy', key, d, alphabet: keyAlphabet(classMap) };
    return { entry, cond, tiers, maxDistance, state, limit };
  }
  if (typeof q.pattern !== 'string') throw new SearchError('ERR_SEARCH_PATTERN', 'pattern', 'pattern must be a string');
  const parsed = parsePattern(q.pattern);
  if (!parsed.ok) throw new SearchError('ERR_SEARCH_PATTERN', 'pattern', `pattern ${JSON.stringify(q.pattern)}: ${parsed.reason}`);
  const entry: HotlistEntry = {
    id: 'search', pattern: parsed.pattern.text, list: SEARCH_LIST,
    // What the matcher requires of a partial entry; the search's own purpose and case are checked
    // and audited by its caller (store/open.ts).
    case: 'SEARCH', enteredBy: 'search', purpose: 'OTHER_CRIMINAL_INVESTIGATION', expires: '9999-12-31T00:00:00Z',
  };
  if (state !== '') entry.state = state;
  return { entry, cond: patternCondition(parsed.pattern, classMap), tiers, maxDistance, state, limit };
}

function patternCondition(p: ParsedPattern, classMap: ReadonlyMap<string, string>): KeyCondition {
  return { kind: 'pattern', regex: patternRegex(p.tokens, classMap), keys: patternKeys(p.tokens, classMap, keyAlphabet(classMap)) };
}

/** Newest first, ties by id, then reads rows before evidence copies. */
function byTsDesc(a: Candidate, b: Candidate): number {
  return b.ts - a.ts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) || (a.src === b.src ? 0 : a.src === 'r' ? -1 : 1);
}

/**
 * Searches the stored reads. Throws {@link SearchError} on a malformed query and the matcher's
 * OptionsError on bad settings, before touching the database.
 */
export async function searchReads(
  pool: pg.Pool,
  q: SearchQuery,
  settings: SearchSettings,
  options: {
    now?: number;
    onProgress?: (done: number, total: number) => void;
    /**
     * Asked of every hit: false withholds it (sensitive places, store/open.ts). Applied before
     * the limit, so withheld reads never take the place of returnable ones.
     */
    admit?: (record: ReadRecord) => boolean;
  } = {},
): Promise<SearchResult> {
  const started = performance.now();
  const classMap = ocrClassMap(settings.ocrClasses);
  const c = checkQuery(q, classMap);
  // Built first: it validates the settings and the entry as a hotlist would.
  const matcher = createMatcher({
    entries: [c.entry],
    tiers: c.tiers,
    ocrClasses: settings.ocrClasses,
    maxDistance: c.maxDistance,
    stateMismatch: settings.stateMismatch,
    partialOcr: settings.partialOcr,
  });
  const empty = (): SearchResult => ({ hits: [], scanned: 0, truncated: false, ms: performance.now() - started });
  if (c.cond === undefined) return empty();
  const now = options.now ?? Date.now();
  const filter: RowFilter = { from: q.from, to: q.to, now };
  if (q.cameraId !== undefined) filter.cameraId = q.cameraId;
  // A pattern entry with a state never matches a read of another state; a plate entry only
  // under stateMismatch 'reject'.
  if (c.state !== '' && (c.cond.kind === 'pattern' || settings.stateMismatch === 'reject')) filter.rejectState = c.state;

  const today = utcDay(now);
  if (c.cond.kind === 'equal') {
    const rows = await equalKeyRows(pool, c.cond, filter, today);
    if (rows !== undefined) {
      const cands = uniqueCandidates(rows);
      const byKey = new Map(cands.map((cand) => [candKey(cand), cand.record!]));
      const found = await verify(cands, (batch) => Promise.resolve(new Map(batch.map((b) => [candKey(b), byKey.get(candKey(b))!]))), matcher, c.limit, options.onProgress, options.admit);
      return { ...found, ms: performance.now() - started };
    }
  }

  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      // Short queries: compiling them (JIT) costs more than it saves.
      await client.query('SET LOCAL jit = off');
      const probe = await client.query<{ ok: boolean }>(CAND_TEXT_PROBE);
      filter.days = await partitionDays(client, filter);
      const stmt = candidateStatement(c.cond, filter, today, { candText: probe.rows[0]?.ok === true });
      const { rows } = await client.query<CandidateRow>(stmt.sql, stmt.params);
      const cands = uniqueCandidates(rows);
      // Primary-key lookups only from here on: keep the planner off whole-table plans.
      await client.query('SET LOCAL enable_seqscan = off');
      await client.query('SET LOCAL enable_hashjoin = off');
      const found = await verify(cands, (batch) => fetchRecords(client, batch), matcher, c.limit, options.onProgress, options.admit);
      await client.query('COMMIT');
      return { ...found, ms: performance.now() - started };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  } finally {
    client.release();
  }
}

/** A row of the candidate statement. */
interface CandidateRow {
  src: 'r' | 'e';
  id: string;
  k: string;
  ts: string;
  record?: ReadRecord;
}

const candKey = (c: Candidate): string => `${c.src}\u0000${c.id}\u0000${c.k}`;

/** One candidate per read id (the reads row when there is one, else one evidence copy), newest first. */
function uniqueCandidates(rows: readonly CandidateRow[]): Candidate[] {
  const byId = new Map<string, Candidate>();
  for (const r of rows) {
    const cand: Candidate = { src: r.src, id: r.id, k: r.k, ts: Number(r.ts) };
    if (r.record !== undefined) cand.record = r.record;
    const had = byId.get(r.id);
    if (had === undefined || (had.src === 'e' && cand.src === 'r')) byId.set(r.id, cand);
  }
  return [...byId.values()].sort(byTsDesc);
}

/**
 * The rows of an equal-key search (exact and ocr tiers), records included, in one statement, or
 * undefined when there are more than {@link INLINE_ROWS} (the two-step path then fetches them
 * in batches). Why (EXPLAIN ANALYZE at 10M reads in 62 partitions, docs/store.md "Speed"): the
 * probes themselves take about 1 ms, planning the candidate statement and then the record
 * fetch over every partition about 6 to 9 ms each; one statement plans once. It is planned for
 * its parameters each time on purpose: a generic plan (a prepared statement past its fifth
 * run) ANDs the BRIN index on `ts` into every candidates probe, 20 ms instead of 1. The
 * partitions it names are read first, in the same snapshot.
 */
async function equalKeyRows(pool: pg.Pool, cond: KeyCondition, filter: RowFilter, today: string): Promise<CandidateRow[] | undefined> {
  const client = await pool.connect();
  try {
    // A popular key's row estimate can pass jit_above_cost: compiling costs more than the probes.
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL jit = off');
    try {
      const stmt = candidateStatement(cond, { ...filter, days: await partitionDays(client, filter) }, today, { records: true });
      const { rows } = await client.query<CandidateRow>(`SELECT * FROM (${stmt.sql}) c LIMIT ${INLINE_ROWS + 1}`, stmt.params);
      await client.query('COMMIT');
      return rows.length > INLINE_ROWS ? undefined : rows;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  } finally {
    client.release();
  }
}

/** The partitions (expiry days) whose reads' read times can meet the window. */
async function partitionDays(client: pg.PoolClient, f: RowFilter): Promise<string[]> {
  const { rows } = await client.query<{ day: string }>(PARTITION_DAYS_SQL, [f.from, f.to]);
  return rows.map((r) => r.day);
}

/** Matches the candidates, newest first, in batches, with the search's one-entry matcher; stops at `limit` hits. */
async function verify(
  cands: readonly Candidate[],
  fetch: (batch: Candidate[]) => Promise<Map<string, ReadRecord>>,
  matcher: Matcher,
  limit: number,
  onProgress?: (done: number, total: number) => void,
  admit?: (record: ReadRecord) => boolean,
): Promise<Omit<SearchResult, 'ms'>> {
  const total = cands.length;
  const hits: SearchHit[] = [];
  let scanned = 0;
  let truncated = false;
  for (let at = 0; at < total && !truncated; at += BATCH) {
    const batch = cands.slice(at, at + BATCH);
    const records = await fetch(batch);
    const reads: ReadRecord[] = [];
    const of: Candidate[] = [];
    for (const cand of batch) {
      const rec = records.get(candKey(cand));
      if (rec === undefined) continue;
      reads.push(rec);
      of.push(cand);
    }
    scanned += reads.length;
    const { alerts } = matcher.matchBatch(reads);
    const alertOf = new Map(alerts.map((a) => [a.readId, a]));
    for (let i = 0; i < reads.length; i++) {
      const a = alertOf.get(reads[i].id);
      if (a === undefined || (admit !== undefined && !admit(reads[i]))) continue;
      if (hits.length === limit) {
        truncated = true;
        break;
      }
      hits.push({ id: of[i].id, match: a.match, score: a.score, distance: a.distance, matchedPlate: a.matchedPlate, ts: of[i].ts, record: reads[i] });
    }
    onProgress?.(Math.min(total, at + batch.length), total);
  }
  return { hits, scanned, truncated };
}

/** The stored records of a batch of candidates, keyed by src, id and second key. */
async function fetchRecords(client: pg.PoolClient, batch: readonly Candidate[]): Promise<Map<string, ReadRecord>> {
  const out = new Map<string, ReadRecord>();
  for (const src of ['r', 'e'] as const) {
    const part = batch.filter((b) => b.src === src);
    if (part.length === 0) continue;
    const ids = part.map((b) => b.id);
    const keys = part.map((b) => b.k);
    const stmt = src === 'r' ? readRecordsStatement(ids, keys) : { sql: EVIDENCE_RECORDS_SQL, params: [ids, keys] };
    const { rows } = await client.query<{ id: string; k: string; record: ReadRecord }>(stmt.sql, stmt.params);
    for (const r of rows) out.set(candKey({ src, id: r.id, k: r.k, ts: 0 }), r.record);
  }
  return out;
}
