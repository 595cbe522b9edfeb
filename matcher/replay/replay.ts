/**
 * Replay: a candidate matching setting run over the stored reads of a window with the same core
 * as the service (createMatcher, one matchBatch per page), compared with the alerts the store
 * holds for those reads and the dispositions recorded on them (docs/replay.md).
 *
 * Alerts are keyed by (read id, entry id): the same read against the same hotlist entry is the
 * same lead whatever tier or score raised it. Memory is one page of reads and their stored
 * alerts; the per-list counters are the only thing that grows with the window.
 */
import type pg from 'pg';
import { PlatesieveError } from '../errors.js';
import { createMatcher } from '../matcher.js';
import type { Alert, HotlistEntry, MatcherOptions, PlateRead } from '../types.js';

/** A candidate setting: the hotlists to match against and the matching options to try. */
export interface ReplayCandidate {
  entries: readonly HotlistEntry[];
  /** Matcher options (tiers, listTiers, maxDistance, ocrClasses, stateMismatch, partialOcr, minScore). */
  matching: Omit<MatcherOptions, 'entries'>;
  /** Per list type, alerts scoring below this are dropped (on top of `matching.minScore`). */
  listMinScore?: Readonly<Record<string, number>>;
}

/** The window and paging of a replay. */
export interface ReplayOptions {
  /** Epoch ms, inclusive: reads with `ts >= from`. */
  from: number;
  /** Epoch ms, exclusive: reads with `ts < to`. */
  to: number;
  /** Reads per page (one query, one matchBatch). Default 5000. */
  pageSize?: number;
  /** Reads whose retention ran out before this are left out, as search leaves them out. Default now. */
  now?: number;
  /** Called after each page with the reads replayed so far. */
  onProgress?: (reads: number) => void;
}

/** What the candidate does to one list's alerts. */
export interface ReplayCounts {
  /** Alerts the candidate raises. */
  raised: number;
  /** Alerts the store holds for the window's reads. */
  stored: number;
  confirmedKept: number;
  confirmedLost: number;
  rejectedAvoided: number;
  rejectedRaised: number;
  noActionKept: number;
  noActionLost: number;
  /** Stored alerts with no disposition recorded, kept and lost. */
  undisposedKept: number;
  undisposedLost: number;
  /** Raised by the candidate, not stored: no disposition is known. */
  new: number;
}

/** The result of {@link replay}. */
export interface ReplayReport {
  from: number;
  to: number;
  reads: number;
  /** Stored reads the matcher refused (a plate that does not normalize). */
  invalid: number;
  /** Counts by list type (the stored alert's list; the candidate's for new alerts). */
  lists: Record<string, ReplayCounts>;
  totals: ReplayCounts;
  ms: number;
}

/** Stable codes of {@link ReplayError}. */
export type ReplayErrorCode = 'REPLAY_BAD_WINDOW' | 'REPLAY_BAD_SETTING' | 'REPLAY_NO_DISPOSITIONS';

/** A replay refused before reading anything. */
export class ReplayError extends PlatesieveError {
  declare readonly code: ReplayErrorCode;
  constructor(code: ReplayErrorCode, message: string) {
    super(code, message);
    this.name = 'ReplayError';
  }
}

const DEFAULT_PAGE = 5000;

/** A zeroed set of counters. */
export function emptyCounts(): ReplayCounts {
  return { raised: 0, stored: 0, confirmedKept: 0, confirmedLost: 0, rejectedAvoided: 0, rejectedRaised: 0, noActionKept: 0, noActionLost: 0, undisposedKept: 0, undisposedLost: 0, new: 0 };
}

function checkOptions(candidate: ReplayCandidate, o: ReplayOptions): void {
  if (!Number.isSafeInteger(o.from) || !Number.isSafeInteger(o.to) || o.from >= o.to) {
    throw new ReplayError('REPLAY_BAD_WINDOW', 'replay: from and to must be times (epoch ms) with from before to');
  }
  if (o.pageSize !== undefined && (!Number.isSafeInteger(o.pageSize) || o.pageSize < 1)) {
    throw new ReplayError('REPLAY_BAD_WINDOW', 'replay: pageSize must be a positive integer');
  }
  for (const [list, s] of Object.entries(candidate.listMinScore ?? {})) {
    if (typeof s !== 'number' || !(s >= 0 && s <= 1)) throw new ReplayError('REPLAY_BAD_SETTING', `replay: listMinScore.${list} must be a score between 0 and 1`);
  }
}

const key = (readId: string, entryId: string): string => `${readId}\u0000${entryId}`;

/** The fields of a stored record the matcher reads (the record JSON carries more). */
function plateRead(id: string, rec: Record<string, unknown>): PlateRead {
  const r: PlateRead = { id, plate: typeof rec.plate === 'string' ? rec.plate : '' };
  if (typeof rec.state === 'string') r.state = rec.state;
  if (typeof rec.ts === 'number') r.ts = rec.ts;
  if (typeof rec.cameraId === 'string') r.cameraId = rec.cameraId;
  if (typeof rec.agency === 'string') r.agency = rec.agency;
  if (typeof rec.confidence === 'number') r.confidence = rec.confidence;
  if (Array.isArray(rec.candidates)) r.candidates = rec.candidates as PlateRead['candidates'];
  if (typeof rec.vehicle === 'object' && rec.vehicle !== null) r.vehicle = rec.vehicle;
  return r;
}

