/**
 * Records store at scale: N stored reads (default 10M over 30 days) in a PostgreSQL database of
 * the bench's own. Measures
 * - ingest: rows/s of `StoreWriter` alone (COPY batches, the database-side figure), and records/s
 *   through `store` itself (JetStream consumers -> writer) beside a raw consumer that only acks;
 *   what each index costs (`--profile`);
 * - search: p50/p95 of `searchReads` per form (exact, ocr, fuzzy d=1/d=2, three pattern shapes)
 *   over the whole window, beside a brute-force scan matched with the library matcher and the
 *   SQL a user would write (`WHERE plate_norm = $1`, `levenshtein()`, `LIKE` / `~`);
 * - sizes: bytes per row of the table and each index (docs/scaling.md).
 *
 *   npm run build && npm run bench:store [-- --rows 10000000 --days 30 --keep --skip-load --db NAME
 *     --profile --no-search --store-records 1000000 --store-writers 2 --forms exact,ocr --steady-state --historical
 *     --historical-plates 20 --historical-reps 3]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execSync } from 'node:child_process';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import pino from 'pino';
import { connect, headers, AckPolicy } from 'nats';
import { DEFAULT_OCR_CLASSES, ocrClassMap, type MatchTier } from '../matcher/index.js';
import { prepareDatabase } from '../matcher/store/open.js';
import { readRow } from '../matcher/store/rows.js';
import { StoreWriter } from '../matcher/store/writer.js';
import { searchReads } from '../matcher/store/search.js';
import { startStore } from '../matcher/store/service.js';
import { ensureOutputStreams } from '../matcher/service/streams.js';
import { loadServiceConfig } from '../matcher/service/config.js';
import { startEmbeddedNats } from '../matcher/service/embedded-nats.js';
import { admin, postgresCpu, procCpuS, sizes } from './store-db.js';
import { brute, DAY_MS, feed, makePopulation, naiveSql, pct, querySets, type Form, type Population, type QuerySets } from './store-data.js';
import { human, intArg, machineInfo, median, nowMs, parseArgs, table, writeResults } from './util.js';

const args = parseArgs(process.argv.slice(2));
const ROWS = intArg(args, 'rows', 10_000_000);
const DAYS = intArg(args, 'days', 30);
const [BATCH, QUERIES, NAIVE, BRUTE] = [intArg(args, 'batch', 20_000), intArg(args, 'queries', 50), intArg(args, 'naive-queries', 3), intArg(args, 'brute-queries', 1)];
const STORE_RECORDS = args.get('store-records') === '0' ? 0 : intArg(args, 'store-records', 1_000_000);
const FORM_SECONDS = intArg(args, 'form-seconds', 90);
const WRITERS = intArg(args, 'store-writers', 1);
const SEED = intArg(args, 'seed', 7);
const ADMIN = args.get('pg') ?? process.env.PLATESIEVE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const S = 'platesieve';
const classes = ocrClassMap(DEFAULT_OCR_CLASSES);
const settings = { ocrClasses: [...DEFAULT_OCR_CLASSES], partialOcr: false, stateMismatch: 'match' as const };
const log = (s: string): void => void process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);
const loadavg = (): number[] => execSync('cat /proc/loadavg').toString().split(' ').slice(0, 3).map(Number);
const dbUrl = (db: string): string => Object.assign(new URL(ADMIN), { pathname: `/${db}` }).toString();

/** Load through StoreWriter: generation (readRow, the store's JS work) and COPY timed apart. */
async function load(pool: pg.Pool, pop: Population, now: number): Promise<Record<string, unknown>> {
  const writer = new StoreWriter(pool);
  let genMs = 0;
  let writeMs = 0;
  let done = 0;
  const samples: Array<{ rows: number; rowsPerSec: number }> = [];
  let winRows = 0;
  let winMs = 0;
  const t0 = nowMs();
  let g = nowMs();
  for (const recs of feed({ seed: SEED, rows: ROWS, days: DAYS, now }, pop, BATCH)) {
    const reads = recs.map((r) => readRow(r, classes, new Map()));
    const w = nowMs();
    genMs += w - g;
    await writer.write({ reads, alerts: [], deadletters: [] });
    g = nowMs();
    writeMs += g - w;
    winMs += g - w;
    done += reads.length;
    winRows += reads.length;
    if (winRows >= 1_000_000 || done === ROWS) {
      samples.push({ rows: done, rowsPerSec: Math.round(winRows / (winMs / 1000)) });
      log(`load ${human(done)} rows: writer ${human(winRows / (winMs / 1000))} rows/s (last ${human(winRows)}), load ${loadavg().join(' ')}`);
      winRows = 0;
      winMs = 0;
    }
  }
  const a = nowMs();
  await pool.query(`VACUUM (ANALYZE) ${S}.reads`); // what autovacuum does after a load: merges the GIN pending lists
  const analyzeMs = nowMs() - a;
  return {
    rows: done, batch: BATCH, wallS: (a - t0) / 1000, generateS: genMs / 1000, writeS: writeMs / 1000,
    writerRowsPerSec: Math.round(done / (writeMs / 1000)), generateRowsPerSec: Math.round(done / (genMs / 1000)),
    byMillion: samples, analyzeS: analyzeMs / 1000,
  };
}

