/**
 * The operations API server (`platesieve ops`, docs/ops.md): fastify with a JSON schema on
 * every route (they validate, shape responses and make GET /openapi.json), the auth hook
 * (auth.ts), one routes file per area, metrics and health. An instance keeps nothing between
 * requests but what is in the database (sessions, accounts, holds, the audit log) and a
 * per-address login counter, so any number of instances can serve behind a load balancer.
 *
 * {@link createOpsServer} builds one from open resources (tests, embedding);
 * {@link startOps} (start.ts) opens them from the configuration (the CLI).
 */
import swagger from '@fastify/swagger';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { NatsConnection } from 'nats';
import type pg from 'pg';
import { pino, type Logger } from 'pino';
import type { AuditSink } from '../audit/types.js';
import { DEFAULT_WINDOWS, type WindowSettings } from '../dispositions/windows.js';
import { People } from '../people/index.js';
import { SensitivePlaces, type SensitivePlacesInput } from '../policy/sensitive.js';
import { recordSensitivePlaces } from '../sensitive/stored-config.js';
import { openStore } from '../store/open.js';
import type { StateMismatchPolicy } from '../types.js';
import { registerAuth } from './auth.js';
import type { AuditSource } from './audit-source.js';
import type { OpsContext } from './context.js';
import { registerConsole, type ConsoleOption } from './console.js';
import { DashboardSampler, type DashboardSource } from './dashboard.js';
import { codeOf, PROBLEM_CODES, statusOf } from './errors.js';
import { LiveFeed } from './live-feed.js';
import { OpsMetrics } from './metrics.js';
import { LoginLimiter } from './rate-limit.js';
import { alertRoutes } from './routes/alerts.js';
import { auditRoutes } from './routes/audit.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { healthRoutes } from './routes/health.js';
import { holdRoutes } from './routes/holds.js';
import { hotlistRoutes } from './routes/hotlist.js';
import { liveRoutes } from './routes/live.js';
import { replayRoutes } from './routes/replay.js';
import { searchRoutes } from './routes/search.js';
import { sensitiveRoutes } from './routes/sensitive.js';
import { sessionRoutes } from './routes/session.js';
import { sharingRoutes } from './routes/sharing.js';
import { userRoutes } from './routes/users.js';

/** Session and lockout settings handed to People. */
export interface OpsSessionSettings {
  /** Absolute session lifetime, ms. */
  ttlMs?: number;
  /** Idle timeout, ms. */
  idleTimeoutMs?: number;
  maxFailures?: number;
  lockoutMs?: number;
}

/** Options of {@link createOpsServer}. The caller owns (and closes) the pool, sink and connection. */
export interface OpsServerOptions {
  /** The store's database: records, holds, accounts, sessions (and the audit log, with `postgres`). */
  pool: pg.Pool;
  /** Where the routes' and People's audit records go. */
  audit: AuditSink;
  /** How the audit routes read that log. */
  auditSource: AuditSource;
  /** An accounts library of the caller's; default one over `pool` and `audit` with `session`. */
  people?: People;
  session?: OpsSessionSettings;
  /** For live hotlist changes and `/healthz`; without it the hotlist routes answer 503. */
  nats?: NatsConnection;
  /** The key-value bucket the services follow (`liveUpdates.bucket`). Default `alpr-hotlist`; null: live changes are off (the hotlist routes answer 503). */
  bucket?: string | null;
  /** The service's matching settings, which searches follow. */
  matching?: { partialOcr?: boolean; stateMismatch?: StateMismatchPolicy };
  /**
   * Camera tags and their rules (the `sensitivePlaces` section; docs/sensitive-places.md).
   * Given, it is also recorded in the database for direct searches; absent, the default tags
   * with no camera tagged.
   */
  sensitivePlaces?: SensitivePlacesInput;
  logger?: Logger;
  /** Login attempts per client address and minute (0: unlimited). Default 20. */
  loginsPerMinute?: number;
  /** PEM certificate and key: serve HTTPS. */
  https?: { cert: string | Buffer; key: string | Buffer };
  /** Take the client address from X-Forwarded-For (behind a load balancer). */
  trustProxy?: boolean;
  /** Clock, epoch ms (tests). */
  now?: () => number;
  /** Confirmation windows of alerts (the `escalation` section); default DEFAULT_WINDOWS. */
  escalation?: WindowSettings;
  /** The browser console (`ops.console`): served from `root` (default the package's `dist/console`); `false`: not served. */
  console?: ConsoleOption;
  /** `subjects.prefix`: the live stream follows `<prefix>.alerts.>`, `.escalations.>`, `.dispositions.>`. Default `alpr`. */
  subjectPrefix?: string;
  /** Live stream limits: streams per instance (default 200), heartbeat (default 15 000 ms), session re-check (default 60 000 ms). */
  live?: { maxClients?: number; heartbeatMs?: number; sessionCheckMs?: number };
  /** The dashboards (`ops.dashboardSources`, `ops.dashboardSeconds`); sampled only with sources. */
  dashboard?: { sources: DashboardSource[]; intervalSeconds: number };
}

