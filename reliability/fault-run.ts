/**
 * One row of the fault table, start to end: a fresh nats-server and service, a supervisor that
 * restarts a service that exited on its own, steady load, the row's fault, the backlog traced
 * until the consumer drains, then every read and alert accounted for.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, type JetStreamManager, type NatsConnection } from 'nats';
import { startNatsServer } from '../test/helpers/nats-server.js';
import { accountRow } from './fault-accounting.js';
import { crashesOf, hotlistNote, recoveryOf, serviceLogCounts, type CrashSummary, type Recovery } from './fault-observations.js';
import type { FaultTimes, RowContext, RowSpec } from './fault-rows.js';
import { CuttableProxy } from './cuttable-proxy.js';
import { consumerState } from './jetstream.js';
import { metricSamples, metricValue } from './metrics.js';
import { AckedPublisher } from './publisher.js';
import { ServiceChild } from './service-child.js';
import type { TestData } from './test-data.js';
import { sleep, until } from './wait.js';

/** The load and timing every row runs with (the CLI's --rate, --warm-s, --after-s, --drain-s). */
export interface FaultSettings {
  rate: number;
  warmS: number;
  afterS: number;
  drainS: number;
}

/** Consumer state at one moment (t in s from the fault's end). */
export interface TracePoint {
  t: number;
  pending: number;
  ackPending: number;
  ackFloor: number;
  lastSeq: number;
}

/** The outcome of one row, as printed and written to the JSON. */
export interface RowResult {
  row: string;
  what: string;
  readsPublished: number;
  recordsStored: number;
  alertsExpected: number;
  alertsDelivered: number;
  duplicates: { records: number; alerts: number };
  lost: { records: number; alerts: number };
  unexpectedAlerts: number;
  deadLettered: Record<string, number>;
  recovery: Recovery;
  faultS: number;
  crashes: CrashSummary[];
  serviceLog: Record<string, number>;
  serviceMetrics: Record<string, unknown>;
  publisher: { created: number; acked: number; retries: number; errors: Record<string, number> };
  drained: boolean;
  /** Consumer state every second from the fault's end (t in s): for the recovery figures. */
  trace: TracePoint[];
  lastSeqAtFaultEnd: number;
  notes: string[];
  lostExamples: { records: string[]; alerts: string[] };
  pass: boolean;
}

/** Supervisor: a service that exits on its own is restarted after 1 s (unless `down` says the row stopped it). */
function supervise(svc: ServiceChild, down: { value: boolean }, notes: string[]): { halt(): void; done: Promise<void> } {
  let supervising = true;
  const done = (async () => {
    while (supervising) {
      await sleep(200);
      if (!supervising || down.value || svc.running) continue;
      await sleep(1000);
      if (!supervising || down.value || svc.running) continue;
      notes.push(`service exited on its own (${String(svc.crashes.at(-1)?.code)}); restarted`);
      await svc.start().catch((e: unknown) => notes.push(`restart failed: ${(e as Error).message.slice(0, 200)}`));
    }
  })();
  return { halt: () => void (supervising = false), done };
}

/**
 * Traces the consumer from the fault's end: where the backlog stood then (recovered once the
 * ack floor passes it), when it was caught up, and its state every second until `stop`.
 */
async function traceBacklog(jsm: JetStreamManager, faultEnd: number): Promise<{
  lastSeqAtEnd: number; trace: TracePoint[]; caughtUpAt: () => number | null; stop(): Promise<void>;
}> {
  // Where the backlog stood when the fault ended: recovered once the ack floor passes it.
  let lastSeqAtEnd = -1;
  await until(async () => {
    const s = await consumerState(jsm);
    if (s === undefined) return false;
    lastSeqAtEnd = s.lastSeq;
    return true;
  }, 15_000, 100);
  let caughtUpAt: number | null = null;
  let polling = true;
  const trace: TracePoint[] = [];
  const poller = (async () => {
    let lastTrace = 0;
    while (polling) {
      const s = await consumerState(jsm);
      if (s !== undefined && caughtUpAt === null && lastSeqAtEnd >= 0 && s.ackFloor >= lastSeqAtEnd) caughtUpAt = Date.now();
      if (s !== undefined && Date.now() - lastTrace >= 1000) {
        lastTrace = Date.now();
        trace.push({ t: (Date.now() - faultEnd) / 1000, pending: s.pending, ackPending: s.ackPending, ackFloor: s.ackFloor, lastSeq: s.lastSeq });
      }
      await sleep(100);
    }
  })();
  return {
    lastSeqAtEnd, trace, caughtUpAt: () => caughtUpAt,
    stop: async () => {
      polling = false;
      await poller;
    },
  };
}

