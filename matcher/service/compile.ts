/**
 * Loading and compiling the service's hotlists in a one-shot worker thread (see
 * compile-worker.ts), and the entry store the main thread reads alerts' fields from.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { HotlistFileError } from '../errors.js';
import type { HotlistEntry } from '../types.js';
import type { LoadRequest, LoadResponse } from './compile-worker.js';

/** The built script of a worker of this folder (`compile-worker`, `overlay-worker`), also when run from the sources. */
export function workerFile(name: 'compile-worker' | 'overlay-worker' = 'compile-worker'): string {
  const here = fileURLToPath(new URL(`./${name}.js`, import.meta.url));
  if (existsSync(here)) return here;
  const built = fileURLToPath(new URL(`../../dist/matcher/service/${name}.js`, import.meta.url));
  if (existsSync(built)) return built;
  throw new Error(`dist/matcher/service/${name}.js not found: run \`npm run build\``);
}

/**
 * Hotlist entries kept as JSON lines in one buffer: a fraction of the memory of objects, and
 * moved from the loading thread without a copy. An entry is parsed when an alert needs it.
 */
export class EntryStore {
  private readonly decoder = new TextDecoder();
  // Hotlisted vehicles are seen again and again (repeat sightings, several cameras): their
  // parsed entries are kept, a bounded number of them.
  private readonly parsed = new Map<number, HotlistEntry>();
  constructor(private readonly bytes: Uint8Array, private readonly offsets: Uint32Array) {}

  get length(): number {
    return this.offsets.length - 1;
  }

  /** Entry `index`; the object is shared between calls: read it, do not change it. */
  get(index: number): HotlistEntry {
    let e = this.parsed.get(index);
    if (e === undefined) {
      e = JSON.parse(this.decoder.decode(this.bytes.subarray(this.offsets[index], this.offsets[index + 1]))) as HotlistEntry;
      if (this.parsed.size >= PARSED_CACHE) this.parsed.clear();
      this.parsed.set(index, e);
    }
    return e;
  }
}

const PARSED_CACHE = 8192;

export type LoadResult = Extract<LoadResponse, { ok: true }> & { entries: EntryStore };

/** Loads the sources and builds their snapshot off the main thread. A refused file rejects with {@link HotlistFileError}. */
export async function loadOffThread(request: LoadRequest): Promise<LoadResult> {
  const worker = new Worker(workerFile(), { workerData: request });
  try {
    const res = await new Promise<LoadResponse>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`hotlist loading worker exited with code ${code}`)));
    });
    if (!res.ok) {
      if (res.code === 'ERR_HOTLIST_FILE' && res.file !== undefined) throw new HotlistFileError(res.file, res.message.replace(`${res.file}: `, ''));
      throw new Error(res.message);
    }
    return { ...res, entries: new EntryStore(res.entryBytes, res.entryOffsets) };
  } finally {
    void worker.terminate();
  }
}
