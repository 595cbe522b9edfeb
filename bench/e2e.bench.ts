/**
 * End-to-end benchmark: the service on a private nats-server beside the raw ceiling.
 *
 *   npm run build && npm run bench:e2e -- [--quick] [--reps 3] [--workers 0,1] [--rate 50000]
 *        [--latency-s 5] [--entries 100000] [--modes core,jetstream] [--per-msg 1,100]
 *        [--no-latency] [--batch-wait-ms N] [--latency-node-options=--max-semi-space-size=64]
 *        [--profile DIR] [--out FILE]
 *
 * --profile DIR runs every service process under `node --cpu-prof` into DIR.
 *
 * 1. raw ceiling: a subscriber process that only counts messages (bench/e2e-raw.ts);
 * 2. service: `platesieve serve` in its own process (workers 0 and 1), reads published by this
 *    process, records counted here until every read is back;
 *    both for one read a message and arrays of 100, core NATS and JetStream, closed loop (at
 *    most a window of reads unanswered), median of --reps;
 * 3. latency: one read a message at a fixed offered rate (50k reads/s, bursts every ~1 ms),
 *    publish-to-record and publish-to-alert p50/p99/p99.9 (core mode; JetStream for reference).
 * Everything shares the machine's cores: nats-server, this process, the raw subscriber or the
 * service. Prints a table, writes bench/results/e2e-<date>.json.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pack } from 'msgpackr';
import { connect, type NatsConnection } from 'nats';
import type { PlateRead } from '../matcher/types.js';
import { generateHotlist, generateReads } from '../fixtures/generator.js';
import { writeHotlistCsv } from '../fixtures/files.js';
import { startEmbeddedNats, type EmbeddedNats } from '../matcher/service/embedded-nats.js';
import { RECORDS_HEADER } from '../matcher/service/record-json.js';
import { Signal, countRecords, cpuSnapshot, drive, eachTs, latencyHistogram, paced, startChild, tsOf, wallMs, type Child, type DriveResult } from './e2e-drive.js';
import { report, type LatencyRow, type Mode, type ThroughputRow } from './e2e-report.js';
import { human, intArg, machineInfo, median, parseArgs, writeResults } from './util.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const MAIN = path.resolve(here, '../matcher/cli/main.js');
const RAW = path.resolve(here, 'e2e-raw.js');
const SEED = 20240601;
const PREFIX = 'bench';

const args = parseArgs(process.argv.slice(2));
const quick = args.has('quick');
const reps = intArg(args, 'reps', quick ? 1 : 3);
const entries = intArg(args, 'entries', 100_000);
const rate = intArg(args, 'rate', 50_000);
const latencyS = intArg(args, 'latency-s', quick ? 2 : 5);
const workersList = (args.get('workers') ?? '0,1').split(',').map(Number);
const modes = (args.get('modes') ?? 'core,jetstream').split(',') as Mode[];
const perMsgList = (args.get('per-msg') ?? '1,100').split(',').map(Number);
const profileDir = args.get('profile');
const withLatency = !args.has('no-latency');
/** Node options for one more latency row (GC settings, say), beside the defaults. */
const serviceNodeOptions = (args.get('latency-node-options') ?? '').split(' ').filter(Boolean);
/** pool.batchWaitMs of the service (its default when not given). */
const batchWaitMs = args.has('batch-wait-ms') ? Number(args.get('batch-wait-ms')) : undefined;
/** Reads per timed run, by reads per message and mode. */
const RUN_READS: Record<string, number> = quick
  ? { 'core:1': 20_000, 'core:100': 200_000, 'jetstream:1': 10_000, 'jetstream:100': 100_000 }
  : { 'core:1': 100_000, 'core:100': 1_000_000, 'jetstream:1': 50_000, 'jetstream:100': 500_000 };
/** Reads unanswered at most (closed loop). */
const WINDOW: Record<number, number> = { 1: 8_000, 100: 100_000 };

const dir = mkdtempSync(path.join(os.tmpdir(), 'platesieve-e2e-'));
const out = (s: string): void => void process.stdout.write(s + '\n');

