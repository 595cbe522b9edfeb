/**
 * Processor benchmark: reads/s of the service's per-batch work (`processTask`: decode,
 * match, write the records of reads that hit nothing) on the fast path (the core's
 * reads.ts and records.ts, via service/core-reads.ts) beside the object path it replaced
 * (msgpackr decode, JSON.stringify of each record), same batches, same run. No NATS: this is the CPU the service spends per
 * read besides the client library and publishing.
 *
 *   npm run build && npm run bench:processor -- [--entries 100000] [--reads 200000] [--reps 5] [--holds 500] [--out FILE]
 *
 * `--holds N` (default 500; 0: off) adds a `fast+holds` row per shape: the fast path with N
 * evidence holds on plates of the stream in force (held.ts: one more core call per batch).
 *
 * Batches as the service makes them: 512 single-read messages (records coalesced, core
 * mode; and per message, JetStream mode), or 5 messages of 100 reads. Reads from
 * `generateReads` (1 % of hotlisted vehicles), msgpack, with the retention policy's basis text.
 */
import path from 'node:path';
import { pack } from 'msgpackr';
import { createMatcher, createHitMatcherFromSnapshot } from '../matcher/matcher.js';
import { processTask, taskOf, type ProcessorSettings, type Task } from '../matcher/service/processor.js';
import { DEFAULT_RETENTION_BASIS } from '../matcher/service/config.js';
import { holdsTask } from '../matcher/service/held.js';
import { normalizePlate } from '../matcher/core/plate.js';
import { generateHotlist, generateReads } from '../fixtures/generator.js';
import { collect, human, intArg, machineInfo, median, nowMs, parseArgs, table, writeResults } from './util.js';

const SEED = 20240601;
const args = parseArgs(process.argv.slice(2));
const entries = intArg(args, 'entries', 100_000);
const readCount = intArg(args, 'reads', 200_000);
const reps = intArg(args, 'reps', 5);
const holdCount = intArg(args, 'holds', 500);
const out = (s: string): void => void process.stdout.write(s + '\n');

out(`generating ${entries} hotlist entries and ${readCount} reads...`);
const hotlist = generateHotlist({ seed: SEED, size: entries });
const { reads } = generateReads({ seed: SEED + 1, count: readCount, hotlist, hitRate: 0.01 });
const matcher = createHitMatcherFromSnapshot(createMatcher({ entries: hotlist }).snapshot());
const retention = { default: { policy: 'default', nonhitDays: 30, hitDays: 365, basis: DEFAULT_RETENTION_BASIS }, agencies: {} };

/** The reads as the service's batches: `perMsg` reads a message, `perTask` messages a batch. */
function batches(perMsg: number, perTask: number): Task[] {
  const msgs: Uint8Array[] = [];
  for (let i = 0; i < reads.length; i += perMsg) msgs.push(perMsg === 1 ? pack(reads[i]) : pack(reads.slice(i, i + perMsg)));
  const tasks: Task[] = [];
  for (let s = 0; s < msgs.length; s += perTask) {
    const parts = msgs.slice(s, s + perTask);
    tasks.push(taskOf(parts, parts.map((_, i) => `bench.${s + i}`), Date.now()));
  }
  return tasks;
}

// Held plates: every k-th distinct plate of the stream, so that about N plates' reads are held.
const heldPlates = new Set<string>();
for (let i = 0; i < reads.length && heldPlates.size < holdCount; i += Math.max(1, Math.floor(reads.length / Math.max(1, holdCount)))) {
  const n = normalizePlate(reads[i].plate);
  if (n.ok) heldPlates.add(n.plate);
}
const holds = holdsTask([...heldPlates].map((plate, i) => ({ holdId: `hold-${i}`, plate })), 1);

interface Row {
  shape: string;
  path: 'fast' | 'object' | 'fast+holds';
  readsPerS: number;
  runs: number[];
}