/** Runs one row against `data` and accounts for it; everything it started is stopped and removed after. */
export async function runRow(spec: RowSpec, data: TestData, settings: FaultSettings): Promise<RowResult> {
  const { rate, warmS, afterS, drainS } = settings;
  const dir = mkdtempSync(path.join(os.tmpdir(), `platesieve-fault-${spec.name}-`));
  const notes: string[] = [];
  const server = await startNatsServer({ jetstream: true });
  let proxy: CuttableProxy | undefined;
  let nc: NatsConnection | undefined;
  let service: ServiceChild | undefined;
  const down = { value: false };
  let supervisor: ReturnType<typeof supervise> | undefined;
  try {
    if (spec.proxy) {
      proxy = new CuttableProxy(() => server.port);
      await proxy.start();
    }
    const hotlistFile = path.join(dir, 'hotlist.csv');
    copyFileSync(data.hotlistFile, hotlistFile);
    service = new ServiceChild({
      dir, natsUrl: proxy ? `nats://127.0.0.1:${proxy.port}` : server.url, hotlistFile, workers: spec.workers ?? 0,
      refreshMinutes: spec.refreshMinutes, faultPreload: spec.preload,
    });
    await service.start();
    nc = await connect({ servers: server.url, name: 'fault-harness', maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    const jsm = await nc.jetstreamManager();
    const arrivals: number[] = [];
    nc.subscribe('alpr.records.>', { callback: () => void arrivals.push(Date.now()) });
    supervisor = supervise(service, down, notes);

    const capacity = Math.ceil(rate * (warmS + afterS + 60)) + 1000;
    const publisher = new AckedPublisher(nc, data.pool, rate, capacity);
    publisher.start();
    await sleep(warmS * 1000);
    const ctx: RowContext = { server, service, nc, jsm, proxy, hotlistFile, down, note: (s) => notes.push(s) };
    const times: FaultTimes = await spec.fault(ctx);
    const backlog = await traceBacklog(jsm, times.end);
    await sleep(afterS * 1000);
    if (!(await publisher.stop(60_000))) notes.push(`publisher: ${publisher.created - publisher.acked} reads never acknowledged by the reads stream`);
    const drained = await until(async () => {
      const s = await consumerState(jsm);
      return s !== undefined && s.pending === 0 && s.ackPending === 0 && s.ackFloor === s.lastSeq;
    }, drainS * 1000, 200);
    const drainedAt = Date.now();
    await backlog.stop();
    // The drain check can see the ack floor reach the end before the poller does.
    const caughtUpAt = backlog.caughtUpAt() ?? (drained ? drainedAt : null);
    const final = await consumerState(jsm);
    if (!drained) notes.push(`not drained after ${drainS} s: ${JSON.stringify(final)}`);
    const metricsText = await service.metricsText();
    supervisor.halt();
    await supervisor.done;
    await service.stop();

    const acc = await accountRow(nc, jsm, publisher, data.hotlistFile, dir, notes);
    const recovery = recoveryOf(spec, service, arrivals, times, caughtUpAt);
    if (spec.refreshMinutes !== undefined) notes.push(hotlistNote(service, times));
    const lost = { records: acc.lostRecords.length, alerts: acc.lostAlerts.length };
    const duplicates = { records: acc.dupRecords, alerts: acc.dupAlerts };
    return {
      row: spec.name, what: spec.what, readsPublished: acc.published.length, recordsStored: acc.recordsStored, alertsExpected: acc.alertsExpected,
      alertsDelivered: acc.alertsDelivered, duplicates, lost, unexpectedAlerts: acc.unexpected, deadLettered: acc.deadLettered, recovery,
      faultS: (times.end - times.start) / 1000, crashes: crashesOf(service, times), serviceLog: serviceLogCounts(service, times),
      serviceMetrics: {
        suppressed: metricValue(metricsText, 'platesieve_alerts_suppressed_total'),
        deadletters: metricSamples(metricsText, 'platesieve_deadletters_total'),
        note: 'counters of the last service process only',
      },
      publisher: { created: publisher.created, acked: publisher.acked, retries: publisher.retries, errors: publisher.errors },
      drained, trace: backlog.trace, lastSeqAtFaultEnd: backlog.lastSeqAtEnd, notes,
      lostExamples: { records: acc.lostRecords.slice(0, 5), alerts: acc.lostAlerts.slice(0, 5) },
      pass: lost.records === 0 && lost.alerts === 0 && duplicates.records === 0 && duplicates.alerts === 0 && acc.unexpected === 0,
    };
  } finally {
    supervisor?.halt();
    await service?.kill().catch(() => undefined);
    await nc?.close().catch(() => undefined);
    await proxy?.stop().catch(() => undefined);
    await server.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}
