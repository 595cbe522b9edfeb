// Runs in a worker thread: instantiates a matcher from a snapshot posted by the test and
// matches the reads it is given. Imports the build, as a service worker would.
import { parentPort, workerData } from 'node:worker_threads';
import { createMatcherFromSnapshot } from '../../dist/matcher/index.js';

const { snapshot, entries, reads } = workerData;
const matcher = createMatcherFromSnapshot(snapshot, entries);
parentPort.postMessage({ result: matcher.matchBatch(reads), stats: matcher.stats() });
