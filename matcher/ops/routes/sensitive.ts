/**
 * Sensitive places (docs/sensitive-places.md): analysts and supervisors ask for access to the
 * reads of tagged cameras for a purpose and case, with the nexus to criminal activity;
 * supervisors decide (never their own). A search then names the approval. Every step is
 * audited with the logged-in user.
 */
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { SensitivePlaces } from '../../policy/sensitive.js';
import { SensitiveApprovals, type SensitiveApproval, type SensitiveRequestInput } from '../../sensitive/approvals.js';
import { actorOf } from '../auth.js';
import type { OpsContext } from '../context.js';
import { authErrors, errorSchema } from '../schemas.js';

/** Who may ask for access and list requests. */
export const SENSITIVE_ROLES = ['analyst', 'supervisor'] as const;
/** Who may decide. */
export const SENSITIVE_DECIDE_ROLES = ['supervisor'] as const;

const text = { type: 'string', minLength: 1, pattern: '\\S' } as const;
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1 } } } as const;
const approvalSchema = {
  type: 'object',
  required: ['id', 'requestedBy', 'tags', 'purpose', 'case', 'nexus', 'status', 'createdAt'],
  properties: {
    id: { type: 'string' }, requestedBy: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } }, purpose: { type: 'string' }, case: { type: 'string' },
    nexus: { type: 'string' }, status: { type: 'string', enum: ['pending', 'approved', 'denied'] }, decidedBy: { type: 'string' }, decidedAt: { type: 'number' },
    note: { type: 'string' }, expiresAt: { type: 'number', description: 'epoch ms after which the approval no longer serves searches' }, createdAt: { type: 'number' },
  },
} as const;
const errors = { ...authErrors, 404: errorSchema, 409: errorSchema } as const;
const decideBody = { type: 'object', required: ['note'], additionalProperties: false, properties: { note: text } } as const;

/** Registers the routes; `places` are the configured tags the requests are checked against. */
export function sensitiveRoutes(app: FastifyInstance, ctx: OpsContext, pool: pg.Pool, places: SensitivePlaces): void {
  const approvals = (request: Parameters<typeof actorOf>[0]): SensitiveApprovals => new SensitiveApprovals({ pool, audit: ctx.audit, places, now: ctx.now }, actorOf(request));

  app.post<{ Body: SensitiveRequestInput }>('/api/sensitive/requests', {
    config: { roles: SENSITIVE_ROLES },
    schema: {
      tags: ['sensitive'],
      summary: 'ask a supervisor for access to reads of sensitive places (tags) for a purpose and case, with the articulated nexus to criminal activity',
      body: {
        type: 'object',
        required: ['tags', 'purpose', 'case', 'nexus'],
        additionalProperties: false,
        properties: {
          tags: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, maxItems: 32 },
          purpose: text,
          case: text,
          nexus: { ...text, maxLength: 4000, description: 'the clearly articulated nexus to activity that is or would be criminal (Englewood PD 425.5 (h), (i))' },
        },
      },
      response: { 200: approvalSchema, ...errors },
    },
  }, async (request) => approvals(request).request(request.body));

  app.get<{ Querystring: { status?: SensitiveApproval['status'] } }>('/api/sensitive/requests', {
    config: { roles: SENSITIVE_ROLES },
    schema: {
      tags: ['sensitive'],
      summary: 'sensitive-place access requests, newest first, with their decisions',
      querystring: { type: 'object', additionalProperties: false, properties: { status: { type: 'string', enum: ['pending', 'approved', 'denied'] } } },
      response: { 200: { type: 'object', required: ['requests'], properties: { requests: { type: 'array', items: approvalSchema } } }, ...errors },
    },
  }, async (request) => ({ requests: await approvals(request).list({ status: request.query.status }) }));

  app.post<{ Params: { id: string }; Body: { note: string } }>('/api/sensitive/requests/:id/approve', {
    config: { roles: SENSITIVE_DECIDE_ROLES },
    schema: {
      tags: ['sensitive'],
      summary: 'approve a pending request (supervisor, not the requester): valid for sensitivePlaces.approvalHours',
      params: idParams,
      body: decideBody,
      response: { 200: approvalSchema, ...errors },
    },
  }, async (request) => approvals(request).approve(request.params.id, request.body.note));

  app.post<{ Params: { id: string }; Body: { note: string } }>('/api/sensitive/requests/:id/deny', {
    config: { roles: SENSITIVE_DECIDE_ROLES },
    schema: {
      tags: ['sensitive'],
      summary: 'deny a pending request (supervisor, not the requester): it never serves a search',
      params: idParams,
      body: decideBody,
      response: { 200: approvalSchema, ...errors },
    },
  }, async (request) => approvals(request).deny(request.params.id, request.body.note));
}
