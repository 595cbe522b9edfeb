/**
 * GET /api/dashboard: the console's dashboards (dashboard.ts), for any logged-in user. Only
 * counters and health of the services, no plate or person: not audited.
 */
import type { FastifyInstance } from 'fastify';
import type { DashboardSampler, DashboardView } from '../dashboard.js';

const nullableNumbers = { type: 'array', items: { type: ['number', 'null'] } } as const;

const dashboardSchema = {
  type: 'object',
  required: ['intervalSeconds', 'sources', 'series'],
  properties: {
    intervalSeconds: { type: 'number' },
    sources: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'url', 'up', 'health'],
        properties: {
          name: { type: 'string' },
          url: { type: 'string' },
          up: { type: 'boolean' },
          health: { type: 'string', enum: ['ok', 'degraded', 'down', 'unknown'] },
          lastError: { type: 'string' },
        },
      },
    },
    series: {
      type: 'object',
      required: ['t', 'readsPerSec', 'alertsPerSec', 'latencyP50Ms', 'latencyP99Ms', 'consumerLag', 'hotlistAgeS'],
      properties: {
        t: { type: 'array', items: { type: 'number' } },
        readsPerSec: nullableNumbers,
        alertsPerSec: nullableNumbers,
        latencyP50Ms: nullableNumbers,
        latencyP99Ms: nullableNumbers,
        consumerLag: nullableNumbers,
        hotlistAgeS: { type: 'object', additionalProperties: nullableNumbers },
      },
    },
  },
} as const;

/** Registers the route; without a sampler (no `ops.dashboardSources`) it answers empty series. */
export function dashboardRoutes(app: FastifyInstance, sampler: DashboardSampler | undefined, intervalSeconds: number): void {
  app.get('/api/dashboard', {
    config: { roles: 'any' },
    schema: { tags: ['operations'], summary: 'the last hour of reads/s, alerts/s, latency, consumer lag and hotlist age of the configured services', response: { 200: dashboardSchema } },
  }, (): Promise<DashboardView> => Promise.resolve(sampler?.view() ?? {
    intervalSeconds,
    sources: [],
    series: { t: [], readsPerSec: [], alertsPerSec: [], latencyP50Ms: [], latencyP99Ms: [], consumerLag: [], hotlistAgeS: {} },
  }));
}
