/**
 * Partial-pattern benchmark: reads/s of the core's pattern index (`matchPatterns`) with 10,
 * 1 000 and 10 000 active partial-plate patterns, beside a plain-JavaScript RegExp loop over
 * the same patterns (normalize the plate, then test every RegExp).
 *
 *   npm run build && npm run bench:patterns -- [--sizes 10,1000,10000] [--reads 1000000]
 *        [--reps 5] [--out FILE]
 *
 * Patterns are what witnesses give: `7AB?12?` (a character or two missed), `*X4K2*` (a
 * fragment), `[8B]RT4*` (the start, one character unsure), `ABC4*`, `*C12?`; drawn from the
 * plates of a generated hotlist (the fixtures' state plate formats), half of them with
 * OCR-aware literals, one in ten with a state. Reads: `generateReads` (1M, 1 % of them of
 * the hotlisted vehicles, so patterns do hit).
 *
 * wasm: per batch of 1024 reads, the plates and state codes are packed into 32-byte query
 * records (as BatchBridge.add does) and one `matchPatterns` call matches them; the core
 * normalizes each plate itself and writes its status byte, so no `matchBatch` runs first.
 * Packing is timed. RegExp: a configuration too slow to pass over all reads in about 3 s
 * is timed on a prefix (the JSON has the count).
 */
import { instantiateCore, coreAlloc, type CoreExports } from '../matcher/core/wasm.js';
import { QUERY_LEN, QUERY_RECORD, QUERY_STATE } from '../matcher/core/layout.js';
import { compilePatterns, parsePattern, PatternRunner, type PatternExports, type PatternSpec } from '../matcher/core/patterns.js';
import { StateCodes } from '../matcher/core/codes.js';
import { normalizePlate, DEFAULT_OCR_CLASSES } from '../matcher/core/plate.js';
import type { PlateRead } from '../matcher/types.js';
import { createRng, generateHotlist, generateReads, type Rng } from '../fixtures/generator.js';
import { human, intArg, machineInfo, measure as timePasses, nowMs, parseArgs, table, writeResults, type Throughput } from './util.js';

/** Timed passes with a full GC before each (pattern passes allocate little; the GC is the noise). */
function measure(reps: number, reads: number, pass: () => number): Throughput {
  return timePasses(reps, reads, pass, true);
}

const BATCH = 1024;
const PASS_BUDGET_S = 3;
const SEED = 20240611;
const OCR_PAIRS: Record<string, string> = { '8': 'B', B: '8', '0': 'O', O: '0', '1': 'I', I: '1', '5': 'S', S: '5', '2': 'Z', Z: '2', '6': 'G', G: '6' };

