/**
 * Alert verification (docs/ops.md "Alerts"): operators and supervisors record a disposition of
 * a stored alert; operators, analysts and supervisors list recent alerts with their deadlines;
 * analysts, supervisors and auditors read the false-alert statistics. The disposition's `by`
 * and `at` are the session user and the server's clock: a typed name is never the actor.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { AuditEvent } from '../../audit/types.js';
import { getAlert, listAlerts, MAX_ALERT_LIMIT, statsRows } from '../../dispositions/query.js';
import { recordDisposition } from '../../dispositions/record.js';
import { publishRecorded } from '../../dispositions/recorded-event.js';
import { computeAlertStats } from '../../dispositions/stats.js';
import { OUTCOMES, REJECT_REASONS } from '../../dispositions/validate.js';
import type { WindowSettings } from '../../dispositions/windows.js';
import { actorOf } from '../auth.js';
import type { OpsContext } from '../context.js';
import { OpsError } from '../errors.js';
import { errorSchema, freeObject, timeInput } from '../schemas.js';
import { timeOf } from '../time.js';

/** Who may disposition an alert: the people who check it against the record. */
export const DISPOSITION_ROLES = ['operator', 'supervisor'] as const;
/** Who may list recent alerts and read one. */
export const ALERT_READ_ROLES = ['operator', 'analyst', 'supervisor'] as const;
/** Who may read the false-alert statistics. */
export const ALERT_STATS_ROLES = ['analyst', 'supervisor', 'auditor'] as const;

const DAY = 86_400_000;

interface DispositionBody {
  outcome: string;
  reason?: string;
  note?: string;
  verifiedWith?: string;
  by?: string;
  at?: number;
}

// Disposition refusals carry the validator's or recorder's `problem` (REASON_REQUIRED, ...).
const problemError = { ...errorSchema, properties: { ...errorSchema.properties, problem: { type: 'string', description: 'why a disposition was refused (docs/contracts.md)' } } } as const;
const errors = { 400: problemError, 401: errorSchema, 403: problemError, 404: problemError, 409: problemError, 500: errorSchema } as const;
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 200 } } } as const;
const nullableString = { type: ['string', 'null'] } as const;
const nullableNumber = { type: ['number', 'null'] } as const;

const dispositionSchema = {
  type: 'object',
  required: ['outcome', 'by', 'at', 'source'],
  properties: {
    outcome: { type: 'string' }, reason: { type: 'string' }, note: { type: 'string' }, by: { type: 'string' }, at: { type: 'number' },
    verifiedWith: { type: 'string' }, source: { type: 'string' },
  },
} as const;

const recordedSchema = {
  type: 'object',
  required: ['alertId', 'outcome', 'by', 'at', 'source'],
  properties: { alertId: { type: 'string' }, ...dispositionSchema.properties, agency: nullableString, list: nullableString },
} as const;

const alertViewSchema = {
  type: 'object',
  required: ['alertId', 'readId', 'ts', 'agency', 'list', 'priority', 'match', 'score', 'historical', 'alert', 'disposition', 'deadline', 'windowKind', 'escalatedAt', 'overdue'],
  properties: {
    alertId: { type: 'string' }, readId: { type: 'string' }, ts: { type: 'number' }, agency: nullableString, list: nullableString, priority: nullableNumber,
    match: { type: 'string' }, score: nullableNumber, historical: { type: 'boolean' },
    alert: { ...freeObject, description: 'the alert as published (docs/contracts.md "Alert"): plate, matchedPlate, hotlistPlate, verify, imageRef, ...' },
    disposition: { anyOf: [{ type: 'null' }, dispositionSchema] },
    deadline: { ...nullableNumber, description: 'epoch ms the confirmation window closes; null for historical alerts' },
    windowKind: { type: ['string', 'null'], enum: ['urgent', 'routine', 'list', null] },
    escalatedAt: nullableNumber,
    overdue: { type: 'boolean' },
  },
} as const;

const groupSchema = {
  type: 'object',
  required: ['alerts', 'dispositioned', 'confirmed', 'rejected', 'noAction', 'confirmedRate', 'rejectedRate'],
  properties: {
    alerts: { type: 'integer' }, dispositioned: { type: 'integer' }, confirmed: { type: 'integer' }, rejected: { type: 'integer' }, noAction: { type: 'integer' },
    confirmedRate: nullableNumber, rejectedRate: nullableNumber,
  },
} as const;
const groupsSchema = { type: 'object', additionalProperties: groupSchema } as const;

const statsSchema = {
  type: 'object',
  required: ['from', 'to', 'keep', 'total', 'byList', 'byTier', 'byScoreBand', 'byCamera', 'byConfusion', 'thresholds'],
  properties: {
    from: { type: 'number' }, to: { type: 'number' }, keep: { type: 'number' }, total: groupSchema,
    byList: groupsSchema, byTier: groupsSchema, byScoreBand: groupsSchema, byCamera: groupsSchema, byConfusion: groupsSchema,
    thresholds: {
      type: 'array',
      items: {
        type: 'object',
        required: ['list', 'threshold', 'confirmedKept', 'confirmed', 'rejectedRemoved', 'rejected'],
        properties: {
          list: { type: 'string' }, threshold: nullableNumber, confirmedKept: { type: 'integer' }, confirmed: { type: 'integer' },
          rejectedRemoved: { type: 'integer' }, rejected: { type: 'integer' },
        },
      },
    },
  },
} as const;

