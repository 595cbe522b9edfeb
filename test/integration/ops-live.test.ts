/**
 * GET /api/alerts/live against a real nats-server and PostgreSQL, over real HTTP with fetch (as
 * the console reads it): alerts (JSON and msgpack) with their confirmation deadlines,
 * escalations and dispositions as events, heartbeats, roles, the client limit, the session
 * re-check, the audit record, and the clean-up when a client goes away.
 */
import { pack } from 'msgpackr';
import { connect, type NatsConnection } from 'nats';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgAuditLog, readPgAudit } from '../../matcher/audit/pg-log.js';
import { pgAuditSource } from '../../matcher/ops/audit-source.js';
import { createOpsServer, type OpsServer } from '../../matcher/ops/server.js';
import { People, type Role } from '../../matcher/people/index.js';
import { alertRow } from '../../matcher/store/rows.js';
import { StoreWriter } from '../../matcher/store/writer.js';
import type { Alert } from '../../matcher/types.js';
import { startNatsServer, type NatsServerHandle } from '../helpers/nats-server.js';
import { closeOpsDatabase, openOpsDatabase } from '../helpers/ops.js';
import type { TestDatabase } from '../helpers/postgres.js';

const PASSWORD = 'correct horse battery staple';
const MINUTE = 60_000;

let db: TestDatabase;
let pool: pg.Pool;
let audit: PgAuditLog;
let nats: NatsServerHandle;
let nc: NatsConnection;
let ops: OpsServer;
let url: string;

/** Logs a new user with `role` in (TOTP), returns the token. */
async function userToken(username: string, role: Role): Promise<string> {
  const added = await ops.people.addUser({ username, password: PASSWORD, roles: [role], mfa: true }, 'test-setup');
  const secret = added.totp?.secret as string;
  const res = await fetch(`${url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: PASSWORD, totp: People.totpNow(secret, Date.now()) }) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

interface SseEvent { event: string; data?: unknown; comment?: string }

/** An open stream: its events as they come, parsed. */
class Stream {
  readonly events: SseEvent[] = [];
  private buffer = '';
  private waiters: Array<() => void> = [];
  closed = false;
  constructor(readonly res: Response, readonly abort: AbortController) {
    void this.read();
  }

  private async read(): Promise<void> {
    const reader = (this.res.body as ReadableStream<Uint8Array>).getReader();
    const dec = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        this.buffer += dec.decode(value, { stream: true });
        let i: number;
        while ((i = this.buffer.indexOf('\n\n')) >= 0) {
          const block = this.buffer.slice(0, i);
          this.buffer = this.buffer.slice(i + 2);
          const ev: SseEvent = { event: 'message' };
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) ev.comment = line.slice(1).trim();
            else if (line.startsWith('event: ')) ev.event = line.slice(7);
            else if (line.startsWith('data: ')) ev.data = JSON.parse(line.slice(6)) as unknown;
          }
          if (ev.comment !== undefined) ev.event = 'comment';
          this.events.push(ev);
        }
        this.wake();
      }
    } catch {
      // aborted
    }
    this.closed = true;
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** The first event (from `from` on) that `pick` accepts; fails after `ms`. */
  async next(pick: (e: SseEvent) => boolean, from = 0, ms = 5000): Promise<SseEvent> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.events.slice(from).find(pick);
      if (found !== undefined) return found;
      if (this.closed) throw new Error(`stream closed; events: ${JSON.stringify(this.events)}`);
      if (Date.now() > deadline) throw new Error(`no such event in ${ms} ms; events: ${JSON.stringify(this.events)}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }
}

