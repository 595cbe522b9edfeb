/**
 * Live hotlist entries through the API: POST /api/hotlist/entries (add or replace), POST
 * /api/hotlist/entries/:id/cancel, DELETE /api/hotlist/entries/:id. Written to the key-value
 * bucket every service follows exactly as `platesieve hotlist add|cancel|remove` write it
 * (service/live-write.ts), with `Platesieve-Actor` set to the logged-in user: the actor comes
 * from the session, never from a typed name. Each change is audited first (the services audit
 * it again when they apply it, as `live.*`).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { JetStreamClient, KV } from 'nats';
import type { AuditEvent } from '../../audit/types.js';
import { checkEntryPurpose } from '../../policy/index.js';
import { CANCEL_PREFIX, ENTRY_PREFIX } from '../../service/live.js';
import { deleteLive, putLive } from '../../service/live-write.js';
import type { HotlistEntry } from '../../types.js';
import { purposeError } from '../../policy/purpose.js';
import { actorOf } from '../auth.js';
import type { OpsContext } from '../context.js';
import { OpsError } from '../errors.js';
import { checkEntry, entryBodySchema, entryFromBody, ENTRY_ID_PATTERN, type EntryBody } from '../hotlist-entry.js';
import { authErrors, errorSchema, freeObject } from '../schemas.js';

export const HOTLIST_ROLES = ['analyst', 'supervisor'] as const;

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: ENTRY_ID_PATTERN, maxLength: 200 } } } as const;
const changeResponse = { type: 'object', required: ['id', 'revision'], properties: { id: { type: 'string' }, revision: { type: 'integer' }, entry: freeObject } } as const;

export function hotlistRoutes(app: FastifyInstance, ctx: OpsContext): void {
  let bucket: Promise<{ kv: KV; js: JetStreamClient; name: string }> | undefined;
  const open = (): Promise<{ kv: KV; js: JetStreamClient; name: string }> => {
    const nc = ctx.nats;
    if (nc === undefined) throw new OpsError('ERR_NATS_UNAVAILABLE', 'this instance has no NATS connection: live hotlist changes are unavailable');
    const name = ctx.bucket;
    if (name === null) throw new OpsError('ERR_NATS_UNAVAILABLE', 'live hotlist changes are off (liveUpdates.bucket is null)');
    // Opens (creates, as the CLI does) the bucket once; a failure is retried on the next request.
    bucket ??= nc.jetstream().views.kv(name, { history: 10 }).then((kv) => ({ kv, js: nc.jetstream(), name }), (err: unknown) => {
      bucket = undefined;
      throw new OpsError('ERR_NATS_UNAVAILABLE', `cannot open bucket ${name}: ${(err as Error).message}`, { cause: err });
    });
    return bucket;
  };
  const audit = (request: FastifyRequest, e: AuditEvent): Promise<unknown> => {
    const who = actorOf(request);
    return ctx.audit.append({ ...e, actor: who.actor, details: { ...e.details, ...who.details, roles: [...(who.roles ?? [])] } });
  };

  app.post<{ Body: EntryBody }>('/api/hotlist/entries', {
    config: { roles: HOTLIST_ROLES },
    schema: { tags: ['hotlist'], summary: 'add or replace a live entry (plate, or partial pattern with case, purpose and expiry)', body: entryBodySchema, response: { 200: changeResponse, 503: errorSchema, ...authErrors } },
  }, async (request) => {
    const who = actorOf(request);
    const entry = entryFromBody(request.body, who.actor, ctx.now());
    const action = entry.pattern !== undefined ? 'partial.add' : 'entry.add';
    const subject = { entryId: entry.id, plate: entry.plate, pattern: entry.pattern, list: entry.list, state: entry.state };
    const verdict = checkEntryPurpose({ list: entry.list, notes: entry.notes, purpose: entry.purpose, case: entry.case });
    if (!verdict.ok) {
      await ctx.audit.refused({ action, actor: who.actor, purpose: entry.purpose, case: entry.case, subject, details: { ...who.details, roles: [...(who.roles ?? [])] } }, verdict);
      throw purposeError(verdict);
    }
    checkEntry(entry);
    const { js, name } = await open();
    await audit(request, { action, purpose: entry.purpose, case: entry.case, subject });
    const revision = await putLive(js, name, `${ENTRY_PREFIX}${entry.id}`, JSON.stringify(entry), { actor: who.actor, purpose: entry.purpose, case: entry.case });
    return { id: entry.id, revision, entry: { ...entry } };
  });

  app.post<{ Params: { id: string }; Body: { reason: string; case?: string } }>('/api/hotlist/entries/:id/cancel', {
    config: { roles: HOTLIST_ROLES },
    schema: {
      tags: ['hotlist'],
      summary: 'cancel an entry (from a file or live) in every service: its hits stop alerting',
      params: idParams,
      body: { type: 'object', required: ['reason'], additionalProperties: false, properties: { reason: { type: 'string', minLength: 1, pattern: '\\S' }, case: { type: 'string', minLength: 1 } } },
      response: { 200: changeResponse, 503: errorSchema, ...authErrors },
    },
  }, async (request) => {
    const who = actorOf(request);
    const { id } = request.params;
    const { kv, js, name } = await open();
    const live = await kv.get(`${ENTRY_PREFIX}${id}`);
    const isPartial = live !== null && live.operation === 'PUT' && typeof live.json<HotlistEntry>().pattern === 'string';
    await audit(request, { action: isPartial ? 'partial.cancel' : 'entry.remove', case: request.body.case, reason: request.body.reason, subject: { entryId: id } });
    const value = JSON.stringify({ by: who.actor, reason: request.body.reason, at: ctx.now() });
    const revision = await putLive(js, name, `${CANCEL_PREFIX}${id}`, value, { actor: who.actor, reason: request.body.reason, case: request.body.case });
    return { id, revision };
  });

  app.delete<{ Params: { id: string }; Body: { reason: string } }>('/api/hotlist/entries/:id', {
    config: { roles: HOTLIST_ROLES },
    schema: {
      tags: ['hotlist'],
      summary: 'remove a live entry from the bucket (entries from files: cancel them)',
      params: idParams,
      body: { type: 'object', required: ['reason'], additionalProperties: false, properties: { reason: { type: 'string', minLength: 1, pattern: '\\S' } } },
      response: { 200: changeResponse, 503: errorSchema, ...authErrors },
    },
  }, async (request) => {
    const who = actorOf(request);
    const { id } = request.params;
    const { js, name } = await open();
    await audit(request, { action: 'entry.remove', reason: request.body.reason, subject: { entryId: id } });
    const revision = await deleteLive(js, name, `${ENTRY_PREFIX}${id}`, { actor: who.actor, reason: request.body.reason });
    return { id, revision };
  });
}
