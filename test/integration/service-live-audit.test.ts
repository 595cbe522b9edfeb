/**
 * Issue 10, security defect 2: live changes written straight to the key-value bucket were
 * applied without an audit record. Now a service applies only changes that name their writer
 * (`Platesieve-Actor`), audits each one it applies with that writer as the actor, and refuses,
 * logs and audits the others, also at start. The hotlist commands name the NATS identity they
 * connect with (else the OS user@host), never the name typed with --actor.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connect, type NatsConnection } from 'nats';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { writeLive } from '../helpers/live.js';
import { startNatsServer, uniquePrefix, type NatsServerHandle } from '../helpers/nats-server.js';
import { runCliEnv } from '../helpers/secrets.js';
import { CLI, collect, killAllServices, recordsOf, serviceSuite, startServiceProcess, tempDir, waitFor, type ServiceProcess, type TempDir } from '../helpers/service-process.js';
import type { Alert } from '../../matcher/index.js';

const run = promisify(execFile);
const enc = new TextEncoder();
const dec = new TextDecoder();

interface Rec {
  action: string;
  actor: string;
  outcome: string;
  reason?: string;
  purpose?: string;
  case?: string;
  subject?: { key?: string; entryId?: string; plate?: string };
  details?: Record<string, unknown>;
}

async function auditOf(file: string): Promise<Rec[]> {
  return (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Rec);
}

/** Reads on `prefix`, and whether each alerted: `alerting(plate)` publishes one read and waits for its record. */
function reader(nc: NatsConnection, prefix: string) {
  const alerts = collect(nc, `${prefix}.alerts.>`).messages;
  const records = collect(nc, `${prefix}.records.>`).messages;
  let n = 0;
  const alerting = async (plate: string): Promise<string[]> => {
    const id = `r${n++}`;
    nc.publish(`${prefix}.reads.cam`, enc.encode(JSON.stringify({ id, plate, cameraId: id })));
    await waitFor(() => records.flatMap((m) => recordsOf(m)).some((r) => r.id === id), 10_000, () => `record of read ${id}`);
    return alerts.map((m) => JSON.parse(dec.decode(m.data)) as Alert).filter((a) => a.readId === id).map((a) => a.entryId);
  };
  /** Polls until `plate` alerts on `entryId` (a change is in force within a second). */
  const until = (plate: string, entryId: string | undefined): Promise<void> =>
    waitFor(async () => {
      const got = await alerting(plate);
      return entryId === undefined ? got.length === 0 : got.includes(entryId);
    }, 10_000, () => `${plate} ${entryId === undefined ? 'not alerting' : `alerting on ${entryId}`}`);
  return { alerting, until };
}

