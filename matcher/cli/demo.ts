/**
 * `platesieve demo` (what `npm start` runs): a live demo with no set-up. It generates an
 * NCIC-like hotlist (written to a temp CSV, so the service loads it like a real one) and a
 * statewide camera feed, then:
 *
 *   nats-server on PATH:  private server on a free port -> the service in this process
 *                         (startService) -> this process publishes the feed at --rate and
 *                         subscribes to alerts, records and dead letters;
 *   no nats-server:       says so and runs the same feed through the matcher in-process.
 *
 * It prints alerts as they arrive (a few a second, so the screen stays readable), a status
 * line each second, and a summary; it ends by itself and removes the server and temp files.
 * Latency is publish-to-output: each read's `ts` is set to the wall-clock time (sub-ms) when it
 * is published, and the record or alert carries it back.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Command, InvalidArgumentError } from 'commander';
import { build, type Histogram } from 'hdr-histogram-js';
import { pack } from 'msgpackr';
import { connect, type NatsConnection } from 'nats';
import { pino } from 'pino';
import type { Alert, HotlistEntry, MatchTier, PlateRead } from '../types.js';
import { createMatcher } from '../matcher.js';
import { generateHotlist, generateReads } from '../../fixtures/generator.js';
import { writeHotlistCsv } from '../../fixtures/files.js';
import { loadServiceConfig, type ServiceConfig } from '../service/config.js';
import { startService } from '../service/service.js';
import { findNatsServer, startEmbeddedNats } from '../service/embedded-nats.js';
import type { CommandIo } from './match.js';
import { startDemoStore, type DemoStore } from './demo-store.js';

interface DemoOptions {
  reads: number;
  rate: number;
  entries: number;
  seed: number;
  workers?: number;
  durationS?: number;
  batch: number;
  alertsPerSecond: number;
  nats: boolean;
}

/** Lists that get the fuzzy tier in the demo, as a regional center would configure them. */
const FUZZY_LISTS: Readonly<Record<string, MatchTier[]>> = { AMBER: ['exact', 'ocr', 'fuzzy'] };
/** Publisher tick: the feed is paced in small bursts this often. */
const TICK_MS = 5;
/** After the last read, how long the demo waits for outputs that have stopped coming. */
const SETTLE_MS = 3_000;

function positiveInt(value: string): number {
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('expected a whole number > 0.');
  return n;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a whole number >= 0.');
  return n;
}

/** Wall-clock milliseconds with sub-millisecond resolution (Date.now() has 1 ms). */
function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

