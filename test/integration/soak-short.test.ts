/**
 * The reliability harness itself (reliability/): a 15-second soak of the built service must
 * account for every read and alert and exit 0, and the fault table's TCP proxy must cut a
 * connection on the bytes it is told to and let the client back in afterwards. The full runs
 * are `npm run faults` and `npm run soak` (docs/reliability.md).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, Events } from 'nats';
import { afterAll, describe, expect, it } from 'vitest';
import { CuttableProxy } from '../../reliability/cuttable-proxy.js';
import { until } from '../../reliability/wait.js';
import { startNatsServer } from '../helpers/nats-server.js';
import { ROOT } from '../helpers/service-process.js';

const dir = mkdtempSync(join(tmpdir(), 'platesieve-soak-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('reliability harness', () => {
  it('a short soak stores one record per read and every expected alert once, and exits 0', () => {
    const out = join(dir, 'soak.json');
    const svg = join(dir, 'soak.svg');
    const res = spawnSync(
      process.execPath,
      ['dist/reliability/soak.js', '--minutes', '0.25', '--rate', '400', '--sample-s', '5', '--entries', '2000', '--hit-rate', '0.05', '--out', out, '--svg', svg, '--no-freeze'],
      { cwd: ROOT, encoding: 'utf8', timeout: 150_000 },
    );
    expect(res.status, `${res.stdout}\n${res.stderr}`).toBe(0);
    const result = JSON.parse(readFileSync(out, 'utf8')) as {
      lossFree: boolean; reads: { sent: number; recordsStored: number; lost: number; duplicates: number };
      alerts: { expected: number; delivered: number; lost: number; duplicates: number }; samples: unknown[];
    };
    expect(result.lossFree).toBe(true);
    expect(result.reads.sent).toBeGreaterThan(4000);
    expect(result.reads.recordsStored).toBe(result.reads.sent);
    expect(result.alerts.expected).toBeGreaterThan(0);
    expect(result.alerts.delivered).toBe(result.alerts.expected);
    expect(result.samples.length).toBeGreaterThanOrEqual(2);
    const chart = readFileSync(svg, 'utf8');
    expect(chart.startsWith('<?xml')).toBe(true);
    expect(chart.match(/<path /g)?.length).toBe(4);
  }, 180_000);

  it('the TCP proxy cuts on a pattern, refuses for a while, then lets the client reconnect', async () => {
    const server = await startNatsServer({ jetstream: false });
    const proxy = new CuttableProxy(() => server.port);
    await proxy.start();
    const direct = await connect({ servers: server.url });
    const client = await connect({ servers: `nats://127.0.0.1:${proxy.port}`, reconnectTimeWait: 100, maxReconnectAttempts: -1 });
    try {
      const seen: string[] = [];
      direct.subscribe('p.>', { callback: (_e, m) => void seen.push(m.subject) });
      await direct.flush();
      let reconnected = false;
      void (async () => {
        for await (const s of client.status()) if (s.type === Events.Reconnect) reconnected = true;
      })();
      client.publish('p.before');
      await client.flush();
      const cut = proxy.cutOn('p.cut', 500, 5000);
      client.publish('p.cut');
      const { at, matched } = await cut;
      expect(matched).toBe(true);
      expect(await until(() => reconnected, 10_000, 20)).toBe(true);
      expect(Date.now() - at).toBeGreaterThanOrEqual(400);
      client.publish('p.after');
      await client.flush();
      expect(await until(() => seen.includes('p.after'), 5000, 20)).toBe(true);
      expect(seen).toContain('p.before');
      expect(seen).not.toContain('p.cut');
      expect(proxy.cuts).toBe(1);
    } finally {
      await client.close();
      await direct.close();
      await proxy.stop();
      await server.stop();
    }
  });
});
