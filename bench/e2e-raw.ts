/**
 * The raw-ceiling subscriber of the end-to-end benchmark, run as its own process:
 *
 *   node dist/bench/e2e-raw.js <nats url> <core|jetstream|echo> <subject or stream> <reads per message> <ack every N messages>
 *
 * `echo` republishes every message as it is on `bench.echo`: the latency floor of the
 * machine (publisher, nats-server, a subscriber that does nothing, back), beside which the
 * service's latency is read.
 * It does nothing with the messages but count them (a core subscription, or an ordered
 * JetStream consumer on the reads stream), and every N messages (N divides the messages of a run) publishes the
 * running count of reads on `bench.rawack`: the publisher's window uses it exactly as it uses the records
 * of the service, so the two figures are taken the same way. Prints "ready" when subscribed.
 */
import { connect } from 'nats';

const [url, mode, target, perMsgArg, everyArg] = process.argv.slice(2);
const perMsg = Number(perMsgArg);
const every = Number(everyArg);
const nc = await connect({ servers: url, name: 'bench-raw' });
let messages = 0;

function seen(): void {
  messages++;
  if (messages % every === 0) nc.publish('bench.rawack', String(messages * perMsg));
}

if (mode === 'echo') {
  nc.subscribe(target, { callback: (_e, m) => nc.publish('bench.echo', m.data) });
  await nc.flush();
  process.stdout.write('ready\n');
} else if (mode === 'jetstream') {
  const js = nc.jetstream();
  const consumer = await js.consumers.get(target);
  const iter = await consumer.consume({ max_messages: 2000 });
  process.stdout.write('ready\n');
  for await (const _m of iter) seen();
} else {
  nc.subscribe(target, { callback: () => seen() });
  await nc.flush();
  process.stdout.write('ready\n');
}
await nc.closed();
