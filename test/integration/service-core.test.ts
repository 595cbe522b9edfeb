/**
 * `platesieve serve` in core mode, as a child process against a real nats-server: formats,
 * records and alerts equal to the offline matcher, dead letters, suppression, graceful stop,
 * a queue group of two instances, health and metrics, and workers 0 vs 2.
 * Needs the build (`npm run build`) and nats-server on PATH.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pack } from 'msgpackr';
import { connect, type NatsConnection } from 'nats';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer, uniquePrefix, type NatsServerHandle } from '../helpers/nats-server.js';
import {
  SAMPLE_HOTLIST,
  SAMPLE_READS,
  alertKey,
  collect,
  killAllServices,
  parsedLines,
  recordsOf,
  referenceAlerts,
  sleep,
  sortAlertKeys,
  startServiceProcess,
  waitFor,
  type AlertKey,
  type Collected,
  type ServiceProcess,
} from '../helpers/service-process.js';

const enc = new TextEncoder();
const json = (v: unknown): Uint8Array => enc.encode(JSON.stringify(v));

/** The plate rule of the core: upper-case, drop ' -.·', then 1..10 of A-Z0-9. */
function validPlate(p: unknown): boolean {
  if (typeof p !== 'string') return false;
  const n = p.toUpperCase().replace(/[ \-.\u00b7]/g, '');
  return /^[A-Z0-9]{1,10}$/.test(n);
}

const SAMPLE = parsedLines(readFileSync(SAMPLE_READS, 'utf8'));
const VALID = SAMPLE.filter((r) => validPlate(r.plate));
const INVALID = SAMPLE.filter((r) => !validPlate(r.plate));
const REFERENCE: AlertKey[] = referenceAlerts(SAMPLE_READS);

/** Outputs of one prefix, collected on a connection. */
interface Outputs {
  alerts: Collected[];
  nonhit: Collected[];
  hit: Collected[];
  deadletter: Collected[];
  records(): Array<{ id: string; hit: boolean; alertIds: string[] }>;
  alertKeys(): AlertKey[];
}

function outputsOf(nc: NatsConnection, prefix: string): Outputs {
  const alerts = collect(nc, `${prefix}.alerts.>`).messages;
  const nonhit = collect(nc, `${prefix}.records.nonhit.>`).messages;
  const hit = collect(nc, `${prefix}.records.hit.>`).messages;
  const deadletter = collect(nc, `${prefix}.deadletter`).messages;
  return {
    alerts,
    nonhit,
    hit,
    deadletter,
    records: () => [...nonhit, ...hit].flatMap(recordsOf),
    alertKeys: () => sortAlertKeys(alerts.map((m) => alertKey(m.json<AlertKey>()))),
  };
}

const baseConfig = (prefix: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  subjects: { prefix },
  queueGroup: `${prefix}-q`,
  mode: 'core',
  suppression: { windowMs: 0 },
  pool: { workers: 1, batchSize: 256, batchWaitMs: 2, maxInFlight: 4 },
  log: { level: 'info' },
  shutdownTimeoutMs: 10_000,
  ...extra,
});

/** Publishes the sample reads (valid and invalid objects) as single JSON messages. */
function publishSample(nc: NatsConnection, prefix: string, encode: (r: unknown) => Uint8Array = json): void {
  for (const r of SAMPLE) nc.publish(`${prefix}.reads.cam`, encode(r));
}

