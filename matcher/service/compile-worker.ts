/**
 * One-shot worker thread that builds a hotlist snapshot from packed entries, so a reload
 * never runs the build (seconds for millions of entries) on the service's main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { buildPacked, type PackedEntries } from '../core/compile.js';
import { resolveOptions } from '../options.js';
import { snapshotOf } from '../matcher.js';
import type { SnapshotSettings } from '../types.js';

export interface CompileRequest {
  packed: PackedEntries;
  settings: SnapshotSettings;
}

const { packed, settings } = workerData as CompileRequest;
const opts = resolveOptions({ entries: [], ...settings });
const snapshot = snapshotOf(buildPacked(packed, opts), opts);
parentPort!.postMessage(snapshot, [snapshot.bytes.buffer as ArrayBuffer]);
