/**
 * The audit log for auditors and supervisors: GET /api/audit (records, filtered), GET
 * /api/audit/report (the periodic report, audit/report.ts), POST /api/audit/verify (the chain).
 * Reading the log is itself audited (`audit.read`, `audit.report`): who watched the watchers.
 */
import type { FastifyInstance } from 'fastify';
import { auditReport } from '../../audit/report.js';
import { actorOf } from '../auth.js';
import type { OpsContext } from '../context.js';
import { OpsError } from '../errors.js';
import { auditRecordSchema, authErrors, freeObject, timeInput } from '../schemas.js';
import { timeOf } from '../time.js';
import type { AuditEvent } from '../../audit/types.js';
import type { FastifyRequest } from 'fastify';

export const AUDIT_ROLES = ['auditor', 'supervisor'] as const;

const DAY = 86_400_000;

const verifySchema = {
  type: 'object',
  required: ['ok', 'records'],
  properties: {
    ok: { type: 'boolean' },
    records: { type: 'integer' },
    badLine: { type: 'integer' },
    badSeq: { type: 'integer' },
    reason: { type: 'string' },
    logId: { type: 'string' },
    head: { type: 'string' },
    firstAt: { type: 'number' },
    lastAt: { type: 'number' },
  },
} as const;

export function auditRoutes(app: FastifyInstance, ctx: OpsContext): void {
  const record = (request: FastifyRequest, e: AuditEvent): Promise<unknown> => {
    const who = actorOf(request);
    return ctx.audit.append({ ...e, actor: who.actor, details: { ...e.details, ...who.details, roles: [...(who.roles ?? [])] } });
  };

  app.get<{ Querystring: { from?: number | string; to?: number | string; actor?: string; action?: string; limit?: number } }>('/api/audit', {
    config: { roles: AUDIT_ROLES },
    schema: {
      tags: ['audit'],
      summary: 'audit records in seq order, filtered by time (to exclusive), actor and action (or prefix)',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { from: timeInput, to: timeInput, actor: { type: 'string', minLength: 1 }, action: { type: 'string', minLength: 1 }, limit: { type: 'integer', minimum: 1, maximum: 100_000, default: 1000 } },
      },
      response: { 200: { type: 'object', required: ['records'], properties: { records: { type: 'array', items: auditRecordSchema } } }, ...authErrors },
    },
  }, async (request) => {
    const q = request.query;
    const filter = { from: timeOf('from', q.from), to: timeOf('to', q.to), actor: q.actor, action: q.action, limit: q.limit ?? 1000 };
    const records = await ctx.auditSource.read(filter);
    await record(request, { action: 'audit.read', subject: { count: records.length, ...(filter.from !== undefined ? { from: filter.from } : {}), ...(filter.to !== undefined ? { to: filter.to } : {}) }, details: { actorFilter: q.actor ?? null, actionFilter: q.action ?? null } });
    return { records };
  });

  app.get<{ Querystring: { from?: number | string; to?: number | string } }>('/api/audit/report', {
    config: { roles: AUDIT_ROLES },
    schema: {
      tags: ['audit'],
      summary: 'the periodic audit report of [from, to): counts by user, action, purpose and role, anomalies, chain head (default: the last 90 days)',
      querystring: { type: 'object', additionalProperties: false, properties: { from: timeInput, to: timeInput } },
      response: { 200: { ...freeObject, description: 'AuditReport (matcher/audit/report-types.ts)' }, ...authErrors },
    },
  }, async (request) => {
    const to = timeOf('to', request.query.to) ?? ctx.now();
    const from = timeOf('from', request.query.from) ?? to - 90 * DAY;
    if (from >= to) throw new OpsError('ERR_BAD_REQUEST', 'from must be before to');
    const report = await auditReport(ctx.auditSource.records(to), { from, to });
    await record(request, { action: 'audit.report', subject: { from, to, count: report.records } });
    return report;
  });

  app.post('/api/audit/verify', {
    config: { roles: AUDIT_ROLES },
    schema: { tags: ['audit'], summary: 'verify the whole hash chain of the audit log', response: { 200: verifySchema, ...authErrors } },
  }, async (request) => {
    const result = await ctx.auditSource.verify();
    await record(request, { action: 'audit.read', subject: { count: result.records }, details: { verify: true, ok: result.ok } });
    return result;
  });
}