interface StoredAlert {
  list: string;
  outcome: string | null;
}

/**
 * Replays `candidate` over the stored reads of [from, to) and reports, by list, what it would
 * have raised, kept and lost against the stored alerts and their dispositions.
 * @throws ReplayError on a bad window or setting, or when the store has no dispositions table;
 *   the matcher's OptionsError on bad matching options (both before any read is fetched).
 */
export async function replay(pool: pg.Pool, candidate: ReplayCandidate, options: ReplayOptions): Promise<ReplayReport> {
  const started = performance.now();
  checkOptions(candidate, options);
  const matcher = createMatcher({ ...candidate.matching, entries: candidate.entries });
  const { rows: [reg] } = await pool.query<{ t: string | null }>(`SELECT to_regclass('platesieve.dispositions')::text AS t`);
  if (reg?.t == null) throw new ReplayError('REPLAY_NO_DISPOSITIONS', 'replay: the store has no dispositions table (run `platesieve store migrate`)');

  const pageSize = options.pageSize ?? DEFAULT_PAGE;
  const now = options.now ?? Date.now();
  const thresholds = candidate.listMinScore ?? {};
  const lists = new Map<string, ReplayCounts>();
  const counts = (list: string): ReplayCounts => {
    let c = lists.get(list);
    if (c === undefined) lists.set(list, (c = emptyCounts()));
    return c;
  };
  let reads = 0;
  let invalid = 0;
  let after: [number, string] = [options.from - 1, ''];
  for (;;) {
    // Keyset on (ts, id): each page is one index range, whatever the window's size.
    const page = await pool.query<{ id: string; ts: string; record: Record<string, unknown> }>(
      `SELECT id, ts, record FROM platesieve.reads
        WHERE ts >= $1 AND ts < $2 AND expires_at > $3 AND (ts, id) > ($4::bigint, $5::text)
        ORDER BY ts, id LIMIT $6`,
      [options.from, options.to, now, after[0], after[1], pageSize],
    );
    if (page.rows.length === 0) break;
    const last = page.rows[page.rows.length - 1];
    after = [Number(last.ts), last.id];
    const batch = page.rows.map((r) => plateRead(r.id, r.record));
    const result = matcher.matchBatch(batch);
    invalid += result.invalid.length;
    const raised = new Map<string, Alert>();
    for (const a of result.alerts) {
      const min = thresholds[a.list];
      if (min !== undefined && a.score < min) continue;
      raised.set(key(a.readId, a.entryId), a);
    }
    const stored = await storedAlerts(pool, page.rows.map((r) => r.id));
    for (const [k, s] of stored) {
      const c = counts(s.list);
      const kept = raised.has(k);
      c.stored++;
      const field: keyof ReplayCounts =
        s.outcome === 'confirmed' ? (kept ? 'confirmedKept' : 'confirmedLost')
        : s.outcome === 'rejected' ? (kept ? 'rejectedRaised' : 'rejectedAvoided')
        : s.outcome === 'no_action' ? (kept ? 'noActionKept' : 'noActionLost')
        : kept ? 'undisposedKept' : 'undisposedLost';
      c[field]++;
    }
    for (const [k, a] of raised) {
      const c = counts(a.list);
      c.raised++;
      if (!stored.has(k)) c.new++;
    }
    reads += page.rows.length;
    options.onProgress?.(reads);
    if (page.rows.length < pageSize) break;
  }
  const totals = emptyCounts();
  for (const c of lists.values()) for (const f of Object.keys(totals) as Array<keyof ReplayCounts>) totals[f] += c[f];
  const sorted = Object.fromEntries([...lists.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { from: options.from, to: options.to, reads, invalid, lists: sorted, totals, ms: performance.now() - started };
}

/** The stored alerts of these reads with their dispositions, one per (read, entry). */
async function storedAlerts(pool: pg.Pool, readIds: readonly string[]): Promise<Map<string, StoredAlert>> {
  const { rows } = await pool.query<{ read_id: string; entry_id: string; list: string | null; outcome: string | null }>(
    `SELECT a.read_id, a.entry_id, a.list, d.outcome
       FROM platesieve.alerts a LEFT JOIN platesieve.dispositions d ON d.alert_id = a.alert_id
      WHERE a.read_id = ANY($1::text[])
      ORDER BY a.read_id, a.entry_id, a.ts`,
    [readIds],
  );
  const out = new Map<string, StoredAlert>();
  for (const r of rows) {
    // A repeat of the same lead (a historical hit after a live one) counts once, with the
    // disposition of the first alert that has one.
    const k = key(r.read_id, r.entry_id);
    const prev = out.get(k);
    if (prev === undefined) out.set(k, { list: r.list ?? '', outcome: r.outcome });
    else if (prev.outcome === null && r.outcome !== null) prev.outcome = r.outcome;
  }
  return out;
}
