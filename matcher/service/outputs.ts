/**
 * Publishing the outputs of a batch. Core mode publishes and moves on (at-most-once).
 * JetStream mode publishes every output with a `Nats-Msg-Id` derived from the input
 * message's stream sequence, so a redelivered input stores nothing twice, and resolves only
 * when every output is stored: the caller acks the inputs after that.
 */
import { headers as natsHeaders, type JetStreamClient, type MsgHdrs, type NatsConnection } from 'nats';

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
  if (h !== undefined) for (const [k, v] of Object.entries(h)) hdrs.set(k, v);
  return hdrs;
}

export class CorePublisher implements Publisher {
  constructor(private readonly nc: NatsConnection) {}

  async publish(messages: readonly OutputMessage[]): Promise<Array<Error | undefined>> {
    const errors: Array<Error | undefined> = new Array(messages.length);
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i];
      try {
        if (m.headers === undefined) this.nc.publish(m.subject, m.data);
        else this.nc.publish(m.subject, m.data, { headers: toHeaders(m.headers) });
      } catch (err) {
        errors[i] = asError(err);
      }
    }
    return errors;
  }
}

export class JetStreamPublisher implements Publisher {
  constructor(private readonly js: JetStreamClient, private readonly timeoutMs: number) {}

  async publish(messages: readonly OutputMessage[]): Promise<Array<Error | undefined>> {
    // All in flight at once: one round trip for the batch, not one per message.
    const settled = await Promise.allSettled(
      messages.map((m) =>
        this.js.publish(m.subject, m.data, { msgID: m.id, headers: toHeaders(m.headers), timeout: this.timeoutMs }),
      ),
    );
    return settled.map((r) => (r.status === 'rejected' ? asError(r.reason) : undefined));
  }
}