function randInt(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

/**
 * One witness-style pattern of a plate: what was seen, with at least four characters known
 * (fewer matches a large share of a state's plates and is refused by policy in practice).
 */
function witnessPattern(rng: Rng, plate: string): string {
  const n = plate.length;
  switch (randInt(rng, 5)) {
    case 0: {
      // Full length, one or two characters missed: `7AB?12?`.
      const cs = plate.split('');
      const misses = 1 + randInt(rng, 2);
      for (let k = 0; k < misses; k++) cs[randInt(rng, n)] = '?';
      return cs.join('');
    }
    case 1: {
      // A fragment anywhere: `*X4K2*`.
      const len = Math.min(n, 4 + randInt(rng, 2));
      const at = randInt(rng, n - len + 1);
      return `*${plate.slice(at, at + len)}*`;
    }
    case 2: {
      // The start, first character unsure: `[8B]RT4*`.
      const c = plate[0];
      const alt = OCR_PAIRS[c] ?? (c === 'X' ? 'K' : 'X');
      return `[${c}${alt}]${plate.slice(1, 4)}*`;
    }
    case 3:
      // The start: `ABC4*`.
      return `${plate.slice(0, 4 + randInt(rng, 2))}*`;
    default:
      // The end, last character missed: `*C12?`.
      return `*${plate.slice(Math.max(0, n - 5), n - 1)}?`;
  }
}

function makePatterns(rng: Rng, plates: readonly { plate: string; state: string }[], count: number, states: StateCodes): { specs: PatternSpec[]; res: RegExp[]; stateCodes: number[] } {
  const specs: PatternSpec[] = [];
  const res: RegExp[] = [];
  const stateCodes: number[] = [];
  while (specs.length < count) {
    const src = plates[randInt(rng, plates.length)];
    const text = witnessPattern(rng, src.plate);
    const parsed = parsePattern(text);
    if (!parsed.ok) continue;
    const ocr = rng() < 0.5;
    const state = rng() < 0.1 ? states.intern(src.state) : 0;
    specs.push({ pattern: parsed.pattern.text, entry: specs.length, state, ocr });
    stateCodes.push(state);
    // What a user would write: one RegExp per pattern, OCR classes expanded.
    let re = '^';
    for (const t of parsed.pattern.tokens) {
      if (t.kind === 'literal') re += ocr ? `[${DEFAULT_OCR_CLASSES.find((c) => c.includes(t.char)) ?? t.char}]` : t.char;
      else if (t.kind === 'any') re += '[A-Z0-9]';
      else if (t.kind === 'set') re += `[${t.chars}]`;
      else re += '[A-Z0-9]*';
    }
    res.push(new RegExp(`${re}$`));
  }
  return { specs, res, stateCodes };
}


function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const sizes = (args.get('sizes') ?? '10,1000,10000').split(',').map((s) => Number(s.replace(/_/g, '')));
  if (sizes.some((n) => !Number.isInteger(n) || n <= 0)) {
    process.stderr.write('--sizes must be a comma-separated list of positive integers\n');
    process.exit(2);
  }
  const readCount = intArg(args, 'reads', 1_000_000);
  const reps = intArg(args, 'reps', 5);
  const log = (m: string): void => void process.stderr.write(`[patterns] ${m}\n`);

  const t0 = nowMs();
  const hotlist = generateHotlist({ seed: SEED, size: 20_000 });
  const plates = hotlist.filter((e) => typeof e.plate === 'string').map((e) => ({ plate: e.plate as string, state: e.state ?? '' }));
  const { reads } = generateReads({ seed: SEED + 1, count: readCount, hotlist, hitRate: 0.01 });
  const batches: PlateRead[][] = [];
  for (let i = 0; i < reads.length; i += BATCH) batches.push(reads.slice(i, i + BATCH));
  log(`generated ${reads.length} reads in ${((nowMs() - t0) / 1000).toFixed(1)} s`);

  const results: unknown[] = [];
  const rows: string[][] = [];
  for (const size of sizes) {
    const states = new StateCodes();
    const { specs, res, stateCodes } = makePatterns(createRng(SEED + size), plates, size, states);

    // wasm: a fresh instance holding only the pattern block.
    const core: CoreExports = instantiateCore();
    const compiled = compilePatterns(core, specs);
    const input = coreAlloc(core, BATCH * QUERY_RECORD, 'bench queries');
    const status = coreAlloc(core, BATCH, 'bench status');
    const runner = new PatternRunner(core, 16384);
    const pc = core as CoreExports & PatternExports;
    let hitSink = 0;
    const sink = (): void => {
      hitSink++;
    };
    const verifiedBefore = pc.getPatternVerified();
    const wasm = measure(reps, readCount, () => {
      hitSink = 0;
      for (const b of batches) {
        const buf = core.memory.buffer;
        const u8 = new Uint8Array(buf);
        const u16 = new Uint16Array(buf);
        for (let q = 0; q < b.length; q++) {
          const r = b[q];
          const rec = input + q * QUERY_RECORD;
          const p = r.plate;
          const n = p.length > 24 ? 0 : p.length;
          for (let i = 0; i < n; i++) {
            const c = p.charCodeAt(i);
            u8[rec + i] = c > 0xff ? 0xff : c;
          }
          u8[rec + QUERY_LEN] = n;
          u16[(rec + QUERY_STATE) >> 1] = states.lookup(r.state);
        }
        runner.run(input, b.length, status, sink);
      }
      return hitSink;
    });
    const verifiedPerRead = Number(pc.getPatternVerified() - verifiedBefore) / ((reps + 1) * readCount);
    log(`${size} patterns: wasm ${human(wasm.readsPerSec)} reads/s, ${wasm.hitsPerPass} hits a pass, ${verifiedPerRead.toFixed(2)} verifications a read; index ${JSON.stringify(compiled.stats)}`);

    // RegExp loop, on a prefix when slow.
    const regexPass = (n: number): number => {
      let hits = 0;
      for (let i = 0; i < n; i++) {
        const r = reads[i];
        const norm = normalizePlate(r.plate);
        if (!norm.ok) continue;
        const rs = states.lookup(r.state);
        const plate = norm.plate;
        for (let k = 0; k < res.length; k++) {
          const ps = stateCodes[k];
          if (ps !== 0 && rs !== 0 && ps !== rs) continue;
          if (res[k].test(plate)) hits++;
        }
      }
      return hits;
    };
    const probeN = Math.min(readCount, 2000);
    const tp = nowMs();
    regexPass(probeN);
    const probeRate = probeN / Math.max(1e-3, (nowMs() - tp) / 1000);
    const regexReads = Math.min(readCount, Math.max(probeN, Math.ceil(PASS_BUDGET_S * probeRate)));
    const regex = measure(reps, regexReads, () => regexPass(regexReads));
    const expectedHits = (wasm.hitsPerPass * regexReads) / readCount;
    log(`${size} patterns: RegExp ${human(regex.readsPerSec)} reads/s on ${regexReads} reads (${regex.hitsPerPass} hits; wasm's rate predicts ~${expectedHits.toFixed(0)})`);
    const ratio = wasm.readsPerSec / regex.readsPerSec;
    rows.push([
      String(size),
      human(wasm.readsPerSec),
      human(regex.readsPerSec) + (regexReads < readCount ? '*' : ''),
      `${ratio.toFixed(0)}x`,
      verifiedPerRead.toFixed(2),
      String(wasm.hitsPerPass),
      `${compiled.stats.quadgram}/${compiled.stats.trigram}/${compiled.stats.bigram}/${compiled.stats.unigram}/${compiled.stats.scanned}`,
      `${(compiled.size / 1024).toFixed(0)} KiB`,
    ]);
    results.push({
      patterns: size,
      index: compiled.stats,
      wasm,
      regex: { ...regex, sampleReads: regexReads },
      ratio,
      verificationsPerRead: verifiedPerRead,
    });
  }
  const out = table(['patterns', 'wasm reads/s', 'RegExp reads/s', 'ratio', 'verif/read', 'hits/pass', '4/3/2/1-gram/scan', 'block'], rows);
  process.stdout.write(`${out}\n(* RegExp timed on a prefix of the reads; see the JSON)\n`);
  const file = writeResults('patterns', {
    command: `node ${process.execArgv.join(' ')} ${process.argv.slice(1).join(' ')}`.replace(/\s+/g, ' '),
    date: new Date().toISOString(),
    machine: machineInfo(),
    config: { sizes, reads: readCount, reps, batch: BATCH, seed: SEED },
    results,
  }, args.get('out'));
  log(`results in ${file}`);
}

main();
