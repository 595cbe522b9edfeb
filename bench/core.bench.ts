/**
 * Core benchmark: build time and memory of the compiled hotlist, and reads/s of
 * `matchBatch` (batches of 1024) for exact+ocr and exact+ocr+fuzzy (maxDistance 1), beside
 * plain-JS baselines measured in the same run (see baselines.ts).
 *
 *   npm run build && npm run bench:core -- [--sizes 100000,1000000,10000000] [--reads 1000000]
 *        [--reps 5] [--hit-rate 0.01] [--symspell-cap 1000000] [--quick] [--out FILE]
 *
 * Each hotlist size runs in its own child process (same node flags, a larger heap), so the
 * RSS figures of one size are not polluted by the garbage of another; the parent gathers
 * the figures, prints the tables and writes bench/results/core-<date>.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMatcher } from '../matcher/index.js';
import type { HotlistEntry, Matcher, MatchTier, PlateRead } from '../matcher/types.js';
import { generateHotlist, generateReads } from '../fixtures/generator.js';
import { JsSetBaseline, SymSpellBaseline, collapsedPlates, levenshteinScan } from './baselines.js';
import { collect, heapUsedMB, human, intArg, machineInfo, measure, nowMs, parseArgs, rssMB, table, writeResults, type Throughput } from './util.js';

const BATCH = 1024;
/** Seconds one timed pass of a slow configuration may take (see coreRun). */
const PASS_BUDGET_S = 3;
const SEED = 20240601;

interface Config {
  sizes: number[];
  reads: number;
  reps: number;
  hitRate: number;
  symspellCap: number;
  quick: boolean;
}

function config(args: Map<string, string>): Config {
  const quick = args.has('quick');
  const sizes = (args.get('sizes') ?? (quick ? '10000,100000' : '100000,1000000,10000000')).split(',').map((s) => Number(s.replace(/_/g, '')));
  if (sizes.some((n) => !Number.isInteger(n) || n <= 0)) {
    process.stderr.write(`--sizes must be a comma-separated list of positive integers\n`);
    process.exit(2);
  }
  const hitRate = Number(args.get('hit-rate') ?? 0.01);
  if (!(hitRate >= 0 && hitRate <= 1)) {
    process.stderr.write(`--hit-rate must be in [0, 1]\n`);
    process.exit(2);
  }
  return {
    sizes,
    reads: intArg(args, 'reads', quick ? 100_000 : 1_000_000),
    reps: intArg(args, 'reps', quick ? 3 : 5),
    hitRate,
    symspellCap: intArg(args, 'symspell-cap', 1_000_000),
    quick,
  };
}

interface CoreFailure {
  tiers: MatchTier[];
  error: string;
  prefilter: boolean;
}

interface CoreFigures {
  tiers: MatchTier[];
  /** False for the run with the Bloom prefilter turned off (its effect). */
  prefilter: boolean;
  /** The prefilter's false-positive rate, measured by stats() on random absent plates. */
  prefilterFalsePositiveRate: number;
  buildWallMs: number;
  buildTimeMs: number;
  memoryBytes: number;
  bytesPerEntry: number;
  entries: number;
  fuzzyKeys: number;
  rssBeforeBuildMB: number;
  rssAfterBuildMB: number;
  rssBuildDeltaMB: number;
  throughput: Throughput;
  /**
   * The same passes through the matcher's internal `matchHits` (scored hits, no alert
   * objects), for the fuzzy configuration: how much of its time alert building takes.
   */
  hitsOnly: Throughput | null;
  invalidPerPass: number;
}

interface SizeFigures {
  size: number;
  generateMs: number;
  rssAfterInputsMB: number;
  heapAfterInputsMB: number;
  emptyCall: Throughput | null;
  core: Array<CoreFigures | CoreFailure>;
  jsSet: { buildMs: number; rssDeltaMB: number; throughput: Throughput };
  symspell: { entries: number; capped: boolean; buildMs: number; rssDeltaMB: number; sampleReads: number; throughput: Throughput } | null;
  levenshtein: { sampleReads: number; throughput: Throughput };
}

