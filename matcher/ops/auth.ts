/**
 * Authentication and roles. Every route declares who may call it in its `config.roles`:
 * absent for public routes (login, health, metrics, the OpenAPI document), `'any'` for any
 * logged-in user, or a list of roles (any one of them allows). The hook turns the Bearer token
 * into a session (People.authenticate: expiry, idle timeout and disabled accounts are checked
 * there, against the database, so any instance accepts any instance's token), then checks the
 * role. A role refusal is 403 and audited as `session.refused`, with the user's roles; a
 * missing, unknown or expired session is 401 and audited the same way.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AuthError, hasRole, type Role, type Session } from '../people/index.js';
import type { StoreActor } from '../store/open.js';
import type { OpsContext } from './context.js';
import { OpsError } from './errors.js';

/** Who may call a route. */
export type RouteRoles = readonly Role[] | 'any';

declare module 'fastify' {
  interface FastifyContextConfig {
    roles?: RouteRoles;
  }
  interface FastifyRequest {
    /** The caller's session, set by the auth hook on every non-public route. */
    opsSession?: Session;
    /** The caller's Bearer token (logout ends it). */
    opsToken?: string;
  }
}

/** The Bearer token of a request, or undefined. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1];
}

/** The session of an authenticated request (the hook guarantees one on non-public routes). */
export function sessionOf(request: FastifyRequest): Session {
  if (request.opsSession === undefined) throw new OpsError('ERR_UNAUTHENTICATED', 'log in first');
  return request.opsSession;
}

/** The audit actor of a request: the logged-in user, their roles, the session and client. */
export function actorOf(request: FastifyRequest): StoreActor {
  const s = sessionOf(request);
  return { actor: s.username, roles: s.roles, details: { sessionId: s.sessionId, client: request.ip } };
}

/** Installs the hook on `app`. */
export function registerAuth(app: FastifyInstance, ctx: OpsContext): void {
  app.addHook('onRequest', async (request) => {
    const roles = request.routeOptions.config.roles;
    if (roles === undefined) return;
    const route = request.routeOptions.url ?? request.url;
    const token = bearerToken(request);
    let session: Session;
    try {
      if (token === undefined) throw new OpsError('ERR_UNAUTHENTICATED', 'no session: send Authorization: Bearer <token> (POST /api/login)');
      session = await ctx.people.authenticate(token);
    } catch (err) {
      // People leaves these to the caller, which knows the request. No session, no person:
      // the actor is `anonymous`, as for a login with an unknown name.
      const code = (err as { code?: unknown }).code;
      if (err instanceof AuthError || err instanceof OpsError) {
        await ctx.audit.append({ action: 'session.refused', outcome: 'refused', actor: 'anonymous', reason: (err as Error).message, subject: { route, method: request.method }, details: { code: String(code), client: request.ip } });
      }
      throw err;
    }
    request.opsSession = session;
    request.opsToken = token;
    if (roles === 'any' || hasRole(session.roles, roles)) return;
    await ctx.audit.append({
      action: 'session.refused',
      outcome: 'refused',
      actor: session.username,
      reason: `role refused: ${request.method} ${route} needs ${roles.join(' or ')}`,
      subject: { route, method: request.method },
      details: { roles: [...session.roles], required: [...roles], sessionId: session.sessionId, client: request.ip },
    });
    throw new OpsError('ERR_FORBIDDEN_ROLE', `${request.method} ${route} needs the role ${roles.join(' or ')}; you have ${session.roles.join(', ') || 'none'}`);
  });
}