function fmt(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

function latencyHistogram(): Histogram {
  // Microseconds, 1 µs to 60 s, 3 significant digits.
  return build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
}

function ms(h: Histogram, p: number): string {
  return h.totalCount === 0 ? '-' : (h.getValueAtPercentile(p) / 1000).toFixed(2);
}

/** Counters, latency histograms and the terminal output shared by both modes. */
class Display {
  published = 0;
  records = 0;
  alerts = 0;
  deadLetters = 0;
  readonly byTier: Record<string, number> = {};
  readonly recordLatency = latencyHistogram();
  readonly alertLatency = latencyHistogram();
  private readonly window = latencyHistogram();
  private printedThisSecond = 0;
  private hidden = 0;
  private lastPublished = 0;
  private lastRecords = 0;
  private started = Date.now();
  private timer?: NodeJS.Timeout;

  constructor(private readonly out: { write(s: string): unknown }, private readonly alertsPerSecond: number) {}

  start(): void {
    this.started = Date.now();
    this.timer = setInterval(() => this.status(), 1000);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  record(tsMs: number, now: number): void {
    this.records++;
    const us = Math.max(1, Math.round((now - tsMs) * 1000));
    this.recordLatency.recordValue(us);
    this.window.recordValue(us);
  }

  alert(a: Alert, now: number): void {
    this.alerts++;
    this.byTier[a.match] = (this.byTier[a.match] ?? 0) + 1;
    if (typeof a.ts === 'number') this.alertLatency.recordValue(Math.max(1, Math.round((now - a.ts) * 1000)));
    if (this.printedThisSecond >= this.alertsPerSecond) {
      this.hidden++;
      return;
    }
    this.printedThisSecond++;
    const listed = a.hotlistPlate === a.matchedPlate ? '' : `  (listed ${a.hotlistPlate})`;
    this.line(
      `ALERT  ${a.match.padEnd(5)}  ${a.score.toFixed(2)}  ${a.plate.padEnd(8)} ${(a.state ?? '--').padEnd(2)}  ` +
        `${a.list.padEnd(15)} p${a.priority}  cam ${a.cameraId ?? '?'}${listed}`,
    );
  }

  private status(): void {
    const t = ((Date.now() - this.started) / 1000).toFixed(0).padStart(3);
    const more = this.hidden > 0 ? `  (+${this.hidden} alerts not shown)` : '';
    this.line(
      `[${t}s]  in ${fmt(this.published - this.lastPublished).padStart(6)} reads/s  out ${fmt(this.records - this.lastRecords).padStart(6)} records/s  ` +
        `alerts ${String(this.alerts).padStart(5)}  latency p50 ${ms(this.window, 50)} ms  p99 ${ms(this.window, 99)} ms${more}`,
    );
    this.lastPublished = this.published;
    this.lastRecords = this.records;
    this.window.reset();
    this.printedThisSecond = 0;
    this.hidden = 0;
  }

  summary(seconds: number, extra: string[] = []): void {
    const tiers = Object.entries(this.byTier).map(([k, v]) => `${k} ${v}`).join(', ');
    const lat = (h: Histogram): string =>
      h.totalCount === 0 ? 'none' : `p50 ${ms(h, 50)} ms  p99 ${ms(h, 99)} ms  p99.9 ${ms(h, 99.9)} ms  max ${(h.maxValue / 1000).toFixed(2)} ms`;
    this.line('');
    this.line(`Summary: ${this.published} reads published in ${seconds.toFixed(1)} s (${fmt(this.published / seconds)} reads/s)`);
    this.line(`  records ${this.records}, alerts ${this.alerts}${tiers ? ` (${tiers})` : ''}, dead letters ${this.deadLetters}`);
    this.line(`  publish-to-record latency: ${lat(this.recordLatency)}`);
    this.line(`  publish-to-alert latency:  ${lat(this.alertLatency)}`);
    for (const e of extra) this.line(`  ${e}`);
  }

  line(s: string): void {
    this.out.write(s + '\n');
  }
}

interface Feed {
  hotlist: HotlistEntry[];
  reads: PlateRead[];
}

function makeFeed(opts: DemoOptions): Feed {
  const hotlist = generateHotlist({ seed: opts.seed, size: opts.entries });
  const { reads } = generateReads({ seed: opts.seed + 1, count: opts.reads, hotlist, hitRate: 0.01, candidates: true });
  return { hotlist, reads };
}

/**
 * Paces `reads` at `rate` reads/s in bursts every TICK_MS, calling `send` with each slice (the
 * reads' `ts` already set to now). Resolves when all are sent or the duration is up.
 */
function pace(reads: PlateRead[], opts: DemoOptions, send: (slice: PlateRead[]) => void): Promise<number> {
  const start = performance.now();
  const limitMs = opts.durationS !== undefined ? opts.durationS * 1000 : Infinity;
  let sent = 0;
  return new Promise((resolve) => {
    const tick = (): void => {
      const elapsed = performance.now() - start;
      const due = elapsed >= limitMs ? sent : Math.min(reads.length, Math.floor((elapsed / 1000) * opts.rate));
      while (sent < due) {
        const n = Math.min(opts.batch, due - sent);
        const slice = reads.slice(sent, sent + n);
        const now = wallMs();
        for (const r of slice) r.ts = now;
        send(slice);
        sent += n;
      }
      if (sent >= reads.length || elapsed >= limitMs) {
        clearInterval(timer);
        resolve(sent);
      }
    };
    const timer = setInterval(tick, TICK_MS);
  });
}

/** Waits until `done()` or until no progress has been made for SETTLE_MS. */
async function settle(done: () => boolean, progress: () => number): Promise<void> {
  let last = progress();
  let lastChange = Date.now();
  while (!done() && Date.now() - lastChange < SETTLE_MS) {
    await new Promise((r) => setTimeout(r, 20));
    const p = progress();
    if (p !== last) {
      last = p;
      lastChange = Date.now();
    }
  }
}

async function runWithNats(opts: DemoOptions, feed: Feed, io: CommandIo, dir: string): Promise<void> {
  const csv = join(dir, 'hotlist.csv');
  await writeHotlistCsv(csv, feed.hotlist);
  const server = await startEmbeddedNats({ jetstream: true });
  let nc: NatsConnection | undefined;
  let service: Awaited<ReturnType<typeof startService>> | undefined;
  let store: DemoStore | undefined;
  let alertPlate: string | undefined;
  const display = new Display(io.stdout, opts.alertsPerSecond);
  try {
    const base = loadServiceConfig(undefined, { nats: [server.url], hotlists: [csv], workers: opts.workers, logLevel: 'warn' });
    const config: ServiceConfig = {
      ...base,
      subjects: { prefix: 'demo' },
      matching: { ...base.matching, listTiers: { ...FUZZY_LISTS } },
      metrics: null,
    };
    // Warnings (overload, NATS trouble) go to standard error; info lines would flood the screen.
    const logger = pino({ level: 'warn', base: { service: 'platesieve' } }, pino.destination(2));
    const t0 = Date.now();
    service = await startService(config, logger);
    display.line(
      `nats-server ${server.url} (private, pid ${server.pid}); service started in ${Date.now() - t0} ms ` +
        `(hotlist ${service.hotlistVersion}, ${config.pool.workers} worker${config.pool.workers === 1 ? '' : 's'})`,
    );
    const started0 = Date.now();
    const storeOrWhy = await startDemoStore(config, logger, dir);
    if (typeof storeOrWhy === 'string') display.line(storeOrWhy);
    else {
      store = storeOrWhy;
      display.line(`records store: PostgreSQL database of its own, durable JetStream consumers (started in ${Date.now() - started0} ms)`);
    }
    display.line(`publishing ${feed.reads.length} reads at ${fmt(opts.rate)} reads/s to demo.reads.<camera> (msgpack, ${opts.batch === 1 ? 'one read a message' : `${opts.batch} reads a message`})\n`);

    nc = await connect({ servers: server.url, name: 'platesieve-demo' });
    const dec = new TextDecoder();
    nc.subscribe('demo.records.>', {
      callback: (_err, msg) => {
        const now = wallMs();
        const rec = JSON.parse(dec.decode(msg.data)) as { ts?: number } | Array<{ ts?: number }>;
        if (Array.isArray(rec)) for (const r of rec) display.record(r.ts ?? now, now);
        else display.record(rec.ts ?? now, now);
      },
    });
    nc.subscribe('demo.alerts.>', {
      callback: (_err, msg) => {
        const alert = JSON.parse(dec.decode(msg.data)) as Alert;
        if (alert.match === 'exact' && alertPlate === undefined) alertPlate = alert.hotlistPlate;
        display.alert(alert, wallMs());
      },
    });
    nc.subscribe('demo.deadletter', { callback: () => void display.deadLetters++ });
    await nc.flush();

    display.start();
    const started = performance.now();
    const conn = nc;
    const sent = await pace(feed.reads, opts, (slice) => {
      conn.publish(`demo.reads.${slice[0].cameraId ?? 'cam'}`, pack(slice.length === 1 ? slice[0] : slice));
      display.published += slice.length;
    });
    await conn.flush();
    await settle(() => display.records + display.deadLetters >= sent, () => display.records);
    display.stop();
    const e2e = service.metrics.latencySummary('end_to_end');
    display.summary((performance.now() - started) / 1000, [
      `service receive-to-publish latency: p50 ${e2e.p50.toFixed(2)} ms  p99 ${e2e.p99.toFixed(2)} ms  (${e2e.count} messages)`,
    ]);
    if (store !== undefined) {
      const s = store;
      const t = Date.now();
      let c = await s.count();
      while (c.reads < display.records && Date.now() - t < 30_000) {
        await new Promise((r) => setTimeout(r, 250));
        c = await s.count();
      }
      display.line(`store: ${c.reads} records and ${c.alerts} alerts in PostgreSQL (${c.reads >= display.records ? 'all' : `${display.records - c.reads} still in JetStream`})`);
      await s.finish(alertPlate, (line) => display.line(line));
      store = undefined;
    }
  } finally {
    display.stop();
    await nc?.close().catch(() => undefined);
    await service?.stop().catch(() => undefined);
    await store?.finish(undefined, () => undefined).catch(() => undefined);
    await server.stop();
  }
}

async function runInProcess(opts: DemoOptions, feed: Feed, io: CommandIo): Promise<void> {
  const display = new Display(io.stdout, opts.alertsPerSecond);
  const t0 = Date.now();
  const matcher = createMatcher({ entries: feed.hotlist, listTiers: FUZZY_LISTS });
  display.line(`matcher built in ${Date.now() - t0} ms (hotlist ${matcher.stats().hotlistVersion}); matching in this process`);
  display.line(`feeding ${feed.reads.length} reads at ${fmt(opts.rate)} reads/s\n`);
  display.start();
  const started = performance.now();
  // The batcher's role: collect a tick's reads and match them in one call into the core.
  await pace(feed.reads, { ...opts, batch: Math.max(opts.batch, 512) }, (slice) => {
    display.published += slice.length;
    const { alerts, invalid } = matcher.matchBatch(slice);
    const now = wallMs();
    for (const r of slice) display.record(r.ts as number, now);
    display.records -= invalid.length;
    display.deadLetters += invalid.length;
    for (const a of alerts) display.alert(a, now);
  });
  display.stop();
  display.summary((performance.now() - started) / 1000, ['latency here is matching only: no NATS in the path']);
}

export async function runDemo(opts: DemoOptions, io: CommandIo): Promise<void> {
  const t0 = Date.now();
  const feed = makeFeed(opts);
  io.stdout.write(`platesieve demo: ${opts.entries} hotlist entries, ${feed.reads.length} reads of a statewide feed (seed ${opts.seed}), generated in ${Date.now() - t0} ms\n`);
  const binary = opts.nats ? findNatsServer() : undefined;
  if (binary === undefined) {
    io.stdout.write(
      opts.nats
        ? 'nats-server not found on PATH: running the same feed through the matcher in this process (install nats-server 2.9+ for the full service demo)\n'
        : '--no-nats: running the feed through the matcher in this process\n',
    );
    await runInProcess(opts, feed, io);
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'platesieve-demo-'));
  try {
    await runWithNats(opts, feed, io, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function registerDemoCommand(program: Command, io: CommandIo): void {
  program
    .command('demo')
    .description('live demo, no set-up: a generated hotlist and statewide feed through the service on a private nats-server (or in-process without one)')
    .option('--reads <n>', 'reads to publish', positiveInt, 200_000)
    .option('--rate <r>', 'reads per second offered', positiveInt, 20_000)
    .option('--entries <n>', 'hotlist entries', positiveInt, 100_000)
    .option('--seed <s>', 'seed of the generated data', nonNegativeInt, 1)
    .option('--workers <n>', 'worker threads of the service; 0 matches on the main thread (default: pool.workers)', nonNegativeInt)
    .option('--duration-s <s>', 'stop publishing after this many seconds, whatever is left', positiveInt)
    .option('--batch <n>', 'reads per NATS message (1: one read a message)', positiveInt, 1)
    .option('--alerts-per-second <n>', 'alerts printed per second at most (all are counted)', nonNegativeInt, 4)
    .option('--no-nats', 'skip nats-server even when installed; match in-process')
    .action(async (opts: DemoOptions) => {
      await runDemo(opts, io);
    });
}