/**
 * The empty-call hook of the matcher (`emptyCall(n)`, internal, for benchmarks): packs n plates
 * into the input region and crosses into the core with nothing to do. Null when absent.
 */
type EmptyCall = (batch: readonly PlateRead[]) => unknown;
function emptyCallOf(m: Matcher): EmptyCall | null {
  const hook = (m as unknown as { emptyCall?: (n: number) => number }).emptyCall;
  return typeof hook === 'function' ? (batch) => hook.call(m, batch.length) : null;
}

/** Builds one matcher, measures it, and lets it go out of scope before the next build. */
function coreRun(
  entries: readonly HotlistEntry[],
  tiers: MatchTier[],
  readCount: number,
  batches: readonly PlateRead[][],
  cfg: Config,
  log: (msg: string) => void,
  wantEmptyCall: boolean,
  prefilter = true,
): { figures: CoreFigures; empty: Throughput | null } {
  collect();
  const rssBefore = rssMB();
  const t = nowMs();
  const m = createMatcher({ entries, tiers, maxDistance: 1, prefilter });
  const buildWallMs = nowMs() - t;
  collect();
  const rssAfter = rssMB();
  const stats = m.stats();
  log(`built ${tiers.join('+')} in ${(buildWallMs / 1000).toFixed(2)} s, ${stats.bytesPerEntry.toFixed(1)} B/entry, rss ${rssAfter.toFixed(0)} MB`);
  // A slow configuration (fuzzy on a big hotlist) measures on a prefix of the batches, sized so
  // that one pass takes about PASS_BUDGET_S: the table says how many reads that was.
  const probe = Math.min(batches.length, 8);
  const t0 = nowMs();
  for (let i = 0; i < probe; i++) m.matchBatch(batches[i]);
  const probeRate = (probe * BATCH) / Math.max(1e-3, (nowMs() - t0) / 1000);
  const used = batches.slice(0, Math.min(batches.length, Math.max(probe, Math.ceil((PASS_BUDGET_S * probeRate) / BATCH))));
  const usedReads = used.reduce((n, b) => n + b.length, 0);
  let invalid = 0;
  const throughput = measure(cfg.reps, usedReads, () => {
    let alerts = 0;
    invalid = 0;
    for (const b of used) {
      const res = m.matchBatch(b);
      alerts += res.alerts.length;
      invalid += res.invalid.length;
    }
    return alerts;
  });
  log(`${tiers.join('+')}${prefilter ? '' : ' (no prefilter)'}: ${human(throughput.readsPerSec)} reads/s (${usedReads} reads a pass)`);
  const hitsHook = (m as unknown as { matchHits?: (b: readonly PlateRead[]) => number }).matchHits;
  let hitsOnly: Throughput | null = null;
  if (tiers.includes('fuzzy') && typeof hitsHook === 'function') {
    hitsOnly = measure(cfg.reps, usedReads, () => {
      let hits = 0;
      for (const b of used) hits += hitsHook.call(m, b);
      return hits;
    });
    log(`${tiers.join('+')} hits only (no alert objects): ${human(hitsOnly.readsPerSec)} reads/s`);
  }
  let empty: Throughput | null = null;
  const hook = wantEmptyCall ? emptyCallOf(m) : null;
  if (hook) {
    empty = measure(cfg.reps, readCount, () => {
      for (const b of batches) hook(b);
      return 0;
    });
  }
  const figures: CoreFigures = {
    tiers,
    prefilter,
    prefilterFalsePositiveRate: stats.prefilterFalsePositiveRate,
    buildWallMs,
    buildTimeMs: stats.buildTimeMs,
    memoryBytes: stats.memoryBytes,
    bytesPerEntry: stats.bytesPerEntry,
    entries: stats.entries,
    fuzzyKeys: stats.fuzzyKeys,
    rssBeforeBuildMB: rssBefore,
    rssAfterBuildMB: rssAfter,
    rssBuildDeltaMB: rssAfter - rssBefore,
    throughput,
    hitsOnly,
    invalidPerPass: invalid,
  };
  return { figures, empty };
}

