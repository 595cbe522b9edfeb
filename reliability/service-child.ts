/**
 * The built service as a child process (`node dist/matcher/cli/main.js serve --config`), its
 * pino log parsed, restartable after a crash or a kill. Nothing here prints.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PRELOAD, ROOT, cliPath } from './frozen-build.js';
import { until } from './wait.js';

/** How the service under test is configured. */
export interface ServiceOptions {
  dir: string;
  natsUrl: string;
  hotlistFile: string;
  workers: number;
  refreshMinutes?: number;
  /** Start the service with reliability/fault-preload.js (SIGUSR2 kills a worker thread). */
  faultPreload?: boolean;
  /** Extra top-level configuration keys. */
  extra?: Record<string, unknown>;
}

/** One line of the service's log (or of its standard error), with when it arrived. */
export interface LogEvent {
  at: number;
  level: number;
  msg: string;
  line: Record<string, unknown>;
}

/**
 * The built service in a child process. Its pino JSON lines are parsed and kept (the notable
 * ones as events with their time); an exit the harness did not ask for is recorded as a crash.
 */
export class ServiceChild {
  /** The current (or last) process. */
  proc?: ChildProcess;
  /** Port of its metrics and health server, once it logged it. */
  opsPort?: number;
  /** Every log line of every start, in order. */
  readonly events: LogEvent[] = [];
  /** Exits the harness did not ask for: when, the exit code or signal, and the last lines. */
  readonly crashes: Array<{ at: number; code: number | string; tail: string }> = [];
  private tailText = '';
  private expectingExit = false;
  /** The configuration file written for it (`<dir>/service.json`). */
  readonly configFile: string;
  private starts = 0;

  constructor(readonly opts: ServiceOptions) {
    mkdirSync(opts.dir, { recursive: true });
    this.configFile = path.join(opts.dir, 'service.json');
    const config = {
      nats: { servers: [opts.natsUrl], name: 'platesieve-under-test' },
      mode: 'jetstream',
      hotlists: [{ file: opts.hotlistFile, source: 'NCIC', maxAgeHours: 1_000_000, refreshMinutes: opts.refreshMinutes ?? 5 }],
      pool: { workers: opts.workers },
      metrics: { port: 0, host: '127.0.0.1' },
      log: { level: 'info' },
      ...opts.extra,
    };
    writeFileSync(this.configFile, JSON.stringify(config, null, 2));
  }

  /** The current process's pid (undefined before the first start). */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Whether the current process is alive (neither exited nor killed by a signal). */
  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** The last lines the service wrote (at most 3000 characters). */
  tail(): string {
    return this.tailText.slice(-3000);
  }

  /** Whether the service logged `msg` at or after `since` (ms since the epoch). */
  logged(msg: string, since = 0): boolean {
    return this.events.some((e) => e.msg === msg && e.at >= since);
  }

  /** How many times the service logged `msg` in [`since`, `before`). */
  count(msg: string, since = 0, before = Infinity): number {
    return this.events.filter((e) => e.msg === msg && e.at >= since && e.at < before).length;
  }

  /** Starts the process and waits (bounded) for "consuming reads". */
  async start(timeoutMs = 30_000): Promise<void> {
    const args = [...(this.opts.faultPreload ? ['--import', pathToFileURL(PRELOAD).href] : []), cliPath(), 'serve', '--config', this.configFile];
    const env = { ...process.env, ...(this.opts.faultPreload ? { PLATESIEVE_FAULT_INJECTION: '1' } : {}) };
    const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env });
    this.proc = proc;
    this.expectingExit = false;
    this.opsPort = undefined;
    const start = ++this.starts;
    let partial = '';
    const onLine = (line: string): void => {
      if (line.trim() === '') return;
      this.tailText = (this.tailText + line.slice(0, 600) + '\n').slice(-6000);
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        this.events.push({ at: Date.now(), level: 60, msg: `stderr: ${line.slice(0, 300)}`, line: {} });
        return;
      }
      const msg = typeof parsed.msg === 'string' ? parsed.msg : '';
      if (msg === 'metrics and health server listening' && typeof parsed.port === 'number') this.opsPort = parsed.port;
      this.events.push({ at: Date.now(), level: Number(parsed.level ?? 30), msg, line: parsed });
    };
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      partial += chunk;
      let nl: number;
      while ((nl = partial.indexOf('\n')) >= 0) {
        onLine(partial.slice(0, nl));
        partial = partial.slice(nl + 1);
      }
    });
    proc.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) onLine(line);
    });
    proc.once('exit', (code, signal) => {
      if (!this.expectingExit && start === this.starts) this.crashes.push({ at: Date.now(), code: signal ?? code ?? -1, tail: this.tail() });
    });
    const since = Date.now();
    const ok = await until(() => {
      if (!this.running) throw new Error('exited');
      return this.logged('consuming reads', since);
    }, timeoutMs, 50).catch(() => false);
    if (!ok) {
      proc.kill('SIGKILL');
      throw new Error(`service did not start: ${this.tail()}`);
    }
  }

  /** Sends a signal the harness means (no crash is recorded for the exit it causes). */
  signal(sig: NodeJS.Signals): void {
    if (sig === 'SIGKILL' || sig === 'SIGTERM') this.expectingExit = true;
    this.proc?.kill(sig);
  }

  /** SIGKILL, awaited (no crash is recorded for it). */
  async kill(): Promise<void> {
    const p = this.proc;
    if (p === undefined || !this.running) return;
    this.expectingExit = true;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGKILL');
    await exited;
  }

  /** SIGTERM (graceful stop), SIGKILL after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    const p = this.proc;
    if (p === undefined || !this.running) return;
    this.expectingExit = true;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGCONT');
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(t);
  }

  /** The `/metrics` text, or undefined when the service does not answer. */
  async metricsText(timeoutMs = 2000): Promise<string | undefined> {
    if (this.opsPort === undefined) return undefined;
    try {
      const res = await fetch(`http://127.0.0.1:${this.opsPort}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
      return await res.text();
    } catch {
      return undefined;
    }
  }
}
