/**
 * Logins and sessions: POST /api/login, POST /api/logout, GET /api/me. People checks the
 * password, the TOTP code, lockout and disabled accounts, and audits every attempt; this layer
 * adds the per-address attempt limit.
 */
import type { FastifyInstance } from 'fastify';
import type { LoginRequest } from '../../people/index.js';
import { sessionOf } from '../auth.js';
import type { OpsContext } from '../context.js';
import { OpsError } from '../errors.js';
import { errorSchema, okSchema, roleSchema } from '../schemas.js';

const sessionSchema = {
  type: 'object',
  required: ['username', 'roles', 'createdAt', 'expiresAt', 'sessionId'],
  properties: {
    username: { type: 'string' },
    roles: { type: 'array', items: roleSchema },
    createdAt: { type: 'number', description: 'epoch ms' },
    expiresAt: { type: 'number', description: 'epoch ms: the earlier of the absolute and the idle expiry' },
    sessionId: { type: 'string', description: 'public id of the session (not the token)' },
  },
} as const;

export function sessionRoutes(app: FastifyInstance, ctx: OpsContext): void {
  app.post<{ Body: { username: string; password: string; totp?: string } }>('/api/login', {
    schema: {
      tags: ['session'],
      summary: 'log in: a session token for the Authorization: Bearer header',
      body: {
        type: 'object',
        required: ['username', 'password'],
        additionalProperties: false,
        properties: { username: { type: 'string', minLength: 1, maxLength: 200 }, password: { type: 'string', minLength: 1, maxLength: 1024 }, totp: { type: 'string', pattern: '^[0-9]{6,8}$' } },
      },
      response: {
        200: { type: 'object', required: ['token', 'expiresAt', 'roles', 'username'], properties: { token: { type: 'string' }, expiresAt: { type: 'number' }, roles: { type: 'array', items: roleSchema }, username: { type: 'string' }, sessionId: { type: 'string' } } },
        400: errorSchema, 401: errorSchema, 403: errorSchema, 423: errorSchema, 429: errorSchema,
      },
    },
  }, async (request, reply) => {
    if (!ctx.limiter.take(request.ip)) {
      ctx.metrics.login('limited');
      void reply.header('retry-after', String(ctx.limiter.retryAfterS()));
      throw new OpsError('ERR_RATE_LIMITED', 'too many login attempts from this address: wait a minute');
    }
    const req: LoginRequest = { username: request.body.username, password: request.body.password, client: { ip: request.ip, userAgent: request.headers['user-agent'] } };
    if (request.body.totp !== undefined) req.totp = request.body.totp;
    try {
      const s = await ctx.people.login(req);
      ctx.metrics.login('ok');
      return { token: s.token, expiresAt: s.expiresAt, roles: s.roles, username: s.username, sessionId: s.sessionId };
    } catch (err) {
      ctx.metrics.login('refused');
      throw err;
    }
  });

  app.post('/api/logout', {
    config: { roles: 'any' },
    schema: { tags: ['session'], summary: 'end this session', response: { 200: okSchema, 401: errorSchema } },
  }, async (request) => {
    await ctx.people.logout(request.opsToken ?? '');
    return { ok: true };
  });

  app.get('/api/me', {
    config: { roles: 'any' },
    schema: { tags: ['session'], summary: 'the session: user, roles, expiry', response: { 200: sessionSchema, 401: errorSchema } },
  }, (request) => Promise.resolve(sessionOf(request)));
}
