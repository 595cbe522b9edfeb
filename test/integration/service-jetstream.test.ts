/**
 * `platesieve serve` in JetStream mode, as a child process against a real nats-server with
 * JetStream: outputs stored exactly once, and nothing lost or duplicated when the service is
 * SIGKILLed or SIGTERMed mid-stream and restarted, or when nats-server restarts under it.
 * Needs the build (`npm run build`) and nats-server on PATH.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JetStreamClient, JetStreamManager, NatsConnection } from 'nats';
import { describe, expect, it } from 'vitest';
import { storedMessages } from '../helpers/streams.js';
import { uniquePrefix, type NatsServerHandle } from '../helpers/nats-server.js';
import {
  SAMPLE_READS,
  alertKey,
  parsedLines,
  referenceAlerts,
  sleep,
  sortAlertKeys,
  startServiceProcess,
  serviceSuite,
  waitFor,
  type AlertKey,
  type ServiceProcess,
  type TempDir,
} from '../helpers/service-process.js';

const enc = new TextEncoder();

function validPlate(p: unknown): boolean {
  if (typeof p !== 'string') return false;
  return /^[A-Z0-9]{1,10}$/.test(p.toUpperCase().replace(/[ \-.\u00b7]/g, ''));
}

const SAMPLE_VALID = parsedLines(readFileSync(SAMPLE_READS, 'utf8')).filter((r) => validPlate(r.plate));

/** `copies` copies of the sample's valid reads, each with its own id (`<id>-<copy>`). */
function manyReads(copies: number): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (let c = 0; c < copies; c++) for (const r of SAMPLE_VALID) out.push({ ...r, id: `${String(r.id)}-${c}` });
  return out;
}

interface Names {
  prefix: string;
  reads: string;
  out: string;
}

function names(): Names {
  const prefix = uniquePrefix();
  return { prefix, reads: `R_${prefix}`, out: `O_${prefix}` };
}

function jsConfig(n: Names, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    subjects: { prefix: n.prefix },
    mode: 'jetstream',
    jetstream: { readsStream: n.reads, outStream: n.out, consumer: 'platesieve', ackWaitMs: 3000, fetchBatch: 500, maxAckPending: 5000 },
    suppression: { windowMs: 0 },
    pool: { workers: 1, batchSize: 256, batchWaitMs: 2, maxInFlight: 4 },
    shutdownTimeoutMs: 10_000,
    ...extra,
  };
}

