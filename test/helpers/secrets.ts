/**
 * Helpers of the security tests: run the built CLI with its own environment (secrets come
 * from PLATESIEVE_NATS_*), run `platesieve serve` without waiting for it to be ready (it may
 * never connect), and check that no secret appears in any text the tests collected.
 */
import { spawn } from 'node:child_process';
import { expect } from 'vitest';
import { CLI, ROOT } from './cli.js';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `platesieve ARGS` with `env` added to this process's environment (PLATESIEVE_NATS_* removed first). */
export function runCliEnv(args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<CliRun> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PLATESIEVE_')));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A `platesieve serve` process whose output is collected from the start. */
export interface RawService {
  /** Standard output and standard error so far. */
  output(): string;
  /** JSON log lines parsed from standard output so far. */
  logs(): Array<Record<string, unknown>>;
  /** SIGTERM (SIGKILL after 10 s); resolves once it exited. */
  stop(): Promise<void>;
}

/** Starts `platesieve serve ARGS` with `env` added; does not wait for anything. */
export function spawnService(args: string[], env: Record<string, string> = {}): RawService {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    out += s;
    stdout += s;
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => (out += s));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    output: () => out,
    logs: () =>
      stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * A loopback port nothing listens on: 1 (tcpmux) is privileged and unused, so connections are
 * refused at once. A free port found by binding and releasing one could be taken meanwhile by
 * a nats-server of a test running in parallel.
 */
export const CLOSED_PORT = 1;

/** Fails naming the text (by label) that contains a secret; the secret itself is not printed. */
export function expectNoSecret(texts: Record<string, string>, secrets: readonly string[]): void {
  for (const [label, text] of Object.entries(texts)) {
    for (const [i, secret] of secrets.entries()) {
      expect(text.includes(secret), `${label} contains secret #${i}`).toBe(false);
    }
  }
}
