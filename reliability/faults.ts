/**
 * The fault table: the service in JetStream mode under steady load, one fault per row, then
 * every read and alert accounted for from the output streams.
 *
 *   npm run build && npm run faults -- [--rows service-kill,nats-kill,...] [--rate 1000]
 *        [--entries 10000] [--hit-rate 0.05] [--warm-s 5] [--after-s 8] [--drain-s 90] [--full-s 6]
 *        [--no-freeze] [--out FILE]
 *
 * Each row gets a fresh nats-server (its own JetStream store dir, free port, restartable on the
 * same port and store: test/helpers/nats-server.ts) and the built service as a child process
 * (`node dist/matcher/cli/main.js serve --config FILE`, suppression at its default). A publisher
 * sends reads at `--rate` through JetStream (acknowledged, retried, `Nats-Msg-Id`); every read
 * has its own id and camera, so no hit repeats an entry and a camera inside the suppression
 * window and the expected alerts are exactly those of `platesieve match` on the same reads and
 * hotlist. After `--warm-s` the fault; `--after-s` more of load after it ends; then the
 * publisher stops, the consumer is drained (at most `--drain-s`), the service is stopped, and
 * the records, alerts and dead-letter streams are read back in full.
 *
 * A service that exits on its own during a row is counted as a crash and restarted after 1 s
 * (as a supervisor would), so that what it lost can still be counted.
 *
 * Prints a markdown table; writes JSON (default bench/results/faults-<date>.json).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { machineInfo, numArg, parseArgs } from '../bench/util.js';
import { markdownTable, rowSummaryLines } from './fault-report.js';
import { faultRows } from './fault-rows.js';
import { runRow, type RowResult } from './fault-run.js';
import { freezeBuild } from './frozen-build.js';
import { writeJson } from './json-out.js';
import { makeData } from './test-data.js';

const args = parseArgs(process.argv.slice(2));
const num = (name: string, dflt: number): number => numArg(args, name, dflt);
const rate = num('rate', 1000);
const entries = num('entries', 10_000);
const hitRate = num('hit-rate', 0.05);
const warmS = num('warm-s', 5);
const afterS = num('after-s', 8);
const drainS = num('drain-s', 90);
/** How long the *-full rows keep a stream full: a little past the service's 5 deliveries a second apart. */
const fullS = num('full-s', 6);
const out = (s: string): void => void process.stdout.write(s + '\n');
const ROWS = faultRows(fullS);

async function main(): Promise<void> {
  const wanted = (args.get('rows') ?? ROWS.map((r) => r.name).join(',')).split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = wanted.filter((w) => !ROWS.some((r) => r.name === w));
  if (unknown.length > 0) {
    process.stderr.write(`unknown row(s): ${unknown.join(', ')}; rows: ${ROWS.map((r) => r.name).join(', ')}\n`);
    process.exit(2);
  }
  statSync(path.resolve('dist/matcher/cli/main.js'));
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'platesieve-faults-data-'));
  // One build for the whole table, even if the tree is rebuilt meanwhile (--no-freeze: run dist/ as it is).
  const build = args.has('no-freeze') ? 'dist/ (not frozen)' : freezeBuild(path.join(dataDir, 'build'));
  out(`service build ${build}, tree ${machineInfo().commit}`);
  const t0 = Date.now();
  const results: RowResult[] = [];
  try {
    out(`generating a ${entries}-entry hotlist and 20000 template reads (${hitRate * 100} % of hotlisted vehicles)...`);
    const data = await makeData(dataDir, { entries, poolSize: 20_000, hitRate, seed: 20250601 });
    for (const name of wanted) {
      const spec = ROWS.find((r) => r.name === name)!;
      out(`row ${name}: ${spec.what}`);
      const r0 = Date.now();
      try {
        const r = await runRow(spec, data, { rate, warmS, afterS, drainS });
        results.push(r);
        for (const line of rowSummaryLines(r, (Date.now() - r0) / 1000)) out(line);
      } catch (e) {
        out(`  row failed to run: ${(e as Error).stack ?? String(e)}`);
      }
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  out('');
  out(markdownTable(results));
  const file = args.get('out') ?? path.join('bench', 'results', `faults-${new Date().toISOString().slice(0, 10)}.json`);
  writeJson(file, {
    suite: 'faults', date: new Date().toISOString(), machine: machineInfo(), build, seconds: (Date.now() - t0) / 1000,
    settings: { rate, entries, hitRate, warmS, afterS, drainS, suppression: 'default (300000 ms)', readsPerMessage: 1, format: 'msgpack' },
    rows: results,
  });
  out(`\nwrote ${file}`);
  process.exitCode = results.length === wanted.length && results.every((r) => r.pass) ? 0 : 1;
}

await main();