// ------------------------------------------------------------------------------------ data
out(`generating ${entries} hotlist entries and 100000 reads...`);
const hotlist = generateHotlist({ seed: SEED, size: entries });
const hotlistFile = path.join(dir, 'hotlist.csv');
await writeHotlistCsv(hotlistFile, hotlist);
const { reads } = generateReads({ seed: SEED + 1, count: 100_000, hotlist, hitRate: 0.01 });
const single = reads.map((r) => pack(r));
const arrays: Uint8Array[] = [];
for (let i = 0; i < reads.length; i += 100) arrays.push(pack(reads.slice(i, i + 100)));
// Latency messages: `ts` as a float64 placeholder, overwritten at publish time.
const SENTINEL = 1.5e12 + 0.123;
const sentinelBytes = pack(SENTINEL).subarray(1);
const timed: Uint8Array[] = [];
const tsOffsets: number[] = [];
for (const r of reads) {
  const m = pack({ ...r, ts: SENTINEL } satisfies PlateRead);
  const at = Buffer.from(m).indexOf(Buffer.from(sentinelBytes));
  if (at < 0) throw new Error('ts placeholder not found in a packed read');
  timed.push(m);
  tsOffsets.push(at);
}

// ------------------------------------------------------------------------------ helpers
function serviceConfig(url: string, mode: Mode, workers: number): string {
  const file = path.join(dir, `service-${mode}-${workers}.json`);
  const config = {
    nats: { servers: [url] },
    subjects: { prefix: PREFIX },
    mode,
    hotlists: [{ file: hotlistFile, source: 'NCIC' }],
    pool: { workers, ...(batchWaitMs === undefined ? {} : { batchWaitMs }) },
    // Off so that every repetition raises the same alerts (a repeat is otherwise suppressed for 5 min).
    suppression: { windowMs: 0 },
    metrics: false,
    log: { level: 'info' },
  };
  writeFileSync(file, JSON.stringify(config));
  return file;
}

interface Outputs {
  records: number;
  alerts: number;
  deadLetters: number;
  recordLatency: ReturnType<typeof latencyHistogram> | null;
  alertLatency: ReturnType<typeof latencyHistogram> | null;
}

/** Subscribes to the service's outputs, counting records (and timing them when asked). */
function collect(nc: NatsConnection, signal: Signal): Outputs {
  const o: Outputs = { records: 0, alerts: 0, deadLetters: 0, recordLatency: null, alertLatency: null };
  nc.subscribe(`${PREFIX}.records.>`, {
    callback: (_e, m) => {
      // Array messages name their record count in a header; a lone record is one.
      const header = m.headers?.get(RECORDS_HEADER);
      const n = header ? Number(header) : countRecords(m.data);
      o.records += n;
      const h = o.recordLatency;
      if (h !== null) {
        // Every record of the message: coalesced arrays hold reads published over a few ms.
        const now = wallMs();
        eachTs(m.data, (ts) => {
          if (ts > 0) h.recordValue(Math.max(1, Math.round((now - ts) * 1000)));
        });
      }
      signal.notify();
    },
  });
  nc.subscribe(`${PREFIX}.alerts.>`, {
    callback: (_e, m) => {
      o.alerts++;
      if (o.alertLatency !== null) {
        const ts = tsOf(m.data, false);
        if (ts > 0) o.alertLatency.recordValue(Math.max(1, Math.round((wallMs() - ts) * 1000)));
      }
    },
  });
  nc.subscribe(`${PREFIX}.deadletter`, { callback: () => void o.deadLetters++ });
  return o;
}

async function withServer<T>(mode: Mode, f: (server: EmbeddedNats, nc: NatsConnection) => Promise<T>): Promise<T> {
  const server = await startEmbeddedNats({ jetstream: mode === 'jetstream' });
  const nc = await connect({ servers: server.url, name: 'bench-driver' });
  try {
    return await f(server, nc);
  } finally {
    await nc.close();
    await server.stop();
  }
}

/** CPU microseconds per read of each process over the timed runs (where /proc tells). */
function cpuPerRead(timed: { start?: Record<string, number>; end?: Record<string, number> }, runs: readonly DriveResult[]): Record<string, number> {
  const reads = runs.reduce((a, r) => a + r.reads, 0);
  const out: Record<string, number> = {};
  for (const name of Object.keys(timed.start ?? {})) out[name] = ((timed.end![name] - timed.start![name]) * 1e6) / reads;
  return out;
}

async function repeat(
  nc: NatsConnection, perMsg: number, mode: Mode, progress: () => number, signal: Signal,
  timed: { start?: Record<string, number>; end?: Record<string, number> }, pids: Record<string, number>,
): Promise<DriveResult[]> {
  const total = RUN_READS[`${mode}:${perMsg}`];
  const msgs = perMsg === 1 ? single : arrays;
  const subject = `${PREFIX}.reads.cam`;
  // Warm-up (JIT and WebAssembly tier-up, worker start, stream creation): half a run, not timed.
  await drive(nc, subject, msgs, perMsg, Math.max(perMsg * 100, total / 2), WINDOW[perMsg], progress, signal);
  const runs: DriveResult[] = [];
  timed.start = cpuSnapshot(pids);
  for (let r = 0; r < reps; r++) runs.push(await drive(nc, subject, msgs, perMsg, total, WINDOW[perMsg], progress, signal));
  timed.end = cpuSnapshot(pids);
  return runs;
}

