/**
 * Membership micro-benchmark: is this read's plate on the hotlist? The core's exact tier
 * (cache-line-blocked Bloom prefilter, then the packed table; reads in one batch through
 * linear memory) against two baselines a user would reach for: the npm `bloom-filters`
 * package's BloomFilter (`has` per plate) and a JavaScript `Set` of normalized plates.
 * Timed with Benchmark.js (statistically significant samples, relative margin of error), on
 * the same reads, in one process. Most reads are absent, as on a real feed.
 *
 *   npm run build && npm run bench:filter [-- --entries 100000 --reads 10000 --out FILE]
 */
import Benchmark from 'benchmark';
import bloomFilters from 'bloom-filters';
import { generateHotlist, generateReads } from '../fixtures/generator.js';
import { createMatcher } from '../matcher/index.js';
import { jsNormalize } from './baselines.js';
import { human, intArg, machineInfo, parseArgs, table, writeResults } from './util.js';

const args = parseArgs(process.argv.slice(2));
const ENTRIES = intArg(args, 'entries', 100_000);
const READS = intArg(args, 'reads', 10_000);
/** The false-positive rate asked of bloom-filters: about what the core's prefilter is sized for. */
const FP_RATE = 0.01;

const hotlist = generateHotlist({ seed: 1, size: ENTRIES });
const { reads } = generateReads({ seed: 2, count: READS, hotlist, hitRate: 0.01 });
const plates = hotlist.map((e) => jsNormalize(e.plate ?? '')).filter((p): p is string => p !== null);

const matcher = createMatcher({ entries: hotlist, tiers: ['exact'] });
// bloom-filters is CommonJS: its named exports are not visible to an ESM import.
const bloom = bloomFilters.BloomFilter.create(plates.length, FP_RATE);
for (const p of plates) bloom.add(p);
const set = new Set(plates);

// Each case answers for every read of the block, and its count is kept so nothing is elided.
let sink = 0;
const cases: Array<[string, () => number]> = [
  ['platesieve core (exact, batch)', () => matcher.matchBatch(reads).alerts.length],
  [
    'bloom-filters BloomFilter.has',
    () => {
      let n = 0;
      for (const r of reads) {
        const p = jsNormalize(r.plate);
        if (p !== null && bloom.has(p)) n++;
      }
      return n;
    },
  ],
  [
    'JavaScript Set.has',
    () => {
      let n = 0;
      for (const r of reads) {
        const p = jsNormalize(r.plate);
        if (p !== null && set.has(p)) n++;
      }
      return n;
    },
  ],
];

interface Row {
  name: string;
  readsPerSec: number;
  rme: number;
  samples: number;
  hitsPerPass: number;
}
const rows: Row[] = [];
const suite = new Benchmark.Suite();
for (const [name, fn] of cases) suite.add(name, () => { sink += fn(); });
suite.on('cycle', (event: Benchmark.Event) => {
  const b = event.target;
  const fn = cases.find(([n]) => n === b.name)![1];
  rows.push({ name: String(b.name), readsPerSec: (b.hz ?? 0) * reads.length, rme: b.stats?.rme ?? 0, samples: b.stats?.sample.length ?? 0, hitsPerPass: fn() });
});
suite.run({ async: false });

const core = rows[0].readsPerSec;
process.stdout.write(`${ENTRIES} entries, ${reads.length} reads a pass (sink ${sink > 0 ? 'ok' : 'empty'})\n`);
process.stdout.write(
  `${table(
    ['case', 'reads/s', '± %', 'samples', 'core ratio', 'hits/pass'],
    rows.map((r) => [r.name, human(r.readsPerSec), r.rme.toFixed(1), String(r.samples), `${(core / r.readsPerSec).toFixed(1)}x`, String(r.hitsPerPass)]),
  )}\n`,
);
const file = writeResults('filter', { command: `npm run bench:filter -- ${process.argv.slice(2).join(' ')}`.trim(), machine: machineInfo(), entries: ENTRIES, reads: reads.length, falsePositiveRate: FP_RATE, rows }, args.get('out'));
process.stdout.write(`results: ${file}\n`);