/** Publishes reads to the reads stream, `perMessage` reads a message (1: single reads), pipelined. */
async function publishReads(js: JetStreamClient, prefix: string, reads: Array<Record<string, unknown>>, perMessage: number): Promise<number> {
  const pending: Array<Promise<unknown>> = [];
  let messages = 0;
  for (let i = 0; i < reads.length; i += perMessage) {
    const payload = perMessage === 1 ? reads[i] : reads.slice(i, i + perMessage);
    pending.push(js.publish(`${prefix}.reads.cam`, enc.encode(JSON.stringify(payload))));
    messages++;
    if (pending.length >= 1000) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  return messages;
}


interface Outcome {
  recordMessages: number;
  recordIds: string[];
  alerts: Array<AlertKey & { alertId: string }>;
  msgIds: string[];
}

async function outcome(js: JetStreamClient, jsm: JetStreamManager, n: Names): Promise<Outcome> {
  const records = [
    ...(await storedMessages(js, jsm, `${n.out}_RECORDS_NONHIT_DEFAULT`)),
    ...(await storedMessages(js, jsm, `${n.out}_RECORDS_HIT_DEFAULT`)),
  ];
  const alerts = await storedMessages(js, jsm, `${n.out}_ALERTS`);
  const recordIds = records.flatMap((m) => {
    const v = JSON.parse(m.data) as { id: string } | Array<{ id: string }>;
    return (Array.isArray(v) ? v : [v]).map((r) => r.id);
  });
  return {
    recordMessages: records.length,
    recordIds,
    alerts: alerts.map((m) => JSON.parse(m.data) as AlertKey & { alertId: string }),
    msgIds: [...records, ...alerts].map((m) => m.msgId ?? ''),
  };
}

/** Records stored so far, by message count of the two records streams. */
async function storedRecordMessages(jsm: JetStreamManager, n: Names): Promise<number> {
  let total = 0;
  for (const s of [`${n.out}_RECORDS_NONHIT_DEFAULT`, `${n.out}_RECORDS_HIT_DEFAULT`]) {
    try {
      total += (await jsm.streams.info(s)).state.messages;
    } catch {
      // not created yet
    }
  }
  return total;
}

/** Reads messages not yet acknowledged: pending in the stream or delivered and unacknowledged. */
async function unfinished(jsm: JetStreamManager, n: Names): Promise<number> {
  const ci = await jsm.consumers.info(n.reads, 'platesieve');
  return ci.num_pending + ci.num_ack_pending;
}

/** True when the durable consumer has nothing pending and nothing unacknowledged. */
async function consumerDone(jsm: JetStreamManager, n: Names): Promise<boolean> {
  return (await unfinished(jsm, n)) === 0;
}

describe('platesieve serve (JetStream mode)', () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  let tmp: TempDir;
  const start = (n: Names, extra: Record<string, unknown> = {}): Promise<ServiceProcess> =>
    startServiceProcess({ natsUrl: server.url, config: jsConfig(n, extra) });

  /** Writes the reads to an NDJSON file and returns `platesieve match`'s alerts on it. */
  async function expectedAlerts(reads: Array<Record<string, unknown>>): Promise<AlertKey[]> {
    const file = join(tmp.dir, `${uniquePrefix()}.ndjson`);
    await writeFile(file, reads.map((r) => JSON.stringify(r)).join('\n') + '\n');
    return referenceAlerts(file);
  }

  /** Every read recorded once, every output message stored once, the alerts of the offline matcher. */
  async function expectExactlyOnce(n: Names, reads: Array<Record<string, unknown>>, recordMessages?: number): Promise<void> {
    const got = await outcome(js, jsm, n);
    const dupes = got.recordIds.length - new Set(got.recordIds).size;
    expect(dupes, 'duplicate records').toBe(0);
    expect(got.recordIds.length, 'records stored').toBe(reads.length);
    expect(new Set(got.recordIds)).toEqual(new Set(reads.map((r) => String(r.id))));
    if (recordMessages !== undefined) expect(got.recordMessages).toBe(recordMessages);
    const alertIds = got.alerts.map((a) => a.alertId);
    expect(alertIds.length - new Set(alertIds).size, 'duplicate alertIds').toBe(0);
    expect(sortAlertKeys(got.alerts.map(alertKey))).toEqual(await expectedAlerts(reads));
    expect(got.msgIds.every((id) => id !== ''), 'every output carries Nats-Msg-Id').toBe(true);
    expect(new Set(got.msgIds).size).toBe(got.msgIds.length);
  }

  serviceSuite({ jetstream: true, connect: { maxReconnectAttempts: -1, reconnectTimeWait: 200 } }, async (s) => {
    ({ server, nc, tmp } = s);
    js = nc.jetstream();
    jsm = await nc.jetstreamManager();
  });

  it('stores the records and alerts of reads published to the reads stream exactly once', async () => {
    const n = names();
    const svc = await start(n);
    const reads = manyReads(1);
    // Half as single reads, half as arrays of 10.
    const half = Math.floor(reads.length / 2);
    const m1 = await publishReads(js, n.prefix, reads.slice(0, half), 1);
    const m2 = await publishReads(js, n.prefix, reads.slice(half), 10);
    await waitFor(() => consumerDone(jsm, n), 20_000, 'the consumer to have every read acknowledged');
    await sleep(200);
    // Singles: one records message each; arrays: a nonhit and maybe a hit message each.
    const got = await outcome(js, jsm, n);
    expect(got.recordMessages).toBeGreaterThanOrEqual(m1 + m2);
    expect(got.recordMessages).toBeLessThanOrEqual(m1 + 2 * m2);
    await expectExactlyOnce(n, reads);
    expect(await svc.stop('SIGTERM')).toBe(0);
  });

  // Small batches, one at a time: slow enough that the kill and the restart below land
  // mid-stream whatever the machine's speed.
  const slow = { pool: { workers: 1, batchSize: 16, batchWaitMs: 2, maxInFlight: 1 } };

  it('loses and duplicates nothing when the service is SIGKILLed mid-stream and restarted', async () => {
    const n = names();
    const first = await start(n, slow);
    const reads = manyReads(20); // 40 000 reads
    const messages = await publishReads(js, n.prefix, reads, 10);
    await waitFor(
      async () => (await unfinished(jsm, n)) <= (messages * 4) / 5,
      20_000,
      'a fifth of the reads processed before the kill',
    );
    await first.stop('SIGKILL');
    expect(await unfinished(jsm, n), 'the kill came before the end').toBeGreaterThan(0);
    expect(await storedRecordMessages(jsm, n), 'outputs stored before the kill').toBeGreaterThan(0);
    const second = await start(n);
    await waitFor(() => consumerDone(jsm, n), 25_000, 'the restarted service to acknowledge every read');
    await sleep(200);
    await expectExactlyOnce(n, reads);
    expect(await second.stop('SIGTERM')).toBe(0);
  });

  it('reconnects after nats-server restarts mid-stream and stores every record once', async () => {
    const n = names();
    const svc = await start(n, slow);
    const reads = manyReads(6);
    const messages = await publishReads(js, n.prefix, reads, 10);
    await waitFor(async () => (await unfinished(jsm, n)) <= (messages * 4) / 5, 20_000, 'a fifth of the reads processed before the restart');
    expect(await unfinished(jsm, n), 'the restart came before the end').toBeGreaterThan(0);
    await server.restart();
    await waitFor(
      async () => {
        try {
          return await consumerDone(jsm, n);
        } catch {
          return false; // the test's own connection is reconnecting
        }
      },
      25_000,
      () => `the service to finish after the restart; service log tail: ${svc.logs.slice(-5).map((l) => l.msg).join(' | ')}`,
    );
    await sleep(200);
    expect(svc.logged('NATS reconnected')).toBe(true);
    await expectExactlyOnce(n, reads);
    expect(await svc.stop('SIGTERM')).toBe(0);
  });

  it('loses nothing on SIGTERM: reads not yet processed are picked up by the next instance', async () => {
    const n = names();
    const first = await start(n);
    const reads = manyReads(10);
    const half = reads.length / 2;
    const messages = await publishReads(js, n.prefix, reads.slice(0, half), 5);
    await waitFor(async () => (await unfinished(jsm, n)) <= (messages * 9) / 10, 20_000, 'a tenth of the reads processed before SIGTERM');
    expect(await first.stop('SIGTERM', 15_000), 'graceful exit code').toBe(0);
    expect(first.logged('stopped')).toBe(true);
    // Whatever the first instance had not finished, plus reads published while none runs,
    // are left for the next instance (a fast first instance may have finished its half).
    await publishReads(js, n.prefix, reads.slice(half), 5);
    expect(await unfinished(jsm, n), 'reads left for the next instance').toBeGreaterThan(0);
    const second = await start(n);
    await waitFor(() => consumerDone(jsm, n), 25_000, 'the next instance to acknowledge every read');
    await sleep(200);
    await expectExactlyOnce(n, reads);
    expect(await second.stop('SIGTERM')).toBe(0);
  });
  it('does not block the stream on a reads message near max_payload: its neighbours are stored and every read acknowledged', async () => {
    const n = names();
    const svc = await start(n);
    const max = nc.info!.max_payload;
    // A JSON array of valid reads as large as the server allows: its records and a dead letter
    // carrying its bytes are larger than max_payload, so they must be split or cut, not refused.
    const big: Array<Record<string, unknown>> = [{ id: 'BIG-BAD', plate: 'B#D' }];
    const read = (id: string) => ({ id, plate: 'ZZZ999', state: 'CO', ts: 1736143209558, cameraId: 'CAM-1' });
    const one = JSON.stringify(read('BIG-000000')).length + 1;
    for (let i = 0; (i + 2) * one + 40 < max - 200; i++) big.push(read(`BIG-${String(i).padStart(6, '0')}`));
    const bigBytes = enc.encode(JSON.stringify(big));
    expect(bigBytes.length).toBeLessThan(max - 100);
    const before = manyReads(1).slice(0, 200);
    const after = manyReads(2).slice(-200);
    await publishReads(js, n.prefix, before, 10);
    await js.publish(`${n.prefix}.reads.cam`, bigBytes);
    await publishReads(js, n.prefix, after, 10);
    await waitFor(
      () => consumerDone(jsm, n),
      20_000,
      () =>
        `every read acknowledged; service errors: ${JSON.stringify(
          svc.logs.filter((l) => l.level >= 50).slice(-3).map((l) => ({ msg: l.msg, err: (l.err as { message?: string } | undefined)?.message })),
        )}`,
    );
    const got = await outcome(js, jsm, n);
    const ids = new Set(got.recordIds);
    for (const r of [...before, ...after]) expect(ids.has(String(r.id)), `record of ${String(r.id)}`).toBe(true);
    expect(got.recordIds.filter((id) => id.startsWith('BIG-')).length, 'records of the big message').toBe(big.length - 1);
    expect(got.recordIds.length - ids.size, 'duplicate records').toBe(0);
  });

  it('keeps each agency policy\'s records in a stream whose max_age is that policy\'s period', async () => {
    const n = names();
    const SHORT = 'CO0010000';
    await start(n, {
      retention: {
        default: { policy: 'default-1y', nonhitDays: 365, hitDays: 365, basis: 'default policy' },
        agencies: { [SHORT]: { policy: 'short-21d', nonhitDays: 21, hitDays: 21, basis: 'Clear Creek County SO: 21 days, then purged' } },
      },
    });
    const reads = manyReads(1).slice(0, 400).map((r, i) => ({ ...r, agency: i % 2 === 0 ? SHORT : 'CO0990000' }));
    await publishReads(js, n.prefix, reads, 10);
    await waitFor(() => consumerDone(jsm, n), 20_000, () => 'every read acknowledged');
    const day = 86_400_000_000_000;
    const short = await jsm.streams.info(`${n.out}_RECORDS_NONHIT_SHORT-21D`);
    const long = await jsm.streams.info(`${n.out}_RECORDS_NONHIT_DEFAULT-1Y`);
    expect(short.config.max_age).toBe(21 * day);
    expect(long.config.max_age).toBe(365 * day);
    const stored = async (stream: string): Promise<Array<{ agency: string; retention: { policy: string } }>> =>
      (await storedMessages(js, jsm, stream)).flatMap((m) => {
        const v = JSON.parse(m.data) as unknown;
        return (Array.isArray(v) ? v : [v]) as Array<{ agency: string; retention: { policy: string } }>;
      });
    const shortRecords = [...(await stored(`${n.out}_RECORDS_NONHIT_SHORT-21D`)), ...(await stored(`${n.out}_RECORDS_HIT_SHORT-21D`))];
    const longRecords = [...(await stored(`${n.out}_RECORDS_NONHIT_DEFAULT-1Y`)), ...(await stored(`${n.out}_RECORDS_HIT_DEFAULT-1Y`))];
    expect(shortRecords.length + longRecords.length).toBe(reads.length);
    expect(shortRecords.every((r) => r.agency === SHORT && r.retention.policy === 'short-21d')).toBe(true);
    expect(longRecords.every((r) => r.agency !== SHORT && r.retention.policy === 'default-1y')).toBe(true);
  });
});