async function rawCeiling(mode: Mode, perMsg: number): Promise<ThroughputRow> {
  return withServer(mode, async (server, nc) => {
    const subject = `${PREFIX}.reads.>`;
    if (mode === 'jetstream') {
      const jsm = await nc.jetstreamManager();
      await jsm.streams.add({ name: 'RAW', subjects: [subject] });
    }
    const every = perMsg === 1 ? 100 : 10;
    const child = await startChild(process.execPath, [RAW, server.url, mode, mode === 'jetstream' ? 'RAW' : subject, String(perMsg), String(every)], /^ready$/);
    try {
      let acked = 0;
      const signal = new Signal();
      nc.subscribe('bench.rawack', {
        callback: (_e, m) => {
          acked = Number(new TextDecoder().decode(m.data));
          signal.notify();
        },
      });
      await nc.flush();
      const pids = { subscriber: child.proc.pid ?? -1, natsServer: server.pid, driver: process.pid };
      const timed: { start?: Record<string, number>; end?: Record<string, number> } = {};
      const runs = await repeat(nc, perMsg, mode, () => acked, signal, timed, pids);
      const readsPerS = median(runs.map((x) => x.readsPerS));
      return { path: 'raw subscriber', mode, readsPerMessage: perMsg, workers: null, runs, readsPerS, messagesPerS: readsPerS / perMsg, cpu: cpuPerRead(timed, runs) };
    } finally {
      await child.stop();
    }
  });
}

