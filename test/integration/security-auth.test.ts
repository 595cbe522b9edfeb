/**
 * Issue 10, against real nats-servers with user/password and token authorization:
 * - the hotlist CLI authenticates like the service (environment, URL credentials, the
 *   configuration file's nats section, flags), and its errors never quote a password;
 * - the service uses credentials given in its server URL, and no password or token reaches
 *   its logs, /metrics or /healthz;
 * - connection retries are logged with a backoff, and the ops server listens on loopback.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../helpers/cli.js';
import { startNatsServer, uniquePrefix, type NatsServerHandle } from '../helpers/nats-server.js';
import { CLOSED_PORT, expectNoSecret, runCliEnv, spawnService } from '../helpers/secrets.js';
import { collect, killAllServices, sleep, startServiceProcess, tempDir, waitFor, type TempDir } from '../helpers/service-process.js';

const PASS = 'Pw-7f3a9c-secret';
const TOKEN = 'Tok-41d2e8-secret';

let tmp: TempDir;
beforeAll(async () => {
  ensureBuilt();
  tmp = await tempDir();
}, 300_000);
afterAll(async () => {
  await killAllServices();
  await tmp?.cleanup();
});

describe('hotlist CLI against a server with user and password', () => {
  let server: NatsServerHandle;
  beforeAll(async () => {
    server = await startNatsServer({ config: `authorization { user: ops, password: ${JSON.stringify(PASS)} }` });
  });
  afterAll(async () => {
    await server?.stop();
  });
  const host = (): string => `127.0.0.1:${server.port}`;

  it('authenticates from PLATESIEVE_NATS_USER and PLATESIEVE_NATS_PASS, and writes the bucket', async () => {
    const bucket = `b${uniquePrefix()}`;
    const audit = join(tmp.dir, `${bucket}.audit.jsonl`);
    const env = { PLATESIEVE_NATS_USER: 'ops', PLATESIEVE_NATS_PASS: PASS };
    const add = await runCliEnv(['hotlist', 'add', '--nats', host(), '--bucket', bucket, '--audit', audit, '--actor', 'det.ortiz', '--id', 'L1', '--plate', 'LV0001', '--list', 'STOLEN_VEHICLE'], env);
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    const list = await runCliEnv(['hotlist', 'list', '--nats', host(), '--bucket', bucket], env);
    expect(list.stdout).toContain('entry   L1  LV0001  STOLEN_VEHICLE');
  });

  it('authenticates with credentials in the server URL', async () => {
    const r = await runCliEnv(['hotlist', 'list', '--nats', `nats://ops:${PASS}@${host()}`, '--bucket', `b${uniquePrefix()}`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it("authenticates from the configuration file's nats section (${VAR}) and from --nats-user", async () => {
    const file = join(tmp.dir, 'service.yaml');
    // The rest of the service's file (hotlists, pool ...) is not the CLI's business.
    await writeFile(file, `nats:\n  servers: [nats://${host()}]\n  user: ops\n  pass: \${OPS_PASS}\npool: { workers: 1 }\n`);
    const fromFile = await runCliEnv(['hotlist', 'list', '--config', file, '--bucket', `b${uniquePrefix()}`], { OPS_PASS: PASS });
    expect(fromFile.stderr).toBe('');
    expect(fromFile.code).toBe(0);
    const fromFlag = await runCliEnv(['hotlist', 'list', '--nats', host(), '--nats-user', 'ops', '--bucket', `b${uniquePrefix()}`], { PLATESIEVE_NATS_PASS: PASS });
    expect(fromFlag.stderr).toBe('');
    expect(fromFlag.code).toBe(0);
  });

  it('fails with exit 2 and an error that never contains the password', async () => {
    const wrong = 'Wrong-9b1e-secret';
    const runs = [
      await runCliEnv(['hotlist', 'list', '--nats', `nats://ops:${wrong}@${host()}`]),
      await runCliEnv(['hotlist', 'list', '--nats', host()], { PLATESIEVE_NATS_USER: 'ops', PLATESIEVE_NATS_PASS: wrong }),
      await runCliEnv(['hotlist', 'list', '--nats', `nats://ops:${PASS}@127.0.0.1:${CLOSED_PORT}`]),
    ];
    for (const [i, r] of runs.entries()) {
      expect(r.code, `run ${i}: exit code`).toBe(2);
      expect(r.stderr).toMatch(/^platesieve: error: cannot connect to NATS at .*(Authorization Violation|CONNECTION_REFUSED)/);
      expectNoSecret({ stdout: r.stdout, stderr: r.stderr }, [PASS, wrong]);
    }
    expect(runs[0].stderr).toContain('nats://[redacted]@127.0.0.1');
  });
});

describe('hotlist CLI against a server with a token', () => {
  it('authenticates from PLATESIEVE_NATS_TOKEN and from token@ in the URL; a wrong token is not echoed', async () => {
    await using server = await startNatsServer({ config: `authorization { token: ${JSON.stringify(TOKEN)} }` });
    const host = `127.0.0.1:${server.port}`;
    const fromEnv = await runCliEnv(['hotlist', 'list', '--nats', host, '--bucket', `b${uniquePrefix()}`], { PLATESIEVE_NATS_TOKEN: TOKEN });
    expect(fromEnv.stderr).toBe('');
    expect(fromEnv.code).toBe(0);
    const fromUrl = await runCliEnv(['hotlist', 'list', '--nats', `nats://${TOKEN}@${host}`, '--bucket', `b${uniquePrefix()}`]);
    expect(fromUrl.stderr).toBe('');
    expect(fromUrl.code).toBe(0);
    const wrong = await runCliEnv(['hotlist', 'list', '--nats', `nats://Bad-${TOKEN}@${host}`]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/Authorization Violation/);
    expectNoSecret({ stderr: wrong.stderr }, [TOKEN]);
  });
});

/** Every text the service showed: its output, its /metrics and /healthz. */
async function opsTexts(port: number | undefined): Promise<Record<string, string>> {
  if (port === undefined) throw new Error('no ops port');
  const get = async (path: string): Promise<string> => (await fetch(`http://127.0.0.1:${port}${path}`)).text();
  return { metrics: await get('/metrics'), healthz: await get('/healthz') };
}

