/**
 * A private nats-server for the demo and the end-to-end benchmark, after the nats.js test
 * launcher (nst/src/launcher.ts): write a config with `port: -1` and a ports file directory in
 * a temp dir, start `nats-server -c`, read the port the server chose from its ports file (racing
 * an early exit), and on stop SIGTERM it (SIGKILL after a grace period) and remove the temp dir
 * with its JetStream store. Not for production: there the operators run the cluster.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface EmbeddedNatsOptions {
  /** JetStream with a store in the temp dir. Default false. */
  jetstream?: boolean;
  /** The binary; default $NATS_SERVER, then PATH, then /usr/sbin, /usr/local/bin. */
  binary?: string;
  /** Extra config text appended to the generated file (e.g. `max_payload: 8MB`). */
  config?: string;
  /** How long to wait for the server to report its port. Default 10 s. */
  startTimeoutMs?: number;
}

export interface EmbeddedNats extends AsyncDisposable {
  /** `nats://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** SIGTERM, SIGKILL after 2 s, then remove the temp dir. Idempotent. */
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 2_000;

/** Path of the nats-server binary, or undefined when none is installed. */
export function findNatsServer(): string | undefined {
  const fromEnv = process.env.NATS_SERVER;
  if (fromEnv !== undefined && fromEnv !== '') return existsSync(fromEnv) ? fromEnv : undefined;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/bin', '/usr/bin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, 'nats-server');
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

// Servers still running when this process exits are killed, so none outlive a crash or Ctrl-C.
const live = new Set<ChildProcess>();
let exitHook = false;
/** Kills `child` (a nats-server) when this process exits, if it still runs then. */
export function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
}

/** Resolves once `child` has exited. */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Waits for the `<name>_<pid>.ports` file nats-server writes in `dir` (config `ports_file_dir`)
 * and returns the client port; rejects when the server exits first or the time runs out.
 */
export async function waitForPort(child: ChildProcess, dir: string, timeoutMs: number, stderr: () => string): Promise<number> {
  const suffix = `_${child.pid}.ports`;
  const deadline = Date.now() + timeoutMs;
  let exit: string | undefined;
  const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
    exit = signal === null ? `exit code ${code}` : `signal ${signal}`;
  };
  child.once('exit', onExit);
  try {
    for (;;) {
      if (exit !== undefined) throw new Error(`nats-server exited during start (${exit}): ${stderr().trim()}`);
      if (Date.now() > deadline) throw new Error(`nats-server did not report its port within ${timeoutMs} ms: ${stderr().trim()}`);
      const name = (await readdir(dir)).find((f) => f.endsWith(suffix));
      if (name !== undefined) {
        try {
          const ports = JSON.parse(await readFile(join(dir, name), 'utf8')) as { nats?: string[] };
          const url = ports.nats?.[0];
          if (url !== undefined) return Number(new URL(url).port);
        } catch {
          // Written but not complete yet: read again.
        }
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    child.off('exit', onExit);
  }
}

/**
 * Starts a private nats-server on a free port of 127.0.0.1. Throws when the binary is missing
 * (check {@link findNatsServer} first to fall back quietly) or the server fails to start.
 */
export async function startEmbeddedNats(options: EmbeddedNatsOptions = {}): Promise<EmbeddedNats> {
  const binary = options.binary ?? findNatsServer();
  if (binary === undefined) throw new Error('nats-server not found on PATH: install nats-server 2.9+ or set NATS_SERVER to its path');
  const dir = await mkdtemp(join(tmpdir(), 'platesieve-nats-'));
  const lines = [`listen: "127.0.0.1:-1"`, `ports_file_dir: ${JSON.stringify(dir)}`];
  if (options.jetstream === true) lines.push('jetstream {', `  store_dir: ${JSON.stringify(join(dir, 'js'))}`, '}');
  if (options.config !== undefined) lines.push(options.config);
  const configFile = join(dir, 'server.conf');
  await writeFile(configFile, lines.join('\n') + '\n');

  let err = '';
  const child = spawn(binary, ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    err = (err + chunk).slice(-4000);
  });
  let port: number;
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', (e) => reject(new Error(`cannot start ${binary}: ${e.message}`, { cause: e })));
    });
    track(child);
    port = await waitForPort(child, dir, options.startTimeoutMs ?? 10_000, () => err);
  } catch (e) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw e;
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited(child);
      clearTimeout(timer);
      await rm(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    pid: child.pid ?? -1,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
