/**
 * POST /api/search: the store's retrospective search (docs/store.md) for analysts and
 * supervisors, with the logged-in user as the audit actor. Purpose rules as in the library:
 * forbidden purposes refused and audited, investigative purposes need a case, a window
 * reaching back more than a year needs a reason. Reads of sensitive places are withheld unless
 * the search names an approval that covers them (docs/sensitive-places.md).
 */
import type { FastifyInstance } from 'fastify';
import type { MatchTier } from '../../types.js';
import { actorOf } from '../auth.js';
import type { OpsContext } from '../context.js';
import { authErrors, freeObject, searchQueryProperties } from '../schemas.js';
import { timeOf } from '../time.js';

/** Who may search. */
export const SEARCH_ROLES = ['analyst', 'supervisor'] as const;

interface SearchBody {
  plate?: string;
  pattern?: string;
  tiers?: MatchTier[];
  maxDistance?: number;
  state?: string;
  cameraId?: string;
  from: number | string;
  to: number | string;
  limit?: number;
  purpose: string;
  case?: string;
  reason?: string;
  sensitiveApproval?: string;
}

const hitSchema = {
  type: 'object',
  required: ['id', 'match', 'score', 'distance', 'matchedPlate', 'ts', 'record'],
  properties: {
    id: { type: 'string' },
    match: { type: 'string' },
    score: { type: 'number' },
    distance: { type: 'integer' },
    matchedPlate: { type: 'string' },
    ts: { type: 'number' },
    record: { ...freeObject, description: 'the stored record (docs/contracts.md)' },
  },
} as const;

export function searchRoutes(app: FastifyInstance, ctx: OpsContext): void {
  app.post<{ Body: SearchBody }>('/api/search', {
    config: { roles: SEARCH_ROLES },
    schema: {
      tags: ['search'],
      summary: 'stored reads the matcher would have matched against an entry with this plate or pattern (audited)',
      body: {
        type: 'object',
        required: ['from', 'to', 'purpose'],
        additionalProperties: false,
        properties: {
          ...searchQueryProperties(10_000_000),
          purpose: { type: 'string', minLength: 1, description: 'purpose code (docs/audit.md)' },
          case: { type: 'string', minLength: 1 },
          reason: { type: 'string', minLength: 1, description: 'required when the window reaches reads older than one year' },
          sensitiveApproval: { type: 'string', minLength: 1, description: 'your approved sensitive-place approval (docs/sensitive-places.md) for this purpose and case' },
        },
      },
      response: {
        200: {
          type: 'object',
          required: ['hits', 'scanned', 'truncated', 'ms'],
          properties: {
            hits: { type: 'array', items: hitSchema }, scanned: { type: 'integer' }, truncated: { type: 'boolean' }, ms: { type: 'number' },
            withheld: { type: 'object', properties: { sensitive: { type: 'boolean' } }, description: 'present when reads of sensitive places matched and were withheld: a flag, never a count (docs/sensitive-places.md)' },
          },
        },
        ...authErrors,
      },
    },
  }, async (request) => {
    const b = request.body;
    return ctx.store.as(actorOf(request)).search({ ...b, from: timeOf('from', b.from), to: timeOf('to', b.to) });
  });
}
