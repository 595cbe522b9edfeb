/**
 * Starts a real nats-server per test suite, after nats.js `nst/src/launcher.ts`: write a config
 * with `port: -1` and a ports file directory, start `nats-server -c`, read the port the server
 * chose from its ports file, and race that against an early exit. Each server gets its own temp
 * directory (config, ports file, JetStream store), removed on `stop()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exited, findNatsServer, track, waitForPort } from '../../matcher/service/embedded-nats.js';

export interface NatsServerOptions {
  /** Enable JetStream with a store in the server's temp dir. Default true. */
  jetstream?: boolean;
  /** Extra command-line arguments for nats-server. */
  args?: string[];
  /** Extra config text appended to the generated config file. */
  config?: string;
  /** Environment of the server process (added to this process's): `$VAR` in `config` is looked up there. */
  env?: NodeJS.ProcessEnv;
}

export interface NatsServerHandle extends AsyncDisposable {
  /** `nats://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** The JetStream store directory (inside the temp dir). */
  storeDir: string;
  /** The temp dir holding config, ports file and store. */
  dir: string;
  /** SIGTERM, SIGKILL after 2 s, then remove the temp dir. */
  stop(): Promise<void>;
  /** SIGKILL now; keeps the store dir (to test restarts and outages). */
  kill(): Promise<void>;
  /** Starts again on the same port with the same store (stops the running one first). */
  restart(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 2_000;

/** The nats-server binary: $NATS_SERVER, then PATH, then the usual install folders. */
function findBinary(): string {
  // NATS_SERVER is taken as given, so a wrong path fails at spawn with that path in the error.
  const fromEnv = process.env.NATS_SERVER;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const binary = findNatsServer();
  if (binary === undefined) throw new Error('nats-server not found on PATH or in /usr/sbin: install nats-server 2.9+ or set NATS_SERVER to its path');
  return binary;
}

function configText(port: number, dir: string, storeDir: string, options: NatsServerOptions): string {
  const lines = [`listen: "127.0.0.1:${port}"`, `ports_file_dir: ${JSON.stringify(dir)}`];
  if (options.jetstream ?? true) lines.push(`jetstream {`, `  store_dir: ${JSON.stringify(storeDir)}`, `}`);
  if (options.config !== undefined) lines.push(options.config);
  return lines.join('\n') + '\n';
}

/** Starts a nats-server on a free port with its own store directory. */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const binary = findBinary();
  const dir = await mkdtemp(join(tmpdir(), 'platesieve-nats-'));
  const storeDir = join(dir, 'js');
  const configFile = join(dir, 'server.conf');
  let child: ChildProcess | undefined;
  let port = -1;

  const launch = async (): Promise<void> => {
    // Old ports files belong to earlier processes; the new one is named with the new pid.
    for (const f of await readdir(dir)) if (f.endsWith('.ports')) await rm(join(dir, f), { force: true });
    await writeFile(configFile, configText(port, dir, storeDir, options));
    let err = '';
    const env = options.env === undefined ? process.env : { ...process.env, ...options.env };
    const proc = spawn(binary, ['-c', configFile, ...(options.args ?? [])], { stdio: ['ignore', 'ignore', 'pipe'], env });
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (chunk: string) => {
      err = (err + chunk).slice(-8000);
    });
    const spawned = new Promise<void>((resolve, reject) => {
      proc.once('spawn', () => resolve());
      proc.once('error', (e) => reject(new Error(`cannot start ${binary}: ${e.message}`, { cause: e })));
    });
    await spawned;
    track(proc);
    child = proc;
    port = await waitForPort(proc, dir, START_TIMEOUT_MS, () => err);
  };

  const terminate = async (): Promise<void> => {
    const proc = child;
    if (proc === undefined) return;
    child = undefined;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS);
    await exited(proc);
    clearTimeout(timer);
  };

  try {
    await launch();
  } catch (e) {
    if (child !== undefined) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw e;
  }

  const handle: NatsServerHandle = {
    get url() {
      return `nats://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    storeDir,
    dir,
    async stop() {
      await terminate();
      await rm(dir, { recursive: true, force: true });
    },
    async kill() {
      const proc = child;
      if (proc === undefined) return;
      child = undefined;
      proc.kill('SIGKILL');
      await exited(proc);
    },
    async restart() {
      await terminate();
      await launch();
    },
    async [Symbol.asyncDispose]() {
      await handle.stop();
    },
  };
  return handle;
}

/** A random subject prefix, so tests sharing a server never see each other's messages. */
export function uniquePrefix(): string {
  return `t${randomBytes(6).toString('hex')}`;
}