describe('live changes: attribution and audit', () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let tmp: TempDir;
  serviceSuite({ jetstream: true }, (s) => {
    ({ server, nc, tmp } = s);
  });

  const start = (prefix: string, bucket: string, audit: string): Promise<ServiceProcess> =>
    startServiceProcess({
      natsUrl: server.url,
      config: { subjects: { prefix }, liveUpdates: { bucket, required: true }, audit: { file: audit, actor: 'svc-1' }, suppression: { windowMs: 0 } },
    });

  it('refuses changes without Platesieve-Actor (logged, audited), and applies and audits attributed ones with their writer', async () => {
    const prefix = uniquePrefix();
    const bucket = `b${prefix}`;
    const audit = join(tmp.dir, `${prefix}.audit.jsonl`);
    const svc = await start(prefix, bucket, audit);
    const { alerting, until } = reader(nc, prefix);
    const kv = await nc.jetstream().views.kv(bucket, { history: 10 });

    await writeLive(nc, bucket, 'entry.ATT1', { plate: 'AT1234', list: 'STOLEN_VEHICLE' }, { actor: 'ops.kim', reason: 'theft report', case: '26-101' });
    await until('AT1234', 'ATT1');
    // Straight to the bucket, no header: an add, a cancellation and a removal, none applied.
    await kv.put('entry.NOH1', JSON.stringify({ plate: 'NH1234', list: 'STOLEN_VEHICLE' }));
    await kv.put('cancel.ATT1', JSON.stringify({ by: 'someone', reason: 'typed' }));
    await kv.delete('entry.ATT1');
    // An attributed change after them: once it is in force, so would they be.
    await writeLive(nc, bucket, 'entry.MARK', { plate: 'MK1234', list: 'STOLEN_VEHICLE' }, { actor: 'ops.kim' });
    await until('MK1234', 'MARK');
    expect(await alerting('NH1234')).toEqual([]);
    expect(await alerting('AT1234')).toEqual(['ATT1']);
    const refusedLogs = svc.logs.filter((l) => l.msg === 'live hotlist change refused');
    expect(refusedLogs.map((l) => [l.key, l.code, l.level])).toEqual([
      ['entry.NOH1', 'UNATTRIBUTED', 50],
      ['cancel.ATT1', 'UNATTRIBUTED', 50],
      ['entry.ATT1', 'UNATTRIBUTED', 50],
    ]);

    // Attributed: cancel, lift the cancellation, remove.
    await writeLive(nc, bucket, 'cancel.ATT1', { reason: 'recovered' }, { actor: 'ops.kim' });
    await until('AT1234', undefined);
    await writeLive(nc, bucket, 'cancel.ATT1', null, { actor: 'ops.lee', reason: 'cancelled in error' });
    await until('AT1234', 'ATT1');
    await writeLive(nc, bucket, 'entry.ATT1', null, { actor: 'ops.lee', reason: 'entered in error' });
    await until('AT1234', undefined);
    await svc.stop('SIGTERM');

    const records = await auditOf(audit);
    const refused = records.filter((r) => r.action === 'live.refused');
    expect(refused.map((r) => [r.subject?.key, r.details?.operation, r.details?.code, r.outcome, r.actor])).toEqual([
      ['entry.NOH1', 'PUT', 'UNATTRIBUTED', 'refused', 'svc-1'],
      ['cancel.ATT1', 'PUT', 'UNATTRIBUTED', 'refused', 'svc-1'],
      ['entry.ATT1', 'DEL', 'UNATTRIBUTED', 'refused', 'svc-1'],
    ]);
    expect(refused[0].reason).toMatch(/no Platesieve-Actor header/);
    const applied = records.filter((r) => r.action.startsWith('live.') && r.action !== 'live.refused' && r.subject?.entryId !== 'MARK');
    expect(applied.map((r) => [r.action, r.actor, r.subject?.entryId, r.reason])).toEqual([
      ['live.add', 'ops.kim', 'ATT1', 'theft report'],
      ['live.cancel', 'ops.kim', 'ATT1', 'recovered'],
      ['live.cancel.lift', 'ops.lee', 'ATT1', 'cancelled in error'],
      ['live.remove', 'ops.lee', 'ATT1', 'entered in error'],
    ]);
    expect(applied[0]).toMatchObject({ case: '26-101', subject: { key: 'entry.ATT1', plate: 'AT1234' }, details: { bucket, present: false } });
    expect(typeof applied[0].details?.revision).toBe('number');
    expect(applied[3]).toMatchObject({ subject: { plate: 'AT1234' }, details: { present: true } });
    const verified = await run(process.execPath, [CLI, 'audit', 'verify', audit]);
    expect(verified.stdout).toMatch(/: OK, /);
  }, 60_000);

  it('at start, refuses an unattributed latest value and keeps the last attributed change of its key', async () => {
    const prefix = uniquePrefix();
    const bucket = `b${prefix}`;
    const audit = join(tmp.dir, `${prefix}.audit.jsonl`);
    const kept = await writeLive(nc, bucket, 'entry.KEEP', { plate: 'KP5678', list: 'WANTED' }, { actor: 'ops.kim' });
    const kv = await nc.jetstream().views.kv(bucket, { history: 10 });
    await kv.delete('entry.KEEP');
    await kv.put('entry.NEW1', JSON.stringify({ plate: 'NW5678', list: 'WANTED' }));
    const svc = await start(prefix, bucket, audit);
    const { alerting } = reader(nc, prefix);
    expect(await alerting('KP5678')).toEqual(['KEEP']);
    expect(await alerting('NW5678')).toEqual([]);
    await svc.stop('SIGTERM');

    const records = await auditOf(audit);
    const refused = records.filter((r) => r.action === 'live.refused');
    expect(refused.map((r) => [r.subject?.key, r.details?.operation, r.details?.atStart, r.details?.standing])).toEqual([
      ['entry.KEEP', 'DEL', true, kept],
      ['entry.NEW1', 'PUT', true, undefined],
    ]);
    const added = records.filter((r) => r.action === 'live.add');
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ actor: 'ops.kim', subject: { entryId: 'KEEP' }, details: { revision: kept, atStart: true } });
  }, 60_000);
});

