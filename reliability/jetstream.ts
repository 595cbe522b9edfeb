/**
 * The JetStream names the service uses, and what the harness reads of the server while a run
 * goes on: the consumer's lag and position, and the output streams there are.
 */
import type { JetStreamManager } from 'nats';

/** The reads stream the service consumes. */
export const READS_STREAM = 'ALPR_READS';
/** The service's durable consumer on {@link READS_STREAM}. */
export const CONSUMER = 'platesieve';
/** Prefix of the service's output streams (`_RECORDS_<n>`, `_ALERTS`, `_DEADLETTER`). */
export const OUT = 'ALPR_OUT';
/** The subject reads are published on. */
export const READS_SUBJECT = 'alpr.reads.cam';

/** Consumer lag and position; undefined while the server does not answer. */
export async function consumerState(jsm: JetStreamManager): Promise<{ pending: number; ackPending: number; ackFloor: number; lastSeq: number; redelivered: number } | undefined> {
  try {
    const [ci, si] = await Promise.all([jsm.consumers.info(READS_STREAM, CONSUMER), jsm.streams.info(READS_STREAM)]);
    return { pending: ci.num_pending, ackPending: ci.num_ack_pending, ackFloor: ci.ack_floor.stream_seq, lastSeq: si.state.last_seq, redelivered: ci.num_redelivered };
  } catch {
    return undefined;
  }
}

/** Names of the service's output streams now on the server. */
export async function outputStreamNames(jsm: JetStreamManager): Promise<{ records: string[]; alerts: string; deadletter: string }> {
  const records: string[] = [];
  for await (const name of jsm.streams.names()) if (name.startsWith(`${OUT}_RECORDS_`)) records.push(name);
  return { records: records.sort(), alerts: `${OUT}_ALERTS`, deadletter: `${OUT}_DEADLETTER` };
}
