/**
 * The tables and targets of the end-to-end benchmark (e2e.bench.ts): throughput against the
 * raw ceiling of each mode, latency percentiles, and which targets the runs met.
 */
import type { DriveResult } from './e2e-drive.js';
import { human, table } from './util.js';

export type Mode = 'core' | 'jetstream';

/** One throughput measurement: the raw subscriber's ceiling or the service. */
export interface ThroughputRow {
  path: string;
  mode: Mode;
  readsPerMessage: number;
  workers: number | null;
  runs: DriveResult[];
  readsPerS: number;
  messagesPerS: number;
  alerts?: number;
  dropped?: number;
  /** CPU µs per read over the timed runs, by process (service or subscriber, natsServer, driver). */
  cpu: Record<string, number>;
}

/** One latency measurement at an offered rate. */
export interface LatencyRow {
  mode: Mode;
  workers: number;
  /** Node options of the service process (GC tuning), if any. */
  nodeOptions: string;
  offeredPerS: number;
  published: number;
  records: number;
  alerts: number;
  record: { p50: number; p99: number; p999: number; max: number; count: number };
  alert: { p50: number; p99: number; p999: number; max: number; count: number };
}

/** A throughput row with its ratio to the raw ceiling of its mode and message shape. */
export type ReportRow = ThroughputRow & { ratio: number };

/** A target of the benchmark and whether the runs met it. */
export interface Target {
  target: string;
  measured: number;
  threshold: number;
  workers: number | null | undefined;
  below?: boolean;
  met: boolean;
}

/** Prints the tables and the targets through `out`; returns the rows and targets for the results file. */
export function report(throughput: readonly ThroughputRow[], latencies: readonly LatencyRow[], rate: number, out: (line: string) => void): { rows: ReportRow[]; targets: Target[] } {
  const ceiling = (mode: Mode, perMsg: number): number => throughput.find((r) => r.path === 'raw subscriber' && r.mode === mode && r.readsPerMessage === perMsg)?.readsPerS ?? NaN;
  const rows = throughput.map((r) => {
    const ratio = r.path === 'service' ? r.readsPerS / ceiling(r.mode, r.readsPerMessage) : 1;
    return { ...r, ratio };
  });
  out('');
  out(table(
    ['mode', 'reads/msg', 'path', 'workers', 'reads/s', 'msgs/s', 'x raw', 'runs (reads/s)', 'CPU µs/read (consumer/nats/driver)', 'notes'],
    rows.map((r) => [
      r.mode, String(r.readsPerMessage), r.path, r.workers === null ? '-' : String(r.workers), human(r.readsPerS), human(r.messagesPerS),
      r.path === 'service' ? `${r.ratio.toFixed(2)}x` : '', r.runs.map((x) => human(x.readsPerS)).join(' '),
      [r.cpu.service ?? r.cpu.subscriber, r.cpu.natsServer, r.cpu.driver].map((x) => (Number.isFinite(x) ? x.toFixed(2) : '-')).join(' / '),
      [r.runs.some((x) => x.stalled) ? 'STALLED (lost reads)' : '', r.dropped ? `dropped-warnings ${r.dropped}` : ''].filter(Boolean).join(' '),
    ]),
  ));
  out('');
  const f = (x: number): string => x.toFixed(2);
  out(table(
    ['mode', 'workers', 'node options', 'offered', 'published', 'records', 'record p50', 'p99', 'p99.9', 'max', 'alerts', 'alert p50', 'p99', 'p99.9'],
    latencies.map((l) => [
      l.mode, l.workers < 0 ? '-' : String(l.workers), l.nodeOptions || '-', `${human(l.offeredPerS)}/s`, String(l.published), String(l.records),
      `${f(l.record.p50)} ms`, f(l.record.p99), f(l.record.p999), f(l.record.max), String(l.alerts), `${f(l.alert.p50)} ms`, f(l.alert.p99), f(l.alert.p999),
    ]),
  ));

  const bestService = (mode: Mode, perMsg: number): ThroughputRow | undefined =>
    rows.filter((r) => r.path === 'service' && r.mode === mode && r.readsPerMessage === perMsg).sort((a, b) => b.readsPerS - a.readsPerS)[0];
  const s1 = bestService('core', 1);
  const s100 = bestService('core', 100);
  const coreLat = latencies.filter((l) => l.mode === 'core' && l.nodeOptions === '').sort((a, b) => a.record.p99 - b.record.p99)[0];
  const echoLat = latencies.find((l) => l.workers < 0);
  const tunedLat = latencies.find((l) => l.mode === 'core' && l.nodeOptions !== '' && l.workers >= 0);
  const targets = [
    { target: 'one read per message >= 0.7x the raw ceiling (core)', measured: s1 ? s1.readsPerS / ceiling('core', 1) : NaN, threshold: 0.7, workers: s1?.workers },
    { target: 'arrays of 100 reads >= 1M reads/s (core)', measured: s100?.readsPerS ?? NaN, threshold: 1_000_000, workers: s100?.workers },
    { target: `publish-to-record p99 < 5 ms at ${human(rate)} reads/s (core)`, measured: coreLat?.record.p99 ?? NaN, threshold: 5, workers: coreLat?.workers, below: true },
    ...(tunedLat === undefined ? [] : [{ target: `publish-to-record p99 < 5 ms at ${human(rate)} reads/s (core, ${tunedLat.nodeOptions})`, measured: tunedLat.record.p99, threshold: 5, workers: tunedLat.workers, below: true }]),
  ].map((t) => ({ ...t, met: t.below ? t.measured < t.threshold : t.measured >= t.threshold }));
  out('');
  for (const t of targets) out(`${t.met ? 'MET    ' : 'NOT MET'}  ${t.target}: ${t.threshold >= 1000 ? human(t.measured) : t.measured.toFixed(2)} (workers ${t.workers})`);
  if (echoLat !== undefined) out(`(the machine's floor at ${human(rate)} reads/s, a raw echo with no service: p50 ${echoLat.record.p50.toFixed(2)} ms, p99 ${echoLat.record.p99.toFixed(2)} ms)`);
  return { rows, targets };
}
