/**
 * Sharing with other agencies (docs/sharing.md): analysts and supervisors record requests and
 * list them; supervisors decide (never their own); an approved request is exported once and
 * its export fetched again byte-identical. Every step is audited with the logged-in user.
 */
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { APPROVAL_KINDS, Sharing, type ApprovalKind, type ShareQuery } from '../../sharing/requests.js';
import type { MatchTier } from '../../types.js';
import { actorOf } from '../auth.js';
import type { OpsContext } from '../context.js';
import { authErrors, errorSchema, freeObject, searchQueryProperties } from '../schemas.js';
import { timeOf } from '../time.js';

/** Who may record and list requests. */
export const SHARE_ROLES = ['analyst', 'supervisor'] as const;
/** Who may decide, export and fetch exports. */
export const SHARE_DECIDE_ROLES = ['supervisor'] as const;

interface RequestBody {
  agency: string;
  federal: boolean;
  requester: string;
  purpose: string;
  case: string;
  reason?: string;
  sensitiveApproval?: string;
  query: { plate?: string; pattern?: string; tiers?: MatchTier[]; maxDistance?: number; state?: string; cameraId?: string; from: number | string; to: number | string; limit?: number };
}

const text = { type: 'string', minLength: 1, pattern: '\\S' } as const;
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1 } } } as const;
const requestSchema = {
  type: 'object',
  required: ['id', 'agency', 'federal', 'requester', 'purpose', 'case', 'query', 'status', 'createdBy', 'createdAt', 'approvals', 'missing'],
  properties: {
    id: { type: 'string' }, agency: { type: 'string' }, federal: { type: 'boolean' }, requester: { type: 'string' }, purpose: { type: 'string' }, case: { type: 'string' },
    reason: { type: 'string' }, sensitiveApproval: { type: 'string' }, query: freeObject, status: { type: 'string' }, createdBy: { type: 'string' }, createdAt: { type: 'number' },
    approvals: { type: 'array', items: freeObject }, missing: { type: 'array', items: { type: 'string' } },
  },
} as const;
const withheldSchema = { type: 'object', properties: { sensitive: { type: 'boolean' } }, description: 'reads of sensitive places matched and were left out (docs/sensitive-places.md); never in the manifest' } as const;
const exportSchema = { type: 'object', required: ['manifest', 'ndjson'], properties: { manifest: freeObject, ndjson: { type: 'string' }, withheld: withheldSchema } } as const;
const errors = { ...authErrors, 404: errorSchema } as const;

export function sharingRoutes(app: FastifyInstance, ctx: OpsContext, pool: pg.Pool): void {
  const sharing = (request: Parameters<typeof actorOf>[0]): Sharing => new Sharing({ pool, audit: ctx.audit, store: ctx.store, now: ctx.now }, actorOf(request));

  app.post<{ Body: RequestBody }>('/api/sharing/requests', {
    config: { roles: SHARE_ROLES },
    schema: {
      tags: ['sharing'],
      summary: 'record a request of another agency for stored data (a search): agency, requester, purpose, case',
      body: {
        type: 'object',
        required: ['agency', 'federal', 'requester', 'purpose', 'case', 'query'],
        additionalProperties: false,
        properties: {
          agency: text, federal: { type: 'boolean', description: 'a federal agency: Clear Creek 424.4 rules apply' }, requester: text, purpose: text, case: text, reason: text,
          sensitiveApproval: { ...text, description: 'your approved sensitive-place approval for this purpose and case: the export includes the reads it covers' },
          query: {
            type: 'object',
            required: ['from', 'to'],
            additionalProperties: false,
            properties: searchQueryProperties(1_000_000),
          },
        },
      },
      response: { 200: requestSchema, ...errors },
    },
  }, async (request) => {
    const b = request.body;
    const query: ShareQuery = { ...b.query, from: timeOf('from', b.query.from), to: timeOf('to', b.query.to) };
    return sharing(request).request({ ...b, query });
  });

  app.get<{ Querystring: { status?: 'pending' | 'approved' | 'denied' | 'exported' } }>('/api/sharing/requests', {
    config: { roles: SHARE_ROLES },
    schema: {
      tags: ['sharing'],
      summary: 'sharing requests, newest first, with their approvals',
      querystring: { type: 'object', additionalProperties: false, properties: { status: { type: 'string', enum: ['pending', 'approved', 'denied', 'exported'] } } },
      response: { 200: { type: 'object', required: ['requests'], properties: { requests: { type: 'array', items: requestSchema } } }, ...errors },
    },
  }, async (request) => ({ requests: await sharing(request).list({ status: request.query.status }) }));

  app.post<{ Params: { id: string }; Body: { note: string; kind?: ApprovalKind } }>('/api/sharing/requests/:id/approve', {
    config: { roles: SHARE_DECIDE_ROLES },
    schema: {
      tags: ['sharing'],
      summary: 'record an approval step (supervisor, not the requester): `supervisor`, or for a federal request also `county-attorney-notice`',
      params: idParams,
      body: { type: 'object', required: ['note'], additionalProperties: false, properties: { note: text, kind: { type: 'string', enum: [...APPROVAL_KINDS] } } },
      response: { 200: requestSchema, ...errors },
    },
  }, async (request) => sharing(request).approve(request.params.id, request.body.kind ?? 'supervisor', request.body.note));

  app.post<{ Params: { id: string }; Body: { note: string } }>('/api/sharing/requests/:id/deny', {
    config: { roles: SHARE_DECIDE_ROLES },
    schema: {
      tags: ['sharing'],
      summary: 'deny a pending request (supervisor, not the requester): it is never exported',
      params: idParams,
      body: { type: 'object', required: ['note'], additionalProperties: false, properties: { note: text } },
      response: { 200: requestSchema, ...errors },
    },
  }, async (request) => sharing(request).deny(request.params.id, request.body.note));

  app.post<{ Params: { id: string } }>('/api/sharing/requests/:id/export', {
    config: { roles: SHARE_DECIDE_ROLES },
    schema: {
      tags: ['sharing'],
      summary: 'make the one export of an approved request: NDJSON and its manifest (sha256 of the NDJSON bytes)',
      params: idParams,
      response: { 200: exportSchema, ...errors },
    },
  }, async (request) => sharing(request).export(request.params.id));

  app.get<{ Params: { id: string }; Querystring: { download?: boolean } }>('/api/sharing/requests/:id/export', {
    config: { roles: SHARE_DECIDE_ROLES },
    schema: {
      tags: ['sharing'],
      summary: 'the export made earlier; download=true: the NDJSON bytes alone, the hash in X-Platesieve-Sha256',
      params: idParams,
      querystring: { type: 'object', additionalProperties: false, properties: { download: { type: 'boolean' } } },
      response: { 200: exportSchema, ...errors },
    },
  }, async (request, reply) => {
    const out = await sharing(request).getExport(request.params.id);
    if (request.query.download !== true) return out;
    // Raw bytes: skip the JSON serializer so the file is exactly what the manifest hashes.
    return reply.header('content-type', 'application/x-ndjson; charset=utf-8').header('x-platesieve-sha256', out.manifest.sha256).serializer((p: unknown) => p as string).send(out.ndjson);
  });
}
