/**
 * Test helpers for the built CLI and for tests that write files: run `platesieve` as a child
 * process (building it first when dist/ is missing), and a temporary directory per test file.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = join(ROOT, 'dist/matcher/cli/main.js');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Builds the project when the CLI is not built yet (a fresh clone running one test file). */
export function ensureBuilt(): void {
  if (existsSync(CLI)) return;
  const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}\n${build.stderr}`);
}

/**
 * Runs the CLI with `args`. Standard input is closed at once, or carries `stdin`, written in
 * `chunkSize`-byte pieces one event-loop turn apart when a size is given.
 */
export function runCli(args: string[], stdin?: Buffer | string, chunkSize?: number): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
    child.stdin.on('error', () => undefined); // the CLI may exit before reading standard input
    if (stdin === undefined) {
      child.stdin.end();
      return;
    }
    const bytes = Buffer.from(stdin);
    if (chunkSize === undefined) {
      child.stdin.end(bytes);
      return;
    }
    let off = 0;
    const next = (): void => {
      if (off >= bytes.length) {
        child.stdin.end();
        return;
      }
      child.stdin.write(bytes.subarray(off, off + chunkSize), () => setTimeout(next, 0));
      off += chunkSize;
    };
    next();
  });
}

/** A temporary directory made before the file's tests and removed after them. */
export interface TempDir {
  /** The directory (set once the file's tests start). */
  readonly path: string;
  /** Writes `text` to a new file in it (names are numbered, never reused) and returns its path. Uses no `this`: destructure it freely. */
  readonly file: (name: string, text: string) => Promise<string>;
}

/** Registers the hooks of a {@link TempDir}; call it at the top level of a test file. */
export function tempDir(prefix: string): TempDir {
  let path = '';
  let n = 0;
  beforeAll(async () => {
    path = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    if (path !== '') await rm(path, { recursive: true, force: true });
  });
  return {
    get path(): string {
      return path;
    },
    async file(name: string, text: string): Promise<string> {
      const at = join(path, `${n++}-${name}`);
      await writeFile(at, text);
      return at;
    },
  };
}
