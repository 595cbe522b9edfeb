/**
 * The case loop shared by the runner's workers and the sample in `npm test`: generate a
 * case, run it, classify the outcome (accepted, rejected, crash, mismatch, slow), and watch
 * the heap. Hangs that never return are caught by the runner's watchdog (run.ts), which
 * reads the index and start time of the running case from `progress`.
 */
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Rng } from './rng.js';
import { FuzzFailure, type CaseResult, type Failure, type FuzzCase, type Target, type TargetStats } from './types.js';

/** Options of {@link runTarget}. */
export interface RunOptions {
  seed: number;
  /** Cases to run (from `startIndex`). */
  cases: number;
  startIndex?: number;
  /** Stop after this many milliseconds even if cases are left. */
  timeLimitMs?: number;
  /** A case that takes longer counts as a hang (default 1000 ms). */
  slowMs?: number;
  /** Called for each failed case (the runner writes crashers; the sample collects them). */
  onFailure?: (f: Failure) => void;
  /** Shared with the watchdog: see {@link PROGRESS}. */
  progress?: Float64Array;
}

/**
 * Slots of the progress array a worker shares with the runner's watchdog: the running case
 * and its start (epoch ms), and the counts so far, which survive a worker the watchdog kills.
 */
export const PROGRESS = { index: 0, start: 1, cases: 2, rejects: 3, crashes: 4, mismatches: 5, hangs: 6, maxCaseMs: 7, slowestIndex: 8, length: 9 } as const;

/** A full garbage collection, when the flag can be turned on (it can in Node). */
function gcFunction(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}

const gc = gcFunction();

interface MemoryPoint {
  heap: number;
  external: number;
  rss: number;
}

function measure(target: Target): MemoryPoint {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, external: target.externalBytes?.() ?? 0, rss: m.rss };
}

/** A failure's signature: its kind, message with numbers blanked, and where it was thrown. */
export function signatureOf(kind: Failure['kind'], err: unknown): string {
  const e = err instanceof Error ? err : new Error(String(err));
  const message = e.message.split('\n')[0].replace(/\d+/g, 'N').slice(0, 160);
  const frame = (e.stack ?? '').split('\n').find((l) => l.trim().startsWith('at ')) ?? '';
  const where = frame.replace(/:\d+:\d+\)?$/, '').replace(/^\s*at\s+/, '').replace(/\(.*[\\/]/, '(');
  return `${kind}: ${e.name}: ${message}${where === '' ? '' : ` @ ${where}`}`;
}

/** The case of `index`: the same bytes every time for the same seed and target. */
export function caseAt(target: Target, seed: number, index: number): FuzzCase {
  return target.generate(new Rng(seed, target.name, index));
}

/** Runs one case and classifies it (no timing); the replay and the regression tests use it. */
export async function runCase(target: Target, c: FuzzCase): Promise<{ kind: 'ok' | 'reject' | 'crash' | 'mismatch'; error?: unknown }> {
  try {
    const r = await target.run(c);
    return { kind: r.rejected ? 'reject' : 'ok' };
  } catch (err) {
    return { kind: err instanceof FuzzFailure ? 'mismatch' : 'crash', error: err };
  }
}

/**
 * Runs `opts.cases` cases of `target` and reports them. Never throws for a failing case:
 * failures are counted, given to `onFailure`, and summed up by signature.
 */
