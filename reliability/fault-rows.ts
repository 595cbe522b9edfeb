/**
 * The fault table's rows: what each one breaks while the service is under load, and how it
 * puts it back. A row's `fault` returns when the fault began and when the harness restored
 * what it broke; the rest of the row (load, drain, accounting) is reliability/fault-run.ts.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { DiscardPolicy, type JetStreamManager, type NatsConnection } from 'nats';
import type { NatsServerHandle } from '../test/helpers/nats-server.js';
import type { CuttableProxy } from './cuttable-proxy.js';
import { outputStreamNames } from './jetstream.js';
import type { ServiceChild } from './service-child.js';
import { sleep, until } from './wait.js';

/** What a row's fault can reach: the server, the service, the harness's connection, the proxy. */
export interface RowContext {
  server: NatsServerHandle;
  service: ServiceChild;
  nc: NatsConnection;
  jsm: JetStreamManager;
  proxy?: CuttableProxy;
  hotlistFile: string;
  /** While true the supervisor leaves a stopped service alone. */
  down: { value: boolean };
  note(s: string): void;
}

/** When a fault began and ended (ms since the epoch). */
export interface FaultTimes {
  start: number;
  /** When the harness restored what it broke. */
  end: number;
}

/** One row of the fault table: its name, what it does, how the service is set up for it, and the fault. */
export interface RowSpec {
  name: string;
  what: string;
  workers?: number;
  refreshMinutes?: number;
  preload?: boolean;
  proxy?: boolean;
  /** Recovery is measured to this log line (after the fault's end) rather than to the backlog. */
  recoveredBy?: string;
  fault(ctx: RowContext): Promise<FaultTimes>;
}

/**
 * Makes streams refuse writes for `holdMs`: `max_msgs` a little above their count (what
 * arrives in ~0.2 s, so that an update racing new messages never makes the server delete old
 * ones to fit), discard new; then the limit lifted. Checks that no message was deleted.
 */
async function fillStreams(ctx: RowContext, names: string[], holdMs: number): Promise<FaultTimes> {
  const firstSeq = new Map<string, number>();
  // Each stream's own rate, to size the margin.
  const before = new Map<string, number>();
  for (const name of names) before.set(name, (await ctx.jsm.streams.info(name)).state.messages);
  await sleep(500);
  for (const name of names) {
    const si = await ctx.jsm.streams.info(name);
    firstSeq.set(name, si.state.first_seq);
    const perS = (si.state.messages - before.get(name)!) * 2;
    const cap = si.state.messages + Math.ceil(perS * 0.2) + 2;
    await ctx.jsm.streams.update(name, { max_msgs: cap, discard: DiscardPolicy.New });
    ctx.note(`${name} capped at ${cap} messages (${si.state.messages} stored), discard new`);
  }
  // Full once the cap is reached: from then on every write is refused.
  const start = Date.now();
  await until(async () => {
    for (const name of names) {
      const si = await ctx.jsm.streams.info(name);
      if (si.state.messages < (si.config.max_msgs ?? 0)) return false;
    }
    return true;
  }, 5000, 20);
  await sleep(holdMs);
  for (const name of names) {
    const si = await ctx.jsm.streams.update(name, { max_msgs: -1, discard: DiscardPolicy.Old });
    if (si.state.first_seq !== firstSeq.get(name)) ctx.note(`HARNESS ARTIFACT: ${name} lost messages to the cap (first seq ${firstSeq.get(name)} -> ${si.state.first_seq})`);
  }
  return { start, end: Date.now() };
}

/** The service logged a failed batch (its wording: "batch failed in the matcher", "batch failed; ..."). */
function batchFailed(service: ServiceChild, since: number): boolean {
  return service.events.some((e) => e.at >= since && e.msg.startsWith('batch failed'));
}

/**
 * The rows, in the order they run by default. `fullS`: how long the *-full rows keep a stream
 * full.
 */