function timeIt(tasks: readonly Task[], settings: ProcessorSettings, passes = reps): number[] {
  // Warm-up pass (JIT), then timed passes; each task is processed afresh (reads are read-only input).
  for (const t of tasks) processTask(t, matcher, settings);
  const runs: number[] = [];
  for (let r = 0; r < passes; r++) {
    collect();
    const t0 = nowMs();
    let n = 0;
    for (const t of tasks) n += processTask(t, matcher, settings).reads;
    runs.push(n / ((nowMs() - t0) / 1000));
  }
  return runs;
}

const shapes: Array<{ shape: string; tasks: Task[]; coalesce: boolean }> = [
  { shape: '1 read/msg, 512 msgs/batch, coalesced (core)', tasks: batches(1, 512), coalesce: true },
  { shape: '1 read/msg, 512 msgs/batch, per message (JetStream)', tasks: batches(1, 512), coalesce: false },
  { shape: '100 reads/msg, 5 msgs/batch', tasks: batches(100, 5), coalesce: true },
];
const rows: Row[] = [];
/** Median of per-rep ratios (with holds / without), reps alternating so both see the same noise. */
const holdRatios = new Map<string, number[]>();
for (const { shape, tasks, coalesce } of shapes) {
  for (const path of ['fast', 'object'] as const) {
    out(`${shape}: ${path} path...`);
    const settings: ProcessorSettings = { maxMessageBytes: 1 << 20, maxOutputBytes: 1024 * 1024 - 16 * 1024, retention, coalesceRecords: coalesce, objectPath: path === 'object' };
    for (const t of tasks) t.holds = undefined;
    const runs = timeIt(tasks, settings);
    rows.push({ shape, path, readsPerS: median(runs), runs });
  }
  if (holds !== undefined) {
    out(`${shape}: fast path with ${heldPlates.size} holds, alternating with none...`);
    const settings: ProcessorSettings = { maxMessageBytes: 1 << 20, maxOutputBytes: 1024 * 1024 - 16 * 1024, retention, coalesceRecords: coalesce };
    const runs: number[] = [];
    const ratios: number[] = [];
    for (let r = 0; r < reps; r++) {
      for (const t of tasks) t.holds = undefined;
      const [plain] = timeIt(tasks, settings, 1);
      for (const t of tasks) t.holds = holds;
      const [held] = timeIt(tasks, settings, 1);
      runs.push(held);
      ratios.push(held / plain);
    }
    for (const t of tasks) t.holds = undefined;
    holdRatios.set(shape, ratios);
    rows.push({ shape, path: 'fast+holds', readsPerS: median(runs), runs });
  }
}

out('');
const speedup = (shape: string): number => rows.find((r) => r.shape === shape && r.path === 'fast')!.readsPerS / rows.find((r) => r.shape === shape && r.path === 'object')!.readsPerS;
out(table(
  ['batch shape', 'path', 'reads/s', 'x object path', 'runs (reads/s)'],
  rows.map((r) => [r.shape, r.path, human(r.readsPerS), r.path === 'object' ? '' : `${(r.readsPerS / rows.find((o) => o.shape === r.shape && o.path === 'object')!.readsPerS).toFixed(2)}x`, r.runs.map(human).join(' ')]),
));
const file = writeResults('processor', {
  suite: 'processor',
  command: `node ${process.execArgv.join(' ')} ${path.relative(process.cwd(), process.argv[1])} ${process.argv.slice(2).join(' ')}`.replace(/\s+/g, ' ').trim(),
  date: new Date().toISOString(),
  ...machineInfo(),
  settings: { entries, reads: readCount, reps, hitRate: 0.01, seed: SEED, holds: heldPlates.size },
  rows: rows.map((r) => ({ ...r, speedup: r.path === 'fast' ? speedup(r.shape) : 1 })),
  holdsOverRatioMedian: Object.fromEntries([...holdRatios].map(([shape, ratios]) => [shape, { median: median(ratios), ratios }])),
}, args.get('out'));
for (const [shape, ratios] of holdRatios) out(`${shape}: with ${heldPlates.size} holds / without, median of ${ratios.length} alternating pairs: ${median(ratios).toFixed(3)}`);
out(`\nwrote ${file}`);
