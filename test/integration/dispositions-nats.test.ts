/**
 * Dispositions published on NATS, recorded by `platesieve store` (in this process, between a
 * real nats-server and a real PostgreSQL): alerts go in through the store's alert stream, then
 * dispositions on `<prefix>.dispositions.<agency>`. A valid one is stored (source `nats`) and
 * audited; an invalid, misdirected or second one is refused, dead-lettered with its reason and
 * answered on the `Platesieve-Reply-To` subject; nothing is redelivered forever.
 */
import pg from 'pg';
import pino from 'pino';
import { connect, createInbox, headers, type Msg, type NatsConnection, type Subscription } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServiceConfig, type ServiceConfig } from '../../matcher/service/config.js';
import { startStore, type RunningStore } from '../../matcher/store/service.js';
import { REPLY_TO_HEADER, type Answer } from '../../matcher/dispositions/nats-consumer.js';
import { startNatsServer, uniquePrefix, type NatsServerHandle } from '../helpers/nats-server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { waitFor } from '../helpers/service-process.js';

const enc = new TextEncoder();
const AT = 1_764_000_000_000;

let server: NatsServerHandle;
let nc: NatsConnection;
let db: TestDatabase;
let client: pg.Client;
let store: RunningStore;
let prefix: string;
let config: ServiceConfig;
// The store's clock: ahead, a disposition looks old enough to be refused ALERT_NOT_FOUND at once.
let offset = 0;
const deadletters: Msg[] = [];
let dlSub: Subscription;

function storeConfig(natsUrl: string, p: string): ServiceConfig {
  const base = loadServiceConfig(undefined, { nats: [natsUrl] }, {}, { requireHotlists: false });
  return {
    ...base,
    subjects: { ...base.subjects, prefix: p },
    jetstream: { ...base.jetstream, outStream: `O_${p}` },
    metrics: null,
    holds: { ...base.holds, bucket: null },
    liveUpdates: { ...base.liveUpdates, bucket: null },
    store: { ...base.store, batchWaitMs: 10, historicalDays: 0, retentionEveryMinutes: 0 },
    escalation: { ...base.escalation, enabled: false },
    audit: { ...base.audit, actor: 'store-under-test' },
  };
}

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
  db = await createTestDatabase('disp_nats');
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  prefix = uniquePrefix();
  config = storeConfig(server.url, prefix);
  store = await startStore(config, pino({ level: 'silent' }), { dbUrl: db.url, now: () => Date.now() + offset });
  dlSub = nc.subscribe(`${prefix}.deadletter`);
  void (async () => {
    for await (const m of dlSub) deadletters.push(m);
  })();
});

afterAll(async () => {
  await store?.stop();
  await nc?.close();
  await client?.end();
  await db?.drop();
  await server?.stop();
});

/** An alert published on the alert stream, waited for in the database. */
async function storeAlert(alertId: string, agency: string | undefined, list = 'STOLEN_VEHICLE'): Promise<void> {
  const alert = { alertId, readId: `r-${alertId}`, plate: 'ABC123', ts: Date.now(), cameraId: 'cam1', agency, entryId: 'e1', hotlistPlate: 'ABC123', list, priority: 1, match: 'exact', score: 1 };
  await nc.jetstream().publish(`${prefix}.alerts.${agency ?? 'UNKNOWN'}`, enc.encode(JSON.stringify(alert)));
  await waitFor(async () => (await client.query('SELECT 1 FROM platesieve.alerts WHERE alert_id = $1', [alertId])).rowCount === 1, 20_000, () => `alert ${alertId} stored`);
}

/** Publishes a disposition (bytes or a value) with a reply-to header; resolves with the store's answer. */
async function ask(subject: string, body: unknown): Promise<Answer> {
  const inbox = createInbox();
  const sub = nc.subscribe(inbox, { max: 1, timeout: 20_000 });
  const h = headers();
  h.set(REPLY_TO_HEADER, inbox);
  const data = body instanceof Uint8Array ? body : enc.encode(JSON.stringify(body));
  await nc.jetstream().publish(subject, data, { headers: h });
  for await (const m of sub) return m.json<Answer>();
  throw new Error(`no answer on ${inbox}`);
}

const disposition = (alertId: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ alertId, outcome: 'confirmed', by: 'officer 12', at: AT, verifiedWith: 'NCIC', ...extra });

async function storedDisposition(alertId: string): Promise<{ outcome: string; source: string; by: string; agency: string | null } | undefined> {
  return (await client.query<{ outcome: string; source: string; by: string; agency: string | null }>('SELECT outcome, source, by, agency FROM platesieve.dispositions WHERE alert_id = $1', [alertId])).rows[0];
}

