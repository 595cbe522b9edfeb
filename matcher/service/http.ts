/**
 * The operations endpoint: `GET /metrics` (Prometheus text) and `GET /healthz` (JSON), on
 * node:http with no framework. 200 for `ok` and `degraded` (the service still matches and a
 * load balancer should keep it), 503 for `failing`; 404 for any other path, 405 for another
 * method on these two.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { ServiceMetrics } from './metrics.js';

/**
 * Overall state: `degraded` still serves (a hotlist is stale, or reloads keep being refused),
 * `failing` does not (NATS down, not started).
 */
export type HealthStatus = 'ok' | 'degraded' | 'failing';

/** NATS connection check. */
export interface NatsHealth {
  connected: boolean;
  /** Server the client is connected to (host:port, never credentials). */
  server?: string;
  /** Round-trip time of the last ping, ms. */
  rttMs?: number;
  /** JetStream mode: whether the reads stream and consumer were found. */
  jetstream?: boolean;
  error?: string;
}

/** Freshness of one hotlist source. */
export interface HotlistHealth {
  source: string;
  /** Seconds since the source was last refreshed. */
  ageS: number;
  /** Age allowed by configuration (policies require at least a daily load). */
  maxAgeS: number;
  /** `ageS > maxAgeS`: the service is degraded and marks its alerts. */
  stale: boolean;
  entries?: number;
}

/** Hotlist reloads refused in a row (the version in force stays). */
export interface ReloadHealth {
  /** Reloads refused since the last one that was swapped in. */
  consecutiveRefusals: number;
  /** Refusals in a row that make the service `degraded` (`hotlistRefusalsDegraded`; 0: never). */
  degradedAfter: number;
  /** The last refusal: when (ISO 8601) and why. */
  lastRefusedAt?: string;
  lastError?: string;
}

/** What `/healthz` returns. */
export interface HealthReport {
  status: HealthStatus;
  /** Why the status is not `ok`, one line each (absent when `ok`). */
  reasons?: string[];
  checks: {
    nats: NatsHealth;
    hotlists: HotlistHealth[];
    /** Worker pool: threads and utilization, when started. */
    pool?: { threads: number; utilization: number; queued?: number };
    hotlistReload?: ReloadHealth;
    [check: string]: unknown;
  };
}

/** Inputs of {@link assessHealth}. */
export interface HealthInputs {
  nats: NatsHealth;
  hotlists: HotlistHealth[];
  /** False until the pool and subscriptions are up, and again while shutting down. Default true. */
  ready?: boolean;
  pool?: HealthReport['checks']['pool'];
  reload?: ReloadHealth;
}

/**
 * Derives the status: `failing` when NATS is unreachable or the service is not ready,
 * `degraded` when any hotlist source is stale or the last `degradedAfter` reloads were all
 * refused (the service matches, but against a version nobody meant to keep), else `ok`.
 */
export function assessHealth(inputs: HealthInputs): HealthReport {
  const ready = inputs.ready ?? true;
  const failing: string[] = [];
  if (!inputs.nats.connected) failing.push(`NATS not connected${inputs.nats.error === undefined ? '' : `: ${inputs.nats.error}`}`);
  if (!ready) failing.push('not ready (starting or stopping)');
  const degraded: string[] = [];
  for (const h of inputs.hotlists) if (h.stale) degraded.push(`hotlist source ${h.source} is stale: refreshed ${h.ageS} s ago, allowed ${h.maxAgeS} s`);
  const r = inputs.reload;
  if (r !== undefined && r.degradedAfter > 0 && r.consecutiveRefusals >= r.degradedAfter) {
    degraded.push(`hotlist reload refused ${r.consecutiveRefusals} times in a row; the version in force stays${r.lastError === undefined ? '' : `: ${r.lastError}`}`);
  }
  const status: HealthStatus = failing.length > 0 ? 'failing' : degraded.length > 0 ? 'degraded' : 'ok';
  const checks: HealthReport['checks'] = { nats: inputs.nats, hotlists: inputs.hotlists, ready };
  if (inputs.pool !== undefined) checks.pool = inputs.pool;
  if (r !== undefined) checks.hotlistReload = r;
  const report: HealthReport = { status, checks };
  if (status !== 'ok') report.reasons = [...failing, ...degraded];
  return report;
}

/** Freshness of a source refreshed at `refreshedAt` (epoch ms), at `now`. */
export function hotlistHealth(source: string, refreshedAt: number, maxAgeS: number, now: number, entries?: number): HotlistHealth {
  const ageS = Math.max(0, Math.round((now - refreshedAt) / 1000));
  const h: HotlistHealth = { source, ageS, maxAgeS, stale: ageS > maxAgeS };
  if (entries !== undefined) h.entries = entries;
  return h;
}

/** Options of {@link startOpsServer}. */
export interface OpsServerOptions {
  host: string;
  /** 0 picks a free port (returned). */
  port: number;
  metrics: Pick<ServiceMetrics, 'metrics' | 'contentType'>;
  health: () => HealthReport | Promise<HealthReport>;
  logger: Logger;
}

/** A running ops server. */
export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

/** Starts the ops server; resolves once it listens. */
export async function startOpsServer(opts: OpsServerOptions): Promise<OpsServer> {
  const log = opts.logger.child({ stage: 'ops' });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== '/metrics' && path !== '/healthz') {
      send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
      return;
    }
    if (path === '/metrics') {
      const text = await opts.metrics.metrics();
      send(res, 200, opts.metrics.contentType, text, req.method === 'HEAD');
      return;
    }
    let report: HealthReport;
    try {
      report = await opts.health();
    } catch (err) {
      log.error({ err }, 'health check threw');
      report = {
        status: 'failing',
        checks: { nats: { connected: false }, hotlists: [], error: err instanceof Error ? err.message : String(err) },
      };
    }
    const code = report.status === 'failing' ? 503 : 200;
    send(res, code, 'application/json; charset=utf-8', `${JSON.stringify(report)}\n`, req.method === 'HEAD');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err, url: req.url }, 'ops request failed');
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else res.destroy();
    });
  });
  // Scrapers keep connections alive; do not let them hold shutdown open.
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err }, 'ops server error'));
  const port = (server.address() as AddressInfo).port;
  log.info({ host: opts.host, port }, 'ops server listening');

  return {
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function send(res: ServerResponse, code: number, type: string, body: string, headOnly = false): void {
  res.writeHead(code, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(headOnly ? undefined : body);
}
