/**
 * Test aid, not part of the service: a module preloaded into the service process by the fault
 * table (`node --import dist/reliability/fault-preload.js dist/matcher/cli/main.js serve ...`,
 * only with PLATESIEVE_FAULT_INJECTION=1) so that a worker thread can be killed from outside.
 *
 * A thread cannot receive a signal, and piscina's idle workers sit in `Atomics.wait`, so no
 * message would reach one either. Instead, on the main thread, this module wraps
 * `worker_threads.Worker` (piscina creates its workers through the CommonJS export, looked up
 * at each construction) to keep the live piscina workers, and on SIGUSR2 terminates one of them
 * with `worker.terminate()`: V8 stops the thread's JavaScript (and WebAssembly) where it is,
 * mid-batch or idle, as an abrupt thread death would; piscina sees the exit, fails the task it
 * held and starts a replacement. One line on standard error says what was terminated.
 *
 * Nothing under matcher/ changes; without the variable (or in a worker thread) it does nothing.
 */
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { isMainThread, type Worker as WorkerType } from 'node:worker_threads';

if (isMainThread && process.env.PLATESIEVE_FAULT_INJECTION === '1') {
  const require = createRequire(import.meta.url);
  const wt = require('node:worker_threads') as typeof import('node:worker_threads');
  const Original = wt.Worker;
  const live: Array<{ worker: WorkerType; file: string; born: number }> = [];
  class TrackedWorker extends Original {
    constructor(file: string | URL, options?: ConstructorParameters<typeof Original>[1]) {
      super(file, options);
      const entry = { worker: this as WorkerType, file: String(file), born: Date.now() };
      live.push(entry);
      this.once('exit', () => {
        const i = live.indexOf(entry);
        if (i >= 0) live.splice(i, 1);
      });
    }
  }
  wt.Worker = TrackedWorker;
  syncBuiltinESMExports();
  let kills = 0;
  process.on('SIGUSR2', () => {
    // The oldest piscina worker: one that has been matching batches, not a fresh replacement.
    const target = live.find((x) => x.file.includes('piscina'));
    if (target === undefined) {
      process.stderr.write(`${JSON.stringify({ level: 40, msg: 'fault injection: no pool worker to terminate' })}\n`);
      return;
    }
    kills++;
    const threadId = target.worker.threadId;
    void target.worker.terminate();
    process.stderr.write(`${JSON.stringify({ level: 40, msg: 'fault injection: worker thread terminated', threadId, kills, workers: live.length })}\n`);
  });
}
