/**
 * Soak: the service in JetStream mode at half its maximum sustained rate for a long time,
 * sampled every 10 s, then every read and alert accounted for.
 *
 *   npm run build && npm run soak -- [--minutes 30] [--max-rate R | --rate R] [--probe-s 10]
 *        [--entries 10000] [--hit-rate 0.02] [--workers 0] [--sample-s 10]
 *        [--out FILE] [--svg FILE] [--strict]
 *
 * 1. Maximum sustained rate (unless --max-rate or --rate): the service on a fresh nats-server,
 *    a closed loop (at most 5000 reads unanswered, as bench/e2e-drive.ts `drive`) for
 *    `--probe-s` after a 3 s warm-up; the rate is records stored per second.
 * 2. Soak at half that (`--rate` sets the soak rate itself), on a fresh nats-server and service:
 *    one msgpack read a message on the reads stream, each with its own id and camera (so the
 *    default suppression window never hides a hit and the expected alerts are those of
 *    `platesieve match`), `ts` the send time. Every `--sample-s`: the service's RSS and heap
 *    (its /metrics: `platesieve_process_resident_memory_bytes`,
 *    `platesieve_nodejs_heap_size_used_bytes`), p99 publish-to-record latency of the records
 *    that arrived in the interval (taken here from each record's `ts`; the service's own
 *    `platesieve_latency_seconds{stage="end_to_end"}` is kept beside it), and the consumer's
 *    lag (num_pending + num_ack_pending).
 * 3. The end: the publisher stops, the consumer drains (bounded), the service stops; the records
 *    and alerts streams are read back in full. Lost = a read without a record, or an expected
 *    alert not stored; duplicate = a read with two records, an alert stored twice.
 * 4. Flatness, after a warm-up of min(2 min, 20 % of the run): the medians of the last third of
 *    the samples against the first third. RSS: last <= first x 1.2 + 16 MB. p99: last <= first
 *    x 2 + 5 ms. Lag: median of the last third <= one second of reads. Heap used is shown, not
 *    judged: a sample lands anywhere on the collector's sawtooth.
 *
 * Writes JSON (default bench/results/soak-<minutes>min-<date>.json) and an SVG chart of the four
 * series (default docs/soak.svg for runs of 10 minutes or more, else next to the JSON). Exit
 * status 1 when anything was lost or duplicated (or the run could not finish); with --strict,
 * 3 when a series is not flat.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { human, machineInfo, numArg, parseArgs } from '../bench/util.js';
import { freezeBuild } from './frozen-build.js';
import { consumerState } from './jetstream.js';
import { writeJson } from './json-out.js';
import { metricValue } from './metrics.js';
import { PacedPublisher } from './publisher.js';
import { templates } from './read-templates.js';
import { accountSoak, expectedAlertsByTemplate } from './soak-accounting.js';
import { flatness, median } from './soak-flatness.js';
import { probe } from './soak-probe.js';
import { summaryLines, writeChart } from './soak-report.js';
import { RecordLatency, sampleRun } from './soak-sampling.js';
import { setUp, tearDown } from './soak-setup.js';
import { makeData } from './test-data.js';
import { until } from './wait.js';

const args = parseArgs(process.argv.slice(2));
const num = (name: string, dflt: number | undefined): number | undefined => numArg(args, name, dflt);
const minutes = num('minutes', 30)!;
const probeS = num('probe-s', 10)!;
const entries = num('entries', 10_000)!;
const hitRate = num('hit-rate', 0.02)!;
const workers = args.has('workers') ? Number(args.get('workers')) : 0;
const sampleS = num('sample-s', 10)!;
const strict = args.has('strict');
const givenRate = num('rate', undefined);
const givenMax = num('max-rate', undefined);
const out = (s: string): void => void process.stdout.write(s + '\n');
const date = new Date().toISOString().slice(0, 10);
const jsonFile = args.get('out') ?? path.join('bench', 'results', `soak-${minutes}min-${date}.json`);
const svgFile = args.get('svg') ?? (minutes >= 10 ? path.join('docs', 'soak.svg') : jsonFile.replace(/\.json$/, '') + '.svg');

async function main(): Promise<void> {
  statSync(path.resolve('dist/matcher/cli/main.js'));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'platesieve-soak-'));
  const t0 = Date.now();
  let exit = 0;
  try {
    // One build for the whole run, even if the tree is rebuilt meanwhile (--no-freeze: dist/ as it is).
    const build = args.has('no-freeze') ? 'dist/ (not frozen)' : freezeBuild(path.join(dir, 'build'));
    out(`service build ${build}, tree ${machineInfo().commit}`);
    out(`generating a ${entries}-entry hotlist and 20000 template reads (${hitRate * 100} % of hotlisted vehicles)...`);
    const data = await makeData(dir, { entries, poolSize: 20_000, hitRate, seed: 20250602 });
    const make = templates(data.pool);
    const expectedByTemplate = expectedAlertsByTemplate(dir, data);

    let maxRate = givenMax;
    if (givenRate === undefined && maxRate === undefined) {
      out(`measuring the maximum sustained rate (${probeS} s closed loop)...`);
      maxRate = await probe(path.join(dir, 'probe'), data, make, probeS, workers);
      out(`  ${human(maxRate)} reads/s`);
    }
    const rate = Math.max(1, Math.floor(givenRate ?? maxRate! / 2));
    const seconds = minutes * 60;
    out(`soak: ${human(rate)} reads/s for ${minutes} min (${human(rate * seconds)} reads), a sample every ${sampleS} s`);

    const s = await setUp(path.join(dir, 'soak'), data, workers);
    const latency = new RecordLatency(s.obs);
    await s.obs.flush();
    const jsm = await s.obs.jetstreamManager();

    const capacity = Math.ceil(rate * seconds) + 10;
    const startPerf = performance.now();
    const publisher = new PacedPublisher(s.pub, make, rate, capacity, startPerf);
    const samples = await sampleRun({ service: s.service, jsm, latency, publisher, startPerf, seconds, sampleS, out });
    await publisher.stop();
    await s.pub.flush();
    const sent = publisher.sent;
    const crashed = s.service.crashes.length > 0;
    if (crashed) {
      const c = s.service.crashes[0];
      out(`the service exited during the soak (${String(c.code)}); its last lines:\n${c.tail.split('\n').slice(-4).join('\n').slice(-1200)}`);
    }
    out('draining...');
    const drainStart = Date.now();
    const drained = await until(async () => {
      const st = await consumerState(jsm);
      return st !== undefined && st.pending === 0 && st.ackPending === 0 && st.ackFloor === st.lastSeq;
    }, crashed ? 1000 : 180_000, 250);
    const drainS = (Date.now() - drainStart) / 1000;
    const finalMetrics = await s.service.metricsText();
    await s.service.stop();

    out('reading the output streams back...');
    const acc = await accountSoak(s.obs, jsm, sent, expectedByTemplate);
    await tearDown(s);

    const { flat, allFlat, enough } = flatness(samples, seconds, rate);
    const lossFree = acc.lostRecords === 0 && acc.lostAlerts === 0 && acc.dupRecords === 0 && acc.dupAlerts === 0 && acc.unexpectedAlerts === 0 && !crashed && drained;

    const allP99 = samples.map((x) => x.p99Ms).filter(Number.isFinite);
    const result = {
      suite: 'soak', date: new Date().toISOString(), machine: machineInfo(), build, seconds: (Date.now() - t0) / 1000,
      settings: { minutes, sampleS, entries, hitRate, workers, readsPerMessage: 1, format: 'msgpack', suppression: 'default (300000 ms)' },
      maxRate: maxRate ?? null, rate,
      reads: { sent, published: acc.published, recordsStored: acc.recordsStored, lost: acc.lostRecords, duplicates: acc.dupRecords, strayRecords: acc.strayRecords },
      alerts: { expected: acc.alertsExpected, delivered: acc.alertsDelivered, lost: acc.lostAlerts, duplicates: acc.dupAlerts, unexpected: acc.unexpectedAlerts },
      storeBytesPerRead: sent > 0 ? Math.round(acc.storeBytes / sent) : null,
      drained, drainS, crashes: s.service.crashes.map((c) => ({ code: c.code, tail: c.tail.slice(-1500) })),
      p99MsOverall: { median: median(allP99), max: allP99.length > 0 ? Math.max(...allP99) : null },
      serviceMetrics: {
        suppressed: metricValue(finalMetrics, 'platesieve_alerts_suppressed_total'),
        readsTotal: metricValue(finalMetrics, 'platesieve_reads_total'),
        deadletters: metricValue(finalMetrics, 'platesieve_deadletters_total'),
      },
      flat, lossFree, samples,
    };
    writeJson(jsonFile, result);
    writeChart(svgFile, { minutes, rate, build, sent, lostRecords: acc.lostRecords, dupRecords: acc.dupRecords, warmupS: flat.warmupS }, samples);

    for (const line of summaryLines(sent, acc, { drained, drainS }, flat, enough)) out(line);
    out(`wrote ${jsonFile} and ${svgFile}`);
    exit = !lossFree ? 1 : strict && !allFlat ? 3 : 0;
    out(lossFree ? 'nothing lost or duplicated' : 'LOSS, DUPLICATES OR AN UNFINISHED RUN: see above');
  } catch (e) {
    out(`soak failed: ${(e as Error).stack ?? String(e)}`);
    exit = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(exit);
}

await main();
