/**
 * Where batches are processed: a piscina pool of worker threads, each holding a
 * WebAssembly instance of the same hotlist snapshot, or the main thread itself
 * (`pool.workers: 0`). The pool gets payload buffers transferred, never cloned.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { MatcherSnapshot } from '../types.js';
import { createHitMatcherFromSnapshot } from '../matcher.js';
import { processTask, type ProcessorSettings, type Task, type TaskResult } from './processor.js';
import type { WorkerInit } from './worker.js';

export interface BatchRunner {
  run(task: Task): Promise<TaskResult>;
  /** Share of the pool's capacity in use, 0..1 (1 on the main thread while a batch runs). */
  utilization(): number;
  readonly threads: number;
  close(): Promise<void>;
}

function workerFile(): string {
  const here = fileURLToPath(new URL('./worker.js', import.meta.url));
  if (existsSync(here)) return here;
  // Running from TypeScript sources (tests): use the build.
  const built = fileURLToPath(new URL('../../dist/matcher/service/worker.js', import.meta.url));
  if (existsSync(built)) return built;
  throw new Error('dist/matcher/service/worker.js not found: run `npm run build`');
}

class PoolRunner implements BatchRunner {
  private readonly pool: Piscina;
  readonly threads: number;

  constructor(snapshot: MatcherSnapshot, settings: ProcessorSettings, threads: number) {
    const init: WorkerInit = { snapshot, settings };
    this.threads = threads;
    this.pool = new Piscina({
      filename: workerFile(),
      workerData: init,
      minThreads: threads,
      maxThreads: threads,
      // Each worker takes one batch at a time; the service bounds batches in flight itself.
      concurrentTasksPerWorker: 1,
      idleTimeout: Number.MAX_SAFE_INTEGER,
    });
  }

  run(task: Task): Promise<TaskResult> {
    return this.pool.run(task, { transferList: [task.buf.buffer as ArrayBuffer, task.offsets.buffer as ArrayBuffer] }) as Promise<TaskResult>;
  }

  utilization(): number {
    return this.pool.utilization;
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}

class InlineRunner implements BatchRunner {
  readonly threads = 0;
  private readonly matcher;
  private busy = false;

  constructor(snapshot: MatcherSnapshot, private readonly settings: ProcessorSettings) {
    this.matcher = createHitMatcherFromSnapshot(snapshot);
  }

  run(task: Task): Promise<TaskResult> {
    // The executor turns a throw into a rejection, as the pool's run does.
    return new Promise((resolve) => {
      this.busy = true;
      try {
        resolve(processTask(task, this.matcher, this.settings));
      } finally {
        this.busy = false;
      }
    });
  }

  utilization(): number {
    return this.busy ? 1 : 0;
  }

  async close(): Promise<void> {}
}

/** A runner with `threads` workers, or on the main thread when `threads` is 0. */
export function createRunner(snapshot: MatcherSnapshot, settings: ProcessorSettings, threads: number): BatchRunner {
  return threads > 0 ? new PoolRunner(snapshot, settings, threads) : new InlineRunner(snapshot, settings);
}
