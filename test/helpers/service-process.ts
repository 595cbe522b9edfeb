/**
 * Runs the built `platesieve serve` as a child process for integration tests: writes its JSON
 * configuration to a temp dir, parses its pino JSON log lines, finds the metrics port from the
 * "metrics and health server listening" line, and stops it by signal. Also: `waitFor` (bounded
 * polling with a clear failure message) and `collect` (a NATS subscription that keeps every
 * message with its headers). Children still running when the test process exits are killed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type ConnectionOptions, type Msg, type NatsConnection, type Subscription } from 'nats';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startNatsServer, type NatsServerHandle } from './nats-server.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = join(ROOT, 'dist/matcher/cli/main.js');
export const SAMPLE_HOTLIST = join(ROOT, 'fixtures/sample/hotlist.csv');
export const SAMPLE_READS = join(ROOT, 'fixtures/sample/reads.ndjson');

/** One parsed pino log line. */
export interface LogLine {
  level: number;
  msg?: string;
  [key: string]: unknown;
}

export interface ServiceProcessOptions {
  /** NATS URL passed with `--nats`. */
  natsUrl: string;
  /** The configuration file's content (written as JSON). Hotlists default to the sample hotlist. */
  config: Record<string, unknown>;
  /** Extra command-line flags. */
  args?: string[];
  /** Milliseconds to wait for "consuming reads". Default 15000. */
  readyTimeoutMs?: number;
  /** Extra environment variables for the process (on top of this process's environment). */
  env?: Record<string, string>;
  /** `store` runs `platesieve store` (no hotlists, ready at "store started"). Default `serve`. */
  command?: 'serve' | 'store';
}

export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly logs: LogLine[];
  /** Standard error (pino writes to standard output; errors of the CLI land here). */
  readonly stderr: () => string;
  /** Metrics port, once the service logged it. */
  readonly opsPort: number | undefined;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** True when the log holds a line with this `msg`. */
  logged(msg: string): boolean;
  /** Sends a signal and waits (bounded) for the exit; SIGKILL after `timeoutMs`. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | string>;
  /** GET on the ops server; returns status and body. */
  http(path: string): Promise<{ status: number; body: string }>;
  /** Value of an unlabelled (or summed over labels) counter from `/metrics`. */
  metric(name: string): Promise<number>;
}

const live = new Set<ChildProcess>();
let hookInstalled = false;
function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!hookInstalled) {
    hookInstalled = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
}

/** SIGKILLs every service child still running (for afterEach/afterAll). */
export async function killAllServices(): Promise<void> {
  const waits: Array<Promise<void>> = [];
  for (const c of live) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    waits.push(new Promise((r) => c.once('exit', () => r())));
    c.kill('SIGKILL');
  }
  await Promise.all(waits);
}