function runSize(size: number, cfg: Config): SizeFigures {
  const log = (msg: string): void => {
    process.stderr.write(`[${human(size)}] ${msg}\n`);
  };
  let t = nowMs();
  let entries: HotlistEntry[] = generateHotlist({ seed: SEED, size });
  const { reads } = generateReads({ seed: SEED + 1, count: cfg.reads, hotlist: entries, hitRate: cfg.hitRate });
  const batches: PlateRead[][] = [];
  for (let i = 0; i < reads.length; i += BATCH) batches.push(reads.slice(i, i + BATCH));
  const generateMs = nowMs() - t;
  collect();
  const rssAfterInputsMB = rssMB();
  const heapAfterInputsMB = heapUsedMB();
  log(`generated ${size} entries and ${reads.length} reads in ${(generateMs / 1000).toFixed(1)} s, rss ${rssAfterInputsMB.toFixed(0)} MB`);

  const core: Array<CoreFigures | CoreFailure> = [];
  let emptyCall: Throughput | null = null;
  // The third run turns the prefilter off, to measure what it buys.
  for (const [tiers, prefilter] of [[['exact', 'ocr'], true], [['exact', 'ocr', 'fuzzy'], true], [['exact', 'ocr'], false]] as Array<[MatchTier[], boolean]>) {
    try {
      const { figures, empty } = coreRun(entries, tiers, reads.length, batches, cfg, log, emptyCall === null, prefilter);
      core.push(figures);
      emptyCall ??= empty;
    } catch (err) {
      // e.g. the snapshot outgrows the 4 GiB wasm32 memory: record it and go on with the baselines
      const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      log(`${tiers.join('+')} failed: ${error}`);
      core.push({ tiers, error, prefilter });
    }
  }

  // (a) JS Set
  collect();
  let rss0 = rssMB();
  t = nowMs();
  let js: JsSetBaseline | null = new JsSetBaseline(entries);
  const jsBuildMs = nowMs() - t;
  collect();
  const jsRss = rssMB() - rss0;
  const jsRef = js;
  const jsThroughput = measure(cfg.reps, reads.length, () => jsRef.matchAll(reads));
  js = null;
  log(`JS Set: ${human(jsThroughput.readsPerSec)} reads/s`);

  // (c) full scan with fastest-levenshtein on a small sample (the work is reads x entries)
  const collapsed = collapsedPlates(entries);
  const levSample = Math.max(5, Math.min(cfg.quick ? 50 : 200, Math.floor(2e7 / collapsed.length)));
  const levReads = reads.slice(0, levSample);
  const levThroughput = measure(size > 100_000 ? 1 : Math.min(cfg.reps, 3), levReads.length, () => levenshteinScan(collapsed, levReads));
  log(`levenshtein scan: ${human(levThroughput.readsPerSec)} reads/s (${levSample} reads)`);

  // (b) SymSpell d=1, capped: its build is slow and large
  let symspell: SizeFigures['symspell'] = null;
  if (cfg.symspellCap > 0) {
    const keys = collapsed.length > cfg.symspellCap ? collapsed.slice(0, cfg.symspellCap) : collapsed;
    if (collapsed.length <= cfg.symspellCap) {
      entries = []; // the matcher figures are done; free the hotlist before the big build
      collect();
      rss0 = rssMB();
      t = nowMs();
      const ss = new SymSpellBaseline(keys);
      const buildMs = nowMs() - t;
      collect();
      const rssDelta = rssMB() - rss0;
      const sample = reads.slice(0, Math.min(reads.length, cfg.quick ? 20_000 : 100_000));
      const throughput = measure(Math.min(cfg.reps, 3), sample.length, () => ss.matchAll(sample));
      symspell = { entries: keys.length, capped: false, buildMs, rssDeltaMB: rssDelta, sampleReads: sample.length, throughput };
      log(`SymSpell: built in ${(buildMs / 1000).toFixed(1)} s, ${human(throughput.readsPerSec)} reads/s`);
    } else {
      log(`SymSpell skipped: ${collapsed.length} keys > cap ${cfg.symspellCap}`);
    }
  }

  return {
    size,
    generateMs,
    rssAfterInputsMB,
    heapAfterInputsMB,
    emptyCall,
    core,
    jsSet: { buildMs: jsBuildMs, rssDeltaMB: jsRss, throughput: jsThroughput },
    symspell,
    levenshtein: { sampleReads: levSample, throughput: levThroughput },
  };
}