/** A built server, not yet listening. */
export interface OpsServer {
  readonly app: FastifyInstance;
  readonly people: People;
  readonly metrics: OpsMetrics;
  /** Starts listening; resolves with the base URL (`http://127.0.0.1:8443`). */
  listen(where: { host: string; port: number }): Promise<string>;
  /** Stops listening (in-flight requests finish first; live streams are ended). */
  close(): Promise<void>;
  /** Live alert streams open now. */
  liveClients(): number;
}

/** Builds the API over open resources. */
export async function createOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const now = options.now ?? Date.now;
  const s = options.session ?? {};
  const people = options.people ?? new People({ pool: options.pool, audit: options.audit, sessionTtlMs: s.ttlMs, idleTimeoutMs: s.idleTimeoutMs, maxFailures: s.maxFailures, lockoutMs: s.lockoutMs, now });
  const places = new SensitivePlaces(options.sensitivePlaces ?? {});
  if (options.sensitivePlaces !== undefined) {
    // Not fatal: the API applies its own copy; only direct searches would miss a change.
    await recordSensitivePlaces(options.pool, options.sensitivePlaces).catch((err: unknown) => logger.warn({ err }, 'could not record sensitivePlaces for direct database searches'));
  }
  const store = await openStore({ pool: options.pool, audit: options.audit, actor: 'platesieve-ops', partialOcr: options.matching?.partialOcr, stateMismatch: options.matching?.stateMismatch, sensitivePlaces: places, now });
  const metrics = new OpsMetrics();
  const ctx: OpsContext = {
    people, store, audit: options.audit, auditSource: options.auditSource, nats: options.nats, bucket: options.bucket === undefined ? 'alpr-hotlist' : options.bucket, prefix: options.subjectPrefix ?? 'alpr',
    logger, metrics, limiter: new LoginLimiter(options.loginsPerMinute ?? 20, now), now,
  };

  const app = Fastify({
    loggerInstance: logger.child({ component: 'ops' }),
    trustProxy: options.trustProxy ?? false,
    ...(options.https !== undefined ? { https: options.https } : {}),
    // Bodies are small JSON (a search, a hold); a read-id list of a big hold is the largest.
    bodyLimit: 4 * 1024 * 1024,
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false } },
  }) as unknown as FastifyInstance;

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'platesieve operations API', version: '1', description: 'Searches, holds, live hotlist entries, accounts and the audit log (docs/ops.md). Authenticate with POST /api/login, then send Authorization: Bearer <token>.' },
      components: { securitySchemes: { session: { type: 'http', scheme: 'bearer' } } },
    },
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err.validation !== undefined) {
      void reply.code(400).send({ error: 'ERR_BAD_REQUEST', message: `${err.validationContext ?? 'request'} ${err.message.replace(/^(body|querystring|params)\/?/, '')}`.trim() });
      return;
    }
    let code = codeOf(err);
    let status = statusOf(code);
    // fastify's own client errors (bad JSON, wrong content type, too large) keep their status.
    if (code === 'ERR_INTERNAL' && typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      status = err.statusCode;
      code = status === 404 ? 'ERR_NOT_FOUND' : 'ERR_BAD_REQUEST';
    }
    if (status >= 500) request.log.error({ err }, 'request failed');
    const extra = code === 'ERR_PURPOSE_REFUSED' || code.startsWith('ERR_SENSITIVE_') ? pick(err, ['category', 'refusal', 'citation']) : PROBLEM_CODES.has(code) ? pick(err, ['problem']) : {};
    void reply.code(status).send({ error: code, message: status >= 500 && code === 'ERR_INTERNAL' ? 'internal error (logged)' : err.message, ...extra });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: 'ERR_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` });
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.request(request.routeOptions.url ?? 'unmatched', request.method, reply.statusCode, reply.elapsedTime / 1000);
  });

  registerAuth(app, ctx);
  app.addHook('onRoute', (route) => {
    // The OpenAPI document says which routes need a session.
    if (route.config?.roles === undefined) return;
    const schema = (route.schema ??= {}) as { security?: unknown; description?: string };
    schema.security = [{ session: [] }];
    const roles = route.config.roles;
    schema.description = roles === 'any' ? 'any logged-in user' : `roles: ${roles.join(', ')}`;
  });
  sessionRoutes(app, ctx);
  searchRoutes(app, ctx);
  holdRoutes(app, ctx);
  hotlistRoutes(app, ctx);
  userRoutes(app, ctx);
  auditRoutes(app, ctx);
  sharingRoutes(app, ctx, options.pool);
  sensitiveRoutes(app, ctx, options.pool, places);
  replayRoutes(app, ctx, options.pool);
  alertRoutes(app, ctx, options.pool, options.escalation ?? DEFAULT_WINDOWS);
  const live = options.nats !== undefined ? new LiveFeed({ nats: options.nats, prefix: options.subjectPrefix, windows: options.escalation, maxClients: options.live?.maxClients, heartbeatMs: options.live?.heartbeatMs, logger, now }) : undefined;
  // Open streams would keep close() waiting for ever: they end first.
  app.addHook('preClose', (done) => {
    live?.close();
    done();
  });
  liveRoutes(app, ctx, live, options.live?.sessionCheckMs);
  const dashboardSeconds = options.dashboard?.intervalSeconds ?? 10;
  const sampler = (options.dashboard?.sources.length ?? 0) > 0 ? new DashboardSampler({ sources: options.dashboard?.sources ?? [], intervalSeconds: dashboardSeconds, logger }) : undefined;
  app.addHook('onClose', async () => sampler?.stop());
  dashboardRoutes(app, sampler, dashboardSeconds);
  healthRoutes(app, ctx, options.pool);
  app.get('/openapi.json', { schema: { hide: true } }, () => Promise.resolve(app.swagger()));
  await registerConsole(app, options.console);
  await app.ready();
  sampler?.start();

  return {
    app,
    people,
    metrics,
    async listen(where) {
      await app.listen({ host: where.host, port: where.port });
      const addr = app.server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : where.port;
      const host = where.host.includes(':') ? `[${where.host}]` : where.host;
      return `${options.https !== undefined ? 'https' : 'http'}://${host}:${port}`;
    },
    close: () => app.close(),
    liveClients: () => live?.size ?? 0,
  };
}

function pick(err: unknown, keys: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of keys) {
    const v = (err as Record<string, unknown>)[k];
    if (typeof v === 'string') out[k] = v;
  }
  return out;
}
