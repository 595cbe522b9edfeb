/**
 * Moving pieces of the end-to-end benchmark: the service and the raw subscriber as child
 * processes, the closed-loop publisher (throughput) and the paced publisher (latency), and the
 * cheap parsing of the outputs it counts. Nothing here prints.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { build, type Histogram } from 'hdr-histogram-js';
import type { NatsConnection } from 'nats';

/** Wall-clock ms with sub-ms resolution, comparable across processes of this machine. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

export function latencyHistogram(): Histogram {
  return build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
}

/** A promise that resolves at the next notify(). */
export class Signal {
  private waiters: Array<() => void> = [];
  wait(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
  notify(): void {
    const w = this.waiters;
    if (w.length === 0) return;
    this.waiters = [];
    for (const f of w) f();
  }
}

/** CPU seconds (user + system) a process has used so far; NaN where /proc is not there. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Fields after the command name (which may hold spaces), from its closing parenthesis.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

// USER_HZ: 100 on every Linux the benchmark runs on (getconf CLK_TCK).
const CLOCK_TICKS = 100;

/** CPU seconds of several processes, summed per name. */
export function cpuSnapshot(pids: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) out[name] = cpuSeconds(pid);
  return out;
}

const RETENTION = Buffer.from('"retention":');
const TS = Buffer.from('"ts":');

/** Records in a records message: one per `"retention":` (a record, or an array of them). */
export function countRecords(data: Uint8Array): number {
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let n = 0;
  let at = b.indexOf(RETENTION);
  while (at >= 0) {
    n++;
    at = b.indexOf(RETENTION, at + RETENTION.length + 20);
  }
  return n;
}

/**
 * Calls `f` with the `ts` of every record of a records message (a record or an array of them;
 * the benchmark's reads have no nested `ts`), without parsing the rest.
 */
export function eachTs(data: Uint8Array, f: (ts: number) => void): void {
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let at = b.indexOf(TS);
  while (at >= 0) {
    // Digits, an optional fraction: parsed in place (no string per record, so the collector
    // makes little garbage and its own GC pauses stay out of the latencies it measures).
    let i = at + TS.length;
    let v = 0;
    while (i < b.length && b[i] >= 0x30 && b[i] <= 0x39) v = v * 10 + (b[i++] - 0x30);
    if (b[i] === 0x2e) {
      let scale = 0.1;
      for (i++; i < b.length && b[i] >= 0x30 && b[i] <= 0x39; i++, scale /= 10) v += (b[i] - 0x30) * scale;
    }
    f(v);
    at = b.indexOf(TS, i);
  }
}

/** The `ts` of a single record or alert (JSON), without parsing the rest; NaN if absent. */
export function tsOf(data: Uint8Array, last: boolean): number {
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const at = last ? b.lastIndexOf(TS) : b.indexOf(TS);
  if (at < 0) return Number.NaN;
  let end = at + TS.length;
  while (end < b.length && ((b[end] >= 0x30 && b[end] <= 0x39) || b[end] === 0x2e || b[end] === 0x65 || b[end] === 0x2b || b[end] === 0x2d)) end++;
  return Number(b.toString('latin1', at + TS.length, end));
}

export interface DriveResult {
  reads: number;
  seconds: number;
  readsPerS: number;
  /** True when progress stalled before all reads came back (lost messages). */
  stalled: boolean;
}

/**
 * Closed loop: publishes `messages` (cycled) until `total` reads are out, keeping at most
 * `window` reads unanswered (published minus `progress()`), and times until progress reaches
 * `total`. The window keeps a core-mode consumer from being overrun, so the figure is the
 * rate sustained without loss, not the rate the publisher can write.
 */
export async function drive(
  nc: NatsConnection, subject: string, messages: readonly Uint8Array[], perMsg: number,
  total: number, window: number, progress: () => number, signal: Signal, stallMs = 10_000,
): Promise<DriveResult> {
  const base = progress();
  const done = (): number => progress() - base;
  let sent = 0;
  let i = 0;
  const t0 = performance.now();
  let lastProgress = 0;
  let lastChange = t0;
  let stalled = false;
  while (done() < total) {
    while (sent < total && sent - done() < window) {
      nc.publish(subject, messages[i]);
      i = i + 1 === messages.length ? 0 : i + 1;
      sent += perMsg;
    }
    await signal.wait(50);
    const d = done();
    const now = performance.now();
    if (d !== lastProgress) {
      lastProgress = d;
      lastChange = now;
    } else if (now - lastChange > stallMs) {
      stalled = true;
      break;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const reads = done();
  return { reads, seconds, readsPerS: reads / seconds, stalled };
}

/**
 * Open loop at `rate` reads/s for `seconds`, one read a message, in bursts every ~1 ms. Each
 * message is a pre-encoded msgpack read whose `ts` is a float64 at `tsOffset` (after the 0xcb
 * marker), overwritten with the publish time just before it goes out.
 */
export async function paced(
  nc: NatsConnection, subject: string, messages: readonly Uint8Array[], tsOffsets: readonly number[],
  rate: number, seconds: number,
): Promise<number> {
  const views = messages.map((m) => new DataView(m.buffer, m.byteOffset, m.byteLength));
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let sent = 0;
  let i = 0;
  for (;;) {
    const now = performance.now();
    if (now >= end) break;
    const due = Math.floor(((now - t0) / 1000) * rate);
    while (sent < due) {
      const m = messages[i];
      views[i].setFloat64(tsOffsets[i], wallMs());
      nc.publish(subject, m);
      i = i + 1 === messages.length ? 0 : i + 1;
      sent++;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  return sent;
}

/** A child process that prints a line matching `ready` once it is up. */
export interface Child {
  proc: ChildProcess;
  /** Lines of standard output and error matching `watch`, counted. */
  watched(): number;
  tail(): string;
  stop(): Promise<void>;
}

export function startChild(cmd: string, args: string[], ready: RegExp, watch?: RegExp, timeoutMs = 30_000): Promise<Child> {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  let watched = 0;
  let partial = '';
  return new Promise((resolve, reject) => {
    let up = false;
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${args[0]} did not start within ${timeoutMs} ms: ${log.slice(-2000)}`));
    }, timeoutMs);
    const onData = (chunk: Buffer): void => {
      const text = partial + chunk.toString('utf8');
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        log = (log + line + '\n').slice(-8000);
        if (watch !== undefined && watch.test(line)) watched++;
        if (!up && ready.test(line)) {
          up = true;
          clearTimeout(timer);
          resolve(child);
        }
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', (code, sig) => {
      if (!up) {
        clearTimeout(timer);
        reject(new Error(`${args[0]} exited during start (${sig ?? code}): ${log.slice(-2000)}`));
      }
    });
    const child: Child = {
      proc,
      watched: () => watched,
      tail: () => log.slice(-2000),
      stop: async () => {
        if (proc.exitCode !== null || proc.signalCode !== null) return;
        const exited = new Promise<void>((r) => proc.once('exit', () => r()));
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      },
    };
  });
}
