/**
 * Accounts, for admins only: GET /api/users, POST /api/users, POST
 * /api/users/:username/{disable,enable,reset}, PUT /api/users/:username/roles. People checks
 * and audits each change with the logged-in admin as its actor. A new TOTP secret is in the
 * response once, for the admin to hand to the user.
 */
import type { FastifyInstance } from 'fastify';
import type { Role } from '../../people/index.js';
import { sessionOf } from '../auth.js';
import type { OpsContext } from '../context.js';
import { accountSchema, authErrors, errorSchema, roleSchema, totpSchema } from '../schemas.js';

export const USER_ROLES = ['admin'] as const;

const userParams = { type: 'object', required: ['username'], properties: { username: { type: 'string', minLength: 1, maxLength: 200 } } } as const;
const enrolled = { type: 'object', required: ['account'], properties: { account: accountSchema, totp: totpSchema } } as const;
const errors = { ...authErrors, 404: errorSchema, 409: errorSchema } as const;

export function userRoutes(app: FastifyInstance, ctx: OpsContext): void {
  const config = { roles: USER_ROLES };

  app.get('/api/users', {
    config,
    schema: { tags: ['users'], summary: 'every account', response: { 200: { type: 'object', required: ['users'], properties: { users: { type: 'array', items: accountSchema } } }, ...errors } },
  }, async () => ({ users: await ctx.people.listUsers() }));

  app.post<{ Body: { username: string; password: string; roles: Role[]; mfa?: boolean } }>('/api/users', {
    config,
    schema: {
      tags: ['users'],
      summary: 'add an account; every role but operator gets TOTP (its secret is returned once)',
      body: {
        type: 'object',
        required: ['username', 'password', 'roles'],
        additionalProperties: false,
        properties: { username: { type: 'string', minLength: 1, maxLength: 200 }, password: { type: 'string', minLength: 1, maxLength: 1024 }, roles: { type: 'array', items: roleSchema, minItems: 1 }, mfa: { type: 'boolean' } },
      },
      response: { 200: enrolled, ...errors },
    },
  }, async (request) => ctx.people.addUser(request.body, sessionOf(request).username));

  app.post<{ Params: { username: string }; Body: { reason: string } }>('/api/users/:username/disable', {
    config,
    schema: {
      tags: ['users'],
      summary: 'disable an account: its sessions end',
      params: userParams,
      body: { type: 'object', required: ['reason'], additionalProperties: false, properties: { reason: { type: 'string', minLength: 1, pattern: '\\S' } } },
      response: { 200: accountSchema, ...errors },
    },
  }, async (request) => ctx.people.disableUser(request.params.username, sessionOf(request).username, request.body.reason));

  app.post<{ Params: { username: string } }>('/api/users/:username/enable', {
    config,
    schema: { tags: ['users'], summary: 'enable an account', params: userParams, response: { 200: accountSchema, ...errors } },
  }, async (request) => ctx.people.enableUser(request.params.username, sessionOf(request).username));

  app.post<{ Params: { username: string }; Body: { password?: string; totp?: boolean } }>('/api/users/:username/reset', {
    config,
    schema: {
      tags: ['users'],
      summary: 'set a new password and/or a new TOTP secret (returned once); unlocks the account',
      params: userParams,
      body: { type: 'object', additionalProperties: false, minProperties: 1, properties: { password: { type: 'string', minLength: 1, maxLength: 1024 }, totp: { type: 'boolean' } } },
      response: { 200: enrolled, ...errors },
    },
  }, async (request) => ctx.people.resetUser(request.params.username, sessionOf(request).username, request.body));

  app.put<{ Params: { username: string }; Body: { roles: Role[] } }>('/api/users/:username/roles', {
    config,
    schema: {
      tags: ['users'],
      summary: 'replace the roles of an account',
      params: userParams,
      body: { type: 'object', required: ['roles'], additionalProperties: false, properties: { roles: { type: 'array', items: roleSchema, minItems: 1 } } },
      response: { 200: accountSchema, ...errors },
    },
  }, async (request) => ctx.people.setRoles(request.params.username, request.body.roles, sessionOf(request).username));
}
