/**
 * What a fault-table row saw of the service around its fault: how fast it recovered, what it
 * did with each version of a hotlist file, what it logged, and how it crashed.
 */
import type { FaultTimes, RowSpec } from './fault-rows.js';
import type { ServiceChild } from './service-child.js';

/** Seconds from the fault's end to the next record and to having caught up, and by what measure. */
export interface Recovery {
  firstRecordS: number | null;
  caughtUpS: number | null;
  by: string;
}

/** A crash of the service, from the fault's start, with its last error lines. */
export interface CrashSummary {
  afterFaultStartS: number;
  code: number | string;
  lastError: string;
}

/**
 * Recovery after the fault's end: the next record to arrive (`arrivals`, ms since the epoch),
 * and caught up either when the row's `recoveredBy` line was logged or at `caughtUpAt` (the
 * ack floor past the reads stream as it stood at the fault's end).
 */
export function recoveryOf(spec: RowSpec, service: ServiceChild, arrivals: readonly number[], times: FaultTimes, caughtUpAt: number | null): Recovery {
  const firstRecord = arrivals.find((t) => t >= times.end);
  if (spec.recoveredBy !== undefined) {
    const ev = service.events.find((e) => e.msg === spec.recoveredBy && e.at >= times.end);
    return { firstRecordS: firstRecord === undefined ? null : (firstRecord - times.end) / 1000, caughtUpS: ev === undefined ? null : (ev.at - times.end) / 1000, by: `"${spec.recoveredBy}" logged` };
  }
  return {
    firstRecordS: firstRecord === undefined ? null : (firstRecord - times.end) / 1000,
    caughtUpS: caughtUpAt === null ? null : (caughtUpAt - times.end) / 1000,
    by: 'ack floor past the reads stream at fault end',
  };
}

/** What the service did with each version of the hotlist file, in time from the fault's start. */
export function hotlistNote(service: ServiceChild, times: FaultTimes): string {
  const rel = (at: number): string => `${((at - times.start) / 1000).toFixed(1)} s`;
  const seen = service.events.filter((e) => e.at >= times.start && /^hotlist (swapped|load refused|file not readable)/.test(e.msg));
  const summary = seen.map((e) => `${rel(e.at)} ${e.msg.replace(/;.*$/, '')}${e.msg === 'hotlist swapped' ? ` (${typeof e.line.entries === 'number' ? e.line.entries : '?'} entries)` : ''}`);
  return `fault ${rel(times.start)}..${rel(times.end)}; service: ${summary.join(', ') || 'nothing'}`;
}

/** The service's log lines from the fault's start on, counted by message. */
export function serviceLogCounts(service: ServiceChild, times: FaultTimes): Record<string, number> {
  const serviceLog: Record<string, number> = {};
  // Start-up and shutdown lines are left out (a restart's are not news).
  const routine = /^(starting|consuming reads|stopped|signal received|stopping|ops server listening|metrics and health server listening|connected to NATS|live hotlist updates followed)/;
  for (const e of service.events) {
    if (e.at < times.start || routine.test(e.msg)) continue;
    serviceLog[e.msg] = (serviceLog[e.msg] ?? 0) + 1;
  }
  return serviceLog;
}

/** Every crash of the service during the row, timed from the fault's start. */
export function crashesOf(service: ServiceChild, times: FaultTimes): CrashSummary[] {
  return service.crashes.map((c) => ({
    afterFaultStartS: (c.at - times.start) / 1000,
    code: c.code,
    lastError: c.tail.split('\n').filter((l) => /"level":(50|60)|Error|error/.test(l)).slice(-2).join(' | ').slice(0, 600),
  }));
}
