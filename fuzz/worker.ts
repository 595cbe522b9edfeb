/**
 * A runner worker: runs one target's cases (engine.ts) and reports failures and the final
 * stats to the main thread, which watches `progress` for a case that never returns.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runTarget } from './engine.js';
import { targetNamed } from './targets/index.js';
import type { Failure, TargetStats } from './types.js';

/** What the main thread gives a worker. */
export interface WorkerInput {
  target: string;
  seed: number;
  startIndex: number;
  cases: number;
  timeLimitMs?: number;
  slowMs: number;
  progress: SharedArrayBuffer;
}

/** What a worker posts back. */
export type WorkerMessage = { type: 'failure'; failure: Failure } | { type: 'done'; stats: TargetStats };

const input = workerData as WorkerInput;
const port = parentPort;
const target = targetNamed(input.target);
if (port === null || target === undefined) throw new Error(`fuzz worker: no parent port or no target ${input.target}`);

const stats = await runTarget(target, {
  seed: input.seed,
  cases: input.cases,
  startIndex: input.startIndex,
  timeLimitMs: input.timeLimitMs,
  slowMs: input.slowMs,
  progress: new Float64Array(input.progress),
  onFailure: (failure) => port.postMessage({ type: 'failure', failure } satisfies WorkerMessage),
});
port.postMessage({ type: 'done', stats } satisfies WorkerMessage);
