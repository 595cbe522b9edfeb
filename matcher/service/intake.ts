/**
 * Taking reads messages in: core NATS (a queue-group subscription; no flow control, so a
 * message the batcher has no room for is dropped and counted) or JetStream (a durable pull
 * consumer, pulled no faster than the batcher takes them).
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { ConsumerMessages, JsMsg, Msg, NatsConnection, Subscription } from 'nats';
import type { Batcher } from './batcher.js';

/** A reads message waiting for, or in, a batch. */
export interface Incoming {
  data: Uint8Array;
  readonly subject: string;
  key: string;
  receivedAt: number;
  js?: JsMsg;
}

/** A core NATS message; its subject is decoded (a TextDecoder call) only if a dead letter needs it. */
export class CoreIncoming implements Incoming {
  readonly data: Uint8Array;
  constructor(private readonly msg: Msg, readonly key: string, readonly receivedAt: number) {
    this.data = msg.data;
  }

  get subject(): string {
    return this.msg.subject;
  }
}

/**
 * Core NATS: subscribes to the reads subject in the queue group and pushes every message into
 * the batcher under a key of its own (`<instance>.<n>`); `drop` is called for each one the
 * batcher had no room for.
 */
export function subscribeReads(nc: NatsConnection, subject: string, queue: string, batcher: Batcher<Incoming>, drop: () => void, log: Logger): Subscription {
  const instance = randomBytes(4).toString('hex');
  let counter = 0;
  return nc.subscribe(subject, {
    queue,
    callback: (err, msg) => {
      if (err) {
        log.error({ err }, 'subscription error');
        return;
      }
      if (!batcher.push(new CoreIncoming(msg, `${instance}.${++counter}`, Date.now()))) drop();
    },
  });
}

/** JetStream: pushes the consumer's messages into the batcher (keys `<stream>.<seq>`), waiting for room after each. */
export async function consumeJetStream(messages: ConsumerMessages, stream: string, batcher: Batcher<Incoming>): Promise<void> {
  for await (const m of messages) {
    batcher.push({ data: m.data, subject: m.subject, key: `${stream}.${m.seq}`, receivedAt: Date.now(), js: m });
    await batcher.room();
  }
}