async function auditOf(alertId: string): Promise<Array<{ action: string; actor: string; outcome: string; details: Record<string, unknown> }>> {
  return (await client.query<{ action: string; actor: string; outcome: string; details: Record<string, unknown> }>(
    `SELECT action, actor, outcome, details FROM platesieve.audit WHERE subject->>'alertId' = $1 ORDER BY seq`, [alertId],
  )).rows;
}

async function deadLetterOf(alertId: string): Promise<Msg> {
  let found: Msg | undefined;
  await waitFor(() => (found = deadletters.find((m) => m.string().includes(alertId))) !== undefined, 20_000, () => `dead letter of ${alertId}`);
  return found!;
}

async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const m = await store.metrics.registry.getSingleMetric(name)?.get();
  const v = m?.values.find((x) => Object.entries(labels).every(([k, l]) => x.labels[k] === l));
  return v?.value ?? 0;
}

describe('dispositions on NATS', () => {
  it('stores a valid disposition with source nats, audits it and answers ok', async () => {
    await storeAlert('al-ok', 'A1');
    const answer = await ask(`${prefix}.dispositions.A1`, disposition('al-ok'));
    expect(answer).toEqual({ ok: true, alertId: 'al-ok' });
    expect(await storedDisposition('al-ok')).toEqual({ outcome: 'confirmed', source: 'nats', by: 'officer 12', agency: 'A1' });
    const audit = await auditOf('al-ok');
    expect(audit).toHaveLength(1);
    // The actor is the store's identity; `by` (the publisher's) is in the details.
    expect(audit[0]).toMatchObject({ action: 'alert.disposition', actor: 'store-under-test', outcome: 'ok', details: { source: 'nats', by: 'officer 12', outcome: 'confirmed', agency: 'A1' } });
    expect(await metric('platesieve_dispositions_total', { source: 'nats', outcome: 'confirmed' })).toBe(1);
  });

  it('takes the same disposition again as already stored, and refuses a different second one', async () => {
    await storeAlert('al-twice', 'A1');
    const d = disposition('al-twice', { outcome: 'no_action' });
    expect(await ask(`${prefix}.dispositions.A1`, d)).toEqual({ ok: true, alertId: 'al-twice' });
    // A redelivery (stored, then the store died before its ack) is this very disposition.
    expect(await ask(`${prefix}.dispositions.A1`, d)).toEqual({ ok: true, alertId: 'al-twice' });
    const second = await ask(`${prefix}.dispositions.A1`, { ...d, outcome: 'confirmed', by: 'officer 13' });
    expect(second).toMatchObject({ ok: false, alertId: 'al-twice', error: 'ERR_ALREADY_DISPOSITIONED', problem: 'ALREADY_DISPOSITIONED' });
    expect(await storedDisposition('al-twice')).toMatchObject({ outcome: 'no_action', by: 'officer 12' });
    expect((await auditOf('al-twice')).map((a) => a.action)).toEqual(['alert.disposition', 'disposition.refused']);
  });

  it('dead-letters an invalid disposition with its reason, stores nothing, answers why', async () => {
    await storeAlert('al-invalid', 'A1');
    const answer = await ask(`${prefix}.dispositions.A1`, disposition('al-invalid', { outcome: 'rejected' }));
    expect(answer).toEqual({ ok: false, alertId: 'al-invalid', error: 'ERR_INVALID_DISPOSITION', problem: 'REASON_REQUIRED', message: 'a rejected alert needs a reason' });
    const dl = await deadLetterOf('al-invalid');
    expect(dl.headers?.get('Platesieve-Code')).toBe('REASON_REQUIRED');
    expect(dl.headers?.get('Platesieve-Reason')).toBe('a rejected alert needs a reason');
    expect(dl.headers?.get('Platesieve-Subject')).toBe(`${prefix}.dispositions.A1`);
    // The original bytes, as the service's dead letters carry them.
    expect(dl.json<Record<string, unknown>>()).toEqual(disposition('al-invalid', { outcome: 'rejected' }));
    expect(await storedDisposition('al-invalid')).toBeUndefined();
    expect(await auditOf('al-invalid')).toMatchObject([{ action: 'disposition.refused', outcome: 'refused', details: { problem: 'REASON_REQUIRED', source: 'nats' } }]);
    expect(await metric('platesieve_dispositions_refused_total', { problem: 'REASON_REQUIRED' })).toBe(1);
    // The store keeps its own dead letters like the service's.
    await waitFor(async () => (await client.query(`SELECT 1 FROM platesieve.deadletters WHERE code = 'REASON_REQUIRED'`)).rowCount === 1, 20_000, () => 'dead letter stored');
  });

  it("refuses a disposition of another agency's alert", async () => {
    await storeAlert('al-other', 'A1');
    const answer = await ask(`${prefix}.dispositions.B2`, disposition('al-other'));
    expect(answer).toMatchObject({ ok: false, error: 'ERR_AGENCY_MISMATCH', problem: 'AGENCY_MISMATCH' });
    expect((await deadLetterOf('al-other')).headers?.get('Platesieve-Code')).toBe('AGENCY_MISMATCH');
    expect(await storedDisposition('al-other')).toBeUndefined();
  });

  it('takes a disposition of an alert without agency on <prefix>.dispositions.UNKNOWN', async () => {
    await storeAlert('al-noagency', undefined);
    expect(await ask(`${prefix}.dispositions.UNKNOWN`, disposition('al-noagency'))).toEqual({ ok: true, alertId: 'al-noagency' });
    expect(await storedDisposition('al-noagency')).toMatchObject({ source: 'nats', agency: null });
  });

  it('refuses bytes that are not JSON and subjects naming no single agency', async () => {
    const notJson = await ask(`${prefix}.dispositions.A1`, enc.encode('al-garbage {'));
    expect(notJson).toMatchObject({ ok: false, problem: 'NOT_OBJECT', error: 'ERR_INVALID_DISPOSITION' });
    expect((notJson as { message: string }).message).toMatch(/^the message is not JSON/);
    expect((await deadLetterOf('al-garbage')).headers?.get('Platesieve-Code')).toBe('NOT_OBJECT');
    await storeAlert('al-deep', 'A1');
    const deep = await ask(`${prefix}.dispositions.A1.B2`, disposition('al-deep'));
    expect(deep).toMatchObject({ ok: false, alertId: 'al-deep', problem: 'BAD_SUBJECT' });
    expect(await storedDisposition('al-deep')).toBeUndefined();
    expect(await auditOf('al-deep')).toMatchObject([{ action: 'disposition.refused', details: { problem: 'BAD_SUBJECT', subject: `${prefix}.dispositions.A1.B2` } }]);
  });

  it('waits for an alert not stored yet, and refuses one that never comes', async () => {
    // Published before its alert: handed back until the alert is stored, then recorded.
    const early = ask(`${prefix}.dispositions.A1`, disposition('al-late'));
    await waitFor(async () => (await metric('platesieve_dispositions_deferred_total', { reason: 'alert_not_stored' })) > 0, 20_000, () => 'disposition handed back for its alert');
    await storeAlert('al-late', 'A1');
    expect(await early).toEqual({ ok: true, alertId: 'al-late' });
    // An alert nobody stores: refused once the disposition is older than the wait (the store's
    // clock is moved ahead rather than the test waiting 30 s).
    offset = 60_000;
    try {
      const answer = await ask(`${prefix}.dispositions.A1`, disposition('al-missing'));
      expect(answer).toMatchObject({ ok: false, problem: 'ALERT_NOT_FOUND', error: 'ERR_ALERT_NOT_FOUND' });
      expect((await deadLetterOf('al-missing')).headers?.get('Platesieve-Code')).toBe('ALERT_NOT_FOUND');
    } finally {
      offset = 0;
    }
  });

  it('hands a disposition back while the database fails, and stores it once it works again', async () => {
    await storeAlert('al-dbdown', 'A1');
    // The table gone for a moment: every query of the disposition fails as it would with the
    // database unreachable, and the message is handed back (nak), not refused.
    await client.query('ALTER TABLE platesieve.dispositions RENAME TO dispositions_away');
    const answer = ask(`${prefix}.dispositions.A1`, disposition('al-dbdown'));
    try {
      await waitFor(async () => (await metric('platesieve_dispositions_deferred_total', { reason: 'database' })) > 0, 20_000, () => 'disposition handed back');
    } finally {
      await client.query('ALTER TABLE platesieve.dispositions_away RENAME TO dispositions');
    }
    expect(await answer).toEqual({ ok: true, alertId: 'al-dbdown' });
    expect(await storedDisposition('al-dbdown')).toMatchObject({ source: 'nats' });
    expect(deadletters.some((m) => m.string().includes('al-dbdown'))).toBe(false);
  });

  it('leaves nothing pending on its durable consumer', async () => {
    const jsm = await nc.jetstreamManager();
    await waitFor(async () => {
      const info = await jsm.consumers.info(`O_${prefix}_DISPOSITIONS`, `${config.store.consumer}-dispositions`);
      return info.num_pending === 0 && info.num_ack_pending === 0;
    }, 20_000, () => 'every disposition acknowledged');
  });
});
