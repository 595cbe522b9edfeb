/**
 * What each phase of the soak runs against: a fresh nats-server, the service on it, and the
 * harness's own connections, one to publish and one to observe.
 */
import { connect, type NatsConnection } from 'nats';
import { startNatsServer, type NatsServerHandle } from '../test/helpers/nats-server.js';
import { ServiceChild } from './service-child.js';
import type { TestData } from './test-data.js';

/** A nats-server, the service on it, and the harness's publishing and observing connections. */
export interface SoakStack {
  server: NatsServerHandle;
  service: ServiceChild;
  pub: NatsConnection;
  obs: NatsConnection;
}

/** A fresh nats-server and service (`workers` pool threads), and connections for the harness. */
export async function setUp(dir: string, data: TestData, workers: number): Promise<SoakStack> {
  const server = await startNatsServer({ jetstream: true });
  const service = new ServiceChild({ dir, natsUrl: server.url, hotlistFile: data.hotlistFile, workers });
  await service.start();
  const pub = await connect({ servers: server.url, name: 'soak-publisher' });
  const obs = await connect({ servers: server.url, name: 'soak-observer' });
  return { server, service, pub, obs };
}

/** Stops the service (gracefully), the connections and the server; errors are ignored. */
export async function tearDown(s: SoakStack): Promise<void> {
  await s.service.stop().catch(() => undefined);
  await s.pub.close().catch(() => undefined);
  await s.obs.close().catch(() => undefined);
  await s.server.stop().catch(() => undefined);
}