/** Polls `predicate` every 20 ms until it is true; throws `message` (or a default) after `timeoutMs`. */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs: number,
  message: string | (() => string) = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) {
      const text = typeof message === 'function' ? message() : message;
      throw new Error(`timed out after ${timeoutMs} ms waiting for: ${text}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A temp dir for configuration files; `cleanup()` removes it. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'platesieve-svc-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export type TempDir = Awaited<ReturnType<typeof tempDir>>;

/** What a service suite sets up: its own nats-server, a connection to it, a temp dir. */
export interface ServiceSuite {
  server: NatsServerHandle;
  nc: NatsConnection;
  tmp: TempDir;
}

/**
 * Registers the hooks of a suite of service tests (call it inside `describe`): a nats-server
 * of its own, a connection and a temp dir before the tests, every service process killed
 * after each test, all of it stopped at the end. `ready` gets them once they are up.
 */
export function serviceSuite(
  options: { jetstream: boolean; connect?: Partial<ConnectionOptions> },
  ready: (suite: ServiceSuite) => void | Promise<void>,
): void {
  let suite: Partial<ServiceSuite> = {};
  beforeAll(async () => {
    const server = await startNatsServer({ jetstream: options.jetstream });
    suite = { server, nc: await connect({ servers: server.url, ...options.connect }), tmp: await tempDir() };
    await ready(suite as ServiceSuite);
  });
  afterEach(async () => {
    await killAllServices();
  });
  afterAll(async () => {
    await killAllServices();
    await suite.nc?.close();
    await suite.server?.stop();
    await suite.tmp?.cleanup();
  });
}

let configCounter = 0;

/** Starts `platesieve serve` and waits until it logs "consuming reads" (or exits, which throws). */
export async function startServiceProcess(options: ServiceProcessOptions): Promise<ServiceProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'platesieve-svc-'));
  const configFile = join(dir, `service-${++configCounter}.json`);
  const command = options.command ?? 'serve';
  const config = command === 'serve' ? { hotlists: [{ file: SAMPLE_HOTLIST, maxAgeHours: 1_000_000 }], ...options.config } : { metrics: { port: 0 }, ...options.config };
  await writeFile(configFile, JSON.stringify(config, null, 2));
  const args = [CLI, command, '--config', configFile, '--nats', options.natsUrl, ...(command === 'serve' ? ['--metrics-port', '0'] : []), ...(options.args ?? [])];
  const env = options.env === undefined ? undefined : { ...process.env, ...options.env };
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  const logs: LogLine[] = [];
  let err = '';
  let partial = '';
  let opsPort: number | undefined;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk;
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      if (line.trim() === '') continue;
      try {
        const parsed = JSON.parse(line) as LogLine;
        logs.push(parsed);
        if ((parsed.msg === 'metrics and health server listening' || parsed.msg === 'ops server listening') && typeof parsed.port === 'number') opsPort = parsed.port;
      } catch {
        logs.push({ level: 0, msg: line });
      }
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err = (err + chunk).slice(-20_000);
  });
  const exited = new Promise<number | string>((r) => {
    child.once('exit', (code, signal) => {
      void rm(dir, { recursive: true, force: true });
      r(signal ?? code ?? -1);
    });
  });
  let exitValue: number | string | undefined;
  void exited.then((v) => (exitValue = v));

  const describe = (): string =>
    `service log tail:\n${logs
      .slice(-15)
      .map((l) => JSON.stringify(l).slice(0, 400))
      .join('\n')}\nstderr:\n${err.slice(-2000)}`;

  const proc: ServiceProcess = {
    child,
    logs,
    stderr: () => err,
    get opsPort() {
      return opsPort;
    },
    exited,
    logged: (msg) => logs.some((l) => l.msg === msg),
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (exitValue !== undefined) return exitValue;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const v = await exited;
      clearTimeout(timer);
      return v;
    },
    async http(path) {
      if (opsPort === undefined) throw new Error('the service has no metrics port (yet)');
      const res = await fetch(`http://127.0.0.1:${opsPort}${path}`);
      return { status: res.status, body: await res.text() };
    },
    async metric(name) {
      const { body } = await proc.http('/metrics');
      let sum = 0;
      let found = false;
      for (const line of body.split('\n')) {
        if (line.startsWith('#')) continue;
        const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
        if (m === null || m[1] !== name) continue;
        sum += Number(m[3]);
        found = true;
      }
      if (!found) throw new Error(`metric ${name} not in /metrics`);
      return sum;
    },
  };

  try {
    await waitFor(
      () => {
        if (exitValue !== undefined) throw new Error(`service exited during start (${String(exitValue)}); ${describe()}`);
        return proc.logged(command === 'serve' ? 'consuming reads' : 'store started');
      },
      options.readyTimeoutMs ?? 15_000,
      () => `"${command === 'serve' ? 'consuming reads' : 'store started'}" from the ${command} process; ${describe()}`,
    );
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return proc;
}

/** One message kept by {@link collect}. */
export interface Collected {
  subject: string;
  data: Uint8Array;
  headers: Record<string, string>;
  json<T = unknown>(): T;
}

/** Subscribes to `subject` and keeps every message (with headers) in `messages`. */
export function collect(nc: NatsConnection, subject: string): { messages: Collected[]; sub: Subscription } {
  const messages: Collected[] = [];
  const sub = nc.subscribe(subject, {
    callback: (_err, msg: Msg) => {
      const headers: Record<string, string> = {};
      if (msg.headers !== undefined) for (const k of msg.headers.keys()) headers[k] = msg.headers.get(k);
      const data = msg.data;
      messages.push({ subject: msg.subject, data, headers, json: <T>() => JSON.parse(new TextDecoder().decode(data)) as T });
    },
  });
  return { messages, sub };
}

/** Records of a records message: one object or an array. */
export function recordsOf(c: Collected): Array<{ id: string; hit: boolean; alertIds: string[] }> {
  const v = c.json<unknown>();
  return (Array.isArray(v) ? v : [v]) as Array<{ id: string; hit: boolean; alertIds: string[] }>;
}

/** The fields of an alert that must equal the offline matcher's. */
export interface AlertKey {
  readId: string;
  entryId: string;
  match: string;
  distance: number;
  score: number;
}

export function alertKey(a: AlertKey): AlertKey {
  return { readId: a.readId, entryId: a.entryId, match: a.match, distance: a.distance, score: a.score };
}

export function sortAlertKeys(keys: AlertKey[]): AlertKey[] {
  return [...keys].sort((a, b) => (a.readId === b.readId ? a.entryId.localeCompare(b.entryId) : a.readId.localeCompare(b.readId)));
}

/** Alerts of `platesieve match` (the offline CLI) on an NDJSON reads file. */
export function referenceAlerts(readsFile: string, hotlistFile = SAMPLE_HOTLIST): AlertKey[] {
  const res = spawnSync(process.execPath, [CLI, 'match', '--hotlist', hotlistFile, '--input', readsFile], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (res.error !== undefined) throw res.error;
  const lines = res.stdout.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0 && res.status !== 0) throw new Error(`platesieve match failed (${String(res.status)}): ${res.stderr}`);
  return sortAlertKeys(lines.map((l) => alertKey(JSON.parse(l) as AlertKey)));
}

/** The lines of an NDJSON file that parse as JSON objects (the malformed ones left out). */
export function parsedLines(text: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const v = JSON.parse(line) as unknown;
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) out.push(v as Record<string, unknown>);
    } catch {
      // malformed line: not a read
    }
  }
  return out;
}
