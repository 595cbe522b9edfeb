/**
 * `platesieve serve` when storing or processing a batch fails, against a real nats-server:
 * with default suppression, an alert the alerts stream refused is emitted again on
 * redelivery and stored once, hit records name only stored alerts and `alerts_total` counts
 * stored alerts only (issue 9, defects 1 and 3); a batch that throws after matching is
 * counted, redelivered (JetStream) or dead-lettered (core), and the process keeps running
 * (defect 2, through the PLATESIEVE_TEST_FAIL_STAGE test hook).
 * Needs the build (`npm run build`) and nats-server on PATH.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DiscardPolicy, type JetStreamClient, type JetStreamManager, type NatsConnection } from 'nats';
import { describe, expect, it } from 'vitest';
import { metricSample as sample, storedMessages } from '../helpers/streams.js';
import { uniquePrefix, type NatsServerHandle } from '../helpers/nats-server.js';
import {
  SAMPLE_READS,
  alertKey,
  collect,
  parsedLines,
  recordsOf,
  referenceAlerts,
  serviceSuite,
  sortAlertKeys,
  startServiceProcess,
  waitFor,
  type AlertKey,
  type ServiceProcess,
  type TempDir,
} from '../helpers/service-process.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

function validPlate(p: unknown): boolean {
  return typeof p === 'string' && /^[A-Z0-9]{1,10}$/.test(p.toUpperCase().replace(/[ \-.\u00b7]/g, ''));
}

/**
 * The sample's valid reads, each from a camera of its own: with the default suppression
 * window nothing is a repeat, so the alerts expected are the offline matcher's, and an alert
 * suppressed on redelivery shows as one missing.
 */
const READS = parsedLines(readFileSync(SAMPLE_READS, 'utf8'))
  .filter((r) => validPlate(r.plate))
  .map((r): Record<string, unknown> => ({ ...r, cameraId: `CAM-${String(r.id)}` }));


interface Names {
  prefix: string;
  reads: string;
  out: string;
}

function names(): Names {
  const prefix = uniquePrefix();
  return { prefix, reads: `R_${prefix}`, out: `O_${prefix}` };
}

/** JetStream mode with the default suppression window (no `suppression` key). */
function jsConfig(n: Names): Record<string, unknown> {
  return {
    subjects: { prefix: n.prefix },
    mode: 'jetstream',
    // A long ack wait: every redelivery in these tests is a nak of the service's own.
    jetstream: { readsStream: n.reads, outStream: n.out, consumer: 'platesieve', ackWaitMs: 60_000, fetchBatch: 500, maxAckPending: 5000, maxDeliver: 100 },
    pool: { workers: 0, batchSize: 64, batchWaitMs: 2, maxInFlight: 4 },
    shutdownTimeoutMs: 10_000,
  };
}

async function publishSingles(js: JetStreamClient, prefix: string, reads: ReadonlyArray<Record<string, unknown>>): Promise<void> {
  for (let i = 0; i < reads.length; i += 500) {
    await Promise.all(reads.slice(i, i + 500).map((r) => js.publish(`${prefix}.reads.cam`, enc.encode(JSON.stringify(r)))));
  }
}


async function consumerDone(jsm: JetStreamManager, n: Names): Promise<boolean> {
  const ci = await jsm.consumers.info(n.reads, 'platesieve');
  return ci.num_pending + ci.num_ack_pending === 0;
}

type StoredAlert = AlertKey & { alertId: string; sightings: number };

/** Throws when the service process has exited (an unhandled rejection stops it): a wait should fail at once, saying why. */
function alive(svc: ServiceProcess): void {
  if (svc.child.exitCode !== null || svc.child.signalCode !== null) {
    throw new Error(`the service exited (${String(svc.child.exitCode ?? svc.child.signalCode)}); stderr: ${svc.stderr().slice(-1500)}`);
  }
}

