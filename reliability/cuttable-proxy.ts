/**
 * A TCP proxy that can be cut, for the fault table's connection-cut row.
 */
import net from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of nats-server. `cutOn(pattern)` arms it: the next chunk
 * the client sends that contains `pattern` (the service publishing an alert, say) is dropped
 * and every connection is closed at once; for `refuseMs` after that, new connections are
 * closed as soon as they arrive; then it accepts again.
 */
export class CuttableProxy {
  private server?: net.Server;
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  private armed?: { pattern: Buffer; refuseMs: number; resolve: (at: number) => void };
  private refuseUntil = 0;
  /** The port it listens on (after {@link CuttableProxy.start}). */
  port = 0;
  /** How many times every connection was cut. */
  cuts = 0;
  /** Bytes of the client chunks dropped at a cut. */
  droppedBytes = 0;

  constructor(private readonly upstreamPort: () => number) {}

  /** Listens on a free port of 127.0.0.1. */
  async start(): Promise<void> {
    const server = net.createServer((client) => {
      if (Date.now() < this.refuseUntil) {
        client.destroy();
        return;
      }
      client.pause();
      const upstream = net.connect(this.upstreamPort(), '127.0.0.1');
      const pair: [net.Socket, net.Socket] = [client, upstream];
      this.pairs.add(pair);
      const close = (): void => {
        this.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
      upstream.on('connect', () => client.resume());
      upstream.on('data', (d) => {
        if (!client.destroyed) client.write(d);
      });
      client.on('data', (d: Buffer) => {
        const a = this.armed;
        if (a !== undefined && d.includes(a.pattern)) {
          this.armed = undefined;
          this.droppedBytes += d.length;
          this.cutAll(a.refuseMs);
          a.resolve(Date.now());
          return;
        }
        if (!upstream.destroyed) upstream.write(d);
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (server.address() as net.AddressInfo).port;
  }

  /** Closes every connection now and refuses new ones for `refuseMs`. */
  cutAll(refuseMs: number): void {
    this.cuts++;
    this.refuseUntil = Date.now() + refuseMs;
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  /** Resolves with the time of the cut, once the next client chunk holding `pattern` was dropped (or after `fallbackMs`, cutting anyway). */
  cutOn(pattern: string, refuseMs: number, fallbackMs: number): Promise<{ at: number; matched: boolean }> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        if (this.armed === undefined) return;
        this.armed = undefined;
        this.cutAll(refuseMs);
        resolve({ at: Date.now(), matched: false });
      }, fallbackMs);
      this.armed = {
        pattern: Buffer.from(pattern),
        refuseMs,
        resolve: (at) => {
          clearTimeout(t);
          resolve({ at, matched: true });
        },
      };
    });
  }

  /** Until when (ms since the epoch) new connections are refused. */
  get refusingUntil(): number {
    return this.refuseUntil;
  }

  /** Closes every connection and the listener. */
  async stop(): Promise<void> {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
