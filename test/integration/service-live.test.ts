/**
 * Live hotlist changes through the key-value bucket: made with `platesieve hotlist add |
 * cancel | remove`, audited, applied by the running service within a second, kept across a
 * restart, and compacted into the next compiled version on reload.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { NatsConnection } from 'nats';
import { describe, expect, it } from 'vitest';
import { hostname, userInfo } from 'node:os';
import { writeLive } from '../helpers/live.js';
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
    const settle = (id: string) => waitFor(() => recordOf(id) !== undefined, 5000, () => `record of ${id}`);

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
    await waitFor(() => svc.logged('hotlist swapped'), 20_000, () => 'hotlist swapped');
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

    const lines = (await readFile(audit, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { action: string; actor: string; case?: string }).filter((l) => l.action !== 'access.direct');
    expect(lines.map((l) => l.action)).toEqual(['log.created', 'entry.add', 'partial.add', 'entry.remove', 'entry.remove']);
    // No NATS identity on this server: the OS login is the actor; the typed --actor is a note.
    expect(lines[2]).toMatchObject({ actor: `${userInfo().username}@${hostname()}`, case: '26-77', details: { actorSource: 'os-user', statedActor: 'det.ortiz' } });
    const verified = await run(process.execPath, [CLI, 'audit', 'verify', audit]);
    expect(verified.stdout).toMatch(/OK, 9 records/); // 5, and an access.direct record beside each of the 4 changes
  }, 90_000);

  it('applies the good entries written straight to the bucket and logs the malformed or forbidden ones', async () => {
    const prefix = uniquePrefix();
    const bucket = `b${prefix}`;
    const put = (key: string, value: unknown) => writeLive(nc, bucket, key, value, { actor: 'ops.kim' });
    await put('entry.BAD1', { plate: 'AB#12', list: 'BOLO' });
    await put('entry.BAD2', { plate: 'ICE123', list: 'ICE_DETAINER' });
    await put('entry.GOOD1', { plate: 'GD1234', list: 'STOLEN_VEHICLE' });
    const svc = await startServiceProcess({ natsUrl: server.url, config: { subjects: { prefix }, liveUpdates: { bucket, required: true } } });
    const alerts = collect(nc, `${prefix}.alerts.>`).messages;
    nc.publish(`${prefix}.reads.cam`, enc.encode(JSON.stringify({ id: 'g', plate: 'GD1234', cameraId: 'c' })));
    nc.publish(`${prefix}.reads.cam`, enc.encode(JSON.stringify({ id: 'i', plate: 'ICE123', cameraId: 'c' })));
    await waitFor(() => alerts.length > 0, 5000, () => `the good live entry alerted; service log: ${JSON.stringify(svc.logs.slice(-15))}`);
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

  it('stops matching file and live entries at their expires, and leaves them out of the next build', async () => {
    const prefix = uniquePrefix();
    const bucket = `b${prefix}`;
    const file = join(tmp.dir, `${prefix}.ndjson`);
    // Far enough ahead for the service to start and answer the first reads before it.
    const expires = Date.now() + 12_000;
    const entries = [
      { id: 'KEEP', plate: 'KP1234', list: 'STOLEN_VEHICLE' },
      { id: 'FEXP', plate: 'FX1234', list: 'STOLEN_VEHICLE', expires },
    ];
    await writeFile(file, entries.map((e) => JSON.stringify(e)).join('\n') + '\n');
    await writeLive(nc, bucket, 'entry.LEXP', { plate: 'LX1234', list: 'STOLEN_VEHICLE', expires }, { actor: 'ops.kim' });
    const svc = await startServiceProcess({
      natsUrl: server.url,
      config: { subjects: { prefix }, hotlists: [{ file, maxAgeHours: 1e6, refreshMinutes: 0 }], liveUpdates: { bucket, required: true }, suppression: { windowMs: 0 } },
    });
    const alerts = collect(nc, `${prefix}.alerts.>`).messages;
    const records = collect(nc, `${prefix}.records.>`).messages;
    let n = 0;
    const read = (plate: string): string => {
      const id = `r${n++}`;
      nc.publish(`${prefix}.reads.cam`, enc.encode(JSON.stringify({ id, plate, cameraId: id })));
      return id;
    };
    const recordOf = (id: string) => records.flatMap((m) => recordsOf(m)).find((r) => r.id === id);
    const settled = (ids: string[]) => waitFor(() => ids.every((id) => recordOf(id) !== undefined), 10_000, () => `records of ${ids.join(', ')}`);
    const alerted = (ids: string[]) => new Set(alerts.map((m) => JSON.parse(dec.decode(m.data)) as Alert).filter((a) => ids.includes(a.readId)).map((a) => a.entryId));

    const before = [read('KP1234'), read('FX1234'), read('LX1234')];
    await settled(before);
    expect(Date.now(), 'the reads before expiry were answered before it').toBeLessThan(expires);
    expect(alerted(before)).toEqual(new Set(['KEEP', 'FEXP', 'LEXP']));

    await sleep(expires - Date.now() + 200);
    const after = [read('KP1234'), read('FX1234'), read('LX1234')];
    await settled(after);
    expect(alerted(after)).toEqual(new Set(['KEEP']));
    expect(recordOf(after[1])!.hit).toBe(false);
    expect(recordOf(after[2])!.hit).toBe(false);

    // The next build holds neither: the file's row is dropped at load, the live one not compacted.
    svc.child.kill('SIGHUP');
    await waitFor(() => svc.logged('hotlist swapped'), 20_000, () => 'hotlist swapped');
    expect(svc.logs.find((l) => l.msg === 'hotlist swapped')!.entries).toBe(1);
    expect(svc.logs.some((l) => l.msg === 'live hotlist entry lapsed' && l.id === 'LEXP')).toBe(true);
  }, 60_000);

  it('refuses a live entry whose expires is already past when written, with an error log and one audit record', async () => {
    const prefix = uniquePrefix();
    const bucket = `b${prefix}`;
    const audit = join(tmp.dir, `${prefix}.audit.jsonl`);
    const svc = await startServiceProcess({
      natsUrl: server.url,
      config: { subjects: { prefix }, liveUpdates: { bucket, required: true }, audit: { file: audit, actor: 'svc' }, suppression: { windowMs: 0 } },
    });
    await writeLive(nc, bucket, 'entry.PAST', { plate: 'PS1234', list: 'STOLEN_VEHICLE', expires: '2020-01-01' }, { actor: 'ops.kim' });
    await waitFor(() => svc.logs.some((l) => l.msg === 'live hotlist entry refused' && l.id === 'PAST'), 10_000, () => 'the refusal logged');
    // Another change rebuilds the overlay: the refusal is not logged or audited again.
    await writeLive(nc, bucket, 'entry.GOOD', { plate: 'GD9876', list: 'STOLEN_VEHICLE' }, { actor: 'ops.kim' });
    const alerts = collect(nc, `${prefix}.alerts.>`).messages;
    await waitFor(
      async () => {
        nc.publish(`${prefix}.reads.cam`, enc.encode(JSON.stringify({ id: `g${alerts.length}`, plate: 'GD9876', cameraId: 'c' })));
        await sleep(100);
        return alerts.length > 0;
      },
      10_000,
      () => 'the good entry in force',
    );
    nc.publish(`${prefix}.reads.cam`, enc.encode(JSON.stringify({ id: 'past', plate: 'PS1234', cameraId: 'c' })));
    nc.publish(`${prefix}.reads.cam`, enc.encode(JSON.stringify({ id: 'last', plate: 'GD9876', cameraId: 'c' })));
    await waitFor(() => alerts.some((m) => (JSON.parse(dec.decode(m.data)) as Alert).readId === 'last'), 10_000, () => 'the last read answered');
    expect(alerts.map((m) => (JSON.parse(dec.decode(m.data)) as Alert).entryId).filter((id) => id === 'PAST')).toEqual([]);
    const refusals = svc.logs.filter((l) => l.msg === 'live hotlist entry refused' && l.id === 'PAST');
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({ level: 50, code: 'EXPIRED' });
    await svc.stop('SIGTERM');
    const lines = (await readFile(audit, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { action: string; outcome: string; subject?: { entryId?: string }; reason?: string });
    const audited = lines.filter((l) => l.action === 'hotlist.refused' && l.subject?.entryId === 'PAST');
    expect(audited).toHaveLength(1);
    // The refusal names who wrote the entry.
    expect(audited[0]).toMatchObject({ outcome: 'refused', details: { writer: 'ops.kim' } });
    expect(audited[0].reason).toMatch(/already past/);
  }, 60_000);

  it('refuses `hotlist add` with an expires already past: exit 2, nothing written', async () => {
    const prefix = uniquePrefix();
    const bucket = `b${prefix}`;
    const audit = join(tmp.dir, `${prefix}.audit.jsonl`);
    const err = await cli(bucket, audit, 'add', '--id', 'OLD1', '--plate', 'OLD123', '--list', 'STOLEN_VEHICLE', '--expires', '2020-01-01').catch((e: { code: number; stderr: string }) => e);
    expect((err as { code: number }).code).toBe(2);
    expect((err as { stderr: string }).stderr).toMatch(/--expires "2020-01-01": 2020-01-02T00:00:00\.000Z is already past/);
    const kv = await nc.jetstream().views.kv(bucket, { history: 10 });
    expect(await kv.get('entry.OLD1')).toBeNull();
    // A date-only expires of today is in force through the day: accepted.
    const today = new Date().toISOString().slice(0, 10);
    const ok = await cli(bucket, audit, 'add', '--id', 'NEW1', '--plate', 'NEW123', '--list', 'STOLEN_VEHICLE', '--expires', today);
    expect(ok.stdout).toMatch(/added NEW1/);
  }, 30_000);
});
