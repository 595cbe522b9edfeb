/**
 * The fuzzers' fast sample (`npm run fuzz` runs a million cases per target): a few thousand
 * cases of every target with a fixed seed, held to the same bar: no crash (an exception
 * other than the decoder's documented error), no disagreement (fast path vs object path,
 * chunked vs whole file, core vs RegExp patterns), no reject without a reason, no case over
 * a second, no heap growth beyond a bound. Then every saved crasher in test/fuzz-crashers/
 * is replayed: each once failed, and must now run clean.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { runCase, runTarget } from '../../fuzz/engine.js';
import { caseOfCrasher, crasherFiles, readCrasher } from '../../fuzz/crashers.js';
import { TARGETS, targetNamed } from '../../fuzz/targets/index.js';
import { FUZZ_TMP_ENV, makeTmpRoot } from '../../fuzz/tmp.js';
import type { Failure } from '../../fuzz/types.js';

const CASES = Number(process.env.FUZZ_SAMPLE_CASES ?? 2000);
const SEED = 20_261_130;
const SLOW_MS = 1000;
const HEAP_BOUND = 64 * 1024 * 1024;

function describeFailure(f: Failure): string {
  return `${f.kind} at case ${f.index} (npm run fuzz -- --targets ${f.target} --seed ${f.seed} --from ${f.index} --cases 1): ${f.message.slice(0, 300)}`;
}

// The file-based targets write into one scratch folder, removed here (vitest's worker
// process may end without running exit handlers).
let scratch = '';
beforeAll(() => {
  scratch = makeTmpRoot();
  process.env[FUZZ_TMP_ENV] = scratch;
});
afterAll(() => {
  delete process.env[FUZZ_TMP_ENV];
  rmSync(scratch, { recursive: true, force: true });
});

describe('fuzz sample', () => {
  for (const target of TARGETS) {
    it(`${target.name}: ${CASES} cases, no crash, disagreement, reject without a reason, hang or heap growth`, async () => {
      // Warm-up cases of another range first: module loading, JIT and the matcher's first
      // instantiation are not the cases' time.
      await runTarget(target, { seed: SEED, cases: 20, startIndex: 1_000_000 });
      const failures: Failure[] = [];
      const stats = await runTarget(target, { seed: SEED, cases: CASES, slowMs: SLOW_MS, onFailure: (f) => failures.push(f) });
      expect(failures.map(describeFailure)).toEqual([]);
      expect(stats.cases).toBe(CASES);
      expect(stats.crashes + stats.mismatches + stats.hangs).toBe(0);
      expect(stats.heapGrowth).toBeLessThan(HEAP_BOUND);
    });
  }
});

describe('fuzz regressions (test/fuzz-crashers)', () => {
  const files = crasherFiles('test/fuzz-crashers');

  it('has the saved crashers', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  for (const file of files) {
    it(`${file.split('/').pop()} now runs clean`, async () => {
      const saved = readCrasher(file);
      const target = targetNamed(saved.target);
      expect(target, `unknown target ${saved.target}`).toBeDefined();
      const started = performance.now();
      const r = await runCase(target!, caseOfCrasher(saved));
      const ms = performance.now() - started;
      expect(r.kind === 'crash' || r.kind === 'mismatch' ? String((r.error as Error)?.stack ?? r.error) : r.kind).toMatch(/^(ok|reject)$/);
      expect(ms).toBeLessThan(SLOW_MS);
    });
  }
});
