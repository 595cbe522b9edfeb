/**
 * How the soak reports: the SVG chart of its four series and the closing summary lines.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { human, machineInfo } from '../bench/util.js';
import type { SoakAccount } from './soak-accounting.js';
import type { Flatness } from './soak-flatness.js';
import type { Sample } from './soak-sampling.js';
import { renderChart, type Series } from './svg.js';

/** What the chart's title and subtitle say about the run. */
export interface ChartRun {
  minutes: number;
  rate: number;
  build: string;
  sent: number;
  lostRecords: number;
  dupRecords: number;
  /** End of the warm-up (s), drawn as a dashed line. */
  warmupS: number;
}

/** Writes the chart of RSS, heap used, p99 and lag to `svgFile` (creating its folder). */
export function writeChart(svgFile: string, run: ChartRun, samples: readonly Sample[]): void {
  const { warmupS } = run;
  const chart = renderChart(
    `platesieve soak: ${run.minutes} min at ${human(run.rate)} reads/s (JetStream, one read a message)`,
    `build ${run.build} (tree ${machineInfo().commit.slice(0, 12)}) · ${new Date().toISOString().slice(0, 16)}Z · ${run.sent} reads, ${run.lostRecords} lost, ${run.dupRecords} duplicated · dashed line: end of warm-up`,
    [
      { title: 'service RSS', unit: 'MB', points: samples.map((x) => [x.t, x.rssMB]), marker: warmupS },
      { title: 'service heap used', unit: 'MB', points: samples.map((x) => [x.t, x.heapUsedMB]), marker: warmupS },
      { title: 'p99 publish → record, per 10 s', unit: 'ms', points: samples.map((x) => [x.t, x.p99Ms]), marker: warmupS },
      { title: 'consumer lag (pending + ack pending)', unit: 'reads', points: samples.map((x) => [x.t, x.lag]), marker: warmupS },
    ] satisfies Series[],
  );
  mkdirSync(path.dirname(svgFile), { recursive: true });
  writeFileSync(svgFile, chart);
}

/** The closing lines: reads, alerts, the drain and the store, and the flatness verdict. */
export function summaryLines(sent: number, acc: SoakAccount, drain: { drained: boolean; drainS: number }, flat: Flatness, enough: boolean): string[] {
  const mb = (x: number): string => `${x.toFixed(0)} MB`;
  const { rss, heap, p99, lag } = flat;
  return [
    '',
    `reads:  ${sent} sent, ${acc.published} in the reads stream, ${acc.recordsStored} with a record, ${acc.lostRecords} lost, ${acc.dupRecords} duplicated${acc.strayRecords > 0 ? `, ${acc.strayRecords} stray records` : ''}`,
    `alerts: ${acc.alertsExpected} expected, ${acc.alertsDelivered} stored, ${acc.lostAlerts} lost, ${acc.dupAlerts} duplicated, ${acc.unexpectedAlerts} unexpected`,
    `drained: ${drain.drained} (${drain.drainS.toFixed(1)} s); JetStream holds ${(acc.storeBytes / 2 ** 20).toFixed(0)} MB, ${Math.round(acc.storeBytes / Math.max(1, sent))} bytes a read`,
    `RSS ${mb(rss.first)} -> ${mb(rss.last)} ${rss.ok ? 'flat' : 'NOT FLAT'}; heap ${mb(heap.first)} -> ${mb(heap.last)} (not judged); ` +
      `p99 ${p99.first.toFixed(1)} -> ${p99.last.toFixed(1)} ms ${p99.ok ? 'flat' : 'NOT FLAT'}; lag ${lag.first} -> ${lag.last} ${lag.ok ? 'ok' : 'GROWING'}${enough ? '' : ' (too few samples to compare)'}`,
  ];
}