function windowOf(q: { from?: number | string; to?: number | string }, now: number, defaultDays: number): { from: number; to: number } {
  const to = timeOf('to', q.to) ?? now;
  const from = timeOf('from', q.from) ?? to - defaultDays * DAY;
  if (from >= to) throw new OpsError('ERR_BAD_REQUEST', 'from must be before to');
  return { from, to };
}

/** Registers the alert routes; `windows` are the configuration's confirmation windows. */
export function alertRoutes(app: FastifyInstance, ctx: OpsContext, pool: pg.Pool, windows: WindowSettings): void {
  const record = (request: FastifyRequest, e: AuditEvent): Promise<unknown> => {
    const who = actorOf(request);
    return ctx.audit.append({ ...e, actor: who.actor, details: { ...e.details, ...who.details, roles: [...(who.roles ?? [])] } });
  };

  app.post<{ Params: { id: string }; Body: DispositionBody }>('/api/alerts/:id/disposition', {
    config: { roles: DISPOSITION_ROLES },
    schema: {
      tags: ['alerts'],
      summary: 'record the disposition of a stored alert, once; `by` and `at` are the session user and the server clock (audited)',
      params: idParams,
      body: {
        type: 'object',
        required: ['outcome'],
        additionalProperties: false,
        properties: {
          // Values are checked by validateDisposition, not here, so that a refusal carries its
          // `problem` and is audited as the NATS consumer's are.
          outcome: { type: 'string', description: OUTCOMES.join(', ') },
          reason: { type: 'string', description: `required when rejected: ${REJECT_REASONS.join(', ')}` },
          note: { type: 'string', description: 'free text; required with reason `other`' },
          verifiedWith: { type: 'string', description: 'what it was checked against (NCIC, the state record, the image)' },
          by: { type: 'string', description: 'ignored: the session user is `by`' },
          at: { type: 'number', description: 'ignored: the server clock is `at`' },
        },
      },
      response: { 200: recordedSchema, ...errors },
    },
  }, async (request) => {
    const who = actorOf(request);
    const b = request.body;
    const input = { alertId: request.params.id, outcome: b.outcome, reason: b.reason, note: b.note, verifiedWith: b.verifiedWith, by: who.actor, at: ctx.now() };
    const recorded = await recordDisposition({ pool, audit: ctx.audit }, input, { source: 'api', actor: who.actor });
    publishRecorded(ctx.nats, ctx.prefix, recorded, ctx.logger);
    return recorded;
  });

  app.get<{ Querystring: { from?: number | string; to?: number | string; undispositioned?: boolean; limit?: number; list?: string } }>('/api/alerts', {
    config: { roles: ALERT_READ_ROLES },
    schema: {
      tags: ['alerts'],
      summary: 'stored alerts of [from, to) (default: the last 24 hours), newest first, with disposition, confirmation deadline and escalation (audited, counts only)',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          from: timeInput, to: timeInput, undispositioned: { type: 'boolean' }, list: { type: 'string', minLength: 1 },
          limit: { type: 'integer', minimum: 1, maximum: MAX_ALERT_LIMIT, default: 200 },
        },
      },
      response: { 200: { type: 'object', required: ['from', 'to', 'alerts'], properties: { from: { type: 'number' }, to: { type: 'number' }, alerts: { type: 'array', items: alertViewSchema } } }, ...errors },
    },
  }, async (request) => {
    const q = request.query;
    const now = ctx.now();
    const { from, to } = windowOf(q, now, 1);
    const alerts = await listAlerts(pool, { from, to, undispositioned: q.undispositioned === true, limit: q.limit ?? 200, list: q.list }, windows, now);
    const open = alerts.filter((a) => a.disposition === null).length;
    await record(request, { action: 'alert.list', subject: { from, to, count: alerts.length }, details: { undispositioned: q.undispositioned === true, open, overdue: alerts.filter((a) => a.overdue).length } });
    return { from, to, alerts };
  });

  app.get<{ Querystring: { from?: number | string; to?: number | string; keep?: number } }>('/api/alerts/stats', {
    config: { roles: ALERT_STATS_ROLES },
    schema: {
      tags: ['alerts'],
      summary: 'false-alert statistics of [from, to) (default: the last 30 days): rates by list, tier, score band, camera, confusion; per-list thresholds keeping `keep` of confirmed alerts (audited)',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { from: timeInput, to: timeInput, keep: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.95 } },
      },
      response: { 200: statsSchema, ...errors },
    },
  }, async (request) => {
    const q = request.query;
    const { from, to } = windowOf(q, ctx.now(), 30);
    const keep = q.keep ?? 0.95;
    const stats = computeAlertStats(await statsRows(pool, { from, to }), keep);
    await record(request, { action: 'alert.stats', subject: { from, to, count: stats.total.alerts }, details: { keep, dispositioned: stats.total.dispositioned } });
    return { from, to, ...stats };
  });

  app.get<{ Params: { id: string } }>('/api/alerts/:id', {
    config: { roles: ALERT_READ_ROLES },
    schema: {
      tags: ['alerts'],
      summary: 'one stored alert with its disposition, deadline and escalation (audited)',
      params: idParams,
      response: { 200: alertViewSchema, ...errors },
    },
  }, async (request) => {
    const now = ctx.now();
    const alert = await getAlert(pool, request.params.id, windows, now);
    await record(request, { action: 'alert.list', subject: { alertId: request.params.id, count: alert === undefined ? 0 : 1 } });
    if (alert === undefined) throw new OpsError('ERR_NOT_FOUND', `no stored alert ${request.params.id}`);
    return alert;
  });
}