describe('hotlist commands: the actor is the NATS identity', () => {
  const OPS_PASS = 'Ops-5c1d-secret';
  const SVC_PASS = 'Svc-8e2a-secret';
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let tmp: TempDir;
  beforeAll(async () => {
    tmp = await tempDir();
    server = await startNatsServer({
      config: `authorization { users = [ { user: ops, password: ${JSON.stringify(OPS_PASS)} }, { user: svc, password: ${JSON.stringify(SVC_PASS)} } ] }`,
    });
    nc = await connect({ servers: server.url, user: 'svc', pass: SVC_PASS });
  });
  afterEach(async () => {
    await killAllServices();
  });
  afterAll(async () => {
    await killAllServices();
    await nc?.close();
    await server?.stop();
    await tmp?.cleanup();
  });

  it('audits the --nats-user name as the actor in the CLI log and the service log, the typed --actor as a note', async () => {
    const prefix = uniquePrefix();
    const bucket = `b${prefix}`;
    const cliAudit = join(tmp.dir, `${prefix}.cli.audit.jsonl`);
    const svcAudit = join(tmp.dir, `${prefix}.svc.audit.jsonl`);
    const svc = await startServiceProcess({
      natsUrl: `nats://svc:${SVC_PASS}@127.0.0.1:${server.port}`,
      config: { subjects: { prefix }, liveUpdates: { bucket, required: true }, audit: { file: svcAudit, actor: 'svc-1' }, suppression: { windowMs: 0 } },
    });
    const { until } = reader(nc, prefix);
    const cli = async (...args: string[]): Promise<void> => {
      const r = await runCliEnv(['hotlist', ...args, '--nats', `127.0.0.1:${server.port}`, '--nats-user', 'ops', '--bucket', bucket, '--audit', cliAudit, '--actor', 'det.ortiz'], { PLATESIEVE_NATS_PASS: OPS_PASS });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    };
    await cli('add', '--id', 'C1', '--plate', 'CL1234', '--list', 'STOLEN_VEHICLE');
    await until('CL1234', 'C1');
    await cli('cancel', '--id', 'C1', '--reason', 'recovered', '--case', '26-202');
    await until('CL1234', undefined);
    await cli('remove', '--id', 'C1', '--reason', 'done');
    // Changes apply in order: once this one is in force, the removal was taken.
    await writeLive(nc, bucket, 'entry.MARK', { plate: 'MK1234', list: 'STOLEN_VEHICLE' }, { actor: 'ops.kim' });
    await until('MK1234', 'MARK');
    await svc.stop('SIGTERM');

    const cliRecords = (await auditOf(cliAudit)).slice(1).filter((r) => r.action !== 'access.direct');
    expect(cliRecords.map((r) => [r.action, r.actor, r.details?.actorSource, r.details?.statedActor])).toEqual([
      ['entry.add', 'ops', 'nats-user', 'det.ortiz'],
      ['entry.remove', 'ops', 'nats-user', 'det.ortiz'],
      ['entry.remove', 'ops', 'nats-user', 'det.ortiz'],
    ]);
    const svcRecords = (await auditOf(svcAudit)).filter((r) => r.action.startsWith('live.') && r.subject?.entryId === 'C1');
    expect(svcRecords.map((r) => [r.action, r.actor, r.reason, r.case, r.details?.statedActor])).toEqual([
      ['live.add', 'ops', undefined, undefined, 'det.ortiz'],
      ['live.cancel', 'ops', 'recovered', '26-202', 'det.ortiz'],
      ['live.remove', 'ops', 'done', undefined, 'det.ortiz'],
    ]);
  }, 60_000);
});
