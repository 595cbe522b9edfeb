/**
 * Scratch folders for targets that must go through a real file (loadHotlistFile,
 * loadServiceConfig). The runner makes one folder per run and removes it at the end (a worker
 * the watchdog kills runs no exit handler); used alone (the `npm test` sample), a target
 * makes its own and removes it when the process exits.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The variable the runner passes its run folder in. */
export const FUZZ_TMP_ENV = 'PLATESIEVE_FUZZ_TMP';

/** A new scratch folder (in memory on Linux); the caller removes it. */
export function makeTmpRoot(): string {
  return mkdtempSync(join(process.platform === 'linux' ? '/dev/shm' : tmpdir(), 'platesieve-fuzz-'));
}

const made = new Map<string, string>();

/** The scratch folder `name` of this thread, made on first use. */
export function scratchFolder(name: string): string {
  let dir = made.get(name);
  if (dir !== undefined) return dir;
  const root = process.env[FUZZ_TMP_ENV];
  if (root !== undefined && root !== '') {
    dir = join(root, `${name}-${process.pid}-${made.size}-${Math.random().toString(36).slice(2, 8)}`);
    mkdirSync(dir, { recursive: true });
  } else {
    const own = makeTmpRoot();
    process.on('exit', () => rmSync(own, { recursive: true, force: true }));
    dir = own;
  }
  made.set(name, dir);
  return dir;
}