describe('the service with secrets', () => {
  it('uses user:password from its server URL; the password is in no log line, metric or health report', async () => {
    await using server = await startNatsServer({ jetstream: false, config: `authorization { user: svc, password: ${JSON.stringify(PASS)} }` });
    const prefix = uniquePrefix();
    const svc = await startServiceProcess({
      natsUrl: `nats://svc:${PASS}@127.0.0.1:${server.port}`,
      config: { subjects: { prefix }, liveUpdates: { bucket: null } },
    });
    const nc = await connect({ servers: server.url, user: 'svc', pass: PASS });
    try {
      const alerts = collect(nc, `${prefix}.alerts.>`).messages;
      await nc.flush();
      nc.publish(`${prefix}.reads.cam`, new TextEncoder().encode(JSON.stringify({ id: 'r1', plate: '926LUT', state: 'CO' })));
      await waitFor(() => alerts.length === 1, 10_000, 'an alert');
      const ops = await opsTexts(svc.opsPort);
      expect(JSON.parse(ops.healthz)).toMatchObject({ checks: { nats: { connected: true } } });
      await svc.stop();
      const logs = svc.logs.map((l) => JSON.stringify(l)).join('\n');
      expect(logs).toContain('nats://[redacted]@127.0.0.1');
      expectNoSecret({ ...ops, logs, stderr: svc.stderr() }, [PASS]);
    } finally {
      await nc.close();
    }
  });

  it('with a token from the environment: the token is in no log line, metric or health report', async () => {
    await using server = await startNatsServer({ jetstream: false, config: `authorization { token: ${JSON.stringify(TOKEN)} }` });
    const prefix = uniquePrefix();
    const svc = await startServiceProcess({
      natsUrl: server.url,
      config: { subjects: { prefix }, liveUpdates: { bucket: null } },
      env: { PLATESIEVE_NATS_TOKEN: TOKEN },
    });
    const ops = await opsTexts(svc.opsPort);
    await svc.stop();
    const logs = svc.logs.map((l) => JSON.stringify(l)).join('\n');
    expect(logs).toContain('"token":"[redacted]"');
    expectNoSecret({ ...ops, logs, stderr: svc.stderr() }, [TOKEN]);
  });

  it('while it cannot connect: retries logged at attempts 1, 2, 4 (not every 500 ms), redacted, ops on loopback', async () => {
    const port = CLOSED_PORT;
    const config = join(tmp.dir, 'unreachable.json');
    await writeFile(config, JSON.stringify({ hotlists: [{ file: join(process.cwd(), 'fixtures/sample/hotlist.csv'), maxAgeHours: 1e6 }] }));
    const svc = spawnService(['--config', config, '--nats', `nats://svc:${PASS}@127.0.0.1:${port}`, '--metrics-port', '0']);
    try {
      await waitFor(() => svc.logs().some((l) => l.msg === 'cannot connect to NATS; retrying'), 15_000, () => `a retry warning; output: ${svc.output()}`);
      const started = Date.now();
      const ops = svc.logs().find((l) => l.msg === 'ops server listening');
      expect(ops?.host).toBe('127.0.0.1');
      const health = await opsTexts(ops?.port as number);
      await sleep(3200 - (Date.now() - started));
      await svc.stop();
      const warnings = svc.logs().filter((l) => l.msg === 'cannot connect to NATS; retrying');
      // About 7 attempts in 3.2 s at the default 500 ms; the old code logged each one.
      expect(warnings.map((w) => w.attempt)).toEqual([1, 2, 4]);
      expect(warnings[0].servers).toEqual([`nats://[redacted]@127.0.0.1:${port}`]);
      expect(JSON.parse(health.healthz)).toMatchObject({ status: 'failing', checks: { nats: { connected: false } } });
      expectNoSecret({ output: svc.output(), ...health }, [PASS]);
    } finally {
      await svc.stop();
    }
  });
});
