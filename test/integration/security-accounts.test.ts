/**
 * docs/examples/nats-accounts.conf on a real nats-server (docs/security.md): cameras only
 * publish reads; the service, with its own credential and inbox prefix, runs end to end in
 * JetStream mode with live entries, but cannot delete streams or write the bucket; operators
 * change the bucket through the CLI and see nothing else.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServiceConfig } from '../../matcher/service/config.js';
import { ensureStreams } from '../../matcher/service/streams.js';
import { ROOT, ensureBuilt } from '../helpers/cli.js';
import { startNatsServer, type NatsServerHandle } from '../helpers/nats-server.js';
import { runCliEnv } from '../helpers/secrets.js';
import { collect, killAllServices, startServiceProcess, tempDir, waitFor, type ServiceProcess, type TempDir } from '../helpers/service-process.js';

const EXAMPLE = join(ROOT, 'docs/examples/nats-accounts.conf');
const PASSWORDS = { CAMERA_PASS: 'cam-5e1f', PLATESIEVE_PASS: 'svc-90ab', OPERATOR_PASS: 'ops-77c2', ALPR_ADMIN_PASS: 'adm-3d4e' };
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
  const as = (user: string, pass: string, extra = {}) => connect({ servers: server.url, user, pass, ...extra });

  beforeAll(async () => {
    ensureBuilt();
    tmp = await tempDir();
    server = await startNatsServer({ config: readFileSync(EXAMPLE, 'utf8'), env: PASSWORDS });
    admin = await as('alpr-admin', PASSWORDS.ALPR_ADMIN_PASS);
    // The administrator creates what the service is not allowed to: streams, consumer, bucket.
    const config = loadServiceConfig(undefined, { hotlists: ['unused.csv'], mode: 'jetstream' }, {});
    await ensureStreams(admin, config, pino({ level: 'silent' }));
    await admin.jetstream().views.kv('alpr-hotlist', { history: 10 });
    await admin.jetstream().views.kv('alpr-holds', { history: 1 });
    svc = await startServiceProcess({ natsUrl: server.url, config: SERVICE_CONFIG, env: { PLATESIEVE_NATS_PASS: PASSWORDS.PLATESIEVE_PASS } });
  }, 120_000);
  afterAll(async () => {
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
});
