/**
 * Compiling a hotlist for the service: entries are packed on the main thread (a byte copy
 * per entry) and built into a snapshot in a one-shot worker thread.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { HotlistEntry, MatcherOptions, MatcherSnapshot } from '../types.js';
import { packEntries } from '../core/compile.js';
import { resolveOptions, settingsOf } from '../options.js';
import type { CompileRequest } from './compile-worker.js';

function workerFile(): string {
  const here = fileURLToPath(new URL('./compile-worker.js', import.meta.url));
  if (existsSync(here)) return here;
  const built = fileURLToPath(new URL('../../dist/matcher/service/compile-worker.js', import.meta.url));
  if (existsSync(built)) return built;
  throw new Error('dist/matcher/service/compile-worker.js not found: run `npm run build`');
}

/** Builds the snapshot of `entries` off the main thread. Validation errors reject the promise. */
export async function compileOffThread(entries: readonly HotlistEntry[], options: Omit<MatcherOptions, 'entries'>): Promise<MatcherSnapshot> {
  const opts = resolveOptions({ ...options, entries });
  const packed = packEntries(entries, opts);
  const request: CompileRequest = { packed, settings: settingsOf(opts) };
  const worker = new Worker(workerFile(), { workerData: request, transferList: [packed.records.buffer as ArrayBuffer] });
  try {
    return await new Promise<MatcherSnapshot>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`hotlist compile worker exited with code ${code}`)));
    });
  } finally {
    void worker.terminate();
  }
}
