/**
 * The benchmark hook of historical hits (`npm run bench:store -- --historical`): the time from a
 * hotlist entry's arrival to its historical alerts claimed, on a loaded store, through the
 * functions `platesieve store` runs for every entry added (historical-entry.ts). What it leaves
 * out, and why: the JetStream publish of the alerts (the hook is given a pool, no NATS; the
 * service publishes 256 alerts at a time and awaits their acks, a few milliseconds for the
 * handful of alerts an entry raises) and the bucket watch that reports the entry (one KV
 * message). Everything else is timed: the search of the window, the query of the reads already
 * alerted, the claims inserted, their marking as published, the entry marked searched.
 */
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { DEFAULT_OCR_CLASSES } from '../core/plate.js';
import { DEFAULT_MAX_DISTANCE, DEFAULT_TIERS } from '../options.js';
import type { MatchTier } from '../types.js';
import { entryKey, type WatchedEntry } from './entry-watch.js';
import { markPublished, markSearched, searchAndClaim, type EntrySearchContext } from './historical-entry.js';
import { SCHEMA } from './schema.js';
import { searchReads } from './search.js';

/** What {@link benchHistorical} is given by bench/store.bench.ts. */
export interface HistoricalBenchOptions {
  /** Plates of the entries added, one entry each per repetition. */
  plates: readonly string[];
  /** The time the entries arrive (epoch ms): the end of the window searched. */
  now: number;
  /** Days of reads stored (reported only; the window searched is `windowDays`). */
  days: number;
  /** Days searched before `now` (the `store.historicalDays` default: 7). */
  windowDays?: number;
  /** Tiers of the entries' list (default DEFAULT_TIERS, exact and ocr). */
  tiers?: MatchTier[];
  /** Passes over the plates, each with fresh entry ids (default 3). */
  reps?: number;
}

/** Seconds from arrival to alerts claimed, over every entry of every pass. */
export interface HistoricalBenchResult {
  windowDays: number;
  storedDays: number;
  tiers: MatchTier[];
  entries: number;
  p50S: number;
  p95S: number;
  maxS: number;
  /** Medians of the search alone and of the claims after it, ms. */
  searchP50Ms: number;
  claimP50Ms: number;
  medianAlerts: number;
  maxAlerts: number;
  /** p95 seconds of each pass. */
  passP95S: number[];
  targetS: number;
  met: boolean;
}

const pctOf = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

/**
 * Adds one entry per plate (and pass), one after another, and times each from its arrival to
 * its alerts claimed, marked published and the entry marked searched. The claims it inserts
 * are deleted at the end (they name entry ids of its own, `bench-hist-…`).
 */
export async function benchHistorical(pool: pg.Pool, o: HistoricalBenchOptions): Promise<HistoricalBenchResult> {
  const windowDays = o.windowDays ?? 7;
  const tiers = o.tiers ?? [...DEFAULT_TIERS];
  const reps = o.reps ?? 3;
  const ctx: EntrySearchContext = {
    pool,
    search: searchReads,
    settings: { ocrClasses: DEFAULT_OCR_CLASSES, partialOcr: false, stateMismatch: 'match' },
    matching: { tiers, maxDistance: DEFAULT_MAX_DISTANCE, minScore: 0 },
    now: () => performance.now(),
  };
  const keys: string[] = [];
  const seconds: number[] = [];
  const searchMs: number[] = [];
  const claimMs: number[] = [];
  const alerts: number[] = [];
  const passP95S: number[] = [];
  try {
    for (let rep = 0; rep < reps; rep++) {
      const pass: number[] = [];
      for (const [i, plate] of o.plates.entries()) {
        const id = `bench-hist-${rep}-${i}`;
        const entry = { id, plate, list: 'STOLEN_VEHICLE' };
        const w: WatchedEntry = { key: entryKey(entry, id), entryId: id, entry, origin: 'live', arrivedAt: o.now, version: 'bench' };
        keys.push(w.key);
        const t = performance.now();
        const found = await searchAndClaim(ctx, w, windowDays, o.now);
        if (found.claimed.length > 0) await markPublished(pool, w.key, found.claimed.map((a) => a.readId));
        await markSearched(pool, w.key, found.claimed.length);
        const s = (performance.now() - t) / 1000;
        seconds.push(s);
        pass.push(s);
        searchMs.push(found.searchMs);
        claimMs.push(found.claimMs);
        alerts.push(found.claimed.length);
      }
      passP95S.push(pctOf(pass, 95));
    }
  } finally {
    await pool.query(`DELETE FROM ${SCHEMA}.historical_hits WHERE entry_key = ANY($1::text[])`, [keys]);
  }
  const p95S = pctOf(seconds, 95);
  return {
    windowDays, storedDays: o.days, tiers, entries: seconds.length,
    p50S: pctOf(seconds, 50), p95S, maxS: Math.max(...seconds),
    searchP50Ms: pctOf(searchMs, 50), claimP50Ms: pctOf(claimMs, 50),
    medianAlerts: pctOf(alerts, 50), maxAlerts: Math.max(...alerts), passP95S,
    targetS: 5, met: p95S < 5,
  };
}
