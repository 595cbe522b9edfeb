/**
 * Evidence holds: GET /api/holds and POST /api/holds (analyst, supervisor), POST
 * /api/holds/:id/release (supervisor only: releasing evidence is an approval). Each call is
 * audited with the logged-in user (hold.list, hold.add, hold.release).
 */
import type { FastifyInstance } from 'fastify';
import { actorOf } from '../auth.js';
import type { OpsContext } from '../context.js';
import { authErrors, errorSchema, holdSchema, timeInput } from '../schemas.js';
import { timeOf } from '../time.js';

export const HOLD_ROLES = ['analyst', 'supervisor'] as const;
export const HOLD_RELEASE_ROLES = ['supervisor'] as const;

interface HoldBody {
  case: string;
  purpose: string;
  reason: string;
  plate?: string;
  from?: number | string;
  to?: number | string;
  readIds?: string[];
}

export function holdRoutes(app: FastifyInstance, ctx: OpsContext): void {
  app.get<{ Querystring: { all?: boolean; case?: string } }>('/api/holds', {
    config: { roles: HOLD_ROLES },
    schema: {
      tags: ['holds'],
      summary: 'active holds (with all=true, released ones too)',
      querystring: { type: 'object', additionalProperties: false, properties: { all: { type: 'boolean' }, case: { type: 'string', minLength: 1 } } },
      response: { 200: { type: 'object', required: ['holds'], properties: { holds: { type: 'array', items: holdSchema } } }, ...authErrors },
    },
  }, async (request) => ({ holds: await ctx.store.as(actorOf(request)).holds.list({ all: request.query.all === true, case: request.query.case }) }));

  app.post<{ Body: HoldBody }>('/api/holds', {
    config: { roles: HOLD_ROLES },
    schema: {
      tags: ['holds'],
      summary: 'hold records as evidence: a plate (optionally in a window) or read ids; needs a case',
      body: {
        type: 'object',
        required: ['case', 'purpose', 'reason'],
        additionalProperties: false,
        properties: {
          case: { type: 'string', minLength: 1 },
          purpose: { type: 'string', minLength: 1 },
          reason: { type: 'string', minLength: 1 },
          plate: { type: 'string', minLength: 1, maxLength: 32 },
          from: timeInput,
          to: timeInput,
          readIds: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, maxItems: 100_000 },
        },
        oneOf: [{ required: ['plate'], not: { required: ['readIds'] } }, { required: ['readIds'], not: { anyOf: [{ required: ['plate'] }, { required: ['from'] }, { required: ['to'] }] } }],
      },
      response: { 200: holdSchema, ...authErrors },
    },
  }, async (request) => {
    const b = request.body;
    return ctx.store.as(actorOf(request)).holds.add({ ...b, from: timeOf('from', b.from), to: timeOf('to', b.to) });
  });

  app.post<{ Params: { id: string }; Body: { reason: string } }>('/api/holds/:id/release', {
    config: { roles: HOLD_RELEASE_ROLES },
    schema: {
      tags: ['holds'],
      summary: 'release a hold: its evidence copies are deleted (supervisor)',
      params: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1 } } },
      body: { type: 'object', required: ['reason'], additionalProperties: false, properties: { reason: { type: 'string', minLength: 1, pattern: '\\S' } } },
      response: { 200: holdSchema, 404: errorSchema, ...authErrors },
    },
  }, async (request) => ctx.store.as(actorOf(request)).holds.release(request.params.id, request.body.reason));
}
