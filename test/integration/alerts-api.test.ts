/**
 * Alert verification through the operations API against a real PostgreSQL: dispositions
 * (recorded once, `by` the session user whatever the body says, refusals with their problem),
 * roles, the audit trail, the alert list's confirmation deadlines and escalations, and the
 * false-alert statistics against a hand-computed set.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgAuditLog, readPgAudit } from '../../matcher/audit/pg-log.js';
import type { AuditRecord } from '../../matcher/audit/types.js';
import { pgAuditSource } from '../../matcher/ops/audit-source.js';
import { createOpsServer, type OpsServer } from '../../matcher/ops/server.js';
import type { Role } from '../../matcher/people/index.js';
import { alertRow } from '../../matcher/store/rows.js';
import { StoreWriter } from '../../matcher/store/writer.js';
import type { Alert } from '../../matcher/types.js';
import { addAndLogin, injectAs, type ApiResult, closeOpsDatabase, openOpsDatabase } from '../helpers/ops.js';
import type { TestDatabase } from '../helpers/postgres.js';

const MIN = 60_000;
const DAY = 86_400_000;
const REAL_NOW = Date.now();
let clock = REAL_NOW;
const now = (): number => clock;

// The verification set: one day ago. The statistics set: three days ago, its own window.
const T1 = REAL_NOW - DAY;
const S0 = REAL_NOW - 3 * DAY;
const RETENTION = { default: { policy: 'default', nonhitDays: 30, hitDays: 365, basis: 'test' }, agencies: {} };

let db: TestDatabase;
let pool: pg.Pool;
let audit: PgAuditLog;
let ops: OpsServer;
const tokens = new Map<string, string>();

function alert(id: string, ts: number, o: { plate: string; hotlistPlate: string; list: string; priority: number; match: 'exact' | 'ocr'; score: number; cameraId: string; historical?: boolean }): Alert & { historical?: boolean } {
  return {
    alertId: id, readId: `r-${id}`, ts, agency: 'CA0010000', entryId: `e-${o.hotlistPlate}`, plate: o.plate, matchedPlate: o.plate, hotlistPlate: o.hotlistPlate,
    list: o.list, priority: o.priority, match: o.match, distance: 0, score: o.score, cameraId: o.cameraId, imageRef: `img/${id}.jpg`,
    hotlistVersion: 'v1', hotlistAgeS: 60, verify: 'Confirm with NCIC before acting', ...(o.historical === true ? { historical: true } : {}),
  };
}

const SV = 'STOLEN_VEHICLE';
const WP = 'WANTED_PERSON';
const VERIFY_SET = [
  alert('d1', T1, { plate: '7ABC123', hotlistPlate: '7ABC123', list: SV, priority: 1, match: 'exact', score: 0.99, cameraId: 'cam-A' }),
  alert('d2', T1 + 1000, { plate: '7A8C123', hotlistPlate: '7ABC123', list: SV, priority: 4, match: 'ocr', score: 0.8, cameraId: 'cam-A' }),
  alert('h1', T1 + 2000, { plate: '7ABC123', hotlistPlate: '7ABC123', list: SV, priority: 1, match: 'exact', score: 0.99, cameraId: 'cam-B', historical: true }),
  alert('d3', T1 + 3000, { plate: 'AMB123', hotlistPlate: 'AMB123', list: 'AMBER', priority: 3, match: 'exact', score: 0.97, cameraId: 'cam-B' }),
];
// Six alerts, two lists, two tiers (hand-computed expectations in the stats test).
const STATS_SET: Array<[Alert, string, string | undefined]> = [
  [alert('s1', S0 + 1000, { plate: '7ABC123', hotlistPlate: '7ABC123', list: SV, priority: 2, match: 'exact', score: 0.98, cameraId: 'cam-A' }), 'confirmed', undefined],
  [alert('s2', S0 + 2000, { plate: '7A8C123', hotlistPlate: '7ABC123', list: SV, priority: 2, match: 'ocr', score: 0.81, cameraId: 'cam-A' }), 'rejected', 'misread'],
  [alert('s3', S0 + 3000, { plate: '8XYZ999', hotlistPlate: 'BXYZ999', list: SV, priority: 2, match: 'ocr', score: 0.86, cameraId: 'cam-B' }), 'confirmed', undefined],
  [alert('s4', S0 + 4000, { plate: '5DEF456', hotlistPlate: '5DEF456', list: WP, priority: 1, match: 'exact', score: 0.95, cameraId: 'cam-B' }), 'confirmed', undefined],
  [alert('s5', S0 + 5000, { plate: '5DEF4S6', hotlistPlate: '5DEF456', list: WP, priority: 1, match: 'ocr', score: 0.72, cameraId: 'cam-A' }), 'rejected', 'misread'],
  [alert('s6', S0 + 6000, { plate: '7A8C123', hotlistPlate: '7ABC123', list: WP, priority: 1, match: 'ocr', score: 0.77, cameraId: 'cam-B' }), 'no_action', undefined],
];

const call = (method: string, url: string, user: string, body?: unknown): Promise<ApiResult> => injectAs(ops, tokens.get(user) ?? 'none', method, url, body);

async function auditWhere(filter: (r: AuditRecord) => boolean): Promise<AuditRecord[]> {
  return (await readPgAudit(pool, { limit: 100_000 })).filter(filter);
}

beforeAll(async () => {
  ({ db, pool, audit } = await openOpsDatabase('alerts_api', 6));
  const none = new Map<string, number>();
  await new StoreWriter(pool).write({ reads: [], alerts: [...VERIFY_SET, ...STATS_SET.map(([a]) => a)].map((a) => alertRow(a, RETENTION, none, REAL_NOW)), deadletters: [] });
  // The store's sweep escalated d3 when its 5-minute AMBER window passed.
  await pool.query(`INSERT INTO platesieve.escalations (alert_id, agency, list, priority, kind, deadline, escalated_at) VALUES ('d3', 'CA0010000', 'AMBER', 3, 'list', $1, $2)`, [T1 + 3000 + 5 * MIN, T1 + 3000 + 5 * MIN + 15_000]);
  ops = await createOpsServer({
    pool, audit, auditSource: pgAuditSource(pool), now, loginsPerMinute: 0,
    escalation: { urgentMinutes: 10, routineMinutes: 60, urgentPriority: 2, lists: { AMBER: 5 } },
  });
  const users: Array<[string, Role]> = [['opr', 'operator'], ['opr2', 'operator'], ['ana', 'analyst'], ['sup', 'supervisor'], ['aud', 'auditor']];
  for (const [name, token] of await addAndLogin(ops, users, () => (clock += 30_000))) tokens.set(name, token);
}, 60_000);

afterAll(async () => {
  await ops?.close();
  await closeOpsDatabase({ db, pool, audit });
});

describe('dispositions through the API', () => {
  it('records confirmed and rejected with the session user as `by`; refuses a missing reason, a second disposition, an unknown alert; all audited', async () => {
    clock += 1000;
    const at1 = clock;
    const c = await call('POST', '/api/alerts/d1/disposition', 'opr', { outcome: 'confirmed', verifiedWith: 'NCIC', by: 'Sgt. Somebody Else', at: 1 });
    expect(c.status).toBe(200);
    expect(c.body).toEqual({ alertId: 'd1', outcome: 'confirmed', by: 'opr', at: at1, verifiedWith: 'NCIC', source: 'api', agency: 'CA0010000', list: SV });

    const noReason = await call('POST', '/api/alerts/d2/disposition', 'opr', { outcome: 'rejected' });
    expect(noReason).toMatchObject({ status: 400, body: { error: 'ERR_INVALID_DISPOSITION', problem: 'REASON_REQUIRED' } });

    const r = await call('POST', '/api/alerts/d2/disposition', 'sup', { outcome: 'rejected', reason: 'misread', note: 'image shows 7A8C123' });
    expect(r.body).toMatchObject({ alertId: 'd2', outcome: 'rejected', reason: 'misread', note: 'image shows 7A8C123', by: 'sup' });

    const again = await call('POST', '/api/alerts/d1/disposition', 'opr2', { outcome: 'rejected', reason: 'misread' });
    expect(again).toMatchObject({ status: 409, body: { error: 'ERR_ALREADY_DISPOSITIONED', problem: 'ALREADY_DISPOSITIONED' } });
    const unknown = await call('POST', '/api/alerts/no-such-alert/disposition', 'opr', { outcome: 'confirmed' });
    expect(unknown).toMatchObject({ status: 404, body: { error: 'ERR_ALERT_NOT_FOUND', problem: 'ALERT_NOT_FOUND' } });
    for (const user of ['aud', 'ana']) {
      expect(await call('POST', '/api/alerts/d3/disposition', user, { outcome: 'confirmed' })).toMatchObject({ status: 403, body: { error: 'ERR_FORBIDDEN_ROLE' } });
    }

    const { rows } = await pool.query<{ alert_id: string; outcome: string; by: string; at: string }>('SELECT alert_id, outcome, by, at FROM platesieve.dispositions ORDER BY alert_id');
    expect(rows.map((x) => [x.alert_id, x.outcome, x.by])).toEqual([['d1', 'confirmed', 'opr'], ['d2', 'rejected', 'sup']]);
    expect(Number(rows[0].at)).toBe(at1);

    const steps = await auditWhere((x) => (x.action === 'alert.disposition' || x.action === 'disposition.refused') && ['d1', 'd2', 'no-such-alert'].includes(x.subject?.alertId as string));
    expect(steps.map((x) => `${x.action} ${x.subject?.alertId as string} ${x.actor} ${x.outcome} ${(x.details?.problem as string | undefined) ?? ''}`)).toEqual([
      'alert.disposition d1 opr ok ',
      'disposition.refused d2 opr refused REASON_REQUIRED',
      'alert.disposition d2 sup ok ',
      'disposition.refused d1 opr2 refused ALREADY_DISPOSITIONED',
      'disposition.refused no-such-alert opr refused ALERT_NOT_FOUND',
    ]);
    expect(steps[0].details).toMatchObject({ outcome: 'confirmed', by: 'opr', at: at1, verifiedWith: 'NCIC', source: 'api' });
    const roleRefusals = await auditWhere((x) => x.action === 'session.refused' && (x.actor === 'aud' || x.actor === 'ana') && x.subject?.route === '/api/alerts/:id/disposition');
    expect(roleRefusals.map((x) => x.actor)).toEqual(['aud', 'ana']);
  });

  it('refuses a body the schema does not know and an unknown outcome (with its problem)', async () => {
    expect(await call('POST', '/api/alerts/d3/disposition', 'opr', { outcome: 'confirmed', plate: 'X' })).toMatchObject({ status: 400, body: { error: 'ERR_BAD_REQUEST' } });
    expect(await call('POST', '/api/alerts/d3/disposition', 'opr', { outcome: 'maybe' })).toMatchObject({ status: 400, body: { error: 'ERR_INVALID_DISPOSITION', problem: 'BAD_OUTCOME' } });
    expect(await call('POST', '/api/alerts/d3/disposition', 'opr', { outcome: 'rejected', reason: 'other' })).toMatchObject({ status: 400, body: { problem: 'NOTE_REQUIRED' } });
  });
});

describe('alert lists', () => {
  const window = `from=${T1 - 1000}&to=${T1 + 10_000}`;

  it('lists newest first with deadlines: ts + 10 min for priority 1, ts + 60 min for priority 4, the list window for AMBER, none for historical', async () => {
    const r = await call('GET', `/api/alerts?${window}`, 'opr');
    expect(r.status).toBe(200);
    const alerts = r.body.alerts as Array<Record<string, unknown>>;
    expect(alerts.map((a) => [a.alertId, a.deadline, a.windowKind, a.escalatedAt, a.overdue])).toEqual([
      ['d3', T1 + 3000 + 5 * MIN, 'list', T1 + 3000 + 5 * MIN + 15_000, true],
      ['h1', null, null, null, false],
      ['d2', T1 + 1000 + 60 * MIN, 'routine', null, false],
      ['d1', T1 + 10 * MIN, 'urgent', null, false],
    ]);
    expect(alerts[3]).toMatchObject({ ts: T1, list: SV, priority: 1, match: 'exact', score: 0.99, historical: false, disposition: { outcome: 'confirmed', by: 'opr', verifiedWith: 'NCIC', source: 'api' } });
    expect(alerts[3].alert).toMatchObject({ plate: '7ABC123', hotlistPlate: '7ABC123', verify: 'Confirm with NCIC before acting', imageRef: 'img/d1.jpg' });
    expect(alerts[1]).toMatchObject({ historical: true, disposition: null });

    const open = await call('GET', `/api/alerts?${window}&undispositioned=true`, 'ana');
    expect((open.body.alerts as Array<{ alertId: string }>).map((a) => a.alertId)).toEqual(['d3', 'h1']);
    const limited = await call('GET', `/api/alerts?${window}&limit=1`, 'sup');
    expect((limited.body.alerts as Array<{ alertId: string }>).map((a) => a.alertId)).toEqual(['d3']);
    expect((await call('GET', `/api/alerts?${window}&limit=1001`, 'sup')).status).toBe(400);
    expect((await call('GET', `/api/alerts?from=${T1}&to=${T1}`, 'sup')).status).toBe(400);
    expect((await call('GET', `/api/alerts?${window}`, 'aud')).body.error).toBe('ERR_FORBIDDEN_ROLE');

    // Audited with counts, never the plates.
    const lists = await auditWhere((x) => x.action === 'alert.list' && x.subject?.alertId === undefined);
    expect(lists.map((x) => [x.actor, x.subject?.count])).toEqual([['opr', 4], ['ana', 2], ['sup', 1]]);
    expect(lists[0].details).toMatchObject({ undispositioned: false, open: 2, overdue: 1, roles: ['operator'] });
    expect(JSON.stringify(lists)).not.toContain('7ABC123');
  });

  it('reads one alert with its disposition; 404 for an unknown one', async () => {
    const one = await call('GET', '/api/alerts/d2', 'opr');
    expect(one.body).toMatchObject({ alertId: 'd2', deadline: T1 + 1000 + 60 * MIN, disposition: { outcome: 'rejected', reason: 'misread', by: 'sup' } });
    expect(await call('GET', '/api/alerts/nope', 'opr')).toMatchObject({ status: 404, body: { error: 'ERR_NOT_FOUND' } });
    const reads = await auditWhere((x) => x.action === 'alert.list' && x.subject?.alertId !== undefined);
    expect(reads.map((x) => [x.actor, x.subject?.alertId, x.subject?.count])).toEqual([['opr', 'd2', 1], ['opr', 'nope', 0]]);
  });
});

describe('false-alert statistics', () => {
  it('match a hand-computed set: counts, rates by list, tier, score band, camera, confusion; thresholds per list', async () => {
    for (const [a, outcome, reason] of STATS_SET) {
      const r = await call('POST', `/api/alerts/${a.alertId as string}/disposition`, 'opr', { outcome, ...(reason !== undefined ? { reason } : {}) });
      expect(r.status).toBe(200);
    }
    const window = `from=${S0}&to=${S0 + 60 * MIN}`;
    const r = await call('GET', `/api/alerts/stats?${window}&keep=1`, 'ana');
    expect(r.status).toBe(200);
    const g = (alerts: number, confirmed: number, rejected: number, noAction: number): Record<string, number | null> => {
      const d = confirmed + rejected + noAction;
      return { alerts, dispositioned: d, confirmed, rejected, noAction, confirmedRate: d === 0 ? null : confirmed / d, rejectedRate: d === 0 ? null : rejected / d };
    };
    expect(r.body).toEqual({
      from: S0, to: S0 + 60 * MIN, keep: 1,
      total: g(6, 3, 2, 1),
      byList: { [SV]: g(3, 2, 1, 0), [WP]: g(3, 1, 1, 1) },
      byTier: { exact: g(2, 2, 0, 0), ocr: g(4, 1, 2, 1) },
      byScoreBand: { '0.9-1.0': g(2, 2, 0, 0), '0.8-0.9': g(2, 1, 1, 0), '0.7-0.8': g(2, 0, 1, 1) },
      byCamera: { 'cam-A': g(3, 1, 2, 0), 'cam-B': g(3, 2, 0, 1) },
      byConfusion: { '8>B': g(3, 1, 1, 1), 'S>5': g(1, 0, 1, 0) },
      thresholds: [
        { list: SV, threshold: 0.86, confirmedKept: 2, confirmed: 2, rejectedRemoved: 1, rejected: 1 },
        { list: WP, threshold: 0.95, confirmedKept: 1, confirmed: 1, rejectedRemoved: 1, rejected: 1 },
      ],
    });
    expect((r.body.total as { confirmedRate: number }).confirmedRate).toBe(0.5);
    // keep 0.5 of SV's two confirmed: the top one, 0.98.
    const half = await call('GET', `/api/alerts/stats?${window}&keep=0.5`, 'aud');
    expect(half.status).toBe(200);
    expect((half.body.thresholds as Array<{ threshold: number }>).map((t) => t.threshold)).toEqual([0.98, 0.95]);
    expect((await call('GET', `/api/alerts/stats?${window}`, 'opr')).body.error).toBe('ERR_FORBIDDEN_ROLE');
    expect((await call('GET', `/api/alerts/stats?from=${S0}&to=${S0 + 400 * DAY}`, 'sup')).body.error).toBe('ERR_ALERT_QUERY');
    const stats = await auditWhere((x) => x.action === 'alert.stats');
    expect(stats.map((x) => [x.actor, x.subject?.count, x.details?.keep])).toEqual([['ana', 6, 1], ['aud', 6, 0.5]]);
  });
});
