/**
 * Dispositions on NATS (docs/contracts.md "Dispositions and escalations"): a durable pull
 * consumer of the store on `<prefix>.dispositions.<agency>`, shared by every store process, that
 * records each one through {@link recordDisposition} (the operations API's path, so both check,
 * store and audit alike).
 *
 * A message is acknowledged only once its disposition is stored, or once its refusal is
 * audited, dead-lettered and answered: a bad disposition is never redelivered forever. A
 * database or NATS failure hands it back (nak) for redelivery. The publisher learns the outcome
 * from the answer on its `Platesieve-Reply-To` subject, or from the dead letter.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import { AckPolicy, DeliverPolicy, nanos, type ConsumerMessages, type JsMsg, type NatsConnection } from 'nats';
import type { AuditSink } from '../audit/types.js';
import type { ServiceConfig } from '../service/config.js';
import { dispositionsStream, ensureDispositionsStream } from '../service/streams.js';
import type { StoreMetrics } from '../store/metrics.js';
import { alertIdOf, deadLetterHeaders, dispositionAgency, duplicateOf, precheck, replySubject, type Answer, type NatsProblem } from './nats-message.js';
import { DispositionRefusedError, recordDisposition } from './record.js';
import { publishRecorded } from './recorded-event.js';
import { InvalidDispositionError, validateDisposition, type Disposition } from './validate.js';

export { REPLY_TO_HEADER, type Answer, type NatsProblem } from './nats-message.js';

/** Suffix of the store's durable consumer name (`store.consumer`) on the dispositions stream. */
export const CONSUMER_SUFFIX = '-dispositions';

// Few at a time: each is a few queries and an audit append, and a store that stops leaves
// what it pulled to come back only after the ack wait.
const PULL_MESSAGES = 16;
const ACK_WAIT_MS = 60_000;
const RETRY_MS = 2_000;

/** What the consumer needs. */
export interface DispositionConsumerOptions {
  nc: NatsConnection;
  pool: pg.Pool;
  /** Where recorded and refused dispositions are audited. */
  audit: AuditSink;
  config: Pick<ServiceConfig, 'subjects' | 'jetstream' | 'store'>;
  log: Logger;
  metrics: Pick<StoreMetrics, 'dispositions' | 'dispositionsRefused' | 'dispositionsDeferred'>;
  /** The store's identity, the audit actor (`by` stays the publisher's). */
  actor: string;
  /**
   * A disposition whose alert is not stored yet (the store writes alerts in batches; an
   * operator may answer an alert the moment it is published) is handed back until it is this
   * old (ms since it was published), then refused `ALERT_NOT_FOUND`. Default 30 000.
   */
  alertWaitMs?: number;
  /** Delay of those redeliveries. Default 5 000. */
  alertRetryMs?: number;
  /** Clock, epoch ms; for tests. */
  now?: () => number;
}

/** A running consumer. */
export interface DispositionConsumer {
  /** The stream and the durable consumer on it. */
  stream: string;
  consumer: string;
  /** Stops pulling and finishes the message in hand (what was pulled and not handled comes back). */
  stop(): Promise<void>;
}

/** A refusal the consumer answers and dead-letters. */
interface Refusal {
  problem: NatsProblem;
  code: string;
  message: string;
  alertId?: string;
}

/**
 * The error of a store whose consumer is not there to use (`jetstream.createStreams: false`):
 * the administrators create it, as a store started once with their credential would.
 */
export function missingConsumer(stream: string, consumer: string, cause: unknown): Error {
  return new Error(`consumer ${consumer} on stream ${stream} not available (${(cause as Error).message}): with jetstream.createStreams false the NATS administrators create the streams and consumers (docs/security.md)`, { cause });
}