describe('platesieve serve when outputs are refused or a batch fails', () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  let tmp: TempDir;

  serviceSuite({ jetstream: true }, async (s) => {
    ({ server, nc, tmp } = s);
    js = nc.jetstream();
    jsm = await nc.jetstreamManager();
  });

  async function expectedAlerts(reads: ReadonlyArray<Record<string, unknown>>): Promise<AlertKey[]> {
    const file = join(tmp.dir, `${uniquePrefix()}.ndjson`);
    await writeFile(file, reads.map((r) => JSON.stringify(r)).join('\n') + '\n');
    return referenceAlerts(file);
  }

  /**
   * The outputs of JetStream mode once every read is acknowledged: each read recorded once,
   * each expected alert stored once under its Nats-Msg-Id, and the hit records naming
   * exactly the alerts stored. Returns the stored alerts.
   */
  async function expectStoredOnce(n: Names, reads: ReadonlyArray<Record<string, unknown>>): Promise<StoredAlert[]> {
    const stored = (await storedMessages(js, jsm, `${n.out}_ALERTS`)).filter((m) => !m.subject.endsWith('.filler'));
    const alerts = stored.map((m) => JSON.parse(m.data) as StoredAlert);
    const alertIds = alerts.map((a) => a.alertId);
    expect(new Set(alertIds).size, 'duplicate alerts').toBe(alertIds.length);
    expect(stored.every((m) => m.msgId === (JSON.parse(m.data) as StoredAlert).alertId), 'Nats-Msg-Id is the alertId').toBe(true);
    expect(sortAlertKeys(alerts.map(alertKey)), 'alerts stored').toEqual(await expectedAlerts(reads));

    const records = [
      ...(await storedMessages(js, jsm, `${n.out}_RECORDS_NONHIT_DEFAULT`)),
      ...(await storedMessages(js, jsm, `${n.out}_RECORDS_HIT_DEFAULT`)),
    ].flatMap((m) => {
      const v = JSON.parse(m.data) as unknown;
      return (Array.isArray(v) ? v : [v]) as Array<{ id: string; alertIds: string[] }>;
    });
    const recordIds = records.map((r) => r.id);
    expect(new Set(recordIds).size, 'duplicate records').toBe(recordIds.length);
    expect(new Set(recordIds)).toEqual(new Set(reads.map((r) => String(r.id))));
    const named = records.flatMap((r) => r.alertIds);
    expect(new Set(named).size, 'an alert named by two records').toBe(named.length);
    expect(new Set(named), 'hit records name exactly the alerts stored').toEqual(new Set(alertIds));
    return alerts;
  }

  it('stores every alert once after the alerts stream refused writes for a while (default suppression), and alerts_total counts stored alerts only', async () => {
    const n = names();
    const svc = await startServiceProcess({ natsUrl: server.url, config: jsConfig(n) });
    // The alerts stream refuses every alert: one message in, at most one kept, new ones discarded.
    await js.publish(`${n.prefix}.alerts.filler`, enc.encode('{}'));
    await jsm.streams.update(`${n.out}_ALERTS`, { max_msgs: 1, discard: DiscardPolicy.New });
    const expected = await expectedAlerts(READS);
    const alertMessages = new Set(expected.map((a) => a.readId)).size;
    expect(alertMessages).toBeGreaterThan(10);

    await publishSingles(js, n.prefix, READS);
    // Every message with an alert refused, nak'ed and processed again while the stream still
    // refuses: each such message adds its read to reads_total once more.
    await waitFor(
      async () => {
        alive(svc);
        return (await svc.metric('platesieve_reads_total')) >= READS.length + alertMessages;
      },
      40_000,
      () => `the messages with alerts to be redelivered; service log tail: ${svc.logs.slice(-3).map((l) => l.msg).join(' | ')}`,
    );
    expect(await consumerDone(jsm, n), 'reads whose alerts were refused are not acknowledged').toBe(false);

    await jsm.streams.update(`${n.out}_ALERTS`, { max_msgs: -1, discard: DiscardPolicy.Old });
    await waitFor(
      () => {
        alive(svc);
        return consumerDone(jsm, n);
      },
      40_000,
      'every read acknowledged once the alerts stream accepts again',
    );

    const alerts = await expectStoredOnce(n, READS);
    expect(alerts.every((a) => a.sightings === 1)).toBe(true);
    const text = (await svc.http('/metrics')).body;
    expect(sample(text, 'platesieve_alerts_suppressed_total'), 'nothing suppressed').toBe(0);
    expect(await svc.metric('platesieve_alerts_total'), 'alerts_total counts the alerts stored, once each').toBe(expected.length);
    expect(await svc.stop('SIGTERM')).toBe(0);
  }, 120_000);

  it('keeps redelivering reads whose outputs are refused past maxDeliver (the destination is at fault, not the reads): nothing dead-lettered, everything stored once', async () => {
    const n = names();
    const config = jsConfig(n);
    config.jetstream = { ...(config.jetstream as Record<string, unknown>), maxDeliver: 2 };
    const svc = await startServiceProcess({ natsUrl: server.url, config });
    await js.publish(`${n.prefix}.alerts.filler`, enc.encode('{}'));
    await jsm.streams.update(`${n.out}_ALERTS`, { max_msgs: 1, discard: DiscardPolicy.New });
    const expected = await expectedAlerts(READS);
    const alertMessages = new Set(expected.map((a) => a.readId)).size;

    await publishSingles(js, n.prefix, READS);
    // Each message with an alert processed three times, one more than maxDeliver allows a
    // message that fails on its own.
    await waitFor(
      async () => {
        alive(svc);
        return (await svc.metric('platesieve_reads_total')) >= READS.length + 2 * alertMessages;
      },
      60_000,
      'the messages with alerts to be redelivered past maxDeliver',
    );
    expect(await consumerDone(jsm, n)).toBe(false);
    expect(await svc.metric('platesieve_output_retries_total')).toBeGreaterThanOrEqual(2 * alertMessages);

    await jsm.streams.update(`${n.out}_ALERTS`, { max_msgs: -1, discard: DiscardPolicy.Old });
    await waitFor(
      () => {
        alive(svc);
        return consumerDone(jsm, n);
      },
      60_000,
      'every read acknowledged once the alerts stream accepts again',
    );
    await expectStoredOnce(n, READS);
    const text = (await svc.http('/metrics')).body;
    expect(sample(text, 'platesieve_deadletters_total{reason="UNDELIVERABLE"}') ?? 0, 'no read given up').toBe(0);
    expect(await svc.stop('SIGTERM')).toBe(0);
  }, 180_000);

  it('redelivers a batch that throws in finalizing or after storing its alerts, stores everything once, and keeps running', async () => {
    const n = names();
    const expectedAll = await expectedAlerts(READS);
    const hitIds = new Set(expectedAll.map((a) => a.readId));
    // Only reads that alert: every batch has alerts, so the publish fault lands after alerts were stored.
    const reads = READS.filter((r) => hitIds.has(String(r.id)));
    const svc = await startServiceProcess({
      natsUrl: server.url,
      config: jsConfig(n),
      env: { PLATESIEVE_TEST_FAIL_STAGE: 'finalize:1,publish:1' },
    });
    await publishSingles(js, n.prefix, reads);
    await waitFor(
      () => {
        alive(svc);
        return consumerDone(jsm, n);
      },
      40_000,
      () => `every read acknowledged; service log tail: ${svc.logs.slice(-3).map((l) => l.msg).join(' | ')}`,
    );

    expect(svc.child.exitCode, 'the service is still running').toBeNull();
    const alerts = await expectStoredOnce(n, reads);
    const text = (await svc.http('/metrics')).body;
    expect(sample(text, 'platesieve_batches_failed_total{stage="finalize"}')).toBe(1);
    expect(sample(text, 'platesieve_batches_failed_total{stage="publish"}')).toBe(1);
    expect(sample(text, 'platesieve_batches_failed_total{stage="match"}')).toBe(0);
    // An alert stored before its batch failed, emitted again on redelivery, is not a new alert.
    expect(await svc.metric('platesieve_alerts_total')).toBe(alerts.length);
    expect(svc.logged('batch failed; its messages are redelivered (JetStream) or dead-lettered (core)')).toBe(true);
    expect(await svc.stop('SIGTERM')).toBe(0);
  }, 120_000);

  it('core mode: dead-letters every message of a batch that fails in matching or finalizing, counts it, and keeps running', async () => {
    const n = names();
    const svc = await startServiceProcess({
      natsUrl: server.url,
      config: { subjects: { prefix: n.prefix }, mode: 'core', pool: { workers: 0, batchSize: 64, batchWaitMs: 2, maxInFlight: 1 } },
      env: { PLATESIEVE_TEST_FAIL_STAGE: 'match:1,finalize:1' },
    });
    const deadletters = collect(nc, `${n.prefix}.deadletter`).messages;
    const records = collect(nc, `${n.prefix}.records.>`).messages;
    const alerts = collect(nc, `${n.prefix}.alerts.>`).messages;
    await nc.flush();
    const batches = [READS.slice(0, 20), READS.slice(20, 40), READS.slice(40, 60)];
    // One message a batch, each sent once the one before is settled.
    nc.publish(`${n.prefix}.reads.cam`, enc.encode(JSON.stringify(batches[0])));
    await waitFor(
      () => {
        alive(svc);
        return deadletters.length === 1;
      },
      20_000,
      'the dead letter of the batch failing in matching',
    );
    nc.publish(`${n.prefix}.reads.cam`, enc.encode(JSON.stringify(batches[1])));
    await waitFor(
      () => {
        alive(svc);
        return deadletters.length === 2;
      },
      20_000,
      'the dead letter of the batch failing in finalizing',
    );
    nc.publish(`${n.prefix}.reads.cam`, enc.encode(JSON.stringify(batches[2])));
    await waitFor(
      () => {
        alive(svc);
        return records.flatMap(recordsOf).length === 20;
      },
      20_000,
      'the records of the third batch',
    );

    expect(svc.child.exitCode, 'the service is still running').toBeNull();
    expect(deadletters.map((d) => d.headers['Platesieve-Code'])).toEqual(['BATCH_FAILED', 'BATCH_FAILED']);
    expect(deadletters[0].headers['Platesieve-Reason']).toMatch(/failed in match: .*injected fault/);
    expect(deadletters[1].headers['Platesieve-Reason']).toMatch(/failed in finalize: .*injected fault/);
    expect(JSON.parse(dec.decode(deadletters[1].data))).toEqual(batches[1]);
    expect(new Set(records.flatMap(recordsOf).map((r) => r.id))).toEqual(new Set(batches[2].map((r) => String(r.id))));
    expect(alerts.map((a) => a.json<{ readId: string }>().readId).every((id) => batches[2].some((r) => String(r.id) === id))).toBe(true);
    const text = (await svc.http('/metrics')).body;
    expect(sample(text, 'platesieve_batches_failed_total{stage="match"}')).toBe(1);
    expect(sample(text, 'platesieve_batches_failed_total{stage="finalize"}')).toBe(1);
    expect(sample(text, 'platesieve_deadletters_total{reason="BATCH_FAILED"}')).toBe(2);
    expect(await svc.stop('SIGTERM')).toBe(0);
  });
});