function ok(c: CoreFigures | CoreFailure | undefined): c is CoreFigures {
  return c !== undefined && !('error' in c);
}

/** Median reads/s of core run i of a size, NaN when it failed. */
function coreRate(s: SizeFigures, i: number): number {
  const c = s.core[i];
  return ok(c) ? c.throughput.readsPerSec : Number.NaN;
}

function report(cfg: Config, sizes: SizeFigures[], command: string, out: string | undefined): void {
  const info = machineInfo();
  const ms = (x: number): string => `${(x / 1000).toFixed(2)} s`;
  const mb = (x: number): string => `${x.toFixed(0)} MB`;
  const build = table(
    ['entries', 'tiers', 'build', 'B/entry', 'snapshot', 'rss after build', 'build rss delta', 'fuzzy keys'],
    sizes.flatMap((s) =>
      s.core.map((c) =>
        !ok(c)
          ? [human(s.size), c.tiers.join('+'), 'failed', '-', '-', '-', '-', '-']
          : [human(s.size), c.tiers.join('+') + (c.prefilter ? '' : ' (no prefilter)'), ms(c.buildWallMs), c.bytesPerEntry.toFixed(1), mb(c.memoryBytes / 2 ** 20), mb(c.rssAfterBuildMB), mb(c.rssBuildDeltaMB), human(c.fuzzyKeys)]),
    ),
  );
  const thr = table(
    ['entries', 'wasm exact+ocr', 'no prefilter', 'prefilter FP', 'JS Set', 'ratio', 'wasm fuzzy d=1', 'alerts/read', 'hits only', 'SymSpell d=1', 'ratio', 'lev scan', 'empty call'],
    sizes.map((s) => {
      const eo = coreRate(s, 0);
      const fz = coreRate(s, 1);
      const np = coreRate(s, 2);
      const fp = ok(s.core[0]) ? `${(s.core[0].prefilterFalsePositiveRate * 100).toFixed(2)}%` : '-';
      const ss = s.symspell?.throughput.readsPerSec ?? Number.NaN;
      return [
        human(s.size),
        human(eo),
        Number.isNaN(np) ? '-' : human(np),
        fp,
        human(s.jsSet.throughput.readsPerSec),
        `${(eo / s.jsSet.throughput.readsPerSec).toFixed(2)}x`,
        Number.isNaN(fz) ? 'failed' : `${human(fz)}${ok(s.core[1]) && s.core[1].throughput.reads < cfg.reads ? '*' : ''}`,
        ok(s.core[1]) ? (s.core[1].throughput.hitsPerPass / s.core[1].throughput.reads).toFixed(2) : '-',
        ok(s.core[1]) && s.core[1].hitsOnly ? human(s.core[1].hitsOnly.readsPerSec) : '-',
        s.symspell ? human(ss) : 'n/a (cap)',
        s.symspell ? `${(fz / ss).toFixed(1)}x` : '-',
        human(s.levenshtein.throughput.readsPerSec),
        s.emptyCall ? human(s.emptyCall.readsPerSec) : 'n/a',
      ];
    }),
  );
  process.stdout.write(`\nplatesieve core benchmark — ${info.cpu} (${info.cores} cores), node ${info.node}, ${cfg.reads} reads, batches of ${BATCH}, median of ${cfg.reps}\n\n`);
  process.stdout.write(`${build}\n\nreads/s (median)\n${thr}\n`);
  process.stdout.write(`* measured on the first reads only (a pass capped at about ${PASS_BUDGET_S} s; the JSON has the count)\n`);
  process.stdout.write(`SymSpell on ${sizes.map((s) => (s.symspell ? `${human(s.symspell.sampleReads)} reads` : '-')).join(' / ')}; levenshtein scan on ${sizes.map((s) => s.levenshtein.sampleReads).join(' / ')} reads\n\n`);

  const at1M = sizes.find((s) => s.size === 1_000_000);
  const at10M = sizes.find((s) => s.size === 10_000_000);
  const targets = {
    exactOcrAt1M: at1M ? { readsPerSec: coreRate(at1M, 0), target: 5e6, pass: coreRate(at1M, 0) >= 5e6 } : null,
    exactOcrVsSetAt1M: at1M ? { ratio: coreRate(at1M, 0) / at1M.jsSet.throughput.readsPerSec, target: 3, pass: coreRate(at1M, 0) / at1M.jsSet.throughput.readsPerSec >= 3 } : null,
    fuzzyVsSymSpell: sizes.filter((s) => s.symspell).map((s) => {
      const ratio = coreRate(s, 1) / (s.symspell?.throughput.readsPerSec ?? Number.NaN);
      return { size: s.size, ratio, target: 20, pass: ratio >= 20 };
    }),
    build10M: at10M
      ? at10M.core.map((c) =>
          ok(c)
            ? { tiers: c.tiers, buildS: c.buildWallMs / 1000, snapshotMB: c.memoryBytes / 2 ** 20, rssDeltaMB: c.rssBuildDeltaMB, pass: c.buildWallMs < 20_000 && c.memoryBytes < 1.5 * 2 ** 30 && c.rssBuildDeltaMB < 1536 }
            : { tiers: c.tiers, error: c.error, pass: false },
        )
      : null,
  };
  process.stdout.write(`targets: ${JSON.stringify(targets, null, 1).replace(/\n\s*/g, ' ')}\n`);
  const file = writeResults(cfg.quick ? 'core-quick' : 'core', { suite: 'core', command, date: new Date().toISOString(), ...info, config: cfg, batchSize: BATCH, seed: SEED, sizes, targets }, out);
  process.stdout.write(`wrote ${file}\n`);
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const cfg = config(args);
  const childSize = args.get('child-size');
  if (childSize !== undefined) {
    const figures = runSize(Number(childSize), cfg);
    writeFileSync(args.get('child-out') ?? '/dev/stdout', JSON.stringify(figures));
    return;
  }
  const self = fileURLToPath(import.meta.url);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'platesieve-bench-'));
  const heapMB = Math.floor(Math.min(os.totalmem() * 0.75, 64 * 2 ** 30) / 2 ** 20);
  const sizes: SizeFigures[] = [];
  try {
    for (const size of cfg.sizes) {
      const out = path.join(tmp, `${size}.json`);
      const child = spawnSync(
        process.execPath,
        ['--expose-gc', `--max-old-space-size=${heapMB}`, self, ...process.argv.slice(2), '--child-size', String(size), '--child-out', out],
        { stdio: ['ignore', 'inherit', 'inherit'] },
      );
      if (child.status !== 0) {
        process.stderr.write(`size ${size} failed (exit ${child.status ?? child.signal})\n`);
        process.exitCode = 1;
        continue;
      }
      sizes.push(JSON.parse(readFileSync(out, 'utf8')) as SizeFigures);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (sizes.length > 0) report(cfg, sizes, ['node', '--expose-gc', 'dist/bench/core.bench.js', ...process.argv.slice(2)].join(' '), args.get('out'));
}

main();
