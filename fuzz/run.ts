/**
 * `npm run fuzz`: runs every fuzz target (or those named) for a number of cases each, one
 * target at a time in a worker thread watched for hangs, prints a table, writes crashers
 * and, with --out, a JSON result. Exit status 1 when any case crashed, disagreed, hung, or
 * the heap grew beyond the bound.
 *
 *   npm run fuzz -- --cases 1000000 --targets msgpack,json --seed 7 --out bench/results/fuzz.json
 *   npm run fuzz -- --replay test/fuzz-crashers/msgpack-crash-seed7-case123.json
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { caseAt, PROGRESS, runCase } from './engine.js';
import { caseOfCrasher, readCrasher, writeCrasher } from './crashers.js';
import { TARGETS, targetNamed } from './targets/index.js';
import { FUZZ_TMP_ENV, makeTmpRoot } from './tmp.js';
import type { Failure, TargetStats } from './types.js';
import type { WorkerInput, WorkerMessage } from './worker.js';

const HELP = `usage: npm run fuzz -- [options]
  --cases N          cases per target (default 1000000)
  --targets a,b      targets to run (default all: ${TARGETS.map((t) => t.name).join(', ')})
  --seed S           seed (default: from the clock; printed, and enough to replay any case)
  --from I           first case index (default 0)
  --time-limit S     stop each target after S seconds, cases left or not
  --jobs N           targets run at once, one worker thread each (default 1; CPU rates then n/a)
  --slow-ms MS       a case slower than this counts as a hang (default 1000)
  --hang-ms MS       the watchdog kills a case running this long (default 10000)
  --heap-bound MIB   largest allowed heap growth per target after warm-up (default 64)
  --crashers DIR     where failing cases are written (default test/fuzz-crashers)
  --out FILE         write the results as JSON
  --replay FILE...   run saved crasher files and report what they do now
  --list             list the targets`;

/** At most this many crasher files per distinct failure (the rest are only counted). */
const FILES_PER_SIGNATURE = 3;

interface Options {
  cases: number;
  targets: string[];
  seed: number;
  from: number;
  timeLimitMs?: number;
  slowMs: number;
  hangMs: number;
  heapBound: number;
  jobs: number;
  crashers: string;
  out?: string;
}

