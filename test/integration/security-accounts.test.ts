/**
 * docs/examples/nats-accounts.conf on a real nats-server (docs/security.md): cameras only
 * publish reads; the service, with its own credential and inbox prefix, runs end to end in
 * JetStream mode with live entries, but cannot delete streams or write the bucket; operators
 * change the bucket through the CLI and see nothing else. `platesieve store`, under its own
 * user against a real PostgreSQL, stores alerts, records dispositions (answering on `_INBOX.`
 * subjects, dead-lettering refusals), publishes historical alerts and escalations, without one
 * permission violation, and cannot read or publish reads; the operations API's user follows
 * alerts, escalations and dispositions and writes the bucket, and nothing else.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, headers, type NatsConnection } from 'nats';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServiceConfig, type ServiceConfig } from '../../matcher/service/config.js';
import { putLive } from '../../matcher/service/live-write.js';
import { ensureStreams } from '../../matcher/service/streams.js';
import { addHold } from '../../matcher/store/holds.js';
import { startStore, type RunningStore } from '../../matcher/store/service.js';
import { ROOT, ensureBuilt } from '../helpers/cli.js';
import { startNatsServer, type NatsServerHandle } from '../helpers/nats-server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { runCliEnv } from '../helpers/secrets.js';
import { collect, killAllServices, startServiceProcess, tempDir, waitFor, type ServiceProcess, type TempDir } from '../helpers/service-process.js';

const EXAMPLE = join(ROOT, 'docs/examples/nats-accounts.conf');
const PASSWORDS = { CAMERA_PASS: 'cam-5e1f', PLATESIEVE_PASS: 'svc-90ab', OPERATOR_PASS: 'ops-77c2', STORE_PASS: 'sto-41d8', OPS_PASS: 'api-c3a0', ALPR_ADMIN_PASS: 'adm-3d4e' };
const SERVICE_CONFIG = {
  nats: { user: 'platesieve', inboxPrefix: '_INBOX_platesieve' },
  mode: 'jetstream',
  jetstream: { createStreams: false },
  liveUpdates: { bucket: 'alpr-hotlist', required: true },
  // Followed under the service's read-only permissions on the bucket.
  holds: { bucket: 'alpr-holds', required: true },
  suppression: { windowMs: 0 },
};
const enc = new TextEncoder();
/** The agency (ORI) of the sample entry E000026 (926LUT): reads of it alert on its own subject, no shared copy. */
const AGENCY = 'CO0570800';
/** A log line of the in-process store. */
interface StoreLog { level: number; msg: string; [key: string]: unknown }

/**
 * `platesieve store`'s configuration under `nats` (the server and a credential): the output
 * streams' and the buckets' default names, as the example file assumes, and a 1.2 s
 * confirmation window for stolen vehicles swept every 0.2 s (test/integration/escalation.test.ts).
 */
function storeConfig(url: string, nats: { user: string; pass: string; inboxPrefix?: string }, createStreams: boolean): ServiceConfig {
  const base = loadServiceConfig(undefined, { nats: [url], mode: 'jetstream' }, {}, { requireHotlists: false });
  return {
    ...base,
    nats: { ...base.nats, ...nats },
    jetstream: { ...base.jetstream, createStreams },
    metrics: null,
    liveUpdates: { bucket: 'alpr-hotlist', required: true },
    holds: { bucket: 'alpr-holds', required: true },
    escalation: { ...base.escalation, lists: { STOLEN_VEHICLE: 0.02 }, checkSeconds: 0.2 },
    store: { ...base.store, batchWaitMs: 50, retentionEveryMinutes: 0 },
  };
}

/** The nats-server log's permission violations of one user (the server logs each as an error). */
function violations(logFile: string, user: string): string[] {
  let text = '';
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter((l) => /Violation/.test(l) && l.includes(`User "${user}"`));
}

/** The error a subscription ends with (the server refuses it asynchronously). */
async function subscriptionError(nc: NatsConnection, subject: string): Promise<string> {
  const sub = nc.subscribe(subject);
  try {
    for await (const m of sub) void m;
  } catch (err) {
    return (err as Error).message;
  }
  return 'no error';
}

