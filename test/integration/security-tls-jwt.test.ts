/**
 * docs/security.md, TLS with client certificates and operator mode with JWT creds, against
 * real nats-servers: the service and the hotlist CLI connect with the right certificate or
 * creds file, and are refused with a client certificate from another CA or a user JWT the
 * account did not sign.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../helpers/cli.js';
import { nkeys, operatorSetup } from '../helpers/jwt.js';
import { startNatsServer, uniquePrefix } from '../helpers/nats-server.js';
import { runCliEnv } from '../helpers/secrets.js';
import { killAllServices, startServiceProcess } from '../helpers/service-process.js';
import { hasOpenssl, makePki, type TestPki } from '../helpers/tls.js';

let dir: string;
beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'platesieve-tlsjwt-'));
}, 300_000);
afterAll(async () => {
  await killAllServices();
  rmSync(dir, { recursive: true, force: true });
});

describe.runIf(hasOpenssl())('TLS with client certificates (verify: true)', () => {
  let pki: TestPki;
  beforeAll(() => {
    pki = makePki(dir);
  }, 60_000);
  const serverTls = (): string =>
    `tls { cert_file: ${JSON.stringify(pki.serverCert)}, key_file: ${JSON.stringify(pki.serverKey)}, ca_file: ${JSON.stringify(pki.ca)}, verify: true }`;

  it('the CLI and the service connect with a client certificate signed by the CA', async () => {
    await using server = await startNatsServer({ config: serverTls() });
    const r = await runCliEnv(['hotlist', 'list', '--nats', server.url, '--bucket', `b${uniquePrefix()}`, '--nats-ca', pki.ca, '--nats-cert', pki.clientCert, '--nats-key', pki.clientKey]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const svc = await startServiceProcess({
      natsUrl: server.url,
      config: { nats: { tls: { caFile: pki.ca, certFile: pki.clientCert, keyFile: pki.clientKey } }, liveUpdates: { bucket: null } },
    });
    expect(svc.logged('connected to NATS')).toBe(true);
    await svc.stop();
  });

  it('refuses a client certificate signed by another CA, and no certificate at all', async () => {
    await using server = await startNatsServer({ config: serverTls() });
    const stranger = await runCliEnv(['hotlist', 'list', '--nats', server.url, '--nats-ca', pki.ca, '--nats-cert', pki.strangerCert, '--nats-key', pki.strangerKey]);
    expect(stranger.code).toBe(2);
    expect(stranger.stderr).toMatch(/^platesieve: error: cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+: /);
    const none = await runCliEnv(['hotlist', 'list', '--nats', server.url, '--nats-ca', pki.ca]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/cannot connect to NATS/);
  });
});

describe('operator mode: JWT creds with a MEMORY resolver', () => {
  it('the CLI writes the bucket and the service runs with a creds file; an unsigned user is refused', async () => {
    const setup = operatorSetup();
    await using server = await startNatsServer({ config: setup.serverConfig });
    const creds = join(dir, 'user.creds');
    writeFileSync(creds, setup.userCreds, { mode: 0o600 });
    const bucket = `b${uniquePrefix()}`;
    const audit = join(dir, 'jwt.audit.jsonl');
    const add = await runCliEnv(['hotlist', 'add', '--nats', server.url, '--nats-creds', creds, '--bucket', bucket, '--audit', audit, '--actor', 'det.ortiz', '--id', 'J1', '--plate', 'JW0001', '--list', 'WANTED']);
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    // The same creds from the environment, as the service takes them.
    const list = await runCliEnv(['hotlist', 'list', '--nats', server.url, '--bucket', bucket], { PLATESIEVE_NATS_CREDS: creds });
    expect(list.stdout).toContain('entry   J1  JW0001  WANTED');

    const svc = await startServiceProcess({ natsUrl: server.url, config: { liveUpdates: { bucket } }, env: { PLATESIEVE_NATS_CREDS: creds } });
    expect(svc.logged('live hotlist updates followed')).toBe(true);
    await svc.stop();

    // A user JWT signed by a key the operator does not know.
    const forged = operatorSetup('ALPR', nkeys.createAccount());
    const forgedCreds = join(dir, 'forged.creds');
    writeFileSync(forgedCreds, forged.userCreds, { mode: 0o600 });
    const refused = await runCliEnv(['hotlist', 'list', '--nats', server.url, '--nats-creds', forgedCreds]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/Authorization Violation/);
    const anonymous = await runCliEnv(['hotlist', 'list', '--nats', server.url]);
    expect(anonymous.stderr).toMatch(/Authorization Violation/);
  });
});