async function open(token?: string): Promise<Stream | Response> {
  const abort = new AbortController();
  const res = await fetch(`${url}/api/alerts/live`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` }, signal: abort.signal });
  if (res.status !== 200) return res;
  return new Stream(res, abort);
}

async function openStream(token: string): Promise<Stream> {
  const s = await open(token);
  if (!(s instanceof Stream)) throw new Error(`stream refused: ${s.status} ${await s.text()}`);
  await s.next((e) => e.comment === 'connected');
  // The subscription is the server's, on this connection: a flush has it in place at the server.
  await nc.flush();
  return s;
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  ({ db, pool, audit } = await openOpsDatabase('ops_live', 8));
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url });
  ops = await createOpsServer({
    pool, audit, auditSource: pgAuditSource(pool), nats: nc, loginsPerMinute: 0,
    live: { maxClients: 2, heartbeatMs: 200, sessionCheckMs: 300 },
    escalation: { urgentMinutes: 10, routineMinutes: 60, urgentPriority: 2, lists: { BOLO: 30 } },
  });
  url = await ops.listen({ host: '127.0.0.1', port: 0 });
}, 60_000);

afterAll(async () => {
  await ops?.close();
  await nc?.close();
  await nats?.stop();
  await closeOpsDatabase({ db, pool, audit });
});

const baseAlert = { readId: 'r-1', plate: '7ABC123', matchedPlate: '7ABC123', entryId: 'E-1', list: 'STOLEN_VEHICLE', match: 'exact', distance: 0, score: 1, hotlistVersion: 'v1', hotlistAgeS: 3, verify: 'confirm with NCIC', agency: 'A1' };

describe('GET /api/alerts/live', () => {
  it('streams alerts with their deadlines, escalations and dispositions to an operator', async () => {
    const token = await userToken('op.one', 'operator');
    const s = await openStream(token);
    expect(s.res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(s.res.headers.get('cache-control')).toMatch(/no-cache/);
    expect(s.res.headers.get('x-accel-buffering')).toBe('no');
    expect(ops.liveClients()).toBe(1);

    const ts = Date.now() - 5000;
    const before = Date.now();
    nc.publish('alpr.alerts.A1', JSON.stringify({ ...baseAlert, alertId: 'al-1', ts, priority: 1 }));
    const first = await s.next((e) => e.event === 'alert');
    const data = first.data as { alert: { alertId: string }; deadline: number; windowKind: string; receivedAt: number };
    expect(data.alert).toEqual({ ...baseAlert, alertId: 'al-1', ts, priority: 1 });
    expect(data.deadline).toBe(ts + 10 * MINUTE);
    expect(data.windowKind).toBe('urgent');
    expect(data.receivedAt).toBeGreaterThanOrEqual(before);

    // msgpack, as a service with msgpack output publishes; a routine priority; a list window;
    // a historical alert (no window); an array message (one event each); no ts (receivedAt).
    nc.publish('alpr.alerts.A1', pack({ ...baseAlert, alertId: 'al-2', ts, priority: 4 }));
    nc.publish('alpr.alerts.A2', JSON.stringify([{ ...baseAlert, alertId: 'al-3', ts, priority: 1, list: 'BOLO' }, { ...baseAlert, alertId: 'al-4', ts, priority: 1, historical: true }]));
    nc.publish('alpr.alerts.A2', JSON.stringify({ ...baseAlert, alertId: 'al-5', priority: 2 }), { headers: undefined });
    const byId = async (id: string): Promise<{ deadline: number | null; windowKind: string | null; receivedAt: number }> =>
      (await s.next((e) => e.event === 'alert' && (e.data as { alert: { alertId: string } }).alert.alertId === id)).data as { deadline: number | null; windowKind: string | null; receivedAt: number };
    expect(await byId('al-2')).toMatchObject({ deadline: ts + 60 * MINUTE, windowKind: 'routine' });
    expect(await byId('al-3')).toMatchObject({ deadline: ts + 30 * MINUTE, windowKind: 'list' });
    expect(await byId('al-4')).toMatchObject({ deadline: null, windowKind: null });
    const noTs = await byId('al-5');
    expect(noTs.deadline).toBe(noTs.receivedAt + 10 * MINUTE);

    const escalation = { alertId: 'al-1', agency: 'A1', deadline: ts + 10 * MINUTE, escalatedAt: Date.now() };
    nc.publish('alpr.escalations.A1', JSON.stringify(escalation));
    expect((await s.next((e) => e.event === 'escalation')).data).toEqual(escalation);
    // A recorded disposition's event (the store's or another instance's), not the store's input subject.
    const disposition = { alertId: 'al-1', outcome: 'confirmed', by: 'op.one', at: ts, source: 'nats' };
    nc.publish('alpr.dispositions.A1', JSON.stringify({ ...disposition, alertId: 'input-only' }));
    nc.publish('alpr.disposed.A1', JSON.stringify(disposition));
    expect((await s.next((e) => e.event === 'disposition')).data).toEqual(disposition);
    // Another prefix's subjects, and undecodable bodies, are not events.
    nc.publish('other.alerts.A1', JSON.stringify({ ...baseAlert, alertId: 'al-x' }));
    nc.publish('alpr.alerts.A1', new Uint8Array([0xc1]));
    await nc.flush();
    // Heartbeats keep proxies from closing an idle stream.
    const n = s.events.length;
    await s.next((e) => e.comment === 'ping', n);
    expect(s.events.filter((e) => e.event === 'alert').map((e) => (e.data as { alert: { alertId: string } }).alert.alertId)).toEqual(['al-1', 'al-2', 'al-3', 'al-4', 'al-5']);

    s.abort.abort();
    await until(() => ops.liveClients() === 0);

    const records = (await readPgAudit(pool, { limit: 10_000 })).filter((r) => r.action === 'alert.live');
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ actor: 'op.one', outcome: 'ok', details: { roles: ['operator'] } });
  });

  it("streams a disposition recorded through the API to every open console, as alpr.disposed.<agency>", async () => {
    const retention = { default: { policy: 'default', nonhitDays: 30, hitDays: 365, basis: 'test' }, agencies: {} };
    const stored = { ...baseAlert, alertId: 'al-api', ts: Date.now(), priority: 2 } as unknown as Alert;
    await new StoreWriter(pool).write({ reads: [], alerts: [alertRow(stored, retention, new Map(), Date.now())], deadletters: [] });
    const watcher = await openStream(await userToken('sup.watch', 'supervisor'));
    const events = nc.subscribe('alpr.disposed.>');
    await nc.flush();
    const op = await userToken('op.api', 'operator');
    const res = await fetch(`${url}/api/alerts/al-api/disposition`, { method: 'POST', headers: { authorization: `Bearer ${op}`, 'content-type': 'application/json' }, body: JSON.stringify({ outcome: 'confirmed', verifiedWith: 'NCIC' }) });
    expect(res.status).toBe(200);
    const seen = (await watcher.next((e) => e.event === 'disposition')).data;
    expect(seen).toMatchObject({ alertId: 'al-api', outcome: 'confirmed', by: 'op.api', verifiedWith: 'NCIC', source: 'api', agency: 'A1', list: 'STOLEN_VEHICLE' });
    for await (const m of events) {
      expect(m.subject).toBe('alpr.disposed.A1');
      expect(m.json()).toEqual(seen);
      break;
    }
    watcher.abort.abort();
    await until(() => ops.liveClients() === 0);
  });

  it('refuses an auditor (403), a request without a token (401), and a token in the query string', async () => {
    const auditor = await userToken('aud.one', 'auditor');
    const refused = await open(auditor);
    expect(refused).toBeInstanceOf(Response);
    expect((refused as Response).status).toBe(403);
    expect(await (refused as Response).json()).toMatchObject({ error: 'ERR_FORBIDDEN_ROLE' });
    const none = (await open()) as Response;
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: 'ERR_UNAUTHENTICATED' });
    const analyst = await userToken('an.one', 'analyst');
    const query = await fetch(`${url}/api/alerts/live?token=${analyst}`);
    expect(query.status).toBe(401);
    expect(ops.liveClients()).toBe(0);
  });

  it('limits the streams per instance (503 ERR_LIVE_FULL) and frees the place on disconnect', async () => {
    const token = await userToken('sup.one', 'supervisor');
    const a = await openStream(token);
    const b = await openStream(token);
    expect(ops.liveClients()).toBe(2);
    const c = (await open(token)) as Response;
    expect(c.status).toBe(503);
    expect(await c.json()).toMatchObject({ error: 'ERR_LIVE_FULL' });
    nc.publish('alpr.alerts.A9', JSON.stringify({ ...baseAlert, alertId: 'fan-1', ts: Date.now(), priority: 3 }));
    for (const s of [a, b]) await s.next((e) => e.event === 'alert');
    a.abort.abort();
    await until(() => ops.liveClients() === 1);
    const d = await openStream(token);
    expect(ops.liveClients()).toBe(2);
    b.abort.abort();
    d.abort.abort();
    await until(() => ops.liveClients() === 0);
  });

  it('ends the stream when its session ends (logout)', async () => {
    const token = await userToken('op.two', 'operator');
    const s = await openStream(token);
    const out = await fetch(`${url}/api/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(out.status).toBe(200);
    expect((await s.next((e) => e.event === 'end')).data).toEqual({ reason: 'session ended' });
    await until(() => s.closed && ops.liveClients() === 0);
  });

  it('answers 503 ERR_NATS_UNAVAILABLE without a NATS connection', async () => {
    const bare = await createOpsServer({ pool, audit, auditSource: pgAuditSource(pool), loginsPerMinute: 0 });
    try {
      const added = await bare.people.addUser({ username: 'op.three', password: PASSWORD, roles: ['operator'], mfa: false }, 'test-setup');
      expect(added.totp).toBeUndefined();
      const login = await bare.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'op.three', password: PASSWORD } });
      const token = (JSON.parse(login.body) as { token: string }).token;
      const r = await bare.app.inject({ method: 'GET', url: '/api/alerts/live', headers: { authorization: `Bearer ${token}` } });
      expect(r.statusCode).toBe(503);
      expect(JSON.parse(r.body)).toMatchObject({ error: 'ERR_NATS_UNAVAILABLE' });
    } finally {
      await bare.close();
    }
  });

  it('ends open streams when the server closes', async () => {
    const other = await createOpsServer({ pool, audit, auditSource: pgAuditSource(pool), nats: nc, loginsPerMinute: 0 });
    const otherUrl = await other.listen({ host: '127.0.0.1', port: 0 });
    await other.people.addUser({ username: 'op.four', password: PASSWORD, roles: ['operator'], mfa: false }, 'test-setup');
    const ok = await other.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'op.four', password: PASSWORD } });
    const token = (JSON.parse(ok.body) as { token: string }).token;
    const res = await fetch(`${otherUrl}/api/alerts/live`, { headers: { authorization: `Bearer ${token}` } });
    const s = new Stream(res, new AbortController());
    await s.next((e) => e.comment === 'connected');
    await other.close();
    expect((await s.next((e) => e.event === 'end')).data).toEqual({ reason: 'server closing' });
    await until(() => s.closed);
  });
});