describe('NATS accounts and permissions of docs/examples/nats-accounts.conf', () => {
  let server: NatsServerHandle;
  let admin: NatsConnection;
  let svc: ServiceProcess;
  let tmp: TempDir;
  let db: TestDatabase;
  let pool: pg.Pool;
  let store: RunningStore | undefined;
  let natsLog: string;
  const storeLogs: StoreLog[] = [];
  const as = (user: string, pass: string, extra = {}) => connect({ servers: server.url, user, pass, ...extra });
  const rows = async (sql: string, params: unknown[] = []): Promise<number> => (await pool.query(sql, params)).rowCount ?? 0;

  beforeAll(async () => {
    ensureBuilt();
    tmp = await tempDir();
    natsLog = join(tmp.dir, 'nats-server.log');
    server = await startNatsServer({ config: `${readFileSync(EXAMPLE, 'utf8')}\nlog_file: ${JSON.stringify(natsLog)}\n`, env: PASSWORDS });
    admin = await as('alpr-admin', PASSWORDS.ALPR_ADMIN_PASS);
    // The administrator creates what the service is not allowed to: streams, consumer, bucket.
    const config = loadServiceConfig(undefined, { hotlists: ['unused.csv'], mode: 'jetstream' }, {});
    await ensureStreams(admin, config, pino({ level: 'silent' }));
    await admin.jetstream().views.kv('alpr-hotlist', { history: 10 });
    await admin.jetstream().views.kv('alpr-holds', { history: 1 });
    svc = await startServiceProcess({ natsUrl: server.url, config: SERVICE_CONFIG, env: { PLATESIEVE_NATS_PASS: PASSWORDS.PLATESIEVE_PASS } });

    // The store's streams and consumers, created as docs/security.md says: one start of the
    // store with the administrator's credential and createStreams true, then its own user.
    db = await createTestDatabase('security_accounts');
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    const first = await startStore(storeConfig(server.url, { user: 'alpr-admin', pass: PASSWORDS.ALPR_ADMIN_PASS }, true), pino({ level: 'silent' }), { dbUrl: db.url });
    await first.stop();
    const logger = pino({ level: 'info' }, { write: (line: string) => void storeLogs.push(JSON.parse(line) as StoreLog) });
    store = await startStore(storeConfig(server.url, { user: 'store', pass: PASSWORDS.STORE_PASS, inboxPrefix: '_INBOX_store' }, false), logger, { dbUrl: db.url });
  }, 120_000);
  afterAll(async () => {
    await store?.stop();
    await pool?.end();
    await db?.drop();
    await killAllServices();
    await admin?.close();
    await server?.stop();
    await tmp?.cleanup();
  });

  it('a camera publishes reads, and the service (its own credential) alerts on them end to end', async () => {
    const camera = await as('camera', PASSWORDS.CAMERA_PASS);
    try {
      const alerts = collect(admin, 'alpr.alerts.>').messages;
      const records = collect(admin, 'alpr.records.>').messages;
      await admin.flush();
      camera.publish('alpr.reads.cam1', enc.encode(JSON.stringify({ id: 'acc-r1', plate: '926LUT', state: 'CO', cameraId: 'cam1' })));
      await camera.flush();
      await waitFor(() => alerts.length === 1 && records.length === 1, 15_000, 'alert and record of acc-r1');
      expect(alerts[0].json<{ readId: string; entryId: string }>()).toMatchObject({ readId: 'acc-r1', entryId: 'E000026' });
    } finally {
      await camera.close();
    }
  });

  it('a camera cannot subscribe to alerts, records or reads (permission violation)', async () => {
    for (const subject of ['alpr.alerts.>', 'alpr.records.>', 'alpr.reads.>']) {
      const camera = await as('camera', PASSWORDS.CAMERA_PASS);
      try {
        expect(await subscriptionError(camera, subject)).toMatch(new RegExp(`Permissions Violation for Subscription to "${subject.replace(/[.>]/g, '\\$&')}"`));
      } finally {
        await camera.close();
      }
    }
  });

  it('the service cannot delete the reads stream (or any stream) nor write the bucket', async () => {
    const service = await as('platesieve', PASSWORDS.PLATESIEVE_PASS, { inboxPrefix: '_INBOX_platesieve' });
    try {
      const jsm = await service.jetstreamManager();
      await expect(jsm.streams.delete('ALPR_READS')).rejects.toThrow(/Permissions Violation for Publish to "\$JS\.API\.STREAM\.DELETE\.ALPR_READS"/);
      await expect(jsm.streams.delete('ALPR_OUT_ALERTS')).rejects.toThrow(/Permissions Violation/);
      const kv = await service.jetstream().views.kv('alpr-hotlist');
      await expect(kv.put('entry.FORGED', JSON.stringify({ plate: 'X1', list: 'BOLO' }))).rejects.toThrow(/Permissions Violation/);
      expect((await (await admin.jetstreamManager()).streams.info('ALPR_READS')).config.name).toBe('ALPR_READS');
    } finally {
      await service.close();
    }
  });

  it('an operator adds an entry through the CLI, which the service applies; the operator cannot read reads or the service replies', async () => {
    const env = { PLATESIEVE_NATS_USER: 'operator', PLATESIEVE_NATS_PASS: PASSWORDS.OPERATOR_PASS };
    const audit = join(tmp.dir, 'ops.audit.jsonl');
    const common = ['--nats', server.url, '--audit', audit, '--actor', 'det.ortiz'];
    const add = await runCliEnv(['hotlist', 'add', ...common, '--id', 'LIVE1', '--plate', 'LV0001', '--list', 'STOLEN_VEHICLE'], env);
    expect(add.stderr).toBe('');
    const list = await runCliEnv(['hotlist', 'list', '--nats', server.url], env);
    expect(list.stdout).toContain('entry   LIVE1  LV0001');

    const alerts = collect(admin, 'alpr.alerts.>').messages;
    await admin.flush();
    const camera = await as('camera', PASSWORDS.CAMERA_PASS);
    try {
      // Live changes apply within a second; read until the entry alerts.
      await waitFor(
        async () => {
          camera.publish('alpr.reads.cam2', enc.encode(JSON.stringify({ id: `acc-l${Date.now()}`, plate: 'LV0001', cameraId: 'cam2' })));
          await camera.flush();
          await new Promise((r) => setTimeout(r, 200));
          return alerts.some((m) => m.json<{ entryId: string }>().entryId === 'LIVE1');
        },
        15_000,
        'an alert on the live entry',
      );
    } finally {
      await camera.close();
    }

    for (const subject of ['alpr.reads.>', '_INBOX_platesieve.>', 'alpr.alerts.>']) {
      const operator = await as('operator', PASSWORDS.OPERATOR_PASS);
      try {
        expect(await subscriptionError(operator, subject)).toMatch(/Permissions Violation for Subscription/);
      } finally {
        await operator.close();
      }
    }
    expect(svc.logs.filter((l) => l.level >= 50)).toEqual([]);
  });

  it('the store, under its own user, stores alerts, records and answers dispositions, dead-letters refusals, escalates and mirrors holds', async () => {
    const escalations = collect(admin, 'alpr.escalations.>').messages;
    const alerts = collect(admin, `alpr.alerts.${AGENCY}`).messages;
    // Answers come on the Platesieve-Reply-To subject: an `_INBOX.` one, the only kind the store may publish to.
    const answers = collect(admin, '_INBOX.acc-answers.>').messages;
    const disposed = collect(admin, 'alpr.disposed.>').messages;
    await admin.flush();
    const camera = await as('camera', PASSWORDS.CAMERA_PASS);
    try {
      for (const id of ['acc-s1', 'acc-s2']) camera.publish('alpr.reads.cam3', enc.encode(JSON.stringify({ id, plate: '926LUT', state: 'CO', cameraId: 'cam3', agency: AGENCY })));
      await camera.flush();
    } finally {
      await camera.close();
    }
    await waitFor(() => ['acc-s1', 'acc-s2'].every((r) => alerts.some((m) => m.json<{ readId: string }>().readId === r)), 15_000, 'alerts of acc-s1 and acc-s2');
    const alertOf = (readId: string): string => alerts.map((m) => m.json<{ readId: string; alertId: string }>()).find((a) => a.readId === readId)!.alertId;
    const [pending, answered] = [alertOf('acc-s1'), alertOf('acc-s2')];
    await waitFor(async () => (await rows('SELECT 1 FROM platesieve.alerts WHERE alert_id = ANY($1)', [[pending, answered]])) === 2, 20_000, 'both alerts stored by the store');

    // A disposition on its agency's subject is recorded and answered.
    const js = admin.jetstream();
    const replyTo = (n: number) => {
      const h = headers();
      h.set('Platesieve-Reply-To', `_INBOX.acc-answers.${n}`);
      return h;
    };
    const disposition = { alertId: answered, outcome: 'rejected', reason: 'misread', by: 'officer 7', at: Date.now() };
    await js.publish(`alpr.dispositions.${AGENCY}`, enc.encode(JSON.stringify(disposition)), { headers: replyTo(1) });
    await waitFor(async () => (await rows(`SELECT 1 FROM platesieve.dispositions WHERE alert_id = $1 AND source = 'nats'`, [answered])) === 1, 20_000, 'disposition recorded');
    await waitFor(() => answers.some((m) => m.subject === '_INBOX.acc-answers.1'), 15_000, 'answer to the disposition');
    expect(answers.find((m) => m.subject === '_INBOX.acc-answers.1')!.json()).toEqual({ ok: true, alertId: answered });
    // ...and announced to consoles and integrators on alpr.disposed.<agency>.
    await waitFor(() => disposed.length === 1, 15_000, 'event of the recorded disposition');
    expect(disposed[0].subject).toBe(`alpr.disposed.${AGENCY}`);
    expect(disposed[0].json()).toMatchObject({ alertId: answered, outcome: 'rejected', reason: 'misread', by: 'officer 7', source: 'nats', agency: AGENCY });

    // One on another agency's subject is refused: dead-lettered (which the store then stores too) and answered.
    await js.publish('alpr.dispositions.CO0000000', enc.encode(JSON.stringify({ ...disposition, alertId: pending })), { headers: replyTo(2) });
    await waitFor(() => answers.some((m) => m.subject === '_INBOX.acc-answers.2'), 20_000, 'answer to the refused disposition');
    expect(answers.find((m) => m.subject === '_INBOX.acc-answers.2')!.json()).toMatchObject({ ok: false, alertId: pending, problem: 'AGENCY_MISMATCH' });
    await waitFor(async () => (await rows(`SELECT 1 FROM platesieve.deadletters WHERE code = 'AGENCY_MISMATCH'`)) === 1, 20_000, 'dead letter of the refusal stored');

    // The alert left without a disposition is escalated past its 1.2 s window.
    await waitFor(() => escalations.some((m) => m.json<{ alertId: string }>().alertId === pending), 20_000, 'escalation of the pending alert');
    const event = escalations.find((m) => m.json<{ alertId: string }>().alertId === pending)!;
    expect(event.subject).toBe(`alpr.escalations.${AGENCY}`);
    expect(event.json()).toMatchObject({ alertId: pending, agency: AGENCY, list: 'STOLEN_VEHICLE', window: 'list', windowMs: 1_200 });

    // A plate hold placed in the database is mirrored into `alpr-holds` (the key `active`) for the services.
    const hold = await addHold(pool, { case: '26-0002', purpose: 'investigation', reason: 'evidence of the theft', plate: '926LUT' }, 'det.ortiz');
    const holds = await admin.jetstream().views.kv('alpr-holds');
    await waitFor(
      async () => ((await holds.get('active'))?.json<{ holds: Array<{ holdId: string }> }>().holds ?? []).some((h) => h.holdId === hold.holdId),
      20_000,
      'the hold mirrored into alpr-holds',
    );
  });

  it('the ops user follows alerts and writes the bucket; the store publishes the historical alert of the entry it added', async () => {
    const ops = await as('ops', PASSWORDS.OPS_PASS, { inboxPrefix: '_INBOX_ops' });
    const camera = await as('camera', PASSWORDS.CAMERA_PASS);
    try {
      // The console's live stream: alerts, escalations and dispositions.
      const seen = collect(ops, 'alpr.alerts.>').messages;
      collect(ops, 'alpr.escalations.>');
      collect(ops, 'alpr.disposed.>');
      await ops.flush();

      // A read that hits nothing yet, stored by the store...
      camera.publish('alpr.reads.cam4', enc.encode(JSON.stringify({ id: 'acc-h1', plate: 'HX0001', state: 'CO', cameraId: 'cam4', agency: AGENCY })));
      await camera.flush();
      await waitFor(async () => (await rows(`SELECT 1 FROM platesieve.reads WHERE id = 'acc-h1'`)) === 1, 20_000, 'read acc-h1 stored');

      // ...then an entry for its plate, put into the bucket the way the operations API does it.
      const kv = await ops.jetstream().views.kv('alpr-hotlist', { history: 10 });
      expect(await kv.get('entry.HIST1')).toBeNull();
      const entry = { id: 'HIST1', plate: 'HX0001', state: 'CO', list: 'STOLEN_VEHICLE', priority: 3, source: 'LOCAL', entered: Date.now() };
      await putLive(ops.jetstream(), 'alpr-hotlist', 'entry.HIST1', JSON.stringify(entry), { actor: 'det.ortiz', purpose: 'investigation', case: '26-0001' });
      expect((await kv.get('entry.HIST1'))?.json<{ plate: string }>().plate).toBe('HX0001');

      // The store finds the stored read, publishes its historical alert (acknowledged by
      // JetStream) and stores it; the ops user's subscription sees it.
      await waitFor(async () => (await rows(`SELECT 1 FROM platesieve.alerts WHERE read_id = 'acc-h1' AND entry_id = 'HIST1' AND historical`)) === 1, 30_000, 'historical alert of acc-h1 stored');
      await waitFor(() => seen.some((m) => m.json<{ readId: string; historical?: boolean }>().readId === 'acc-h1'), 15_000, 'historical alert seen by the ops user');
    } finally {
      await camera.close();
      await ops.close();
    }

    // Everything so far, as the store's user: not one permission violation, no error logged.
    expect(violations(natsLog, 'store')).toEqual([]);
    expect(violations(natsLog, 'ops')).toEqual([]);
    // Warnings only of what the test made happen (a refusal, escalations): none of a bucket or answer it could not reach.
    const expected = new Set(['disposition refused: dead-lettered', 'alert escalated: no disposition within its confirmation window']);
    expect(storeLogs.filter((l) => l.level >= 40 && !expected.has(l.msg))).toEqual([]);
    expect(storeLogs.some((l) => l.msg === 'store started')).toBe(true);
  });

  it('the store user cannot read or publish reads, read the service replies, manage streams or write the live bucket', async () => {
    const storeNc = await as('store', PASSWORDS.STORE_PASS, { inboxPrefix: '_INBOX_store' });
    try {
      await expect(storeNc.jetstream().publish('alpr.reads.cam9', enc.encode('{}'))).rejects.toThrow(/Permissions Violation for Publish to "alpr\.reads\.cam9"/);
      await expect(storeNc.jetstream().publish('alpr.records.hit.default', enc.encode('{}'))).rejects.toThrow(/Permissions Violation for Publish/);
      const jsm = await storeNc.jetstreamManager();
      await expect(jsm.streams.delete('ALPR_OUT_ALERTS')).rejects.toThrow(/Permissions Violation for Publish to "\$JS\.API\.STREAM\.DELETE\.ALPR_OUT_ALERTS"/);
      await expect(jsm.consumers.add('ALPR_READS', { durable_name: 'sneak' })).rejects.toThrow(/Permissions Violation/);
      await expect(jsm.consumers.info('ALPR_READS', 'platesieve')).rejects.toThrow(/Permissions Violation/);
      const kv = await storeNc.jetstream().views.kv('alpr-hotlist');
      await expect(kv.put('entry.FORGED', JSON.stringify({ plate: 'X1', list: 'BOLO' }))).rejects.toThrow(/Permissions Violation/);
    } finally {
      await storeNc.close();
    }
    for (const subject of ['alpr.reads.>', 'alpr.records.>', '_INBOX_platesieve.>', '_INBOX.>']) {
      const storeNc = await as('store', PASSWORDS.STORE_PASS, { inboxPrefix: '_INBOX_store' });
      try {
        expect(await subscriptionError(storeNc, subject)).toMatch(/Permissions Violation for Subscription/);
      } finally {
        await storeNc.close();
      }
    }
  });

  it('the ops user cannot publish alerts or dispositions, read reads, records or other replies, or manage streams', async () => {
    const ops = await as('ops', PASSWORDS.OPS_PASS, { inboxPrefix: '_INBOX_ops' });
    try {
      await expect(ops.jetstream().publish(`alpr.alerts.${AGENCY}`, enc.encode('{}'))).rejects.toThrow(new RegExp(`Permissions Violation for Publish to "alpr\\.alerts\\.${AGENCY}"`));
      await expect(ops.jetstream().publish(`alpr.dispositions.${AGENCY}`, enc.encode('{}'))).rejects.toThrow(/Permissions Violation for Publish/);
      await expect(ops.jetstream().publish('alpr.reads.cam9', enc.encode('{}'))).rejects.toThrow(/Permissions Violation for Publish/);
      const jsm = await ops.jetstreamManager();
      await expect(jsm.streams.delete('KV_alpr-hotlist')).rejects.toThrow(/Permissions Violation/);
    } finally {
      await ops.close();
    }
    for (const subject of ['alpr.reads.>', 'alpr.records.>', '_INBOX_store.>', '_INBOX_platesieve.>', '_INBOX.>']) {
      const ops = await as('ops', PASSWORDS.OPS_PASS, { inboxPrefix: '_INBOX_ops' });
      try {
        expect(await subscriptionError(ops, subject)).toMatch(/Permissions Violation for Subscription/);
      } finally {
        await ops.close();
      }
    }
  });
});
