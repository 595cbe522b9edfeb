/**
 * Everything the console talks to, real and in this process: a nats-server with JetStream,
 * a PostgreSQL database, `platesieve store` (alerts published on the alert stream are stored,
 * so they can be dispositioned), and the operations API serving the built console from
 * dist/console, its dashboard sampling the store's /metrics and a stand-in for a `serve`
 * instance's (servedMetrics: running the matcher service too would cost this test more than a
 * 2-core machine has). Users, all with TOTP: an operator, an analyst, an auditor and a
 * supervisor. Reads for the search page are written straight to the store, one of them from a
 * camera tagged `healthcare` (sensitivePlaces), which searches withhold without an approval.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import pg from 'pg';
import { pino } from 'pino';
import { PgAuditLog } from '../../matcher/audit/pg-log.js';
import { DEFAULT_OCR_CLASSES, ocrClassMap } from '../../matcher/core/plate.js';
import { pgAuditSource } from '../../matcher/ops/audit-source.js';
import { createOpsServer, type OpsServer } from '../../matcher/ops/server.js';
import { People, type Role } from '../../matcher/people/index.js';
import { loadServiceConfig, type ServiceConfig } from '../../matcher/service/config.js';
import { readRow } from '../../matcher/store/rows.js';
import { startStore, type RunningStore } from '../../matcher/store/service.js';
import { StoreWriter } from '../../matcher/store/writer.js';
import type { ReadRecord } from '../../matcher/types.js';
import { startNatsServer, type NatsServerHandle } from '../helpers/nats-server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';

export const PASSWORD = 'correct horse battery staple';
export const CONSOLE_ROOT = join(import.meta.dirname, '..', '..', 'dist', 'console');
export const DAY = 86_400_000;
/** The subject prefix of the services (the default, as in production). */
export const PREFIX = 'alpr';

export interface Stack {
  url: string;
  nc: NatsConnection;
  pool: pg.Pool;
  ops: OpsServer;
  store: RunningStore;
  /** A fresh TOTP code of `username` (each code is accepted once). */
  totp(username: string): string;
  stop(): Promise<void>;
}

function storeConfig(natsUrl: string): ServiceConfig {
  const base = loadServiceConfig(undefined, { nats: [natsUrl] }, {}, { requireHotlists: false });
  return {
    ...base,
    subjects: { ...base.subjects, prefix: PREFIX },
    metrics: { host: '127.0.0.1', port: 0 },
    holds: { ...base.holds, bucket: null },
    liveUpdates: { ...base.liveUpdates, bucket: null },
    store: { ...base.store, batchWaitMs: 10, historicalDays: 0, retentionEveryMinutes: 0 },
    audit: { ...base.audit, actor: 'store-under-test' },
  };
}

function read(id: string, plate: string, ts: number, cameraId = 'cam-north-1'): ReadRecord {
  return { id, plate, ts, state: 'CA', cameraId, agency: 'A1', hit: false, alertIds: [], retention: { policy: 'default', class: 'nonhit', expiresAt: ts + 800 * DAY, basis: 'b' } };
}

/** A camera tagged as watching a healthcare facility (docs/sensitive-places.md). */
export const CLINIC_CAMERA = 'cam-clinic-7';
/** A plate read once by an untagged camera and once by {@link CLINIC_CAMERA}. */
export const CLINIC_PLATE = '4KLM562';

export const USERS: ReadonlyArray<{ username: string; roles: Role[] }> = [
  { username: 'op', roles: ['operator'] },
  { username: 'ana', roles: ['analyst'] },
  { username: 'aud', roles: ['auditor'] },
  { username: 'sup', roles: ['supervisor'] },
];

/**
 * `/metrics` and `/healthz` as a `serve` instance answers them, with counters that grow like a
 * steady feed of about 850 reads/s: the dashboard's throughput, latency and hotlist-age charts
 * get points to draw without a matcher service running.
 */