/** What each index costs at ingest: the same rows COPYed into a scratch table with more and more indexes. */
async function profileIndexes(pool: pg.Pool, pop: Population, now: number): Promise<Array<Record<string, unknown>>> {
  const n = intArg(args, 'profile-rows', 300_000);
  const recs = [...feed({ seed: SEED + 1, rows: n, days: 1, now, idPrefix: 'p' }, pop, n)][0];
  const lines = recs.map((r) => readRow(r, classes, new Map()).line);
  const sets: Array<[string, string[]]> = [
    ['no index', []],
    ['+ primary key', ['PRIMARY KEY']],
    ['+ btree (plate_key, ts)', ['PRIMARY KEY', 'btree']],
    ['+ brin (ts)', ['PRIMARY KEY', 'btree', 'brin']],
    ['+ gin cand_keys', ['PRIMARY KEY', 'btree', 'brin', 'gincand']],
    ['+ gin trgm plate_key (= schema)', ['PRIMARY KEY', 'btree', 'brin', 'gincand', 'trgm']],
    ['no index, record as text (not json)', ['text']],
    ['no index, unlogged table (no WAL)', ['unlogged']],
    ['schema, record as text', ['text', 'PRIMARY KEY', 'btree', 'brin', 'gincand', 'trgm']],
  ];
  const ddl: Record<string, string> = {
    'PRIMARY KEY': 'ALTER TABLE bench_profile ADD PRIMARY KEY (id, expires_day)', btree: 'CREATE INDEX ON bench_profile (plate_key, ts)',
    brin: 'CREATE INDEX ON bench_profile USING brin (ts)', gincand: 'CREATE INDEX ON bench_profile USING gin (cand_keys) WHERE cand_keys IS NOT NULL',
    trgm: 'CREATE INDEX ON bench_profile USING gin (plate_key gin_trgm_ops)',
    text: 'ALTER TABLE bench_profile ALTER COLUMN record TYPE text', unlogged: 'ALTER TABLE bench_profile SET UNLOGGED',
  };
  const runs = new Map<string, number[]>(sets.map(([name]) => [name, []]));
  for (let rep = 0; rep < intArg(args, 'profile-reps', 3); rep++) for (const [name, set] of sets) {
    const c = await pool.connect();
    try {
      await c.query(`DROP TABLE IF EXISTS bench_profile; CREATE TABLE bench_profile (LIKE ${S}.reads)`);
      for (const k of set) await c.query(ddl[k]);
      const t = nowMs();
      await c.query('BEGIN');
      const stream = c.query(copyFrom(`COPY bench_profile FROM STDIN`));
      await new Promise<void>((resolve, reject) => {
        stream.on('finish', resolve).on('error', reject);
        for (let i = 0; i < lines.length; i += 4096) stream.write(lines.slice(i, i + 4096).join('\n') + '\n');
        stream.end();
      });
      await c.query('COMMIT');
      runs.get(name)!.push(n / ((nowMs() - t) / 1000));
    } finally {
      await c.query('DROP TABLE IF EXISTS bench_profile');
      c.release();
    }
  }
  const out: Array<Record<string, unknown>> = sets.map(([name]) => ({ indexes: name, rows: n, rowsPerSec: Math.round(median(runs.get(name)!)), runs: runs.get(name)!.map(Math.round) }));
  for (const o of out) log(`profile ${o.indexes as string}: ${human(o.rowsPerSec as number)} rows/s (median of ${(o.runs as number[]).length}, interleaved)`);
  // JS side of the store per record: JSON.parse of the message, readRow (normalize, collapse, COPY line, JSON.stringify).
  const msgs: string[] = [];
  for (let i = 0; i < recs.length; i += 512) msgs.push(JSON.stringify(recs.slice(i, i + 512)));
  let t = nowMs();
  const parsed = msgs.flatMap((m) => JSON.parse(m) as typeof recs);
  const parseS = (nowMs() - t) / 1000;
  t = nowMs();
  for (const r of parsed) readRow(r, classes, new Map());
  const rowS = (nowMs() - t) / 1000;
  out.push({ indexes: 'JS: JSON.parse (512-record arrays)', rows: n, seconds: parseS, rowsPerSec: Math.round(n / parseS) });
  out.push({ indexes: 'JS: readRow', rows: n, seconds: rowS, rowsPerSec: Math.round(n / rowS) });
  return out;
}

