/**
 * Reading what a test stored: every message of a JetStream stream, and one sample of the
 * service's `/metrics` text. Shared by the JetStream and failure suites and the metrics tests.
 */
import type { JetStreamClient, JetStreamManager } from 'nats';

const dec = new TextDecoder();

/** One stored message: its subject, its data as text and its `Nats-Msg-Id`. */
export interface Stored {
  subject: string;
  data: string;
  msgId: string | undefined;
}

/** Every message stored in a stream (read with an ordered consumer, at most 15 s). */
export async function storedMessages(js: JetStreamClient, jsm: JetStreamManager, stream: string): Promise<Stored[]> {
  const total = (await jsm.streams.info(stream)).state.messages;
  const out: Stored[] = [];
  if (total === 0) return out;
  const iter = await (await js.consumers.get(stream)).consume();
  const timer = setTimeout(() => void iter.close(), 15_000);
  try {
    for await (const m of iter) {
      out.push({ subject: m.subject, data: dec.decode(m.data), msgId: m.headers?.get('Nats-Msg-Id') });
      if (m.info.pending === 0) break;
    }
  } finally {
    clearTimeout(timer);
    await iter.close();
  }
  return out;
}

/**
 * The value of one series of `/metrics` text, e.g.
 * `platesieve_alerts_total{tier="exact",list="AMBER"}`; undefined when absent.
 */
export function metricSample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    if (line.slice(0, space) === series) return Number(line.slice(space + 1));
  }
  return undefined;
}
