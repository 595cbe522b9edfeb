/**
 * GET /healthz and GET /metrics, unauthenticated as on every platesieve process (keep them on
 * a network only the load balancer and Prometheus reach, docs/ops.md). `failing` (503) when
 * the database does not answer: nothing works without it; `degraded` (200) when NATS is
 * down: only live hotlist changes are unavailable.
 */
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { OpsContext } from '../context.js';

const checkSchema = { type: 'object', required: ['ok'], properties: { ok: { type: 'boolean' }, configured: { type: 'boolean' }, rttMs: { type: 'number' }, error: { type: 'string' } } } as const;
const healthSchema = {
  type: 'object',
  required: ['status', 'checks'],
  properties: {
    status: { type: 'string', enum: ['ok', 'degraded', 'failing'] },
    reasons: { type: 'array', items: { type: 'string' } },
    checks: { type: 'object', required: ['database', 'nats'], properties: { database: checkSchema, nats: checkSchema } },
  },
} as const;

interface Check { ok: boolean; configured?: boolean; rttMs?: number; error?: string }

async function timed(fn: () => Promise<unknown>, limitMs: number): Promise<Check> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([fn(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${limitMs} ms`)), limitMs)))]);
    return { ok: true, rttMs: Math.round((performance.now() - t0) * 100) / 100 };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

export function healthRoutes(app: FastifyInstance, ctx: OpsContext, pool: pg.Pool): void {
  app.get('/healthz', {
    schema: { tags: ['operations'], summary: 'database and NATS checks', response: { 200: healthSchema, 503: healthSchema } },
  }, async (_request, reply) => {
    const database = await timed(() => pool.query('SELECT 1'), 2000);
    const nc = ctx.nats;
    const nats: Check = nc === undefined ? { ok: false, configured: false } : { ...(nc.isClosed() ? { ok: false, error: 'connection closed' } : await timed(() => nc.rtt(), 2000)), configured: true };
    const reasons: string[] = [];
    if (!database.ok) reasons.push(`database: ${database.error ?? 'down'}`);
    if (nats.configured === true && !nats.ok) reasons.push(`nats: ${nats.error ?? 'down'} (live hotlist changes unavailable)`);
    const status = !database.ok ? 'failing' : reasons.length > 0 ? 'degraded' : 'ok';
    void reply.code(status === 'failing' ? 503 : 200);
    return { status, ...(reasons.length > 0 ? { reasons } : {}), checks: { database, nats } };
  });

  app.get('/metrics', {
    schema: { tags: ['operations'], summary: 'Prometheus metrics', produces: ['text/plain'], response: { 200: { type: 'string' } } },
  }, async (_request, reply) => {
    void reply.header('content-type', ctx.metrics.contentType);
    return ctx.metrics.text();
  });
}
