import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, JSONCodec, type NatsConnection } from 'nats';
import { createUser } from 'nkeys.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConfig } from '../../matcher/service/config.js';
import { natsConnectionOptions } from '../../matcher/service/connection.js';
import { startNatsServer, uniquePrefix, type NatsServerHandle } from '../helpers/nats-server.js';

describe('nats-server launcher', () => {
  let server: NatsServerHandle;
  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('starts on a free port that a nats.js client can publish and subscribe on', async () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`nats://127.0.0.1:${server.port}`);
    const nc = await connect({ servers: server.url });
    try {
      const jc = JSONCodec<{ n: number }>();
      const subject = `${uniquePrefix()}.hello`;
      const sub = nc.subscribe(subject, { max: 1 });
      nc.publish(subject, jc.encode({ n: 42 }));
      for await (const m of sub) expect(jc.decode(m.data)).toEqual({ n: 42 });
    } finally {
      await nc.close();
    }
  });

  it('enables JetStream with a store in its own directory', async () => {
    const nc = await connect({ servers: server.url });
    try {
      const jsm = await nc.jetstreamManager();
      const info = await jsm.getAccountInfo();
      expect(info.limits).toBeDefined();
      expect(server.storeDir.startsWith(server.dir)).toBe(true);
    } finally {
      await nc.close();
    }
  });

  it('gives each call a different prefix', () => {
    const a = uniquePrefix();
    expect(a).toMatch(/^t[0-9a-f]{12}$/);
    expect(uniquePrefix()).not.toBe(a);
  });
});

describe('nats-server launcher restarts and stops', () => {
  it('restarts after a kill on the same port and keeps stored streams', async () => {
    const server = await startNatsServer();
    const connections: NatsConnection[] = [];
    try {
      const prefix = uniquePrefix();
      const port = server.port;
      let nc = await connect({ servers: server.url });
      connections.push(nc);
      const jsm = await nc.jetstreamManager();
      await jsm.streams.add({ name: `S_${prefix}`, subjects: [`${prefix}.>`] });
      await nc.jetstream().publish(`${prefix}.x`, new TextEncoder().encode('kept'));
      await nc.close();

      await server.kill();
      expect(existsSync(server.storeDir)).toBe(true);
      await server.restart();
      expect(server.port).toBe(port);

      nc = await connect({ servers: server.url });
      connections.push(nc);
      const info = await (await nc.jetstreamManager()).streams.info(`S_${prefix}`);
      expect(info.state.messages).toBe(1);
    } finally {
      for (const nc of connections) if (!nc.isClosed()) await nc.close();
      await server.stop();
    }
  });

  it('restarts a running server gracefully too', async () => {
    const server = await startNatsServer({ jetstream: false });
    try {
      const port = server.port;
      await server.restart();
      expect(server.port).toBe(port);
      const nc = await connect({ servers: server.url });
      await nc.close();
    } finally {
      await server.stop();
    }
  });

  it('removes its directory on stop and on async dispose', async () => {
    const a = await startNatsServer();
    await a.stop();
    expect(existsSync(a.dir)).toBe(false);
    const b = await startNatsServer({ jetstream: false });
    await b[Symbol.asyncDispose]();
    expect(existsSync(b.dir)).toBe(false);
  });

  it('fails clearly, with the server output, when the server exits during start', async () => {
    await expect(startNatsServer({ config: 'this is { not valid' })).rejects.toThrow(/nats-server exited during start/);
  });

  it('fails clearly when the binary is missing', async () => {
    const saved = process.env.NATS_SERVER;
    process.env.NATS_SERVER = '/nonexistent/nats-server';
    try {
      await expect(startNatsServer()).rejects.toThrow(/cannot start \/nonexistent\/nats-server/);
    } finally {
      if (saved === undefined) delete process.env.NATS_SERVER;
      else process.env.NATS_SERVER = saved;
    }
  });
});

describe('natsConnectionOptions against a real server', () => {
  const nats = (url: string, extra: Partial<NatsConfig>): NatsConfig => ({
    servers: [url],
    name: 'platesieve-test',
    maxReconnectAttempts: 0,
    reconnectTimeWaitMs: 100,
    ...extra,
  });
  const roundTrip = async (nc: NatsConnection): Promise<void> => {
    const subject = `${uniquePrefix()}.ping`;
    const sub = nc.subscribe(subject, { max: 1 });
    nc.publish(subject);
    for await (const m of sub) expect(m.subject).toBe(subject);
    await nc.close();
  };

  it('authenticates with user and password', async () => {
    await using server = await startNatsServer({
      jetstream: false,
      config: 'authorization { user: alice, password: "s3cret" }',
    });
    await roundTrip(await connect(natsConnectionOptions(nats(server.url, { user: 'alice', pass: 's3cret' }))));
    await expect(
      connect({ ...natsConnectionOptions(nats(server.url, { user: 'alice', pass: 'wrong' })), waitOnFirstConnect: false }),
    ).rejects.toThrow(/Authorization/i);
  });

  it('authenticates with a token', async () => {
    await using server = await startNatsServer({ jetstream: false, config: 'authorization { token: "tok123" }' });
    await roundTrip(await connect(natsConnectionOptions(nats(server.url, { token: 'tok123' }))));
  });

  it('authenticates with an nkey seed file', async () => {
    const user = createUser();
    await using server = await startNatsServer({
      jetstream: false,
      config: `authorization { users: [ { nkey: ${user.getPublicKey()} } ] }`,
    });
    const seedFile = join(server.dir, 'user.nk');
    writeFileSync(seedFile, new TextDecoder().decode(user.getSeed()));
    await roundTrip(await connect(natsConnectionOptions(nats(server.url, { nkeySeedFile: seedFile }))));
  });

  const hasOpenssl = (() => {
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  it.runIf(hasOpenssl)('connects over TLS with a CA file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'platesieve-tls-'));
    try {
      const f = (n: string) => join(dir, n);
      const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
      ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=test-ca', '-keyout', f('ca-key.pem'), '-out', f('ca.pem'));
      ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', f('server-key.pem'), '-out', f('server.csr'));
      writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
      ssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca-key.pem'), '-CAcreateserial', '-days', '1', '-extfile', f('ext.cnf'), '-out', f('server.pem'));
      await using server = await startNatsServer({
        jetstream: false,
        config: `tls { cert_file: ${JSON.stringify(f('server.pem'))}, key_file: ${JSON.stringify(f('server-key.pem'))} }`,
      });
      await roundTrip(
        await connect({ ...natsConnectionOptions(nats(server.url, { tls: { caFile: f('ca.pem') } })), waitOnFirstConnect: false }),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