export async function runTarget(target: Target, opts: RunOptions): Promise<TargetStats> {
  const start = opts.startIndex ?? 0;
  const end = start + opts.cases;
  const slowMs = opts.slowMs ?? 1000;
  const progress = opts.progress;
  const signatures = new Map<string, number>();
  const stats: TargetStats = {
    target: target.name, cases: 0, seconds: 0, casesPerSecond: 0, cpuSeconds: 0, casesPerCpuSecond: 0, rejects: 0, crashes: 0, mismatches: 0, hangs: 0,
    maxCaseMs: 0, slowestIndex: -1, heapGrowth: 0, externalGrowth: 0, rssGrowth: 0, signatures: [], counters: {},
  };
  // Memory is measured after a warm-up (caches, JIT code, the matcher's scratch regions
  // reach their working size), so growth means something kept growing with the cases.
  const warmup = start + Math.min(2000, Math.floor(opts.cases / 10));
  let base: MemoryPoint | undefined;
  const fail = (kind: Failure['kind'], index: number, c: FuzzCase, err: unknown, ms: number): void => {
    const sig = signatureOf(kind, err);
    signatures.set(sig, (signatures.get(sig) ?? 0) + 1);
    const e = err instanceof Error ? err : new Error(String(err));
    opts.onFailure?.({ target: target.name, seed: opts.seed, index, kind, message: e.message, stack: e.stack, signature: sig, ms, case: c });
  };
  const began = performance.now();
  const cpu = process.cpuUsage();
  const deadline = opts.timeLimitMs === undefined ? Infinity : began + opts.timeLimitMs;
  let index = start;
  for (; index < end; index++) {
    if (index === warmup) base = measure(target);
    // Checking the clock every 64 cases keeps it off the per-case cost.
    if ((index & 63) === 0 && performance.now() > deadline) break;
    const t0 = performance.now();
    if (progress !== undefined) {
      progress[PROGRESS.index] = index;
      progress[PROGRESS.start] = performance.timeOrigin + t0;
    }
    let c: FuzzCase | undefined;
    let outcome: CaseResult | Promise<CaseResult>;
    try {
      c = caseAt(target, opts.seed, index);
      outcome = target.run(c);
      if (outcome instanceof Promise) outcome = await outcome;
      if (outcome.rejected) stats.rejects++;
    } catch (err) {
      const ms = performance.now() - t0;
      const kind = err instanceof FuzzFailure ? 'mismatch' : 'crash';
      if (kind === 'mismatch') stats.mismatches++;
      else stats.crashes++;
      fail(kind, index, c ?? { data: new Uint8Array(0) }, err, ms);
    }
    const ms = performance.now() - t0;
    if (ms > stats.maxCaseMs) {
      stats.maxCaseMs = ms;
      stats.slowestIndex = index;
    }
    if (ms > slowMs) {
      stats.hangs++;
      fail('hang', index, c ?? caseAt(target, opts.seed, index), new Error(`case took ${Math.round(ms)} ms (limit ${slowMs} ms)`), ms);
    }
    stats.cases++;
    if (progress !== undefined) {
      progress[PROGRESS.cases] = stats.cases;
      progress[PROGRESS.rejects] = stats.rejects;
      progress[PROGRESS.crashes] = stats.crashes;
      progress[PROGRESS.mismatches] = stats.mismatches;
      progress[PROGRESS.hangs] = stats.hangs;
      progress[PROGRESS.maxCaseMs] = stats.maxCaseMs;
      progress[PROGRESS.slowestIndex] = stats.slowestIndex;
    }
  }
  if (progress !== undefined) progress[PROGRESS.index] = -1;
  stats.seconds = (performance.now() - began) / 1000;
  stats.casesPerSecond = stats.cases / Math.max(stats.seconds, 1e-9);
  const used = process.cpuUsage(cpu);
  stats.cpuSeconds = (used.user + used.system) / 1e6;
  stats.casesPerCpuSecond = stats.cases / Math.max(stats.cpuSeconds, 1e-9);
  if (base !== undefined) {
    const now = measure(target);
    stats.heapGrowth = now.heap - base.heap;
    stats.externalGrowth = now.external - base.external;
    stats.rssGrowth = now.rss - base.rss;
  }
  stats.signatures = [...signatures].map(([s, n]) => `${n}x ${s}`);
  stats.counters = target.counters?.() ?? {};
  return stats;
}
