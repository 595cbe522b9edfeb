/**
 * Live hotlist changes through the key-value bucket: made with `platesieve hotlist add |
 * cancel | remove`, audited, applied by the running service within a second, kept across a
 * restart, and compacted into the next compiled version on reload.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { NatsConnection } from 'nats';
import { describe, expect, it } from 'vitest';
import { uniquePrefix, type NatsServerHandle } from '../helpers/nats-server.js';
import { CLI, collect, recordsOf, serviceSuite, sleep, startServiceProcess, waitFor, type TempDir } from '../helpers/service-process.js';
import type { Alert } from '../../matcher/index.js';

const run = promisify(execFile);
const enc = new TextEncoder();
const dec = new TextDecoder();

describe('live hotlist updates', () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let tmp: TempDir;
  serviceSuite({ jetstream: true }, (s) => {
    ({ server, nc, tmp } = s);
  });

  const cli = (bucket: string, audit: string, ...args: string[]) =>
    run(process.execPath, [CLI, 'hotlist', ...args, '--nats', server.url, '--bucket', bucket, '--audit', audit, '--actor', 'det.ortiz']);

  it('applies adds, cancellations and removals within a second, audited, across a restart and a reload', async () => {
    const prefix = uniquePrefix();
    const bucket = `b${prefix}`;
    const audit = join(tmp.dir, `${prefix}.audit.jsonl`);
    const config = { subjects: { prefix }, liveUpdates: { bucket, required: true }, suppression: { windowMs: 0 } };
    let svc = await startServiceProcess({ natsUrl: server.url, config });
    const alerts = collect(nc, `${prefix}.alerts.>`).messages;
    const records = collect(nc, `${prefix}.records.>`).messages;
    let n = 0;
    const read = (plate: string): string => {
      const id = `r${n++}`;
      nc.publish(`${prefix}.reads.cam`, enc.encode(JSON.stringify({ id, plate, state: 'CO', cameraId: id })));
      return id;
    };
    const alertsOf = (id: string) => alerts.map((m) => JSON.parse(dec.decode(m.data)) as Alert).filter((a) => a.readId === id);
    const recordOf = (id: string) => records.flatMap((m) => recordsOf(m)).find((r) => r.id === id);
    const settle = (id: string) => waitFor(async () => recordOf(id) !== undefined, 5000, () => `record of ${id}`);

    // A file entry (sample hotlist E000026, plate 926LUT) alerts.
    const fileHit = read('926LUT');
    await settle(fileHit);
    expect(alertsOf(fileHit).map((a) => a.entryId)).toEqual(['E000026']);

    // Live add of a partial entry and a plate entry; cancel of the file entry.
    await cli(bucket, audit, 'add', '--id', 'LIVE1', '--plate', 'LV-0001', '--list', 'STOLEN_VEHICLE');
    await cli(bucket, audit, 'add', '--id', 'PART1', '--pattern', 'Q?Z9*', '--list', 'BOLO', '--case', '26-77', '--purpose', 'ROBBERY', '--expires', '2099-01-01');
    await cli(bucket, audit, 'cancel', '--id', 'E000026', '--reason', 'vehicle recovered');
    await sleep(1000);
    const liveHit = read('LV0001');
    const partialHit = read('QAZ912');
    const cancelled = read('926LUT');
    await settle(cancelled);
    await settle(partialHit);
    expect(alertsOf(liveHit).map((a) => [a.entryId, a.match])).toEqual([['LIVE1', 'exact']]);
    expect(alertsOf(partialHit).map((a) => [a.entryId, a.match, a.case])).toEqual([['PART1', 'partial', '26-77']]);
    expect(alertsOf(liveHit)[0].hotlistVersion).toMatch(/\+live\d+$/);
    expect(alertsOf(cancelled)).toEqual([]);
    expect(recordOf(cancelled)!.hit).toBe(false);

    // A restarted instance reads the bucket before taking reads.
    await svc.stop('SIGTERM');
    svc = await startServiceProcess({ natsUrl: server.url, config });
    const afterRestart = read('LV0001');
    await settle(afterRestart);
    expect(alertsOf(afterRestart).map((a) => a.entryId)).toEqual(['LIVE1']);

    // A reload compacts live changes into the compiled version: no overlay left, same answers.
    svc.child.kill('SIGHUP');
    await waitFor(async () => svc.logged('hotlist swapped'), 20_000, () => 'hotlist swapped');
    const compacted = read('LV0001');
    const stillCancelled = read('926LUT');
    await settle(compacted);
    await settle(stillCancelled);
    expect(alertsOf(compacted).map((a) => a.entryId)).toEqual(['LIVE1']);
    expect(alertsOf(stillCancelled)).toEqual([]);

    // Removal of the live entry.
    await cli(bucket, audit, 'remove', '--id', 'LIVE1', '--reason', 'entered in error');
    await sleep(1000);
    const removed = read('LV0001');
    await settle(removed);
    expect(alertsOf(removed)).toEqual([]);

    const lines = (await readFile(audit, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { action: string; actor: string; case?: string });
    expect(lines.map((l) => l.action)).toEqual(['log.created', 'entry.add', 'partial.add', 'entry.remove', 'entry.remove']);
    expect(lines[2]).toMatchObject({ actor: 'det.ortiz', case: '26-77' });
    const verified = await run(process.execPath, [CLI, 'audit', 'verify', audit]);
    expect(verified.stdout).toMatch(/OK, 5 records/);
  }, 90_000);

  it('applies the good entries written straight to the bucket and logs the malformed or forbidden ones', async () => {
    const prefix = uniquePrefix();
    const bucket = `b${prefix}`;
    const kv = await nc.jetstream().views.kv(bucket, { history: 10 });
    await kv.put('entry.BAD1', JSON.stringify({ plate: 'AB#12', list: 'BOLO' }));
    await kv.put('entry.BAD2', JSON.stringify({ plate: 'ICE123', list: 'ICE_DETAINER' }));
    await kv.put('entry.GOOD1', JSON.stringify({ plate: 'GD1234', list: 'STOLEN_VEHICLE' }));
    const svc = await startServiceProcess({ natsUrl: server.url, config: { subjects: { prefix }, liveUpdates: { bucket, required: true } } });
    const alerts = collect(nc, `${prefix}.alerts.>`).messages;
    nc.publish(`${prefix}.reads.cam`, enc.encode(JSON.stringify({ id: 'g', plate: 'GD1234', cameraId: 'c' })));
    nc.publish(`${prefix}.reads.cam`, enc.encode(JSON.stringify({ id: 'i', plate: 'ICE123', cameraId: 'c' })));
    await waitFor(async () => alerts.length > 0, 5000, () => `the good live entry alerted; service log: ${JSON.stringify(svc.logs.slice(-15))}`);
    await sleep(300);
    expect(alerts.map((m) => (JSON.parse(dec.decode(m.data)) as Alert).entryId)).toEqual(['GOOD1']);
    const refused = svc.logs.filter((l) => l.msg === 'live hotlist entry refused').map((l) => l.id);
    expect(new Set(refused)).toEqual(new Set(['BAD1', 'BAD2']));
  }, 30_000);

  it('refuses a live partial entry for a forbidden purpose, and audits the refusal', async () => {
    const prefix = uniquePrefix();
    const audit = join(tmp.dir, `${prefix}.audit.jsonl`);
    const err = await cli(`b${prefix}`, audit, 'add', '--id', 'BAD1', '--pattern', 'AB?1', '--list', 'BOLO', '--case', '26-1', '--purpose', 'CIVIL_IMMIGRATION', '--expires', '2099-01-01').catch((e: { code: number; stderr: string }) => e);
    expect((err as { code: number }).code).toBe(2);
    expect((err as { stderr: string }).stderr).toMatch(/refused: .*425\.5\(f\)/);
    const lines = (await readFile(audit, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { action: string; outcome: string });
    expect(lines.at(-1)).toMatchObject({ action: 'partial.add', outcome: 'refused' });
  }, 30_000);
});
