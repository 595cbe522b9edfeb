/**
 * GET /api/alerts/live: alerts, escalations and dispositions as Server-Sent Events for the
 * console (live-feed.ts). The console reads it with fetch(), so the session is the usual
 * `Authorization: Bearer` header; a token in the query string is never accepted (it would end
 * up in proxy and access logs). Audited once per connection (`alert.live`). The session is
 * checked again every minute, so a logout, a disabled account or a role taken away ends the
 * stream instead of leaving it open for the rest of the day.
 */
import type { FastifyInstance } from 'fastify';
import { hasRole, type Role } from '../../people/index.js';
import { bearerToken, sessionOf } from '../auth.js';
import type { OpsContext } from '../context.js';
import { OpsError } from '../errors.js';
import type { LiveFeed } from '../live-feed.js';

/** Who may follow the live alerts. */
export const ALERT_LIVE_ROLES: readonly Role[] = ['operator', 'analyst', 'supervisor'];

const RECHECK_MS = 60_000;

/** Registers the route; without a feed (no NATS connection) it answers 503. */
export function liveRoutes(app: FastifyInstance, ctx: OpsContext, feed: LiveFeed | undefined, recheckMs = RECHECK_MS): void {
  app.get('/api/alerts/live', {
    config: { roles: ALERT_LIVE_ROLES },
    schema: {
      tags: ['alerts'],
      summary: 'live alerts, escalations and dispositions as Server-Sent Events (text/event-stream)',
      produces: ['text/event-stream'],
      response: { 200: { type: 'string', description: 'events `alert` ({alert, deadline, windowKind, receivedAt}), `escalation`, `disposition`, `end`; a `: ping` comment every 15 s' } },
    },
  }, async (request, reply) => {
    if (feed === undefined || !feed.available) throw new OpsError('ERR_NATS_UNAVAILABLE', 'the live feed needs a NATS connection, which this instance does not have');
    const full = (): OpsError => new OpsError('ERR_LIVE_FULL', `this instance already serves ${feed.maxClients} live streams; try again later or another instance`);
    if (feed.full) throw full();
    const session = sessionOf(request);
    await ctx.audit.append({
      action: 'alert.live',
      outcome: 'ok',
      actor: session.username,
      details: { roles: [...session.roles], sessionId: session.sessionId, client: request.ip },
    });
    // The audit append awaited: other streams may have taken the last places meanwhile.
    if (feed.full) throw full();
    reply.hijack();
    const end = feed.attach(reply.raw, session.username);
    const token = bearerToken(request);
    const timer = setInterval(() => {
      void (async () => {
        try {
          if (token === undefined) throw new Error('no token');
          const s = await ctx.people.authenticate(token);
          if (!hasRole(s.roles, ALERT_LIVE_ROLES)) end('role removed');
        } catch {
          end('session ended');
        }
      })();
    }, recheckMs);
    timer.unref();
    reply.raw.on('close', () => clearInterval(timer));
  });
}
