/**
 * Historical hits, inside `platesieve store`: when a hotlist entry is added (a live change in
 * the bucket, or a new file version with a plate not seen before), the stored reads of the last
 * `store.historicalDays` days (`store.historicalDaysByList` per list) are searched for it, and
 * each match becomes an alert with `historical: true` and the read's own time, camera and
 * agency, published once on `<prefix>.alerts.<agency>` (the store's alerts consumer stores it).
 *
 * Once, even with several store processes and through crashes:
 * - an entry is searched by the one store whose insert of its key into `known_entries` took
 *   (ON CONFLICT DO NOTHING); a claim left stale (its store died mid-search) is taken over by
 *   the sweep, which any store runs;
 * - each (read, entry) alert is claimed by an insert into `historical_hits` before it is
 *   published, with a deterministic alert id as the JetStream `Nats-Msg-Id`; it is marked
 *   published once JetStream acked it. An alert claimed and never marked (a crash between) is
 *   published again by the sweep with the same id: the stream drops it as a duplicate inside
 *   its duplicate window, and the store keeps one row per alert id in any case;
 * - reads the service already alerted for this entry (an alert row with the entry's id) are
 *   left out: a read that arrived after the entry went live was matched live.
 *
 * The first time any store sees the hotlists (no `historicalBaseline` in `store_meta`), it only
 * records their keys: starting the feature on a database with years of lists in force must not
 * raise one alert per stored read of every entry. Entries added while every store was down are
 * "added" at the next start, and searched then.
 */
import type { NatsConnection } from 'nats';
import type pg from 'pg';
import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { ServiceConfig } from '../service/config.js';
import { DAY_MS } from '../service/retention.js';
import { subjectsFor } from '../service/subjects.js';
import type { Alert } from '../types.js';
import { EntryWatch, type WatchedEntry } from './entry-watch.js';
import { markPublished, markSearched, searchAndClaim, SEARCH_LIMIT, type EntrySearchContext } from './historical-entry.js';
import { SCHEMA } from './schema.js';
import { inTransaction } from './tx.js';
import type { searchReads, SearchSettings } from './search.js';

export { historicalAlert, historicalAlertId } from './historical-entry.js';
export { benchHistorical, type HistoricalBenchOptions, type HistoricalBenchResult } from './historical-bench.js';

/** What {@link startHistorical} needs of the store. */
export interface HistoricalContext {
  nc: NatsConnection;
  pool: pg.Pool;
  config: ServiceConfig;
  log: Logger;
  search: typeof searchReads;
  /** The OCR classes the stored search keys were made with. */
  classes: readonly string[];
  /** The store's metrics registry: `platesieve_store_historical_seconds` and the alert counter go there. */
  registry?: Registry;
  now?: () => number;
}

/** Historical hits running. */
export interface RunningHistorical {
  stop(): Promise<void>;
  /** Milliseconds from the last entry's arrival to its alerts published (the entry searched, when it had none). */
  readonly lastLatencyMs?: number;
}


const S = SCHEMA;
/** A claim not refreshed for this long is taken to be a dead store's. */
const STALE_S = 60;
/** How often a store refreshes the claim of the entry it is searching for. */
const HEARTBEAT_MS = 15_000;
/** How often the sweep looks for stale claims and alerts never marked published. */
const SWEEP_MS = 15_000;
/** Searches of one store at once. */
const CONCURRENCY = 2;
/** Searches of one entry before it is given up (logged at error level). */
const MAX_ATTEMPTS = 10;
/** Alerts published at once (their acks awaited together). */
const PUBLISH_CHUNK = 256;
const INSERT_CHUNK = 5_000;
// Any constant: one lock for every store deciding whether the baseline is taken.
const BASELINE_LOCK = 7_140_222;
const PRUNE_EVERY_MS = 3_600_000;

/** Days of reads searched for an entry of `list` (0: none). */
export function historicalDaysFor(config: ServiceConfig, list: string): number {
  return config.store.historicalDaysByList[list] ?? config.store.historicalDays;
}

function metricOf<T>(registry: Registry | undefined, name: string, make: (registers: Registry[]) => T): T {
  const existing = registry?.getSingleMetric(name);
  return existing !== undefined ? (existing as T) : make(registry === undefined ? [] : [registry]);
}

