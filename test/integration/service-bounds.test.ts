/**
 * `platesieve serve` in core mode against a real nats-server, fed reads that break the input
 * bounds (issue 9, docs/wire-format.md "Input bounds") among valid ones: a hit read with a
 * 5 kB agency (its alert subject would overrun the server's control line, and the server
 * would close the connection), a field nested 10 000 deep (JSON.stringify throws; msgpackr
 * overflows its stack) and a `ts` far outside the accepted window. Each is dead-lettered
 * with its code; the connection stays up and every valid read gets its record.
 * Needs the build (`npm run build`) and nats-server on PATH.
 */
import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { uniquePrefix } from '../helpers/nats-server.js';
import { collect, recordsOf, serviceSuite, startServiceProcess, waitFor, type ServiceSuite } from '../helpers/service-process.js';

const enc = new TextEncoder();

describe('platesieve serve (core mode): input bounds', () => {
  let suite: ServiceSuite;
  serviceSuite({ jetstream: false }, (s) => {
    suite = s;
  });

  it('dead-letters a 5 kB agency, a 10 000-deep field and a bad ts, and keeps its connection and every valid record', async () => {
    const { nc, server } = suite;
    const prefix = uniquePrefix();
    const records = collect(nc, `${prefix}.records.>`).messages;
    const alerts = collect(nc, `${prefix}.alerts.>`).messages;
    const deadletters = collect(nc, `${prefix}.deadletter`).messages;
    await nc.flush();
    const svc = await startServiceProcess({
      natsUrl: server.url,
      config: { subjects: { prefix }, queueGroup: `${prefix}-q`, mode: 'core', suppression: { windowMs: 0 }, pool: { workers: 0, batchSize: 512, batchWaitMs: 20 } },
    });

    const now = Date.now();
    // 468-RME (CO) is on the sample hotlist: a hit publishes an alert on alerts.<agency>.
    const valid = Array.from({ length: 400 }, (_, i) => ({ id: `V${i}`, plate: i % 40 === 0 ? '468-RME' : `ZQ${i}`, state: 'CO', ts: now - i, cameraId: 'CAM-1', agency: 'CO0010000' }));
    const longAgency = (id: string): Record<string, unknown> => ({ id, plate: '468-RME', state: 'CO', ts: now, agency: 'A'.repeat(5000) });
    // JSON: one array message with the three bad reads among ten valid ones.
    const jsonItems = [...valid.slice(0, 4).map((r) => JSON.stringify(r)), JSON.stringify(longAgency('BAD-AGENCY-J')), JSON.stringify(valid[4]),
      `{"id":"BAD-DEEP-J","plate":"ZQ1","x":${'['.repeat(10_000)}1${']'.repeat(10_000)}}`, JSON.stringify(valid[5]),
      JSON.stringify({ id: 'BAD-TS-J', plate: 'ZQ2', ts: 1e20 }), ...valid.slice(6, 10).map((r) => JSON.stringify(r))];
    const jsonMessage = enc.encode(`[${jsonItems.join(',')}]`);
    // msgpack: the same, the deep field written by hand (msgpackr cannot write it).
    const deepRead = Buffer.concat([Buffer.from([0x82, 0xa2]), Buffer.from('id'), Buffer.from([0xaa]), Buffer.from('BAD-DEEP-M'), Buffer.from([0xa1, 0x78]), Buffer.alloc(10_000, 0x91), Buffer.from([0x01])]);
    const packedItems = [...valid.slice(10, 14).map((r) => pack(r)), pack(longAgency('BAD-AGENCY-M')), pack(valid[14]), deepRead, pack(valid[15]),
      pack({ id: 'BAD-TS-M', plate: 'ZQ3', ts: -1 }), ...valid.slice(16, 20).map((r) => pack(r))];
    const packedMessage = Buffer.concat([Buffer.from([0xdc, 0, packedItems.length]), ...packedItems]);

    const subject = `${prefix}.reads.cam`;
    for (let i = 20; i < 200; i++) nc.publish(subject, enc.encode(JSON.stringify(valid[i])));
    nc.publish(subject, jsonMessage);
    nc.publish(subject, packedMessage);
    for (let i = 200; i < 400; i++) nc.publish(subject, pack(valid[i]));
    await nc.flush();

    const got = (): Array<{ id: string }> => records.flatMap(recordsOf);
    await waitFor(
      () => got().length >= valid.length && deadletters.length >= 6,
      30_000,
      () => `records ${got().length}/${valid.length}, dead letters ${deadletters.length}/6; service log: ${JSON.stringify(svc.logs.filter((l) => l.level >= 40).slice(-5))}`,
    );

    // The connection never dropped, and no output was refused.
    expect(svc.logged('NATS disconnected')).toBe(false);
    expect(svc.logs.filter((l) => l.level >= 50)).toEqual([]);
    expect(new Set(got().map((r) => r.id))).toEqual(new Set(valid.map((r) => r.id)));
    expect(got()).toHaveLength(valid.length);
    const dead = deadletters.map((m) => `${m.headers['Platesieve-Code']}@${m.headers['Platesieve-Index']}:${Buffer.from(m.data).equals(Buffer.from(jsonMessage)) ? 'json' : 'msgpack'}`);
    expect(dead.sort()).toEqual(['BAD_FIELD@4:json', 'BAD_FIELD@4:msgpack', 'BAD_TS@8:json', 'BAD_TS@8:msgpack', 'TOO_DEEP@6:json', 'TOO_DEEP@6:msgpack']);
    const reasons: Record<string, string> = { BAD_FIELD: 'agency must be a string of at most 64', TOO_DEEP: 'more than 16 levels deep', BAD_TS: 'outside the accepted window' };
    for (const m of deadletters) expect(m.headers['Platesieve-Reason']).toContain(reasons[m.headers['Platesieve-Code']]);
    // The valid hits alerted on their agency's subject; the 5 kB agency never made one.
    expect(alerts.length).toBeGreaterThan(0);
    expect(new Set(alerts.map((m) => m.subject))).toEqual(new Set([`${prefix}.alerts.CO0010000`]));
  });
});
