/**
 * Small helpers shared by the benchmark suites: arguments, timing, memory, machine facts
 * and the results file. Nothing here is timed.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** `--name value` and `--flag` pairs; values stay strings. */
export function parseArgs(argv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const eq = a.indexOf('=');
    if (eq > 0) out.set(a.slice(2, eq), a.slice(eq + 1));
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) out.set(a.slice(2), argv[++i]);
    else out.set(a.slice(2), 'true');
  }
  return out;
}

/** Positive integer argument, or the default. Exits with a one-line reason when malformed. */
export function intArg(args: Map<string, string>, name: string, dflt: number): number {
  const v = args.get(name);
  if (v === undefined) return dflt;
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isInteger(n) || n <= 0) {
    process.stderr.write(`--${name} must be a positive integer, got ${JSON.stringify(v)}\n`);
    process.exit(2);
  }
  return n;
}

/** Positive number argument (fractions allowed), or the default. Exits with a one-line reason when malformed. */
export function numArg<T extends number | undefined>(args: Map<string, string>, name: string, dflt: T): number | T {
  const v = args.get(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) {
    process.stderr.write(`--${name} must be a positive number, got ${JSON.stringify(v)}\n`);
    process.exit(2);
  }
  return n;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Milliseconds since an arbitrary origin, sub-microsecond resolution. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Runs a full collection when node was started with --expose-gc; a no-op otherwise. */
export function collect(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
  }
}

export function rssMB(): number {
  return process.memoryUsage().rss / (1024 * 1024);
}

export function heapUsedMB(): number {
  return process.memoryUsage().heapUsed / (1024 * 1024);
}

export interface MachineInfo {
  node: string;
  cpu: string;
  cores: number;
  totalMemGB: number;
  platform: string;
  commit: string;
}

export function machineInfo(): MachineInfo {
  let commit = 'uncommitted';
  try {
    commit = execSync('git rev-parse HEAD', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || 'uncommitted';
    const dirty = execSync('git status --porcelain --untracked-files=no', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    if (dirty !== '' && commit !== 'uncommitted') commit += '-dirty';
  } catch {
    // no commit yet, or not a git checkout
  }
  const cpus = os.cpus();
  return {
    node: process.version,
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    totalMemGB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    commit,
  };
}

/** Writes `bench/results/<name>-<YYYY-MM-DD>.json` (or `file` when given) and returns its path. */
export function writeResults(name: string, data: unknown, file?: string): string {
  const date = new Date().toISOString().slice(0, 10);
  const target = file ?? path.join('bench', 'results', `${name}-${date}.json`);
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(target, `${JSON.stringify(data, null, 2)}\n`);
  return target;
}

/** 1234567 -> "1.23M"; 12345 -> "12.3k". */
export function human(n: number): string {
  if (!Number.isFinite(n)) return '-';
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (abs >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (abs >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return abs >= 10 || Number.isInteger(n) ? n.toFixed(0) : n.toFixed(2);
}

/** A plain fixed-width table. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** reads/s of one pass over a workload, repeated; medians are what the tables show. */
export interface Throughput {
  readsPerSec: number;
  runs: number[];
  reads: number;
  /** Alerts (or hits) per pass: a sanity figure, and it keeps the work observable. */
  hitsPerPass: number;
}

/**
 * Times `reps` passes of `pass` (which returns its hit count) over `reads` reads, after one
 * untimed warm-up pass (JIT, caches). `gcEachRep` collects garbage before each timed pass.
 */
export function measure(reps: number, reads: number, pass: () => number, gcEachRep = false): Throughput {
  pass();
  const runs: number[] = [];
  let hits = 0;
  for (let r = 0; r < reps; r++) {
    if (gcEachRep) collect();
    const t = nowMs();
    hits = pass();
    runs.push(reads / ((nowMs() - t) / 1000));
  }
  return { readsPerSec: median(runs), runs, reads, hitsPerPass: hits };
}