/** Starts following the hotlists and searching the stored reads for every entry added. */
export async function startHistorical(ctx: HistoricalContext): Promise<RunningHistorical> {
  const { pool, config } = ctx;
  const log = ctx.log.child({ stage: 'historical' });
  const now = ctx.now ?? Date.now;
  const js = ctx.nc.jetstream();
  const subjects = subjectsFor(config.subjects.prefix);
  const m = config.matching;
  const settings: SearchSettings = { ocrClasses: ctx.classes, partialOcr: m.partialOcr, stateMismatch: m.stateMismatch };
  const entryCtx: EntrySearchContext = { pool, search: ctx.search, settings, matching: m, now };
  const seconds = metricOf(ctx.registry, 'platesieve_store_historical_seconds', (registers) => new Histogram({
    name: 'platesieve_store_historical_seconds', help: 'Seconds from a hotlist entry\'s arrival to its historical alerts published', registers,
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600],
  }));
  const published = metricOf(ctx.registry, 'platesieve_store_historical_alerts_total', (registers) => new Counter({
    name: 'platesieve_store_historical_alerts_total', help: 'Historical alerts published', registers,
  }));

  /** Keys this process knows are in known_entries: not sent to the database again. */
  const confirmed = new Set<string>();
  let baselineKnown = false;
  let stopping = false;
  let dirty = true;
  let sweepDue = true;
  let running: Promise<void> | undefined;
  let lastLatencyMs: number | undefined;
  let lastPrune = 0;
  let retry: NodeJS.Timeout | undefined;

  const request = (): void => {
    dirty = true;
    if (running === undefined && !stopping) running = loop().finally(() => (running = undefined));
  };

  const watch = await EntryWatch.start(ctx.nc, config, log, request);

  /** Claims the keys not yet known; at the first sync ever, records them all as the baseline. */
  const claimNew = async (entries: readonly WatchedEntry[]): Promise<WatchedEntry[]> => {
    const fresh = entries.filter((w) => !confirmed.has(w.key));
    // The baseline is taken even of no entries at all: the first entry added later is news.
    if (fresh.length === 0 && baselineKnown) return [];
    const byKey = new Map(fresh.map((w) => [w.key, w]));
    const claimed: WatchedEntry[] = [];
    await inTransaction(pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [BASELINE_LOCK]);
      const { rows } = await client.query(`SELECT 1 FROM ${S}.store_meta WHERE key = 'historicalBaseline'`);
      const baseline = rows.length === 0;
      const list = [...byKey.values()];
      for (let i = 0; i < list.length; i += INSERT_CHUNK) {
        const part = list.slice(i, i + INSERT_CHUNK);
        const res = await client.query<{ entry_key: string }>(
          `INSERT INTO ${S}.known_entries (entry_key, entry_id, list, origin, arrived_at, baseline, attempts, searched_at)
           SELECT k, id, l, o, to_timestamp(a / 1000.0), $5, CASE WHEN $5 THEN 0 ELSE 1 END, CASE WHEN $5 THEN now() END
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $6::float8[]) AS t(k, id, l, o, a)
           ON CONFLICT (entry_key) DO NOTHING RETURNING entry_key`,
          [part.map((w) => w.key), part.map((w) => w.entryId), part.map((w) => w.entry.list), part.map((w) => w.origin), baseline, part.map((w) => w.arrivedAt)],
        );
        if (!baseline) for (const r of res.rows) claimed.push(byKey.get(r.entry_key)!);
      }
      if (baseline) {
        await client.query(`INSERT INTO ${S}.store_meta (key, value) VALUES ('historicalBaseline', $1::jsonb) ON CONFLICT (key) DO NOTHING`, [JSON.stringify({ at: new Date(now()).toISOString(), entries: list.length })]);
        log.info({ entries: list.length }, 'historical hits: first sight of the hotlists, entries recorded as the baseline (not searched)');
      }
    });
    baselineKnown = true;
    for (const w of fresh) confirmed.add(w.key);
    return claimed;
  };

  /** Publishes alerts already claimed in historical_hits, awaiting each ack; marks them published. */
  const publishClaimed = async (entryKey: string, alerts: readonly Alert[]): Promise<void> => {
    for (let i = 0; i < alerts.length; i += PUBLISH_CHUNK) {
      const part = alerts.slice(i, i + PUBLISH_CHUNK);
      await Promise.all(part.map((a) => js.publish(subjects.alerts(a.agency), JSON.stringify(a), { msgID: a.alertId })));
      await markPublished(pool, entryKey, part.map((a) => a.readId));
      published.inc(part.length);
    }
  };

  /** Searches for one claimed entry, claims and publishes its alerts, marks it searched. */
  const processEntry = async (w: WatchedEntry): Promise<void> => {
    const started = now();
    const heartbeat = setInterval(() => {
      pool.query(`UPDATE ${S}.known_entries SET claimed_at = now() WHERE entry_key = $1 AND searched_at IS NULL`, [w.key]).catch(() => undefined);
    }, HEARTBEAT_MS);
    heartbeat.unref();
    try {
      const days = historicalDaysFor(config, w.entry.list);
      const found = await searchAndClaim(entryCtx, w, days, started);
      if (found.truncated) {
        log.warn({ entryId: w.entryId, limit: SEARCH_LIMIT }, 'historical search reached its limit: only the newest reads found are alerted');
      }
      const fresh = found.claimed;
      if (fresh.length > 0) await publishClaimed(w.key, fresh);
      await markSearched(pool, w.key, fresh.length);
      const done = now();
      lastLatencyMs = Math.round(done - w.arrivedAt);
      seconds.observe(Math.max(0, lastLatencyMs) / 1000);
      log.info(
        { entryId: w.entryId, origin: w.origin, list: w.entry.list, hits: found.hits, alerts: fresh.length, searchMs: found.searchMs, claimMs: found.claimMs, totalMs: done - started, latencyMs: lastLatencyMs },
        'historical hits published',
      );
    } catch (err) {
      const message = (err as Error).message;
      log.warn({ entryId: w.entryId, error: message }, 'historical search failed; retried by the sweep');
      await pool.query(`UPDATE ${S}.known_entries SET error = $2 WHERE entry_key = $1`, [w.key, message.slice(0, 1000)]).catch(() => undefined);
    } finally {
      clearInterval(heartbeat);
    }
  };

  const processAll = async (entries: WatchedEntry[]): Promise<void> => {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < entries.length && !stopping) await processEntry(entries[next++]);
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, entries.length) }, worker));
  };

  /** Takes over stale claims (entries and alerts of a store that died), prunes old rows. */
  const sweep = async (): Promise<void> => {
    const stale = await pool.query<{ entry_key: string; attempts: number }>(
      `UPDATE ${S}.known_entries SET claimed_at = now(), attempts = attempts + 1
       WHERE entry_key IN (SELECT entry_key FROM ${S}.known_entries WHERE searched_at IS NULL AND claimed_at < now() - make_interval(secs => $1)
                           ORDER BY claimed_at LIMIT 100 FOR UPDATE SKIP LOCKED)
       RETURNING entry_key, attempts`,
      [STALE_S],
    );
    if (stale.rows.length > 0) {
      const current = new Map(watch.current(now()).map((w) => [w.key, w]));
      const retryNow: WatchedEntry[] = [];
      for (const r of stale.rows) {
        const w = current.get(r.entry_key);
        if (w === undefined || r.attempts > MAX_ATTEMPTS) {
          if (w !== undefined) log.error({ entryId: w.entryId, attempts: r.attempts - 1 }, 'historical search given up after repeated failures');
          await pool.query(`UPDATE ${S}.known_entries SET searched_at = now(), error = coalesce(error, $2) WHERE entry_key = $1`, [r.entry_key, w === undefined ? 'entry no longer in force' : 'given up']);
        } else {
          retryNow.push(w);
        }
      }
      await processAll(retryNow);
    }
    const unpublished = await pool.query<{ entry_key: string; alert: Alert | null }>(
      `UPDATE ${S}.historical_hits SET claimed_at = now()
       WHERE (read_id, entry_key) IN (SELECT read_id, entry_key FROM ${S}.historical_hits WHERE published_at IS NULL AND claimed_at < now() - make_interval(secs => $1)
                                      LIMIT 1000 FOR UPDATE SKIP LOCKED)
       RETURNING entry_key, alert`,
      [STALE_S],
    );
    const byEntry = new Map<string, Alert[]>();
    for (const r of unpublished.rows) if (r.alert !== null) byEntry.set(r.entry_key, [...(byEntry.get(r.entry_key) ?? []), r.alert]);
    for (const [key, alerts] of byEntry) {
      await publishClaimed(key, alerts);
      log.info({ alerts: alerts.length }, 'historical alerts claimed by a store that stopped: published again (same ids)');
    }
    if (now() - lastPrune > PRUNE_EVERY_MS) {
      lastPrune = now();
      // A read older than the longest window is never searched again: its row cannot prevent anything.
      const longest = Math.max(config.store.historicalDays, ...Object.values(config.store.historicalDaysByList));
      await pool.query(`DELETE FROM ${S}.historical_hits WHERE published_at IS NOT NULL AND read_ts < $1`, [now() - (longest + 1) * DAY_MS]);
    }
  };

  const loop = async (): Promise<void> => {
    while ((dirty || sweepDue) && !stopping) {
      try {
        if (dirty) {
          dirty = false;
          await processAll(await claimNew(watch.current(now())));
        }
        if (sweepDue && !stopping) {
          sweepDue = false;
          await sweep();
        }
      } catch (err) {
        log.warn({ error: (err as Error).message }, 'historical hits: database or NATS unavailable; trying again');
        clearTimeout(retry);
        retry = setTimeout(request, 5_000);
        retry.unref();
        return;
      }
    }
  };

  const sweepTimer = setInterval(() => {
    sweepDue = true;
    if (running === undefined && !stopping) running = loop().finally(() => (running = undefined));
  }, SWEEP_MS);
  sweepTimer.unref();
  request();
  log.info({ days: config.store.historicalDays, byList: config.store.historicalDaysByList, bucket: config.liveUpdates.bucket, files: config.hotlists.length }, 'historical hits started');

  return {
    get lastLatencyMs() {
      return lastLatencyMs;
    },
    async stop() {
      stopping = true;
      clearInterval(sweepTimer);
      clearTimeout(retry);
      await watch.stop();
      await running;
    },
  };
}
