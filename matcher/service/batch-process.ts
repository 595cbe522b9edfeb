/**
 * One batch of reads messages, from matching to settling: the batch is matched by its
 * generation's runner, finalized into outputs (alerts, records, dead letters), published, and
 * each message is then acked, retried or dead-lettered. A batch that fails at any stage
 * hands its messages back (batch-outcome.ts `failBatch`).
 */
import type { Logger } from 'pino';
import type { Generation } from './generation.js';
import { taskOf, type TaskResult } from './processor.js';
import type { HoldsTask } from './task.js';
import type { Overlay as LiveOverlay } from './overlay.js';
import type { BatchStage, ServiceMetrics } from './metrics.js';
import { deadLetterOf, emptyFinalized, finalizeBatch, type FinalizeDeps } from './finalize.js';
import { abandonFinalized, failBatch, publishFinalized, sendDeadLetter, type FailDeps, type OutcomeDeps } from './batch-outcome.js';
import type { FaultInjector } from './fault-injection.js';
import type { Incoming } from './intake.js';

/** Live changes matched beside a generation (overlay.ts). */
export type Overlay = LiveOverlay<Generation>;

/** What processing a batch needs of the service. */
export interface BatchContext {
  metrics: ServiceMetrics;
  logger: Logger;
  /** Test hook only (fault-injection.ts). */
  faults: FaultInjector | undefined;
  /** `jetstream.maxDeliver`. */
  maxDeliver: number;
  finalize: FinalizeDeps;
  outcome: OutcomeDeps;
  /** The evidence holds in force (holds-watch.ts), taken when the batch is dispatched. */
  holds?: () => HoldsTask | undefined;
}

/** Matches, finalizes and publishes `batch`, then settles each message (ack, retry or dead letter). */
export async function processBatch(batch: Incoming[], gen: Generation, overlay: Overlay | undefined, ctx: BatchContext): Promise<void> {
  ctx.metrics.batch(batch.length);
  let result: TaskResult;
  try {
    ctx.faults?.check('match');
    const task = taskOf(batch.map((m) => m.data), batch.map((m) => m.key), batch[0].receivedAt);
    if (overlay?.task !== undefined) task.overlay = overlay.task;
    const holds = ctx.holds?.();
    if (holds !== undefined) task.holds = holds;
    result = await gen.runner.run(task);
  } catch (err) {
    failBatch(batch, 'match', err, failDeps(batch, 'match', ctx));
    return;
  }
  ctx.metrics.recordLatency('match', result.matchMicros);
  // An exception past matching must not escape (an unhandled rejection stops the process):
  // the batch's suppression decisions are undone and its messages handed back.
  const fin = emptyFinalized();
  let stage: BatchStage = 'finalize';
  let failed: Set<number> | undefined;
  try {
    ctx.faults?.check('finalize');
    finalizeBatch(batch, result, gen, overlay, ctx.finalize, fin);
    stage = 'publish';
    failed = await publishFinalized(fin, ctx.outcome);
  } catch (err) {
    abandonFinalized(fin);
    failBatch(batch, stage, err, failDeps(batch, stage, ctx));
    return;
  }
  const now = Date.now();
  // Receive times are in ms: messages of one ms share a latency, recorded once with a count.
  let runAt = -1;
  let runCount = 0;
  for (let i = 0; i < batch.length; i++) {
    const m = batch[i];
    if (failed?.has(i)) {
      if (m.js !== undefined) retryOrGiveUp(m, 'its outputs could not be stored', 'output', ctx);
      else sendDeadLetter(deadLetterOf(m, i, { index: null, code: 'PUBLISH_FAILED', reason: 'some outputs of this message could not be published' }, ctx.finalize), ctx.outcome);
      continue;
    }
    m.js?.ack();
    if (m.receivedAt !== runAt) {
      if (runCount > 0) ctx.metrics.recordLatency('end_to_end', (now - runAt) * 1000, runCount);
      runAt = m.receivedAt;
      runCount = 0;
    }
    runCount++;
  }
  if (runCount > 0) ctx.metrics.recordLatency('end_to_end', (now - runAt) * 1000, runCount);
}

/** How a failed batch hands back its messages (batch-outcome.ts `failBatch`). */
function failDeps(batch: Incoming[], stage: BatchStage, ctx: BatchContext): FailDeps {
  // A batch that failed while publishing failed at its destination, not because of its reads.
  const cause = stage === 'publish' ? 'output' : 'input';
  const retry = (i: number, why: string): void => retryOrGiveUp(batch[i], why, cause, ctx);
  const deadLetter = (i: number, code: string, reason: string): void => {
    ctx.metrics.deadLetter(code);
    sendDeadLetter(deadLetterOf(batch[i], i, { index: null, code, reason }, ctx.finalize), ctx.outcome);
  };
  return { metrics: ctx.metrics, logger: ctx.logger, retry, deadLetter };
}

/**
 * JetStream: a message whose batch failed is redelivered (nak). When the failure was the
 * message's own (`input`: matching or finalizing threw), it is redelivered until
 * `jetstream.maxDeliver` deliveries and then dead-lettered (UNDELIVERABLE) and terminated,
 * so one poison message never blocks the stream. When its outputs could not be stored
 * (`output`: a stream at its limits, no responders, a timeout, a dropped connection), the
 * reads are not at fault and giving up would lose their alerts and records: it is
 * redelivered for as long as that lasts, with a delay that doubles from 1 s to 30 s, which
 * also slows the consumer down while the destination refuses.
 */
function retryOrGiveUp(m: Incoming, why: string, cause: 'input' | 'output', ctx: BatchContext): void {
  const js = m.js!;
  const deliveries = js.info.redeliveryCount;
  if (cause === 'output') {
    ctx.metrics.outputRetry();
    js.nak(Math.min(30_000, 1000 * 2 ** Math.min(5, Math.max(0, deliveries - 1))));
    return;
  }
  if (deliveries < ctx.maxDeliver) {
    js.nak(1000);
    return;
  }
  const out = deadLetterOf(m, -1, { index: null, code: 'UNDELIVERABLE', reason: `gave up after ${deliveries} deliveries: ${why}` }, ctx.finalize);
  ctx.outcome.publisher
    .publish([out])
    .then(([err]) => (err === undefined ? js.term() : js.nak(5000)))
    .catch((err: unknown) => ctx.logger.error({ err, key: m.key }, 'message given up not terminated; it is redelivered after its ack wait'));
  ctx.metrics.deadLetter('UNDELIVERABLE');
  ctx.logger.error({ key: m.key, deliveries: js.info.redeliveryCount, why }, 'reads message dead-lettered after repeated failures');
}