/** Records through `store` (JetStream -> startStore -> PostgreSQL), drained from a backlog, beside a consumer that only acks.
 * The feed ends at the real clock, one day short, so no record expires (and is dropped by the store) mid-phase. */
async function throughStore(url: string, pop: Population, single: boolean): Promise<Record<string, unknown>> {
  const n = single ? Math.min(STORE_RECORDS, intArg(args, 'store-single', 200_000)) : STORE_RECORDS;
  const nats = await startEmbeddedNats({ jetstream: true, config: 'max_payload: 8MB' });
  const dir = mkdtempSync(path.join(tmpdir(), 'platesieve-storebench-'));
  try {
    const file = path.join(dir, 'store.json');
    writeFileSync(file, JSON.stringify({ subjects: { prefix: 'bench' }, jetstream: { outStream: 'BENCH_OUT' }, metrics: null, liveUpdates: { bucket: null }, store: { retentionEveryMinutes: 0, writers: WRITERS, historicalDays: 0 } }));
    const config = loadServiceConfig(file, { nats: [nats.url] }, {}, { requireHotlists: false });
    const logger = pino({ level: process.env.BENCH_LOG ?? 'warn' }, pino.destination(2));
    const nc = await connect({ servers: nats.url });
    await ensureOutputStreams(nc, config, logger);
    const js = nc.jetstream();
    const tp = nowMs();
    let msgs = 0;
    let inflight: Array<Promise<unknown>> = [];
    const send = async (subject: string, data: string, count: number): Promise<void> => {
      const h = headers();
      if (!single) h.set('Platesieve-Records', String(count));
      inflight.push(js.publish(subject, data, { headers: h }));
      msgs++;
      if (inflight.length >= 512) {
        await Promise.all(inflight);
        inflight = [];
      }
    };
    const tag = randomBytes(2).toString('hex');
    for (const recs of feed({ seed: SEED + (single ? 3 : 2), rows: n, days: DAYS - 1, now: Date.now(), idPrefix: `${single ? 'm' : 's'}${tag}-` }, pop, 512)) {
      const hit = recs.filter((r) => r.hit);
      const non = recs.filter((r) => !r.hit);
      if (single) for (const r of recs) await send(`bench.records.${r.hit ? 'hit' : 'nonhit'}.default`, JSON.stringify(r), 1);
      else {
        if (non.length > 0) await send('bench.records.nonhit.default', JSON.stringify(non), non.length);
        if (hit.length > 0) await send('bench.records.hit.default', JSON.stringify(hit), hit.length);
      }
    }
    await Promise.all(inflight);
    const publishS = (nowMs() - tp) / 1000;
    log(`store ingest (${single ? 'one record a message' : 'arrays of 512'}): ${human(n)} records in ${msgs} messages published in ${publishS.toFixed(1)} s`);

    // Baseline: a durable consumer per stream that acks every message and does nothing else.
    const jsm = await nc.jetstreamManager();
    const tr = nowMs();
    let seen = 0;
    await Promise.all(['BENCH_OUT_RECORDS_NONHIT_DEFAULT', 'BENCH_OUT_RECORDS_HIT_DEFAULT'].map(async (stream) => {
      await jsm.consumers.add(stream, { durable_name: 'raw', ack_policy: AckPolicy.Explicit, max_ack_pending: 20_000 });
      const total = (await jsm.streams.info(stream)).state.messages;
      if (total === 0) return;
      const it = await (await js.consumers.get(stream, 'raw')).consume({ max_messages: 256 }); // the store's pull size: a larger pull of 200 kB arrays stalled here for a 30 s pull expiry
      let got = 0;
      for await (const m of it) {
        m.ack();
        seen++;
        if (++got === total) break;
      }
    }));
    const rawS = (nowMs() - tr) / 1000;
    log(`raw consumer: ${seen} messages (${human(n)} records) in ${rawS.toFixed(2)} s`);

    const cpu0 = process.cpuUsage();
    const pgCpu0 = await postgresCpu(url);
    const natsCpu0 = procCpuS(nats.pid);
    const ts = nowMs();
    const store = await startStore(config, logger, { dbUrl: url });
    let rows = 0;
    const deadline = Date.now() + 20 * 60_000;
    while (rows < n && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      rows = (await store.metrics.rows.get()).values.filter((v) => v.labels.table === 'reads').reduce((x, v) => x + v.value, 0);
    }
    const storeS = (nowMs() - ts) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const pgCpu = await postgresCpu(url);
    const natsCpuS = procCpuS(nats.pid) - natsCpu0;
    // Backends that were there at both ends; the store's own connections are counted from zero (they started with it).
    const pgCpuS = [...pgCpu].reduce((sum, [pid, v]) => sum + v - (pgCpu0.get(pid) ?? 0), 0);
    const commits = await store.metrics.commitSeconds.get();
    const batches = commits.values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
    await store.stop();
    await nc.close();
    const r = {
      form: single ? 'one record a message' : 'arrays of 512 records (core-mode coalesced)', records: n, messages: msgs, rowsCommitted: rows,
      publishS, rawConsumerS: rawS, rawRecordsPerSec: Math.round(n / rawS), storeS, storeRecordsPerSec: Math.round(rows / storeS), batches,
      storeProcessCpuS: (cpu.user + cpu.system) / 1e6, loadavg: loadavg(), writers: WRITERS,
      // CPU seconds per 100k records where they were spent: what bounds records/s on this many cores.
      cpuPer100k: { node: (cpu.user + cpu.system) / 1e6 / rows * 1e5, postgres: pgCpuS / rows * 1e5, natsServer: natsCpuS / rows * 1e5 },
    };
    log(`CPU per 100k records: node ${r.cpuPer100k.node.toFixed(2)} s, postgres ${r.cpuPer100k.postgres.toFixed(2)} s, nats-server ${r.cpuPer100k.natsServer.toFixed(2)} s (writers ${WRITERS})`);
    log(`through store: ${human(rows)} rows in ${storeS.toFixed(1)} s = ${human(r.storeRecordsPerSec)} records/s (raw consumer ${human(r.rawRecordsPerSec)}/s)`);
    return r;
  } finally {
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function searches(pool: pg.Pool, qs: QuerySets, now: number): Promise<Array<Record<string, unknown>>> {
  const from = now - DAYS * DAY_MS;
  const to = now + 1;
  const plates = qs.plates;
  const pats = qs.patterns;
  const kind = (k: number): string[] => pats.filter((_, i) => i % 3 === k);
  const forms: Form[] = [
    { name: 'exact', queries: plates, tiers: ['exact'] },
    { name: 'ocr', queries: plates, tiers: ['exact', 'ocr'] },
    { name: 'fuzzy d=1', queries: plates, tiers: ['exact', 'ocr', 'fuzzy'], maxDistance: 1 },
    { name: 'fuzzy d=2', queries: plates, tiers: ['exact', 'ocr', 'fuzzy'], maxDistance: 2 },
    { name: 'pattern AB?12*', queries: kind(0), pattern: true },
    { name: 'pattern *123', queries: kind(1), pattern: true },
    { name: 'pattern [8B]C?45?', queries: kind(2), pattern: true },
  ];
  const out: Array<Record<string, unknown>> = [];
  const only = args.get('forms')?.split(',');
  for (const f of forms.filter((x) => only === undefined || only.some((o) => x.name.startsWith(o)))) {
    const run = (q: string) => searchReads(pool, f.pattern === true ? { pattern: q, from, to } : { plate: q, tiers: f.tiers, maxDistance: f.maxDistance, from, to }, settings, { now });
    await run(f.queries[QUERIES]); // warm-up, untimed
    const ms: number[] = [];
    const hits: number[] = [];
    let truncated = 0;
    const started = Date.now();
    for (const q of f.queries.slice(0, QUERIES)) {
      const t = nowMs();
      const r = await run(q);
      ms.push(nowMs() - t);
      hits.push(r.hits.length);
      if (r.truncated) truncated++;
      if (Date.now() - started > FORM_SECONDS * 1000 && ms.length >= 5) break;
    }
    const naive: number[] = [];
    for (const q of f.queries.slice(0, NAIVE)) {
      const n = naiveSql(f, q);
      if (n === undefined) break;
      const t = nowMs();
      await pool.query(`SELECT id, ts, plate FROM ${S}.reads WHERE ${n.sql} AND ts >= $2 AND ts < $3`, [n.param, from, to]);
      naive.push(nowMs() - t);
    }
    const bf: number[] = [];
    for (const q of f.queries.slice(0, BRUTE)) bf.push((await brute(pool, f, q, from, to)).ms);
    const row = {
      form: f.name, queries: ms.length, p50Ms: pct(ms, 50), p95Ms: pct(ms, 95), maxMs: Math.max(...ms), medianHits: median(hits), truncated,
      naive: naive.length > 0 ? { sql: naiveSql(f, f.queries[0])?.sql, queries: naive.length, p50Ms: pct(naive, 50), maxMs: Math.max(...naive) } : null,
      bruteForce: { queries: bf.length, p50Ms: pct(bf, 50) }, loadavg: loadavg(),
    };
    log(`search ${f.name}: p50 ${row.p50Ms.toFixed(1)} ms p95 ${row.p95Ms.toFixed(1)} ms (${ms.length} q, median hits ${row.medianHits}); naive p50 ${row.naive?.p50Ms.toFixed(0) ?? '-'} ms; brute ${row.bruteForce.p50Ms.toFixed(0)} ms`);
    out.push(row);
  }
  return out;
}

/**
 * Historical hits (seconds from an entry's arrival to its historical alerts claimed), with
 * `--historical`: `benchHistorical` of matcher/store/historical.js, the functions the store runs
 * for every entry added, over the last 7 days (`store.historicalDays`' default). Entries of
 * `--historical-plates` (20) plates drawn from the stored population as reads are (commuters
 * more often) and 5 plates no vehicle of the population has, `--historical-reps` (3) passes,
 * once with the default tiers (exact, ocr) and once with fuzzy d=1 as well.
 */
async function historical(pool: pg.Pool, qs: QuerySets, now: number): Promise<unknown> {
  const mod = await import('../matcher/store/historical.js');
  const plates = qs.historicalPlates;
  const reps = intArg(args, 'historical-reps', 3);
  const out: Array<Record<string, unknown>> = [];
  for (const tiers of [['exact', 'ocr'], ['exact', 'ocr', 'fuzzy']] as MatchTier[][]) {
    const r = await mod.benchHistorical(pool, { plates, now, days: DAYS, tiers, reps });
    log(`historical (${tiers.join('+')}, ${r.windowDays} days): arrival -> alerts claimed p50 ${r.p50S.toFixed(3)} s p95 ${r.p95S.toFixed(3)} s max ${r.maxS.toFixed(3)} s (${r.entries} entries, median ${r.medianAlerts} alerts)`);
    out.push({ ...r, plates: plates.length, absentPlates: qs.absentPlates, loadavg: loadavg() });
  }
  return out;
}

async function main(): Promise<void> {
  const db = args.get('db') ?? `platesieve_bench_${randomBytes(4).toString('hex')}`;
  const skipLoad = args.has('skip-load');
  if (!skipLoad) await admin(ADMIN, `CREATE DATABASE ${db}`);
  const url = dbUrl(db);
  const pool = new pg.Pool({ connectionString: url, max: 4, application_name: 'platesieve-bench' });
  const result: Record<string, unknown> = {
    suite: 'store', command: `npm run bench:store -- ${process.argv.slice(2).join(' ')}`.trim(), date: new Date().toISOString(),
    machine: {
      ...machineInfo(), commit: execSync('git rev-parse HEAD').toString().trim(),
      // The working tree the build came from: other engineers' edits may be in it too.
      uncommitted: execSync('git status --porcelain --untracked-files=no').toString().trim() !== '',
    },
    database: db,
  };
  try {
    await pool.query(`CREATE TABLE IF NOT EXISTS public.bench_meta (now bigint, rows integer, days integer, seed integer, saved jsonb)`);
    let meta = (await pool.query<{ now: string; rows: number; days: number; seed: number; saved: Record<string, unknown> | null }>('SELECT * FROM public.bench_meta')).rows[0];
    if (meta === undefined) {
      if (skipLoad) throw new Error(`--skip-load: database ${db} holds no bench data`);
      meta = { now: String(Math.floor(Date.now() / 60_000) * 60_000), rows: ROWS, days: DAYS, seed: SEED, saved: null };
      await pool.query('INSERT INTO public.bench_meta VALUES ($1, $2, $3, $4)', [meta.now, ROWS, DAYS, SEED]);
    }
    const now = Number(meta.now);
    (result.machine as Record<string, unknown>).postgres = (await pool.query<{ v: string }>('SELECT version() AS v')).rows[0].v;
    result.postgresSettings = Object.fromEntries((await pool.query<{ name: string; setting: string }>(`SELECT name, setting FROM pg_settings WHERE name IN ('shared_buffers','max_wal_size','synchronous_commit','work_mem','max_parallel_workers_per_gather','effective_cache_size','gin_pending_list_limit')`)).rows.map((r) => [r.name, r.setting]));
    result.spec = { rows: meta.rows, days: meta.days, seed: meta.seed, batch: BATCH, now };
    await prepareDatabase(pool, DEFAULT_OCR_CLASSES);
    const t = nowMs();
    let pop: Population | undefined = makePopulation(meta.seed, Math.max(1000, Math.floor(meta.rows / 5)));
    log(`population ${human(pop.plates.length)} vehicles in ${((nowMs() - t) / 1000).toFixed(1)} s; load ${loadavg().join(' ')}`);
    if (!skipLoad) result.load = await load(pool, pop, now);
    if (args.has('profile')) result.profile = await profileIndexes(pool, pop, now);
    if (STORE_RECORDS > 0 && !args.has('no-store')) {
      result.throughStore = [await throughStore(url, pop, false), await throughStore(url, pop, true)];
      await pool.query(`VACUUM (ANALYZE) ${S}.reads`); // what autovacuum does after a load: merges the GIN pending lists
    }
    result.sizes = await sizes(pool);
    log(`sizes: ${JSON.stringify(result.sizes)}`);
    if (args.has('steady-state')) {
      // Partitions of a store in steady state with 365-day hits: one per expiry day a year ahead (empty here).
      const { PartitionSet } = await import('../matcher/store/partitions.js');
      const c = await pool.connect();
      const days = Array.from({ length: 366 }, (_, i) => new Date(now + i * DAY_MS).toISOString().slice(0, 10));
      await new PartitionSet().ensure(c, 'reads', days).finally(() => c.release());
      result.steadyStatePartitions = Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM pg_partition_tree('${S}.reads') WHERE isleaf`)).rows[0].n);
    }
    const qs = querySets(pop, { seed: SEED, queries: QUERIES, historicalPlates: intArg(args, 'historical-plates', 20) });
    pop = undefined;
    (globalThis as { gc?: () => void }).gc?.();
    if (!args.has('no-search')) result.search = await searches(pool, qs, now);
    if (args.has('historical')) result.historical = await historical(pool, qs, now);
    result.loadavgEnd = loadavg();
    // Phases this run skipped come from the run that measured them on this database (--keep).
    const saved = meta.saved ?? {};
    for (const k of ['load', 'profile', 'throughStore'] as const) {
      if (result[k] !== undefined) saved[k] = { value: result[k], measuredBy: result.command };
      else if (saved[k] !== undefined) result[k] = { ...(saved[k] as object), note: 'measured by an earlier run on this database (--keep, --skip-load)' };
    }
    await pool.query('UPDATE public.bench_meta SET saved = $1', [JSON.stringify(saved)]);
  } finally {
    await pool.end();
    if (!args.has('keep')) await admin(ADMIN, `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    else log(`kept database ${db} (--skip-load --db ${db} reuses it)`);
  }
  const file = writeResults('store', result, args.get('out'));
  const search = (result.search ?? []) as Array<{ form: string; queries: number; p50Ms: number; p95Ms: number; medianHits: number; naive: { sql: string; p50Ms: number } | null; bruteForce: { p50Ms: number } }>;
  process.stdout.write(`\n${table(['form', 'queries', 'p50 ms', 'p95 ms', 'median hits', 'naive SQL p50 ms', 'brute force ms'], search.map((r) => [
    r.form, String(r.queries), r.p50Ms.toFixed(1), r.p95Ms.toFixed(1), String(r.medianHits), r.naive === null ? '-' : r.naive.p50Ms.toFixed(0), r.bruteForce.p50Ms.toFixed(0),
  ]))}\n\nresults: ${file}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