/** Creates the stream and the durable consumer if need be (`jetstream.createStreams`), and starts consuming. */
export async function startDispositionConsumer(o: DispositionConsumerOptions): Promise<DispositionConsumer> {
  const { nc, pool, audit, config, log, metrics, actor } = o;
  const now = o.now ?? Date.now;
  const alertWaitMs = o.alertWaitMs ?? 30_000;
  const alertRetryMs = o.alertRetryMs ?? 5_000;
  const prefix = config.subjects.prefix;
  // `jetstream.createStreams: false`: the administrators created the stream and the consumer.
  const manage = config.jetstream.createStreams;
  const stream = manage ? await ensureDispositionsStream(nc, config, log) : dispositionsStream(config).name;
  const name = `${config.store.consumer}${CONSUMER_SUFFIX}`;
  const jsm = await nc.jetstreamManager();
  try {
    await jsm.consumers.info(stream, name);
  } catch (err) {
    if (!manage) throw missingConsumer(stream, name, err);
    await jsm.consumers.add(stream, {
      durable_name: name, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(ACK_WAIT_MS), max_ack_pending: 1_000,
    });
    log.info({ stream, consumer: name }, 'dispositions consumer created');
  }
  const js = nc.jetstream();

  const answer = (m: JsMsg, a: Answer): void => {
    const to = replySubject(m.headers, prefix);
    if (to === undefined) return;
    try {
      nc.publish(to, JSON.stringify(a));
    } catch (err) {
      // The answer is a courtesy: the outcome stands (stored, or audited and dead-lettered).
      log.warn({ err: (err as Error).message, to }, 'disposition answer not published');
    }
  };

  /** Dead-letters, acknowledges and answers a disposition that will not be recorded. */
  const refuse = async (m: JsMsg, r: Refusal, agency: string | undefined): Promise<void> => {
    try {
      // The msgID makes a redelivered refusal one dead letter (the stream's duplicate window).
      await js.publish(`${prefix}.deadletter`, m.data, { msgID: `${stream}.${m.info.streamSequence}.dl`, headers: deadLetterHeaders(m.subject, r.problem, r.message) });
    } catch (err) {
      // Without its dead letter the publisher could not see why: try again later.
      metrics.dispositionsDeferred.inc({ reason: 'deadletter' });
      log.error({ err: (err as Error).message, seq: m.info.streamSequence }, 'disposition dead letter not published: redelivered later');
      m.nak(RETRY_MS);
      return;
    }
    m.ack();
    metrics.dispositionsRefused.inc({ problem: r.problem });
    log.warn({ alertId: r.alertId, agency, problem: r.problem, reason: r.message, seq: m.info.streamSequence }, 'disposition refused: dead-lettered');
    answer(m, { ok: false, ...(r.alertId !== undefined ? { alertId: r.alertId } : {}), error: r.code, problem: r.problem, message: r.message });
  };

  const handle = async (m: JsMsg): Promise<void> => {
    const agency = dispositionAgency(m.subject, prefix);
    let input: unknown;
    let notJson: string | undefined;
    try {
      input = JSON.parse(m.string());
    } catch (err) {
      notJson = `the message is not JSON: ${(err as Error).message}`;
    }
    if (agency === undefined) {
      // More than one token after `dispositions.`: which agency would be ambiguous, and a
      // permission on `<prefix>.dispositions.A.>` must not reach agency B's alerts.
      const message = `the subject must be ${prefix}.dispositions.<agency>`;
      const alertId = alertIdOf(input);
      try {
        // Audited like every other refusal (recordDisposition audits those).
        await audit.append({
          action: 'disposition.refused', outcome: 'refused', actor, ...(alertId !== undefined ? { subject: { alertId } } : {}),
          reason: message, details: { problem: 'BAD_SUBJECT', source: 'nats', subject: m.subject },
        });
      } catch (err) {
        metrics.dispositionsDeferred.inc({ reason: 'database' });
        log.error({ err: (err as Error).message, seq: m.info.streamSequence }, 'disposition refusal not audited: redelivered later');
        m.nak(RETRY_MS);
        return;
      }
      await refuse(m, { problem: 'BAD_SUBJECT', code: 'ERR_INVALID_DISPOSITION', message, alertId }, undefined);
      return;
    }
    let valid: Disposition | undefined;
    try {
      valid = validateDisposition(input);
    } catch {
      valid = undefined; // recordDisposition refuses it below, audited
    }
    try {
      if (valid !== undefined) {
        const pre = await precheck(pool, valid.alertId);
        if (duplicateOf(pre, valid)) {
          // This very disposition, stored by an earlier delivery that died before its ack.
          m.ack();
          log.debug({ alertId: valid.alertId, seq: m.info.streamSequence }, 'disposition redelivered: already stored');
          answer(m, { ok: true, alertId: valid.alertId });
          return;
        }
        const ageMs = now() - Math.floor(Number(m.info.timestampNanos) / 1e6);
        if (!pre.alertStored && ageMs < alertWaitMs) {
          metrics.dispositionsDeferred.inc({ reason: 'alert_not_stored' });
          log.debug({ alertId: valid.alertId, ageMs }, 'disposition waits for its alert to be stored');
          m.nak(alertRetryMs);
          return;
        }
      }
      const recorded = await recordDisposition({ pool, audit }, input, { source: 'nats', actor, agency });
      m.ack();
      publishRecorded(nc, prefix, recorded, log);
      metrics.dispositions.inc({ source: 'nats', outcome: recorded.outcome });
      log.info({ alertId: recorded.alertId, agency: recorded.agency, list: recorded.list, outcome: recorded.outcome, seq: m.info.streamSequence }, 'disposition recorded');
      answer(m, { ok: true, alertId: recorded.alertId });
    } catch (err) {
      if (err instanceof InvalidDispositionError || err instanceof DispositionRefusedError) {
        const message = notJson !== undefined && err instanceof InvalidDispositionError ? notJson : err.message;
        await refuse(m, { problem: err.problem, code: err.code, message, alertId: valid?.alertId ?? alertIdOf(input) }, agency);
        return;
      }
      metrics.dispositionsDeferred.inc({ reason: 'database' });
      log.error({ err: (err as Error).message, seq: m.info.streamSequence }, 'disposition not recorded: redelivered later');
      m.nak(RETRY_MS);
    }
  };

  const consumer = await js.consumers.get(stream, name);
  const it: ConsumerMessages = await consumer.consume({ max_messages: PULL_MESSAGES });
  const loop = (async () => {
    // One at a time: two dispositions of one alert are decided in the order they were published.
    for await (const m of it) {
      try {
        await handle(m);
      } catch (err) {
        // handle() settles every message itself; this is a bug's safety net, not a path.
        log.error({ err: (err as Error).message, seq: m.info.streamSequence }, 'disposition not handled: redelivered later');
        m.nak(RETRY_MS);
      }
    }
  })().catch((err: unknown) => log.error({ err: (err as Error).message, stream }, 'dispositions consumer stopped'));
  log.info({ stream, consumer: name }, 'consuming dispositions');

  return {
    stream,
    consumer: name,
    async stop() {
      it.stop();
      await loop;
    },
  };
}
