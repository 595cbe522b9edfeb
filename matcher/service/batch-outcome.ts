/**
 * What becomes of a batch after matching: its outputs published in two phases, its
 * suppression decisions kept or undone by what was stored, its alerts counted once stored,
 * and, when the batch fails as a whole, its messages redelivered or dead-lettered.
 *
 * Two phases, because a hit record names its read's alerts: were they published together, a
 * stream refusing the alerts would keep a record naming alerts that never exist (and on
 * redelivery the same `Nats-Msg-Id` would keep that record, not the new one). So alerts,
 * dead letters and the records of reads that emitted no alert go first; the hit records of a
 * message go once every alert of that message is stored, and not at all otherwise (the
 * message is redelivered or dead-lettered, and its records go with the next attempt).
 */
import type { Logger } from 'pino';
import type { FinalizedBatch } from './finalize.js';
import type { FaultInjector } from './fault-injection.js';
import type { BatchStage, ServiceMetrics } from './metrics.js';
import type { OutputMessage, Publisher } from './outputs.js';

/** What {@link publishFinalized} and {@link failBatch} need from the service. */
export interface OutcomeDeps {
  publisher: Publisher;
  metrics: ServiceMetrics;
  logger: Logger;
  /** Test hook (fault-injection.ts); undefined in production. */
  faults?: FaultInjector;
}

/**
 * Counts the outputs that were not published and logs them, one line a batch (a full stream
 * refuses every output of every batch: a line each would flood the log); adds their input
 * messages to `failed`.
 */
function noteFailures(outputs: readonly OutputMessage[], errors: ReadonlyArray<Error | undefined>, deps: OutcomeDeps, failed: Set<number> | undefined): Set<number> | undefined {
  let first = -1;
  let count = 0;
  for (let i = 0; i < outputs.length; i++) {
    if (errors[i] === undefined) continue;
    (failed ??= new Set()).add(outputs[i].input);
    deps.metrics.deadLetter('PUBLISH_FAILED');
    if (count++ === 0) first = i;
  }
  if (count > 0) {
    const o = outputs[first];
    deps.logger.error({ outputs: count, subject: o.subject, id: o.id, bytes: o.data.length, error: errors[first]?.message }, 'output not published');
  }
  return failed;
}

/**
 * Publishes a finalized batch in two phases (see the module comment) and settles its
 * suppression decisions: an alert's is kept when the alert is stored and undone when it is
 * not (so a redelivery emits it again, under the same alertId); a suppressed repeat's is
 * kept when its message is done and undone when the message will be offered again.
 * `platesieve_alerts_total` counts the alerts stored (not a redelivered copy of one stored
 * before), `platesieve_alerts_suppressed_total` the repeats kept.
 *
 * Resolves with the indexes of the input messages with an output not stored (undefined:
 * none); throws only what the publisher or the test hook throws, with the decisions not yet
 * settled left for {@link abandonFinalized}.
 */
export async function publishFinalized(fin: FinalizedBatch, deps: OutcomeDeps): Promise<Set<number> | undefined> {
  const errors = await deps.publisher.publish(fin.outputs);
  let failed = noteFailures(fin.outputs, errors, deps, undefined);
  for (const a of fin.alerts) {
    if (errors[a.output] !== undefined) a.offer.rollback();
    else if (a.offer.commit()) deps.metrics.alert(a.tier, a.list);
  }
  deps.faults?.check('publish');
  if (fin.deferred.length > 0) {
    const deferred = failed === undefined ? fin.deferred : fin.deferred.filter((o) => !failed!.has(o.input));
    if (deferred.length > 0) failed = noteFailures(deferred, await deps.publisher.publish(deferred), deps, failed);
  }
  for (const r of fin.repeats) {
    if (failed?.has(r.input) === true) r.offer.rollback();
    else if (r.offer.commit()) deps.metrics.suppressed();
  }
  return failed;
}

/**
 * Undoes every suppression decision of a batch that failed as a whole and is not settled yet
 * (a decision already kept, an alert stored, stays): its reads will be offered again or
 * dead-lettered.
 */
export function abandonFinalized(fin: FinalizedBatch): void {
  for (const a of fin.alerts) a.offer.rollback();
  for (const r of fin.repeats) r.offer.rollback();
}

/** Publishes one dead letter without waiting for it (core mode: nothing to redeliver); a failure is logged. */
export function sendDeadLetter(out: OutputMessage, deps: Pick<OutcomeDeps, 'publisher' | 'logger'>): void {
  deps.publisher
    .publish([out])
    .then(([err]) => {
      if (err !== undefined) deps.logger.error({ id: out.id, error: err.message }, 'dead letter not published');
    })
    .catch((err: unknown) => deps.logger.error({ err, id: out.id }, 'dead letter not published'));
}

/** How {@link failBatch} hands back each message of a failed batch. */
export interface FailDeps extends Pick<OutcomeDeps, 'metrics' | 'logger'> {
  /** JetStream: nak for redelivery, or dead-letter once out of deliveries. */
  retry(input: number, why: string): void;
  /** Core NATS (no redelivery): dead-letter the message with `code` and `reason`. */
  deadLetter(input: number, code: string, reason: string): void;
}

/**
 * A batch failed as a whole (an exception at `stage`, not an output refused): counted in
 * `platesieve_batches_failed_total{stage}`, logged, and every message of it retried
 * (JetStream) or dead-lettered with code `BATCH_FAILED` (core). Never throws: a message that
 * cannot be handed back is logged, and JetStream redelivers it after its ack wait.
 */
export function failBatch(batch: ReadonlyArray<{ js?: unknown; key: string }>, stage: BatchStage, err: unknown, deps: FailDeps): void {
  deps.metrics.batchFailed(stage);
  const reason = `the batch failed in ${stage}: ${err instanceof Error ? err.message : String(err)}`;
  deps.logger.error({ err, stage, messages: batch.length }, 'batch failed; its messages are redelivered (JetStream) or dead-lettered (core)');
  for (let i = 0; i < batch.length; i++) {
    try {
      if (batch[i].js !== undefined) deps.retry(i, reason);
      else deps.deadLetter(i, 'BATCH_FAILED', reason);
    } catch (e) {
      deps.logger.error({ err: e, key: batch[i].key }, 'message of a failed batch not handed back');
    }
  }
}