async function servedMetrics(): Promise<{ url: string; server: Server }> {
  const started = Date.now();
  const server = createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', checks: {} }));
      return;
    }
    const s = (Date.now() - started) / 1000;
    const reads = Math.floor(s * 850 + 40 * Math.sin(s / 8));
    const share = [[0.002, 0.2], [0.005, 0.62], [0.01, 0.9], [0.025, 0.985], [0.05, 0.998]] as const;
    const lines = [
      '# TYPE platesieve_reads_total counter', `platesieve_reads_total ${reads}`,
      '# TYPE platesieve_alerts_total counter', `platesieve_alerts_total ${Math.floor(s * 1.6 + Math.sin(s / 5))}`,
      '# TYPE platesieve_latency_seconds histogram',
      ...share.map(([le, f]) => `platesieve_latency_seconds_bucket{stage="end_to_end",le="${le}"} ${Math.floor(reads * f)}`),
      `platesieve_latency_seconds_bucket{stage="end_to_end",le="+Inf"} ${reads}`,
      '# TYPE platesieve_hotlist_age_seconds gauge',
      `platesieve_hotlist_age_seconds{source="NCIC"} ${Math.floor(240 + (s % 60))}`,
      `platesieve_hotlist_age_seconds{source="STATE"} ${Math.floor(900 + 2 * (s % 120))}`,
    ];
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(`${lines.join('\n')}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  return { url: `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}/metrics`, server };
}

export async function startStack(): Promise<Stack> {
  if (!existsSync(join(CONSOLE_ROOT, 'index.html'))) throw new Error(`no console build in ${CONSOLE_ROOT}: run npm run build`);
  const cleanups: Array<() => Promise<unknown>> = [];
  const stop = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    const nats: NatsServerHandle = await startNatsServer({ jetstream: true });
    cleanups.push(() => nats.stop());
    const nc = await connect({ servers: nats.url });
    cleanups.push(() => nc.close());
    const db: TestDatabase = await createTestDatabase('console');
    cleanups.push(() => db.drop());
    // The store first: it migrates the database the API then opens.
    const store = await startStore(storeConfig(nats.url), pino({ level: 'silent' }), { dbUrl: db.url });
    cleanups.push(() => store.stop());
    const pool = new pg.Pool({ connectionString: db.url, max: 8 });
    pool.on('error', () => undefined);
    cleanups.push(() => pool.end());
    const audit = await PgAuditLog.open(pool, { actor: 'platesieve-ops' });
    cleanups.push(() => audit.close());
    const serve = await servedMetrics();
    cleanups.push(() => new Promise((r) => serve.server.close(r)));
    const ops = await createOpsServer({
      pool, audit, auditSource: pgAuditSource(pool), nats: nc, loginsPerMinute: 0,
      console: { root: CONSOLE_ROOT },
      dashboard: { sources: [{ name: 'serve-1', url: serve.url }, { name: 'store', url: `http://127.0.0.1:${store.metricsPort ?? 0}/metrics` }], intervalSeconds: 1 },
      subjectPrefix: PREFIX,
      sensitivePlaces: { cameras: { [CLINIC_CAMERA]: ['healthcare'] } },
    });
    cleanups.push(() => ops.close());
    const url = await ops.listen({ host: '127.0.0.1', port: 0 });

    const secrets = new Map<string, string>();
    for (const u of USERS) {
      const r = await ops.people.addUser({ username: u.username, password: PASSWORD, roles: u.roles, mfa: true }, 'test-setup');
      if (r.totp !== undefined) secrets.set(u.username, r.totp.secret);
    }
    const now = Date.now();
    const classes = ocrClassMap(DEFAULT_OCR_CLASSES);
    await new StoreWriter(pool).write({
      reads: [read('r1', '7ABC123', now - 2 * DAY), read('r2', '7A8C123', now - DAY, 'cam-east-2'), read('r3', 'ZZZ999', now - DAY), read('r4', '7ABC123', now - 3_600_000, 'cam-east-2'), read('r5', CLINIC_PLATE, now - 2 * DAY), read('r6', CLINIC_PLATE, now - 5 * 3_600_000, CLINIC_CAMERA)].map((r) => readRow(r, classes, new Map())),
      alerts: [],
      deadletters: [],
    });
    return {
      url, nc, pool, ops, store, stop,
      totp(username) {
        const s = secrets.get(username);
        if (s === undefined) throw new Error(`no TOTP secret for ${username}`);
        return People.totpNow(s, Date.now());
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