describe('platesieve serve (core mode)', () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  const services: ServiceProcess[] = [];
  const start = async (prefix: string, extra: Record<string, unknown> = {}, args: string[] = []): Promise<ServiceProcess> => {
    const svc = await startServiceProcess({ natsUrl: server.url, config: baseConfig(prefix, extra), args });
    services.push(svc);
    return svc;
  };

  beforeAll(async () => {
    server = await startNatsServer({ jetstream: false });
    nc = await connect({ servers: server.url });
  });
  afterEach(async () => {
    services.length = 0;
    await killAllServices();
  });
  afterAll(async () => {
    await killAllServices();
    await nc?.close();
    await server?.stop();
  });

  it('matches single reads and arrays, msgpack and JSON: one record per valid read and the alerts of `platesieve match`', async () => {
    const prefix = uniquePrefix();
    const out = outputsOf(nc, prefix);
    await nc.flush();
    await start(prefix);
    // Four quarters: single JSON, single msgpack, JSON arrays of 25, msgpack arrays of 25.
    const q = Math.ceil(SAMPLE.length / 4);
    const parts = [SAMPLE.slice(0, q), SAMPLE.slice(q, 2 * q), SAMPLE.slice(2 * q, 3 * q), SAMPLE.slice(3 * q)];
    const subject = `${prefix}.reads.cam`;
    let messages = 0;
    for (const r of parts[0]) {
      nc.publish(subject, json(r));
      messages++;
    }
    for (const r of parts[1]) {
      nc.publish(subject, pack(r));
      messages++;
    }
    for (let i = 0; i < parts[2].length; i += 25) {
      nc.publish(subject, json(parts[2].slice(i, i + 25)));
      messages++;
    }
    for (let i = 0; i < parts[3].length; i += 25) {
      nc.publish(subject, pack(parts[3].slice(i, i + 25)));
      messages++;
    }
    await nc.flush();

    await waitFor(
      () => out.records().length >= VALID.length && out.alerts.length >= REFERENCE.length && out.deadletter.length >= INVALID.length,
      20_000,
      () => `records ${out.records().length}/${VALID.length}, alerts ${out.alerts.length}/${REFERENCE.length}, dead letters ${out.deadletter.length}/${INVALID.length}`,
    );
    await sleep(300); // anything extra would arrive now

    const records = out.records();
    expect(records.length).toBe(VALID.length);
    expect(new Set(records.map((r) => r.id))).toEqual(new Set(VALID.map((r) => String(r.id))));
    expect(out.alertKeys()).toEqual(REFERENCE);
    // Records messages: an array naming its length in Platesieve-Records, or a lone record
    // object (a hit read of a single-read message). Core mode coalesces the non-hit
    // records of a batch, so there are fewer records messages than input messages.
    for (const m of [...out.nonhit, ...out.hit]) {
      const v = m.json<unknown>();
      if (Array.isArray(v)) {
        expect(v.length).toBeGreaterThan(0);
        expect(m.headers['Platesieve-Records']).toBe(String(v.length));
      } else {
        expect(typeof v).toBe('object');
        expect(m.headers['Platesieve-Records']).toBeUndefined();
      }
    }
    expect(out.nonhit.length).toBeLessThan(messages);
    // A hit record lists the ids of its alerts.
    const alertIds = new Set(out.alerts.map((m) => m.json<{ alertId: string }>().alertId));
    expect(alertIds.size).toBe(out.alerts.length);
    const listed = records.filter((r) => r.hit).flatMap((r) => r.alertIds);
    expect(new Set(listed)).toEqual(alertIds);
    // The invalid reads of the sample are dead-lettered with their code.
    expect(out.deadletter.map((m) => m.headers['Platesieve-Code']).sort()).toEqual(['INVALID_CHARACTER', 'MISSING_PLATE', 'PLATE_TOO_LONG']);
  });

  it('dead-letters malformed payloads with reason headers and still matches the valid reads of the same message', async () => {
    const prefix = uniquePrefix();
    const out = outputsOf(nc, prefix);
    await nc.flush();
    const svc = await start(prefix);
    const subject = `${prefix}.reads.cam`;
    const hitRead = { id: 'MIX-HIT', plate: '468-RME', state: 'CO', ts: 1736143209558, cameraId: 'CAM-1', agency: 'CO0010000' };
    const miss = (id: string) => ({ id, plate: 'ZZZ999', state: 'CO', ts: 1736143209558, cameraId: 'CAM-1' });

    const garbage = Buffer.concat([Buffer.from([0xc1]), randomBytes(63)]);
    const truncated = pack([miss('T1'), miss('T2'), miss('T3')]).subarray(0, -5);
    const mixed = json([miss('MIX-1'), 42, { id: 'MIX-BAD', plate: 'AB#12' }, { id: 'MIX-TYPE', plate: 12345 }, hitRead, { id: 'MIX-TS', plate: 'ABC123', ts: 'not a time' }, miss('MIX-2')]);
    const empty = new Uint8Array(0);
    // An array of reads as large as the server allows, with one invalid read in it.
    const max = nc.info!.max_payload;
    const big: unknown[] = [{ id: 'BIG-BAD', plate: 'B#D' }];
    let n = 0;
    const one = JSON.stringify(miss('BIG-000000'));
    while ((n + 2) * (one.length + 1) + 40 < max - 200) big.push(miss(`BIG-${String(n++).padStart(6, '0')}`));
    let bigBytes = json(big);
    const pad = max - 100 - bigBytes.length;
    bigBytes = enc.encode(JSON.stringify(big).slice(0, -1) + ' '.repeat(Math.max(0, pad)) + ']');
    expect(bigBytes.length).toBeLessThanOrEqual(max - 50);
    expect(bigBytes.length).toBeGreaterThan(max - 200);

    nc.publish(subject, garbage);
    nc.publish(subject, truncated);
    nc.publish(subject, mixed);
    nc.publish(subject, empty);
    nc.publish(subject, bigBytes);
    nc.publish(subject, json(miss('AFTER-1'))); // a valid message after them all
    await nc.flush();

    const expectedRecords = 3 + n + 1; // MIX-1, MIX-HIT, MIX-2; the big array's n valid reads; AFTER-1
    await waitFor(
      () => out.records().length >= expectedRecords && out.deadletter.length >= 8,
      20_000,
      () =>
        `records ${out.records().length}/${expectedRecords}, dead letters ${out.deadletter.length}/8 ` +
        `(codes ${out.deadletter.map((m) => m.headers['Platesieve-Code']).join(' ')}); service errors: ` +
        JSON.stringify(svc.logs.filter((l) => l.level >= 50).map((l) => ({ msg: l.msg, err: (l.err as { message?: string } | undefined)?.message }))),
    );
    await sleep(300);

    const dl = out.deadletter.map((m) => ({ code: m.headers['Platesieve-Code'], index: m.headers['Platesieve-Index'], m }));
    for (const d of dl) {
      expect(d.m.headers['Platesieve-Reason']?.length ?? 0).toBeGreaterThan(0);
      expect(d.m.headers['Platesieve-Subject']).toBe(subject);
    }
    const byCode = (code: string) => dl.filter((d) => d.code === code);
    const garbageDl = dl.filter((d) => Buffer.from(d.m.data).equals(garbage));
    expect(garbageDl).toHaveLength(1);
    expect(['BAD_MSGPACK', 'NOT_A_READ']).toContain(garbageDl[0].code);
    expect(garbageDl[0].index).toBe('');
    expect(byCode('TRUNCATED')).toHaveLength(1);
    expect(Buffer.from(byCode('TRUNCATED')[0].m.data).equals(Buffer.from(truncated))).toBe(true);
    expect(byCode('EMPTY_MESSAGE')).toHaveLength(1);
    expect(byCode('EMPTY_MESSAGE')[0].m.data.length).toBe(0);
    // The mixed array: each bad read by its index, the original bytes as payload.
    const mixedDl = dl.filter((d) => Buffer.from(d.m.data).equals(Buffer.from(mixed)));
    expect(mixedDl.map((d) => `${d.index}:${d.code}`).sort()).toEqual(['1:NOT_AN_OBJECT', '2:INVALID_CHARACTER', '3:MISSING_PLATE', '5:BAD_FIELD']);
    // The big message: its invalid read is dead-lettered (index 0) ...
    const bigDl = dl.filter((d) => d.index === '0' && d.code === 'INVALID_CHARACTER');
    expect(bigDl, 'dead letter of the invalid read in the message near max_payload').toHaveLength(1);

    const ids = new Set(out.records().map((r) => r.id));
    for (const id of ['MIX-1', 'MIX-HIT', 'MIX-2', 'AFTER-1']) expect(ids.has(id), `record of ${id}`).toBe(true);
    // ... and its valid reads still have their records.
    expect(out.records().filter((r) => r.id.startsWith('BIG-')).length).toBe(n);
    expect(out.records().length).toBe(expectedRecords);
    const alerts = out.alerts.map((m) => m.json<AlertKey>());
    expect(alerts.map((a) => `${a.readId}:${a.entryId}:${a.match}`)).toEqual(['MIX-HIT:E000001:exact']);
  });

  it('suppresses a repeat of the same entry by the same camera within the window and reports sightings on the next alert', async () => {
    const prefix = uniquePrefix();
    const out = outputsOf(nc, prefix);
    await nc.flush();
    await start(prefix, { suppression: { windowMs: 200 } });
    const subject = `${prefix}.reads.cam`;
    const t = 1736143209558;
    const read = (id: string, ts: number, cameraId = 'CAM-7') => ({ id, plate: '468RME', state: 'CO', ts, cameraId, agency: 'CO0010000' });
    nc.publish(subject, json(read('S1', t)));
    nc.publish(subject, json(read('S2', t + 50))); // within the window: suppressed
    nc.publish(subject, json(read('S3', t + 60, 'CAM-8'))); // another camera: its own alert
    await nc.flush();
    await waitFor(() => out.records().length >= 3, 10_000, () => `records ${out.records().length}/3`);
    nc.publish(subject, json(read('S4', t + 500))); // beyond the window
    await nc.flush();
    await waitFor(() => out.records().length >= 4, 10_000, () => `records ${out.records().length}/4`);
    await sleep(200);

    const alerts = out.alerts.map((m) => m.json<{ readId: string; sightings?: number; entryId: string }>());
    expect(alerts.map((a) => a.readId).sort()).toEqual(['S1', 'S3', 'S4']);
    expect(alerts.find((a) => a.readId === 'S1')?.sightings).toBe(1);
    expect(alerts.find((a) => a.readId === 'S3')?.sightings).toBe(1);
    expect(alerts.find((a) => a.readId === 'S4')?.sightings).toBe(2);
    // The suppressed read still has its record, without alert ids.
    const s2 = out.records().find((r) => r.id === 'S2');
    expect(s2).toBeDefined();
    expect(s2?.alertIds).toEqual([]);
  });

  it('finishes every read it received when stopped with SIGTERM right after they were published', async () => {
    const prefix = uniquePrefix();
    const out = outputsOf(nc, prefix);
    await nc.flush();
    const svc = await start(prefix);
    const N = 4000;
    const subject = `${prefix}.reads.cam`;
    for (let i = 0; i < N; i++) {
      nc.publish(subject, json({ id: `G${i}`, plate: `GS${(i % 100000).toString().padStart(5, '0')}`, state: 'CO', ts: 1736143209558 + i, cameraId: 'CAM-1' }));
    }
    await nc.flush(); // the server has every read queued for the service
    const code = await svc.stop('SIGTERM', 20_000);
    expect(code, `exit of the service; ${svc.stderr()}`).toBe(0);
    expect(svc.logged('stopped')).toBe(true);
    await waitFor(() => out.records().length >= N, 5_000, () => `records ${out.records().length}/${N} after the stop; service log: ${svc.stderr().slice(-3000)}`);
    const ids = out.records().map((r) => r.id);
    expect(ids.length).toBe(N);
    expect(new Set(ids).size).toBe(N);
  });

  it('shares reads between two instances of a queue group: each read recorded exactly once', async () => {
    const prefix = uniquePrefix();
    const out = outputsOf(nc, prefix);
    await nc.flush();
    const a = await start(prefix);
    const b = await start(prefix);
    const N = 3000;
    const subject = `${prefix}.reads.cam`;
    for (let i = 0; i < N; i++) {
      nc.publish(subject, json({ id: `Q${i}`, plate: `QG${(i % 100000).toString().padStart(5, '0')}`, state: 'CO', ts: 1736143209558 + i, cameraId: 'CAM-1' }));
    }
    await nc.flush();
    await waitFor(() => out.records().length >= N, 20_000, () => `records ${out.records().length}/${N}`);
    await sleep(300);
    const ids = out.records().map((r) => r.id);
    expect(ids.length).toBe(N);
    expect(new Set(ids).size).toBe(N);
    const ra = await a.metric('platesieve_reads_total');
    const rb = await b.metric('platesieve_reads_total');
    expect(ra, 'reads of instance A').toBeGreaterThan(0);
    expect(rb, 'reads of instance B').toBeGreaterThan(0);
    expect(ra + rb).toBe(N);
  });

  it('reports itself degraded and marks its alerts stale when a hotlist source is older than its allowed age', async () => {
    const prefix = uniquePrefix();
    const out = outputsOf(nc, prefix);
    await nc.flush();
    // The sample file is older than a millisecond: the source is past its allowed age at once.
    const svc = await start(prefix, { hotlists: [{ file: SAMPLE_HOTLIST, source: 'LOCAL', maxAgeHours: 1 / 3_600_000 }] });
    const health = await svc.http('/healthz');
    expect(health.status).toBe(200);
    const report = JSON.parse(health.body) as { status: string; checks: { hotlists: Array<{ stale: boolean }> } };
    expect(report.status).toBe('degraded');
    expect(report.checks.hotlists.every((h) => h.stale)).toBe(true);
    publishSample(nc, prefix);
    await nc.flush();
    await waitFor(() => out.alerts.length >= REFERENCE.length, 20_000, () => `alerts: ${out.alerts.length} of ${REFERENCE.length}`);
    const alerts = out.alerts.map((m) => m.json<{ stale?: boolean; hotlistAgeS: number }>());
    expect(alerts.every((a) => a.stale === true)).toBe(true);
  });

  it('serves /healthz ok and /metrics while connected, and gives the same alerts with workers 0 and workers 2', async () => {
    const p0 = uniquePrefix();
    const p2 = uniquePrefix();
    const out0 = outputsOf(nc, p0);
    const out2 = outputsOf(nc, p2);
    await nc.flush();
    const s0 = await start(p0, {}, ['--workers', '0']);
    const s2 = await start(p2, {}, ['--workers', '2']);

    for (const s of [s0, s2]) {
      const health = await s.http('/healthz');
      expect(health.status).toBe(200);
      expect((JSON.parse(health.body) as { status: string }).status).toBe('ok');
      const metrics = await s.http('/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.body).toContain('platesieve_reads_total');
    }

    // msgpack: most reads take the core's fast path, on the main thread and in the workers.
    publishSample(nc, p0, pack);
    publishSample(nc, p2, pack);
    await nc.flush();
    await waitFor(
      () => out0.records().length >= VALID.length && out2.records().length >= VALID.length,
      20_000,
      () => `records workers 0: ${out0.records().length}, workers 2: ${out2.records().length} (of ${VALID.length})`,
    );
    await sleep(300);
    expect(out0.alertKeys()).toEqual(REFERENCE);
    expect(out2.alertKeys()).toEqual(out0.alertKeys());
    expect(await s0.metric('platesieve_reads_total')).toBe(SAMPLE.length);
    expect(await s2.metric('platesieve_reads_total')).toBe(SAMPLE.length);
    const fast0 = await s0.metric('platesieve_fast_path_reads_total');
    expect(fast0).toBeGreaterThan(SAMPLE.length / 2);
    expect(await s2.metric('platesieve_fast_path_reads_total')).toBe(fast0);
  });

  it('refuses to start on an invalid configuration with exit code 2', async () => {
    await expect(
      startServiceProcess({ natsUrl: server.url, config: { pool: { workers: 'x' } }, readyTimeoutMs: 5_000 }),
    ).rejects.toThrow(/exited during start \(2\)/);
  });
});
