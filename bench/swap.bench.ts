/**
 * Hotlist swap under load: the service matches a steady stream of single reads at a fixed
 * rate while a new version of a 1M-entry hotlist is loaded, compiled (in a worker thread)
 * and swapped in. Reports publish-to-record latency before, during and after the swap, and
 * checks that every read got exactly one record.
 *
 *   npm run build && npm run bench:swap [-- --entries 1000000 --rate 10000 --seconds 20]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { build } from 'hdr-histogram-js';
import { connect } from 'nats';
import { generateHotlist } from '../fixtures/generator.js';
import type { HotlistEntry } from '../matcher/types.js';
import { startEmbeddedNats } from '../matcher/service/embedded-nats.js';
import { intArg, machineInfo, parseArgs, table, writeResults } from './util.js';

const args = parseArgs(process.argv.slice(2));
const ENTRIES = intArg(args, 'entries', 1_000_000);
const RATE = intArg(args, 'rate', 10_000);
const SECONDS = intArg(args, 'seconds', 20);
const wall = (): number => performance.timeOrigin + performance.now();

function writeList(file: string, entries: readonly HotlistEntry[]): void {
  writeFileSync(`${file}.tmp`, entries.map((e) => JSON.stringify(e)).join('\n') + '\n');
  renameSync(`${file}.tmp`, file);
}

const hist = () => build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'platesieve-swap-'));
  const nats = await startEmbeddedNats();
  const file = path.join(dir, 'hotlist.ndjson');
  const base = generateHotlist({ seed: 11, size: ENTRIES });
  writeList(file, base);
  const config = path.join(dir, 'service.json');
  writeFileSync(config, JSON.stringify({
    subjects: { prefix: 'swap' }, hotlists: [{ file, maxAgeHours: 1e6, refreshMinutes: 0 }],
    metrics: false, log: { level: 'info' }, liveUpdates: { bucket: null }, suppression: { windowMs: 0 },
  }));
  const child = spawn(process.execPath, ['dist/matcher/cli/main.js', 'serve', '--config', config, '--nats', nats.url], { stdio: ['ignore', 'pipe', 'inherit'] });
  let swapDoneAt = 0;
  let ready!: () => void;
  const readyP = new Promise<void>((r) => (ready = r));
  let buf = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.includes('"consuming reads"')) ready();
      if (line.includes('"hotlist swapped"')) swapDoneAt = wall();
    }
  });
  await readyP;

  const nc = await connect({ servers: nats.url });
  const all = hist();
  const before = hist();
  const during = hist();
  const after = hist();
  let records = 0;
  const seen = new Set<string>();
  let dupes = 0;
  let swapAt = 0;
  nc.subscribe('swap.records.>', {
    callback: (_e, m) => {
      const now = wall();
      const r = JSON.parse(new TextDecoder().decode(m.data)) as { id: string; imageRef: string };
      if (seen.has(r.id)) dupes++;
      seen.add(r.id);
      records++;
      const sent = Number(r.imageRef);
      const us = Math.max(1, Math.round((now - sent) * 1000));
      all.recordValue(us);
      if (swapAt === 0 || sent < swapAt) before.recordValue(us);
      else if (swapDoneAt === 0 || sent <= swapDoneAt + 1000) during.recordValue(us);
      else after.recordValue(us);
    },
  });
  const plates = base.slice(0, 5000).map((e, i) => (i % 100 === 0 ? e.plate! : `Z${i}Q`));
  let sent = 0;
  const started = wall();
  const tickMs = 2;
  const perTick = Math.max(1, Math.round((RATE * tickMs) / 1000));
  while (wall() - started < SECONDS * 1000) {
    if (swapAt === 0 && wall() - started > SECONDS * 300) {
      // A new version: the same list with 1 % of its entries replaced.
      writeList(file, base.map((e, i) => (i % 100 === 7 ? { ...e, plate: `N${i.toString(36).toUpperCase()}` } : e)));
      swapAt = wall();
      child.kill('SIGHUP');
    }
    const target = Math.floor(((wall() - started) / 1000) * RATE);
    while (sent < target) {
      nc.publish('swap.reads.cam', JSON.stringify({ id: `r${sent}`, plate: plates[sent % plates.length], imageRef: String(wall()) }));
      sent++;
    }
    await new Promise((r) => setTimeout(r, tickMs));
    void perTick;
  }
  const waitUntil = wall() + 20_000;
  while (records < sent && wall() < waitUntil) await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGTERM');
  await nc.close();
  await new Promise((r) => child.once('exit', r));
  await nats.stop();
  rmSync(dir, { recursive: true, force: true });

  const ms = (h: ReturnType<typeof hist>, q: number) => Math.round(h.getValueAtPercentile(q) / 10) / 100;
  const row = (name: string, h: ReturnType<typeof hist>) => [name, String(h.totalCount), String(ms(h, 50)), String(ms(h, 99)), String(ms(h, 99.9)), String(Math.round(h.maxValue / 10) / 100)];
  const swapMs = swapDoneAt > 0 ? Math.round(swapDoneAt - swapAt) : -1;
  console.log(`\nhotlist swap under load: ${ENTRIES} entries, ${RATE} reads/s offered, ${SECONDS} s; swap took ${swapMs} ms (SIGHUP to "hotlist swapped")`);
  console.log(table(['window', 'reads', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms'], [row('before swap', before), row('during swap (+1 s)', during), row('after swap', after), row('all', all)]));
  console.log(`published ${sent}, records ${records}, distinct ${seen.size}, duplicates ${dupes}`);
  const out = writeResults('swap', {
    command: `node dist/bench/swap.bench.js --entries ${ENTRIES} --rate ${RATE} --seconds ${SECONDS}`,
    machine: machineInfo(),
    entries: ENTRIES, rate: RATE, seconds: SECONDS, swapMs,
    published: sent, records, distinct: seen.size, duplicates: dupes,
    latencyMs: Object.fromEntries(([['before', before], ['during', during], ['after', after], ['all', all]] as const).map(([k, h]) => [k, { count: h.totalCount, p50: ms(h, 50), p99: ms(h, 99), p999: ms(h, 99.9), max: Math.round(h.maxValue / 10) / 100 }])),
  });
  console.log(`results: ${out}`);
  if (records !== sent || dupes !== 0) process.exitCode = 1;
}

await main();
