/**
 * Loading of the WebAssembly core. The module is compiled once per thread and cached;
 * every hotlist version gets its own instance (the core's allocator never frees, so a
 * dropped instance is how its memory is given back). The first instance of a module has its
 * exported record layout checked against the host's (layout.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreError } from '../errors.js';
import { checkLayout } from './layout.js';

/** Raw exports of core-wasm/assembly/index.ts. Pointers are u32 (read them with `>>> 0`). */
export interface CoreExports {
  memory: WebAssembly.Memory;
  alloc(size: number): number;
  usedBytes(): number;
  beginBuild(n: number, classMap: number): number;
  addEntries(input: number, count: number, status: number): number;
  finishBuild(bitsPerKey16: number, k: number, maxDist: number, mismatchMatch: number): number;
  matchBatch(input: number, n: number, start: number, status: number, out: number, cap: number): number;
  emptyBatch(input: number, n: number): number;
  prefilterProbe(samples: number, seed: bigint): number;
  getProbeNegatives(): number;
  attach(base: number): number;
  snapshotSize(base: number): number;
  getResumeAt(): number;
  getOverflow(): number;
  hashRegion(ptr: number, len: number): bigint;
  entryKeys(): number;
  getFuzzyVerified(): bigint;
  getFuzzyProbes(): bigint;
  scanTask(buf: number, offsets: number, n: number, msgs: number, items: number, cap: number, minTs: number, maxTs: number): number;
  packQueries(items: number, list: number, n: number, states: number, queries: number): void;
  writeRecords(
    items: number, list: number, n: number, receivedAt: number,
    head: number, headLen: number, tail: number, tailLen: number, daysMs: number,
    out: number, cap: number, ends: number, keys: number, keyEnds: number,
  ): number;
}

let cachedModule: WebAssembly.Module | undefined;
/** Modules whose exported layout matched the host's (checked once per module). */
const checkedModules = new WeakSet<WebAssembly.Module>();

function findWasm(): string {
  const fromEnv = process.env.PLATESIEVE_WASM;
  if (fromEnv) return resolve(fromEnv);
  // Source (matcher/core) and build (dist/matcher/core) sit at different depths.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'core-wasm', 'build', 'release.wasm');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new CoreError('core-wasm/build/release.wasm not found: run `npm run build` (or set PLATESIEVE_WASM)');
}

/** The compiled core module (compiled on first use, synchronously). */
export function coreModule(): WebAssembly.Module {
  if (!cachedModule) {
    const path = findWasm();
    try {
      cachedModule = new WebAssembly.Module(readFileSync(path));
    } catch (cause) {
      throw new CoreError(`cannot load the WebAssembly core from ${path}`, { cause });
    }
  }
  return cachedModule;
}

// Non-integer numbers of records written by the core (reads.ts), in JavaScript's own
// shortest round-trip form; they repeat (confidences, a camera's coordinates), so the text
// is kept rather than made again each time.
const floatText = new Map<number, string>();
const FLOAT_CACHE = 4096;

function floatString(v: number): string {
  let t = floatText.get(v);
  if (t === undefined) {
    if (floatText.size >= FLOAT_CACHE) floatText.clear();
    floatText.set(v, (t = String(v)));
  }
  return t;
}

/**
 * A fresh core instance with its own linear memory.
 * @throws CoreError when the module's record layout is not the host's (layout.ts checkLayout).
 */
export function instantiateCore(module: WebAssembly.Module = coreModule()): CoreExports {
  let view = new Uint8Array(0);
  const instance = new WebAssembly.Instance(module, {
    env: {
      abort(_msg: number, _file: number, line: number, col: number): never {
        throw new CoreError(`core aborted at ${line}:${col}`);
      },
      formatFloat(v: number, out: number): number {
        const t = floatString(v);
        const buffer = exports.memory.buffer;
        if (view.buffer !== buffer) view = new Uint8Array(buffer);
        for (let i = 0; i < t.length; i++) view[out + i] = t.charCodeAt(i);
        return t.length;
      },
    },
  });
  // formatFloat runs only once the instance exists, so it may use this.
  const exports = instance.exports as unknown as CoreExports;
  if (!checkedModules.has(module)) {
    checkLayout(instance.exports);
    checkedModules.add(module);
  }
  return exports;
}

/** Allocates in the core, failing loudly when linear memory cannot grow. */
export function coreAlloc(core: CoreExports, size: number, what: string): number {
  const ptr = core.alloc(size) >>> 0;
  if (ptr === 0) throw new CoreError(`out of WebAssembly memory allocating ${size} bytes for ${what}`);
  return ptr;
}
