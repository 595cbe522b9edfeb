/**
 * Reading a stream back in full after a run, so that every read and alert can be accounted for.
 */
import type { JetStreamManager, NatsConnection } from 'nats';

/**
 * Every message of a stream, in order, through an ordered consumer: `f(data, headers)` for
 * each. Bounded: stops after `timeoutMs` without a message.
 */
export async function readStream(
  nc: NatsConnection, jsm: JetStreamManager, stream: string,
  f: (data: Uint8Array, header: (name: string) => string | undefined) => void, timeoutMs = 10_000,
): Promise<number> {
  let info;
  try {
    info = await jsm.streams.info(stream);
  } catch {
    return 0;
  }
  const total = info.state.messages;
  if (total === 0) return 0;
  const consumer = await nc.jetstream().consumers.get(stream);
  const messages = await consumer.consume({ max_messages: 5000 });
  let n = 0;
  let idle: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(idle);
    idle = setTimeout(() => void messages.stop(), timeoutMs);
  };
  arm();
  for await (const m of messages) {
    n++;
    f(m.data, (name) => (m.headers?.has(name) ? m.headers.get(name) : undefined));
    if (n % 1000 === 0) arm();
    if (m.info.pending === 0 || n >= total) break;
  }
  clearTimeout(idle);
  await messages.close().catch(() => undefined);
  return n;
}
