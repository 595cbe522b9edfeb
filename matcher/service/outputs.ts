/**
 * Publishing the outputs of a batch. Core mode publishes and moves on (at-most-once).
 * JetStream mode publishes every output with a `Nats-Msg-Id` derived from the input
 * message's stream sequence, so a redelivered input stores nothing twice, and resolves only
 * when every output is stored: the caller acks the inputs after that.
 */
import { createInbox, headers as natsHeaders, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from 'nats';

export interface OutputMessage {
  subject: string;
  data: Uint8Array;
  /** Stable id of this output (JetStream dedupe). */
  id: string;
  headers?: Record<string, string>;
  /** Index in its batch of the input message it comes from; -1 for records coalesced over the batch. */
  input: number;
}

export interface Publisher {
  /**
   * Publishes a batch's outputs, each on its own: one failure (a payload the server refuses,
   * a timeout) never takes the others with it. Resolves, once every output is stored
   * (JetStream) or written (core), with the error of each output that failed (undefined
   * for those that did not).
   */
  publish(messages: readonly OutputMessage[]): Promise<Array<Error | undefined>>;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

function toHeaders(h: Record<string, string> | undefined, id?: string): MsgHdrs | undefined {
  if (h === undefined && id === undefined) return undefined;
  const hdrs = natsHeaders();
  if (id !== undefined) hdrs.set('Nats-Msg-Id', id);
  if (h !== undefined) for (const [k, v] of Object.entries(h)) hdrs.set(k, v);
  return hdrs;
}

export class CorePublisher implements Publisher {
  constructor(private readonly nc: NatsConnection) {}

  publish(messages: readonly OutputMessage[]): Promise<Array<Error | undefined>> {
    const errors = new Array<Error | undefined>(messages.length);
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i];
      try {
        if (m.headers === undefined) this.nc.publish(m.subject, m.data);
        else this.nc.publish(m.subject, m.data, { headers: toHeaders(m.headers) });
      } catch (err) {
        errors[i] = asError(err);
      }
    }
    return Promise.resolve(errors);
  }
}

interface PendingBatch {
  left: number;
  acked: Uint8Array;
  errors: Array<Error | undefined>;
  resolve(errors: Array<Error | undefined>): void;
  timer: NodeJS.Timeout;
}

const textDecoder = new TextDecoder();
const ERROR_KEY = new TextEncoder().encode('"error"');

function hasErrorKey(data: Uint8Array): boolean {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).indexOf(ERROR_KEY) >= 0;
}

/**
 * JetStream publishing a batch at a time. `js.publish` makes every message a request of its
 * own (a promise, a timer, a JSON-parsed acknowledgement); a batch of outputs is instead
 * published at once with reply subjects on one inbox subscription, acknowledgements are
 * counted as they come, and one timer bounds the batch. Same guarantees: an output counts as
 * stored only when its stream acknowledged it (a duplicate acknowledgement included: the
 * stream already has it), and `Nats-Msg-Id` makes a redelivery store nothing twice.
 */
export class JetStreamBatchPublisher implements Publisher {
  private readonly inbox: string;
  private readonly batches = new Map<number, PendingBatch>();
  private next = 0;
  private readonly sub: Subscription;

  /** `inboxPrefix`: the connection's (`nats.inboxPrefix`), so server permissions on reply subjects cover these too. */
  constructor(private readonly nc: NatsConnection, private readonly timeoutMs: number, inboxPrefix?: string) {
    this.inbox = createInbox(inboxPrefix);
    this.sub = nc.subscribe(`${this.inbox}.>`, { callback: (_err, msg) => this.acknowledged(msg) });
  }

  publish(messages: readonly OutputMessage[]): Promise<Array<Error | undefined>> {
    const n = messages.length;
    const errors = new Array<Error | undefined>(n);
    if (n === 0) return Promise.resolve(errors);
    const id = this.next++;
    return new Promise((resolve) => {
      const batch: PendingBatch = {
        left: n,
        acked: new Uint8Array(n),
        errors,
        resolve,
        timer: setTimeout(() => this.expire(id), this.timeoutMs),
      };
      this.batches.set(id, batch);
      for (let i = 0; i < n; i++) {
        const m = messages[i];
        try {
          this.nc.publish(m.subject, m.data, { reply: `${this.inbox}.${id}.${i}`, headers: toHeaders(m.headers, m.id) });
        } catch (err) {
          this.settle(id, i, asError(err));
        }
      }
    });
  }

  private acknowledged(msg: Msg): void {
    const subject = msg.subject;
    const dot = subject.lastIndexOf('.');
    const id = Number(subject.slice(subject.lastIndexOf('.', dot - 1) + 1, dot));
    const i = Number(subject.slice(dot + 1));
    let error: Error | undefined;
    if (msg.headers?.hasError) {
      error = new Error(`not stored: ${msg.headers.code} ${msg.headers.description}`);
    } else if (msg.data.length === 0 || hasErrorKey(msg.data)) {
      let reason = 'empty acknowledgement';
      try {
        const ack = JSON.parse(textDecoder.decode(msg.data)) as { error?: { description?: string } };
        if (ack.error === undefined) reason = '';
        else reason = ack.error.description ?? 'stream error';
      } catch {
        // keep the reason above
      }
      if (reason !== '') error = new Error(`not stored: ${reason}`);
    }
    this.settle(id, i, error);
  }

  private settle(id: number, i: number, error: Error | undefined): void {
    const batch = this.batches.get(id);
    if (batch === undefined || i >= batch.acked.length || batch.acked[i] === 1) return;
    batch.acked[i] = 1;
    batch.errors[i] = error;
    if (--batch.left === 0) {
      clearTimeout(batch.timer);
      this.batches.delete(id);
      batch.resolve(batch.errors);
    }
  }

  private expire(id: number): void {
    const batch = this.batches.get(id);
    if (batch === undefined) return;
    this.batches.delete(id);
    for (let i = 0; i < batch.acked.length; i++) {
      if (batch.acked[i] === 0) batch.errors[i] = new Error(`no acknowledgement within ${this.timeoutMs} ms`);
    }
    batch.resolve(batch.errors);
  }

  /** Stops listening for acknowledgements (batches still waiting time out). */
  close(): void {
    this.sub.unsubscribe();
  }
}
