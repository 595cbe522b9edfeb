/**
 * Piscina worker: holds a hit-level matcher instantiated from the snapshot the service
 * posted at start (no recompilation, no copy of the entries) and processes batches.
 */
import { workerData } from 'node:worker_threads';
import { createHitMatcherFromSnapshot } from '../matcher.js';
import type { MatcherSnapshot } from '../types.js';
import { processTask, type ProcessorSettings, type Task, type TaskResult } from './processor.js';
import type { HitMatcher } from '../hits.js';

export interface WorkerInit {
  snapshot: MatcherSnapshot;
  settings: ProcessorSettings;
}

const init = workerData as WorkerInit;
const matcher: HitMatcher = createHitMatcherFromSnapshot(init.snapshot);

export default function run(task: Task): TaskResult {
  return processTask(task, matcher, init.settings);
}
