/**
 * The JetStream batch publisher against a real nats-server: every output of a batch is
 * stored or reported failed on its own, `Nats-Msg-Id` dedupes a republished batch, and a
 * batch whose acknowledgements never come resolves at its timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import { JetStreamBatchPublisher, type OutputMessage } from '../../matcher/service/outputs.js';
import { startNatsServer, uniquePrefix, type NatsServerHandle } from '../helpers/nats-server.js';

describe('JetStreamBatchPublisher', () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
  });

  afterAll(async () => {
    await nc?.close();
    await server?.stop();
  });

  it('stores each output once, reports the ones no stream takes, and dedupes a republished batch', async () => {
    const prefix = uniquePrefix();
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: `S_${prefix}`, subjects: [`${prefix}.ok.>`], max_msg_size: 2048, duplicate_window: 60_000_000_000 });
    const publisher = new JetStreamBatchPublisher(nc, 5000);
    const batch: OutputMessage[] = [
      ...Array.from({ length: 200 }, (_, i) => ({ subject: `${prefix}.ok.a`, data: new TextEncoder().encode(`{"n":${i}}`), id: `m${i}`, input: i })),
      { subject: `${prefix}.nostream`, data: new Uint8Array([1]), id: 'x1', input: 200 },
      { subject: `${prefix}.ok.big`, data: new Uint8Array(4096), id: 'x2', input: 201, headers: { 'Platesieve-Records': '1' } },
    ];
    const errors = await publisher.publish(batch);
    expect(errors.slice(0, 200).every((e) => e === undefined)).toBe(true);
    expect(errors[200]?.message).toMatch(/not stored: 503/);
    expect(errors[201]?.message).toMatch(/not stored: .*(size|payload)/i);
    // The same ids again: acknowledged (as duplicates), nothing stored twice.
    const again = await publisher.publish(batch.slice(0, 200));
    expect(again.every((e) => e === undefined)).toBe(true);
    expect((await jsm.streams.info(`S_${prefix}`)).state.messages).toBe(200);
    publisher.close();
  });

  it('resolves with an error for outputs never acknowledged', async () => {
    const prefix = uniquePrefix();
    // A plain subscriber that answers nothing: the request has a responder but no acknowledgement.
    const sub = nc.subscribe(`${prefix}.silent`);
    const publisher = new JetStreamBatchPublisher(nc, 300);
    const errors = await publisher.publish([{ subject: `${prefix}.silent`, data: new Uint8Array([1]), id: 'q', input: 0 }]);
    expect(errors[0]?.message).toMatch(/no acknowledgement within 300 ms/);
    sub.unsubscribe();
    publisher.close();
  });
});