async function startServiceChild(url: string, mode: Mode, workers: number, nodeArgs: readonly string[] = []): Promise<Child> {
  const prof = profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir)}`];
  return startChild(process.execPath, [...prof, ...nodeArgs, MAIN, 'serve', '--config', serviceConfig(url, mode, workers), '--workers', String(workers)], /"consuming reads"/, /reads dropped/);
}

async function serviceThroughput(mode: Mode, perMsg: number, workers: number): Promise<ThroughputRow> {
  return withServer(mode, async (server, nc) => {
    const child = await startServiceChild(server.url, mode, workers);
    try {
      const signal = new Signal();
      const o = collect(nc, signal);
      await nc.flush();
      const pids = { service: child.proc.pid ?? -1, natsServer: server.pid, driver: process.pid };
      const timed: { start?: Record<string, number>; end?: Record<string, number> } = {};
      const runs = await repeat(nc, perMsg, mode, () => o.records + o.deadLetters, signal, timed, pids);
      const readsPerS = median(runs.map((x) => x.readsPerS));
      if (runs.some((x) => x.stalled)) out(`a run stalled; service log:\n${child.tail()}`);
      return {
        path: 'service', mode, readsPerMessage: perMsg, workers, runs, readsPerS, messagesPerS: readsPerS / perMsg, alerts: o.alerts, dropped: child.watched(),
        cpu: cpuPerRead(timed, runs),
      };
    } finally {
      await child.stop();
    }
  });
}

async function latency(mode: Mode, workers: number, nodeArgs: readonly string[] = []): Promise<LatencyRow> {
  return withServer(mode, async (server, nc) => {
    const child = await startServiceChild(server.url, mode, workers, nodeArgs);
    try {
      const signal = new Signal();
      const o = collect(nc, signal);
      await nc.flush();
      const subject = `${PREFIX}.reads.cam`;
      await paced(nc, subject, timed, tsOffsets, rate, 1); // warm-up, not recorded
      await new Promise((r) => setTimeout(r, 500));
      o.recordLatency = latencyHistogram();
      o.alertLatency = latencyHistogram();
      const before = o.records;
      const alertsBefore = o.alerts;
      const published = await paced(nc, subject, timed, tsOffsets, rate, latencyS);
      const deadline = Date.now() + 5000;
      while (o.records - before < published && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const q = (h: NonNullable<Outputs['recordLatency']>) => ({
        p50: h.getValueAtPercentile(50) / 1000, p99: h.getValueAtPercentile(99) / 1000, p999: h.getValueAtPercentile(99.9) / 1000,
        max: h.maxValue / 1000, count: h.totalCount,
      });
      return {
        mode, workers, nodeOptions: nodeArgs.join(' '), offeredPerS: rate, published, records: o.records - before, alerts: o.alerts - alertsBefore,
        record: q(o.recordLatency), alert: q(o.alertLatency),
      };
    } finally {
      await child.stop();
    }
  });
}

/** The `ts` float64 of a msgpack read (after its `ts` key), as the echo sends it back. */
const TS_KEY = Buffer.from([0xa2, 0x74, 0x73, 0xcb]);

/**
 * The machine's latency floor at the same offered rate: the same reads through nats-server to
 * a subscriber that sends each one straight back (bench/e2e-raw.ts `echo`), no service.
 */
async function echoLatency(): Promise<LatencyRow> {
  return withServer('core', async (server, nc) => {
    const child = await startChild(process.execPath, [RAW, server.url, 'echo', `${PREFIX}.reads.>`, '1', '1'], /^ready$/);
    try {
      let h: ReturnType<typeof latencyHistogram> | null = null;
      let received = 0;
      nc.subscribe('bench.echo', {
        callback: (_e, m) => {
          received++;
          if (h === null) return;
          const b = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
          const at = b.indexOf(TS_KEY);
          if (at >= 0) h.recordValue(Math.max(1, Math.round((wallMs() - b.readDoubleBE(at + 4)) * 1000)));
        },
      });
      await nc.flush();
      const subject = `${PREFIX}.reads.cam`;
      await paced(nc, subject, timed, tsOffsets, rate, 1);
      await new Promise((r) => setTimeout(r, 500));
      h = latencyHistogram();
      const before = received;
      const published = await paced(nc, subject, timed, tsOffsets, rate, latencyS);
      const deadline = Date.now() + 5000;
      while (received - before < published && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const q = {
        p50: h.getValueAtPercentile(50) / 1000, p99: h.getValueAtPercentile(99) / 1000, p999: h.getValueAtPercentile(99.9) / 1000,
        max: h.maxValue / 1000, count: h.totalCount,
      };
      return { mode: 'core', workers: -1, nodeOptions: 'raw echo, no service', offeredPerS: rate, published, records: received - before, alerts: 0, record: q, alert: q };
    } finally {
      await child.stop();
    }
  });
}

// ---------------------------------------------------------------------------------- run
const t0 = Date.now();
const throughput: ThroughputRow[] = [];
const latencies: LatencyRow[] = [];
try {
  for (const mode of modes) {
    for (const perMsg of perMsgList) {
      out(`${mode}, ${perMsg === 1 ? 'one read a message' : 'arrays of 100'}: raw ceiling...`);
      throughput.push(await rawCeiling(mode, perMsg));
      for (const w of workersList) {
        out(`${mode}, ${perMsg === 1 ? 'one read a message' : 'arrays of 100'}: service, workers ${w}...`);
        throughput.push(await serviceThroughput(mode, perMsg, w));
      }
    }
  }
  if (withLatency && modes.includes('core')) {
    out(`latency at ${human(rate)} reads/s offered, raw echo (the machine's floor)...`);
    latencies.push(await echoLatency());
  }
  for (const w of withLatency && modes.includes('core') ? workersList : []) {
    out(`latency at ${human(rate)} reads/s offered, core, workers ${w}...`);
    latencies.push(await latency('core', w));
  }
  if (withLatency && modes.includes('core') && serviceNodeOptions.length > 0) {
    out(`latency at ${human(rate)} reads/s offered, core, workers ${workersList[0]}, ${serviceNodeOptions.join(' ')}...`);
    latencies.push(await latency('core', workersList[0], serviceNodeOptions));
  }
  if (withLatency && modes.includes('jetstream')) {
    out(`latency at ${human(rate)} reads/s offered, jetstream, workers ${workersList[workersList.length - 1]}...`);
    latencies.push(await latency('jetstream', workersList[workersList.length - 1]));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// ------------------------------------------------------------------------------ report
const { rows, targets } = report(throughput, latencies, rate, out);

const machine = machineInfo();
const file = writeResults(quick ? 'e2e-quick' : 'e2e', {
  suite: 'e2e',
  command: `node ${process.execArgv.join(' ')} ${path.relative(process.cwd(), process.argv[1])} ${process.argv.slice(2).join(' ')}`.replace(/\s+/g, ' ').trim(),
  date: new Date().toISOString(),
  ...machine,
  loadAverage: os.loadavg(),
  settings: { reps, entries, readsPerRun: RUN_READS, window: WINDOW, offeredRate: rate, latencySeconds: latencyS, workers: workersList, hitRate: 0.01, suppression: 'off' },
  note: 'nats-server, the publisher/collector (this process), and the raw subscriber or the service share the same cores',
  throughput: rows,
  latency: latencies,
  targets,
  wallSeconds: (Date.now() - t0) / 1000,
}, args.get('out'));
out(`\nwrote ${file} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
process.exit(0);
