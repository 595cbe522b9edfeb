/**
 * POST /api/replay: a candidate matching setting replayed over the stored reads of a window
 * and compared with the stored alerts and their dispositions (docs/replay.md), for analysts
 * and supervisors, audited (`replay`) under the purpose SYSTEM_AUDIT.
 */
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { auditedReplay } from '../../replay/audited.js';
import { ReplayError, type ReplayCandidate } from '../../replay/replay.js';
import type { HotlistEntry, MatcherOptions } from '../../types.js';
import { actorOf } from '../auth.js';
import type { OpsContext } from '../context.js';
import { OpsError } from '../errors.js';
import { authErrors, freeObject, timeInput } from '../schemas.js';
import { timeOf } from '../time.js';

/** Who may replay. */
export const REPLAY_ROLES = ['analyst', 'supervisor'] as const;

interface ReplayBody {
  entries: HotlistEntry[];
  matching?: Omit<MatcherOptions, 'entries'>;
  listMinScore?: Record<string, number>;
  label?: string;
  from: number | string;
  to: number | string;
  purpose: string;
  case?: string;
  reason?: string;
}

// A candidate carries its whole hotlist: larger than other bodies, bounded all the same.
const BODY_LIMIT = 64 * 1024 * 1024;

export function replayRoutes(app: FastifyInstance, ctx: OpsContext, pool: pg.Pool): void {
  app.post<{ Body: ReplayBody }>('/api/replay', {
    config: { roles: REPLAY_ROLES },
    bodyLimit: BODY_LIMIT,
    schema: {
      tags: ['replay'],
      summary: 'replay a candidate matching setting over the stored reads of [from, to) against the stored alerts and dispositions (audited)',
      body: {
        type: 'object',
        required: ['entries', 'from', 'to', 'purpose'],
        additionalProperties: false,
        properties: {
          entries: { type: 'array', items: freeObject, description: 'the candidate hotlist entries (docs/contracts.md "Hotlist entry")' },
          matching: { ...freeObject, description: 'matcher options: tiers, listTiers, maxDistance, ocrClasses, stateMismatch, partialOcr, minScore' },
          listMinScore: { type: 'object', additionalProperties: { type: 'number', minimum: 0, maximum: 1 } },
          label: { type: 'string', maxLength: 200 },
          from: timeInput,
          to: timeInput,
          purpose: { type: 'string', minLength: 1, description: 'SYSTEM_AUDIT (docs/replay.md)' },
          case: { type: 'string', minLength: 1 },
          reason: { type: 'string', minLength: 1, description: 'required when the window reaches reads older than one year' },
        },
      },
      response: { 200: { ...freeObject, description: 'ReplayReport (matcher/replay/replay.ts)' }, ...authErrors },
    },
  }, async (request) => {
    const b = request.body;
    const from = timeOf('from', b.from);
    const to = timeOf('to', b.to);
    const candidate: ReplayCandidate = { entries: b.entries, matching: b.matching ?? {} };
    if (b.listMinScore !== undefined) candidate.listMinScore = b.listMinScore;
    const who = actorOf(request);
    try {
      return await auditedReplay(pool, ctx.audit, { actor: who.actor, details: { ...who.details, roles: [...(who.roles ?? [])] } }, { candidate, from, to, purpose: b.purpose, case: b.case, reason: b.reason, label: b.label }, ctx.now());
    } catch (err) {
      if (err instanceof ReplayError && err.code !== 'REPLAY_NO_DISPOSITIONS') throw new OpsError('ERR_BAD_REQUEST', err.message, { cause: err });
      throw err;
    }
  });
}