export function faultRows(fullS: number): RowSpec[] {
  return [
    {
      name: 'service-kill',
      what: 'SIGKILL of the service process; a new one started 3 s later',
      async fault(ctx) {
        const start = Date.now();
        ctx.down.value = true;
        await ctx.service.kill();
        await sleep(3000);
        const end = Date.now();
        await ctx.service.start();
        ctx.down.value = false;
        return { start, end };
      },
    },
    {
      name: 'nats-kill',
      what: 'SIGKILL of nats-server; restarted 3 s later on the same port with the same store dir',
      async fault(ctx) {
        const start = Date.now();
        await ctx.server.kill();
        await sleep(3000);
        await ctx.server.restart();
        return { start, end: Date.now() };
      },
    },
    {
      name: 'worker-kill',
      what: 'pool.workers 2: one worker thread terminated abruptly (reliability/fault-preload.ts, SIGUSR2), again every 0.7 s until one held a batch (at most 6)',
      workers: 2,
      preload: true,
      async fault(ctx) {
        const start = Date.now();
        let kills = 0;
        for (; kills < 6; kills++) {
          ctx.service.signal('SIGUSR2');
          await sleep(700);
          if (batchFailed(ctx.service, start)) {
            kills++;
            break;
          }
        }
        ctx.note(`${kills} worker thread(s) terminated; a batch failed with one: ${batchFailed(ctx.service, start) ? 'yes' : 'no'}`);
        return { start, end: Date.now() };
      },
    },
    {
      name: 'service-stop',
      what: 'SIGSTOP of the service for 20 s, then SIGCONT',
      async fault(ctx) {
        const start = Date.now();
        ctx.service.signal('SIGSTOP');
        await sleep(20_000);
        ctx.service.signal('SIGCONT');
        return { start, end: Date.now() };
      },
    },
    {
      name: 'alerts-full',
      what: `alerts stream refuses writes for ${fullS} s (max_msgs reached, discard new), then restored`,
      async fault(ctx) {
        const names = await outputStreamNames(ctx.jsm);
        return fillStreams(ctx, [names.alerts], fullS * 1000);
      },
    },
    {
      name: 'records-full',
      what: `records streams refuse writes for ${fullS} s (max_msgs reached, discard new), then restored`,
      async fault(ctx) {
        const names = await outputStreamNames(ctx.jsm);
        return fillStreams(ctx, names.records, fullS * 1000);
      },
    },
    {
      name: 'connection-cut',
      what: 'the service reaches nats-server through a TCP proxy; its connection is cut as it publishes an alert (that chunk dropped), refused for 3 s, then accepted again',
      proxy: true,
      async fault(ctx) {
        const start = Date.now();
        const cut = await ctx.proxy!.cutOn('alpr.alerts.', 3000, 5000);
        ctx.note(cut.matched ? 'cut on an alert publish' : 'no alert publish within 5 s: cut anyway');
        await until(() => Date.now() >= ctx.proxy!.refusingUntil, 10_000, 20);
        return { start, end: Date.now() };
      },
    },
    {
      name: 'hotlist-bad',
      what: 'refreshMinutes 0.02: the hotlist file truncated mid-line to 30 %, then garbage, then deleted (4 s each), then restored',
      refreshMinutes: 0.02,
      recoveredBy: 'hotlist swapped',
      async fault(ctx) {
        const file = ctx.hotlistFile;
        const original = readFileSync(file);
        const start = Date.now();
        truncateSync(file, Math.floor(original.length * 0.3) + 7);
        await sleep(4000);
        writeFileSync(file, randomBytes(original.length));
        await sleep(4000);
        unlinkSync(file);
        await sleep(4000);
        writeFileSync(`${file}.tmp`, original);
        renameSync(`${file}.tmp`, file);
        return { start, end: Date.now() };
      },
    },
    {
      name: 'hotlist-cut-at-line',
      what: 'refreshMinutes 0.02: the hotlist file cut at a line end to 70 % of its rows (as a non-atomic copy would leave it) for 5 s, then restored',
      refreshMinutes: 0.02,
      recoveredBy: 'hotlist swapped',
      async fault(ctx) {
        const file = ctx.hotlistFile;
        const original = readFileSync(file);
        const lines = original.toString('utf8').split('\n');
        const keep = Math.floor(lines.length * 0.7);
        const start = Date.now();
        writeFileSync(file, lines.slice(0, keep).join('\n') + '\n');
        await sleep(5000);
        ctx.note(`${keep - 1} of ${lines.length - 2} rows for 5 s`);
        writeFileSync(`${file}.tmp`, original);
        renameSync(`${file}.tmp`, file);
        return { start, end: Date.now() };
      },
    },
  ];
}