function number(v: string | undefined, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got ${v}`);
  return n;
}

function fmtBytes(n: number): string {
  const a = Math.abs(n);
  const s = a >= 1 << 20 ? `${(a / (1 << 20)).toFixed(1)} MiB` : a >= 1024 ? `${(a / 1024).toFixed(0)} KiB` : `${a} B`;
  return n < 0 ? `-${s}` : s;
}

/** Runs the cases of one target in workers, restarting after a case the watchdog killed. */
async function fuzzTarget(name: string, o: Options): Promise<{ stats: TargetStats; files: string[] }> {
  const target = targetNamed(name)!;
  const files: string[] = [];
  const perSignature = new Map<string, number>();
  // Counted here, not from the workers' summaries: a worker the watchdog kills sends none.
  const record = (f: Failure): void => {
    const n = perSignature.get(f.signature) ?? 0;
    perSignature.set(f.signature, n + 1);
    if (n < FILES_PER_SIGNATURE) files.push(writeCrasher(o.crashers, f));
  };
  const total: TargetStats = {
    target: name, cases: 0, seconds: 0, casesPerSecond: 0, cpuSeconds: 0, casesPerCpuSecond: 0, rejects: 0, crashes: 0, mismatches: 0, hangs: 0, maxCaseMs: 0,
    slowestIndex: -1, heapGrowth: 0, externalGrowth: 0, rssGrowth: 0, signatures: [], counters: {},
  };
  let index = o.from;
  const end = o.from + o.cases;
  const began = Date.now();
  while (index < end) {
    const progress = new SharedArrayBuffer(PROGRESS.length * 8);
    const p = new Float64Array(progress);
    p[PROGRESS.index] = -1;
    const left = o.timeLimitMs === undefined ? undefined : o.timeLimitMs - (Date.now() - began);
    if (left !== undefined && left <= 0) break;
    const input: WorkerInput = { target: name, seed: o.seed, startIndex: index, cases: end - index, timeLimitMs: left, slowMs: o.slowMs, progress };
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: input, resourceLimits: { maxOldGenerationSizeMb: 4096 } });
    let done: TargetStats | undefined;
    let killed: { index: number; ms: number } | undefined;
    let error: Error | undefined;
    const ticker = setInterval(() => {
      const running = p[PROGRESS.index];
      const ms = performance.timeOrigin + performance.now() - p[PROGRESS.start];
      if (running >= 0 && ms > o.hangMs && killed === undefined) {
        killed = { index: running, ms };
        void worker.terminate();
      }
    }, 100);
    const status = setInterval(() => {
      if (p[PROGRESS.index] >= 0) process.stdout.write(`  ${name}: case ${p[PROGRESS.index] - o.from} of ${o.cases} (${Math.round((Date.now() - began) / 1000)} s)\n`);
    }, 30_000);
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'done') done = m.stats;
      else record(m.failure);
    });
    worker.on('error', (err) => {
      error = err;
    });
    await new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    clearInterval(ticker);
    clearInterval(status);
    const stopped = killed?.index ?? p[PROGRESS.index];
    if (done !== undefined) {
      total.cases += done.cases;
      total.cpuSeconds += done.cpuSeconds;
      total.rejects += done.rejects;
      total.crashes += done.crashes;
      total.mismatches += done.mismatches;
      total.hangs += done.hangs;
      if (done.maxCaseMs > total.maxCaseMs) {
        total.maxCaseMs = done.maxCaseMs;
        total.slowestIndex = done.slowestIndex;
      }
      total.heapGrowth = Math.max(total.heapGrowth, done.heapGrowth);
      total.externalGrowth = Math.max(total.externalGrowth, done.externalGrowth);
      total.rssGrowth = Math.max(total.rssGrowth, done.rssGrowth);
      for (const [k, v] of Object.entries(done.counters)) total.counters[k] = (total.counters[k] ?? 0) + v;
      break;
    }
    // The worker died inside a case: killed by the watchdog, out of memory, or its event loop
    // emptied with the case's promise unsettled. The case is generated again here and saved.
    if (stopped < 0) throw error ?? new Error(`fuzz worker for ${name} exited before its first case`);
    const kind: Failure['kind'] = error !== undefined ? 'crash' : 'hang';
    const message = error !== undefined ? `worker died: ${error.message}` : killed !== undefined ? `case still running after ${Math.round(killed.ms)} ms: killed` : 'case never settled (its promise was left pending)';
    // What the dead worker had counted before the case it died in.
    total.rejects += p[PROGRESS.rejects];
    total.crashes += p[PROGRESS.crashes] + (kind === 'crash' ? 1 : 0);
    total.mismatches += p[PROGRESS.mismatches];
    total.hangs += p[PROGRESS.hangs] + (kind === 'hang' ? 1 : 0);
    if (p[PROGRESS.maxCaseMs] > total.maxCaseMs) {
      total.maxCaseMs = p[PROGRESS.maxCaseMs];
      total.slowestIndex = p[PROGRESS.slowestIndex];
    }
    if ((killed?.ms ?? 0) > total.maxCaseMs) {
      total.maxCaseMs = killed!.ms;
      total.slowestIndex = stopped;
    }
    const signature = `${kind}: ${message.replace(/\d+/g, 'N')}`;
    record({ target: name, seed: o.seed, index: stopped, kind, message, signature, ms: killed?.ms ?? 0, case: caseAt(target, o.seed, stopped) });
    total.cases += stopped - index + 1;
    index = stopped + 1;
  }
  total.seconds = (Date.now() - began) / 1000;
  total.casesPerSecond = total.cases / Math.max(total.seconds, 1e-9);
  total.casesPerCpuSecond = total.cases / Math.max(total.cpuSeconds, 1e-9);
  total.signatures = [...perSignature].map(([s, n]) => `${n}x ${s}`);
  return { stats: total, files };
}

async function replay(files: string[]): Promise<number> {
  let bad = 0;
  for (const file of files) {
    const c = readCrasher(file);
    const target = targetNamed(c.target);
    if (target === undefined) throw new Error(`${file}: unknown target ${c.target}`);
    const t0 = performance.now();
    const r = await runCase(target, caseOfCrasher(c));
    const ms = performance.now() - t0;
    const failed = r.kind === 'crash' || r.kind === 'mismatch' || ms > 1000;
    if (failed) bad++;
    const detail = r.error instanceof Error ? `: ${r.error.stack ?? r.error.message}` : '';
    console.log(`${file}: ${r.kind} in ${ms.toFixed(1)} ms${detail}`);
  }
  return bad === 0 ? 0 : 1;
}

function commit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head} (with uncommitted changes)` : head;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      cases: { type: 'string' }, targets: { type: 'string' }, seed: { type: 'string' }, from: { type: 'string' },
      'time-limit': { type: 'string' }, jobs: { type: 'string' }, 'slow-ms': { type: 'string' }, 'hang-ms': { type: 'string' }, 'heap-bound': { type: 'string' },
      crashers: { type: 'string' }, out: { type: 'string' }, replay: { type: 'boolean' }, list: { type: 'boolean' }, help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.list) {
    for (const t of TARGETS) console.log(`${t.name.padEnd(9)} ${t.description}`);
    return 0;
  }
  if (values.replay) return replay(positionals);
  const names = values.targets === undefined ? TARGETS.map((t) => t.name) : values.targets.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const n of names) if (targetNamed(n) === undefined) throw new Error(`unknown target ${n} (targets: ${TARGETS.map((t) => t.name).join(', ')})`);
  const o: Options = {
    cases: number(values.cases, 'cases', 1_000_000),
    targets: names,
    seed: number(values.seed, 'seed', Date.now() % 1_000_000_007) >>> 0,
    from: number(values.from, 'from', 0),
    timeLimitMs: values['time-limit'] === undefined ? undefined : number(values['time-limit'], 'time-limit', 0) * 1000,
    slowMs: number(values['slow-ms'], 'slow-ms', 1000),
    hangMs: number(values['hang-ms'], 'hang-ms', 10_000),
    heapBound: number(values['heap-bound'], 'heap-bound', 64) * (1 << 20),
    jobs: Math.max(1, Math.floor(number(values.jobs, 'jobs', 1))),
    crashers: values.crashers ?? 'test/fuzz-crashers',
    out: values.out,
  };
  const command = `npm run fuzz -- ${process.argv.slice(2).join(' ')}`.trim();
  console.log(`fuzz: seed ${o.seed}, ${o.cases} cases per target${o.timeLimitMs === undefined ? '' : ` or ${o.timeLimitMs / 1000} s`}, targets ${names.join(', ')}`);
  type Result = TargetStats & { heapOverBound: boolean; crasherFiles: string[] };
  const byName = new Map<string, Result>();
  const queue = [...names];
  // Each job takes the next target until none is left; results print as targets finish.
  const job = async (): Promise<void> => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      const { stats, files } = await fuzzTarget(name, o);
      // process.cpuUsage covers every thread: with jobs running side by side it is not one target's.
      if (o.jobs > 1) stats.cpuSeconds = stats.casesPerCpuSecond = NaN;
      const heapOverBound = stats.heapGrowth > o.heapBound;
      byName.set(name, { ...stats, heapOverBound, crasherFiles: files });
      const extra = Object.entries(stats.counters).map(([k, v]) => `${k} ${v}`).join(', ');
      console.log(
        `${name.padEnd(9)} ${String(stats.cases).padStart(9)} cases ${stats.casesPerSecond.toFixed(0).padStart(7)}/s (${Number.isFinite(stats.casesPerCpuSecond) ? stats.casesPerCpuSecond.toFixed(0) : 'n/a'}/cpu-s)  rejects ${stats.rejects}  crashes ${stats.crashes}  mismatches ${stats.mismatches}  hangs ${stats.hangs}  max ${stats.maxCaseMs.toFixed(1)} ms (case ${stats.slowestIndex})  heap ${fmtBytes(stats.heapGrowth)}${heapOverBound ? ' OVER BOUND' : ''}  wasm ${fmtBytes(stats.externalGrowth)}  rss ${fmtBytes(stats.rssGrowth)}${extra === '' ? '' : `  [${extra}]`}`,
      );
      for (const sig of stats.signatures) console.log(`    ${sig}`);
      for (const f of files) console.log(`    wrote ${f}`);
    }
  };
  // One scratch folder for the run, given to the workers, removed here whatever they did.
  const scratch = makeTmpRoot();
  process.env[FUZZ_TMP_ENV] = scratch;
  try {
    await Promise.all(Array.from({ length: Math.min(o.jobs, names.length) }, job));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const results = names.map((n) => byName.get(n)!);
  const totals = {
    cases: results.reduce((a, r) => a + r.cases, 0),
    seconds: results.reduce((a, r) => a + r.seconds, 0),
    failures: results.reduce((a, r) => a + r.crashes + r.mismatches + r.hangs + (r.heapOverBound ? 1 : 0), 0),
  };
  console.log(`total: ${totals.cases} cases in ${totals.seconds.toFixed(1)} s, ${totals.failures} failures`);
  if (o.out !== undefined) {
    mkdirSync(dirname(o.out), { recursive: true });
    const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: availableParallelism(), memoryBytes: totalmem(), node: process.version, platform: `${process.platform} ${process.arch}` };
    writeFileSync(o.out, `${JSON.stringify({ command, commit: commit(), date: new Date().toISOString(), machine, seed: o.seed, casesPerTarget: o.cases, results, totals }, null, 2)}\n`);
    console.log(`wrote ${o.out}`);
  }
  return totals.failures === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 2;
  },
);
