import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../matcher/audit/log.js';
import { auditReport, formatAuditReport, median, type AuditReport } from '../../matcher/audit/report.js';
import type { AuditEvent, AuditRecord } from '../../matcher/audit/types.js';
import { exportAuditArray } from '../../matcher/audit/verify.js';
import type { PurposeRefusal } from '../../matcher/policy/purpose.js';
import { tempDir } from '../helpers/cli.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const FROM = Date.parse('2026-03-10T00:00:00Z');
const TO = FROM + DAY;
const BASELINE = FROM - 30 * DAY;

const dir = tempDir('platesieve-audit-report-');

const inv = { roles: ['investigator'] };
const sup = { roles: ['supervisor', 'auditor'] };
const forbidden: PurposeRefusal = { ok: false, category: 'CIVIL_IMMIGRATION', code: 'FORBIDDEN_PURPOSE', reason: 'purpose IMMIGRATION_ENFORCEMENT is forbidden', citation: 'Englewood 425.5(f)' };
const noCase: PurposeRefusal = { ok: false, category: 'UNDOCUMENTED', code: 'MISSING_CASE', reason: 'a case number is required', citation: 'Lakewood B.6' };

/**
 * The known log, seq by seq (the expected numbers below are counted by hand from it):
 *   0 genesis (2026-01-01)   1 alice search (2026-01-05, before the baseline)
 *   2-41 baseline: alice 2 searches a day on the first 20 of the 30 days before FROM
 *   period: alice 42 login, 43-48 six searches with a case that found nothing, 49-50 two
 *   searches without a case (3 results each), 51 search of data 400 days old with a reason,
 *   52 search from 2024-01-01 without a reason, 53 export (25 records), 54 hold.add,
 *   55 hold.list, 56 search refused (forbidden purpose), 57 logout;
 *   bob 58-60 failed logins, 61 login, 62 hold.release, 63 audit.report, 64 export refused
 *   (no case); carol (no roles) 65 access.direct, 66 session.refused;
 *   67 dave search at TO (outside), 68 a day later.
 */
async function buildLog(): Promise<{ file: string; head66: string; logId: string }> {
  const file = join(dir.path, 'known.log');
  let t = Date.parse('2026-01-01T00:00:00Z');
  const log = await AuditLog.open(file, { now: () => t, lock: false });
  const at = async (ms: number, e: AuditEvent): Promise<AuditRecord> => {
    t = ms;
    return log.append(e);
  };
  await at(Date.parse('2026-01-05T10:00:00Z'), { action: 'search', actor: 'alice', purpose: 'ROBBERY', case: 'C-0', subject: { plate: 'OLD1', count: 1 }, details: inv });
  for (let d = 0; d < 20; d++) {
    for (let k = 1; k <= 2; k++) await at(BASELINE + d * DAY + k * HOUR, { action: 'search', actor: 'alice', purpose: 'ROBBERY', case: 'C-0', subject: { plate: 'BASE', count: 1 }, details: inv });
  }
  let m = FROM + HOUR;
  const next = (): number => (m += 60_000);
  const alice = (e: Omit<AuditEvent, 'actor'>): Promise<AuditRecord> => at(next(), { ...e, actor: 'alice', details: { ...e.details, ...inv } });
  await alice({ action: 'login' });
  for (let i = 0; i < 6; i++) await alice({ action: 'search', purpose: 'ROBBERY', case: 'C-1', subject: { plate: `E${i}`, from: FROM - 10 * DAY, to: FROM, count: 0 } });
  for (let i = 0; i < 2; i++) await alice({ action: 'search', purpose: 'STOLEN_VEHICLE', subject: { plate: `N${i}`, from: FROM - DAY, to: FROM, count: 3 } });
  await alice({ action: 'search', purpose: 'HOMICIDE', case: 'H-9', reason: 'cold case review', subject: { plate: 'COLD1', from: m + 60_000 - 400 * DAY, to: FROM, count: 1 } });
  await alice({ action: 'search', purpose: 'HOMICIDE', case: 'H-9', subject: { plate: 'COLD2', from: '2024-01-01T00:00:00Z', to: FROM, count: 2 } });
  await alice({ action: 'export', purpose: 'ROBBERY', case: 'C-1', subject: { count: 25 } });
  await alice({ action: 'hold.add', purpose: 'ROBBERY', case: 'C-1', subject: { holdId: 'h1', count: 4 } });
  await alice({ action: 'hold.list' });
  t = next();
  await log.refused({ action: 'search', actor: 'alice', purpose: 'IMMIGRATION_ENFORCEMENT', subject: { plate: 'IMM1' }, details: inv }, forbidden);
  await alice({ action: 'logout' });
  const bob = (e: Omit<AuditEvent, 'actor'>): Promise<AuditRecord> => at(next(), { ...e, actor: 'bob', details: { ...e.details, ...sup } });
  for (let i = 0; i < 3; i++) await bob({ action: 'login', outcome: 'refused', reason: 'wrong password', details: { code: 'BAD_PASSWORD' } });
  await bob({ action: 'login' });
  await bob({ action: 'hold.release', purpose: 'ROBBERY', case: 'C-1', reason: 'case closed', subject: { holdId: 'h1', count: 4 } });
  await bob({ action: 'audit.report', subject: { from: FROM, to: TO } });
  t = next();
  await log.refused({ action: 'export', actor: 'bob', purpose: 'FRAUD', subject: { count: 0 }, details: sup }, noCase);
  await at(next(), { action: 'access.direct', actor: 'carol', subject: { query: 'psql' } });
  const last = await at(next(), { action: 'session.refused', actor: 'carol', outcome: 'refused', reason: 'no session' });
  await at(TO, { action: 'search', actor: 'dave', purpose: 'ROBBERY', case: 'C-2', subject: { count: 0 } });
  await at(TO + DAY, { action: 'search', actor: 'dave', purpose: 'ROBBERY', case: 'C-2', subject: { count: 0 } });
  await log.close();
  expect(last.seq).toBe(66);
  return { file, head66: last.hash, logId: log.logId };
}

describe('auditReport on a known log', () => {
  let known: { file: string; head66: string; logId: string };
  let records: AuditRecord[];
  let report: AuditReport;
  beforeAll(async () => {
    known = await buildLog();
    records = await exportAuditArray(known.file);
    report = await auditReport(records, { from: FROM, to: TO });
  });

  it('counts the records of the period only', () => {
    expect(records).toHaveLength(69);
    expect(report.from).toBe(FROM);
    expect(report.to).toBe(TO);
    expect(report.records).toBe(25);
  });

  it('counts actions by user, with their roles, actions and purposes', () => {
    expect(report.byUser).toEqual([
      { actor: 'alice', roles: ['investigator'], total: 16, refused: 1, byAction: { export: 1, 'hold.add': 1, 'hold.list': 1, login: 1, logout: 1, search: 11 }, byPurpose: { '(none)': 3, HOMICIDE: 2, IMMIGRATION_ENFORCEMENT: 1, ROBBERY: 8, STOLEN_VEHICLE: 2 } },
      { actor: 'bob', roles: ['auditor', 'supervisor'], total: 7, refused: 4, byAction: { 'audit.report': 1, export: 1, 'hold.release': 1, login: 4 }, byPurpose: { '(none)': 5, FRAUD: 1, ROBBERY: 1 } },
      { actor: 'carol', roles: ['unknown'], total: 2, refused: 1, byAction: { 'access.direct': 1, 'session.refused': 1 }, byPurpose: { '(none)': 2 } },
    ]);
  });

  it('counts by action, purpose and role (a record with two roles under both, none as unknown)', () => {
    expect(report.byAction).toEqual([
      { action: 'access.direct', count: 1, refused: 0 },
      { action: 'audit.report', count: 1, refused: 0 },
      { action: 'export', count: 2, refused: 1 },
      { action: 'hold.add', count: 1, refused: 0 },
      { action: 'hold.list', count: 1, refused: 0 },
      { action: 'hold.release', count: 1, refused: 0 },
      { action: 'login', count: 5, refused: 3 },
      { action: 'logout', count: 1, refused: 0 },
      { action: 'search', count: 11, refused: 1 },
      { action: 'session.refused', count: 1, refused: 1 },
    ]);
    expect(report.byPurpose).toEqual([
      { purpose: '(none)', count: 10 },
      { purpose: 'FRAUD', count: 1 },
      { purpose: 'HOMICIDE', count: 2 },
      { purpose: 'IMMIGRATION_ENFORCEMENT', count: 1 },
      { purpose: 'ROBBERY', count: 9 },
      { purpose: 'STOLEN_VEHICLE', count: 2 },
    ]);
    expect(report.byRole).toEqual([
      { role: 'auditor', count: 7, actors: 1 },
      { role: 'investigator', count: 16, actors: 1 },
      { role: 'supervisor', count: 7, actors: 1 },
      { role: 'unknown', count: 2, actors: 1 },
    ]);
  });

  it('counts searches, exports, holds, refusals and logins', () => {
    expect(report.searches).toEqual({ total: 11, ok: 10, refused: 1, withCase: 8, withoutCase: 2, empty: 6, olderThanOneYear: 2, olderThanOneYearWithReason: 1, results: 9 });
    expect(report.exports).toEqual({ total: 2, refused: 1, records: 25 });
    expect(report.holds).toEqual({ added: 1, released: 1, listed: 1, refused: 0 });
    expect(report.refusals).toEqual({
      total: 6,
      byCode: [{ code: 'BAD_PASSWORD', count: 3 }, { code: 'FORBIDDEN_PURPOSE', count: 1 }, { code: 'MISSING_CASE', count: 1 }, { code: 'unknown', count: 1 }],
      byAction: [{ action: 'export', count: 1 }, { action: 'login', count: 3 }, { action: 'search', count: 1 }, { action: 'session.refused', count: 1 }],
    });
    expect(report.logins).toEqual({ ok: 2, failed: 3, logouts: 1, sessionRefused: 1, byUser: [{ actor: 'alice', ok: 1, failed: 0 }, { actor: 'bob', ok: 1, failed: 3 }] });
  });

  it('flags every kind of anomaly, with the records concerned', () => {
    const strip = report.anomalies.map(({ kind, actor, count, seqs }) => ({ kind, actor, count, seqs }));
    expect(strip).toEqual([
      { kind: 'search-without-case', actor: 'alice', count: 2, seqs: [49, 50] },
      { kind: 'older-than-one-year', actor: 'alice', count: 2, seqs: [51, 52] },
      { kind: 'volume-spike', actor: 'alice', count: 16, seqs: Array.from({ length: 16 }, (_, i) => 42 + i) },
      { kind: 'empty-searches', actor: 'alice', count: 6, seqs: [43, 44, 45, 46, 47, 48] },
      { kind: 'failed-logins', actor: 'bob', count: 3, seqs: [58, 59, 60] },
      { kind: 'forbidden-purpose', actor: 'alice', count: 1, seqs: [56] },
      { kind: 'direct-access', actor: 'carol', count: 1, seqs: [65] },
    ]);
    const detail = (kind: string): string => report.anomalies.find((a) => a.kind === kind)?.detail ?? '';
    expect(detail('older-than-one-year')).toContain('1 without a reason (seq 52)');
    // alice: baseline days 2,2,...(20 days),0,...(10 days): median 2; threshold 3 x max(2, 5) = 15 < 16.
    expect(detail('volume-spike')).toBe('16 actions a day in the period, usually 2 (median of the 30 days before); flagged above 15 (3 x max(usual, 5))');
    expect(detail('empty-searches')).toBe('6 of 10 searches found nothing (threshold 5)');
  });

  it('does not flag below the thresholds, and honours the options', async () => {
    const r = await auditReport(records, { from: FROM, to: TO, spikeFactor: 4, emptySearchThreshold: 7, failedLoginThreshold: 4 });
    expect(r.anomalies.map((a) => a.kind)).toEqual(['search-without-case', 'older-than-one-year', 'forbidden-purpose', 'direct-access']);
    // A baseline of one day before FROM holds none of alice's baseline: usual 0, floor 5, 3 x 5 = 15 < 16.
    const short = await auditReport(records, { from: FROM, to: TO, baselineDays: 1 });
    expect(short.anomalies.find((a) => a.kind === 'volume-spike')?.detail).toBe('16 actions a day in the period, usually 0 (median of the 1 days before); flagged above 15 (3 x max(usual, 5))');
  });

  it('gives the chain head and says the chain verified from its genesis record', () => {
    expect(report.chain).toEqual({ head: known.head66, lastSeq: 66, verified: true, logId: known.logId });
  });

  it('reads an async iterable the same as an array', async () => {
    async function* gen(): AsyncGenerator<AuditRecord> {
      for (const r of records) yield await Promise.resolve(r);
    }
    expect(await auditReport(gen(), { from: FROM, to: TO })).toEqual(report);
  });

  it('says the chain is not verified, and where, when a record was edited', async () => {
    const edited = records.map((r) => (r.seq === 50 ? { ...r, subject: { ...r.subject, count: 0 } } : r));
    const r = await auditReport(edited, { from: FROM, to: TO });
    expect(r.chain.verified).toBe(false);
    expect(r.chain.problem).toBe('seq 50: hash does not match the record: the line was edited');
    expect(r.searches.empty).toBe(7);
    const cut = await auditReport(records.slice(10), { from: FROM, to: TO });
    expect(cut.chain.verified).toBe(false);
    expect(cut.chain.problem).toMatch(/^seq 10: seq 10 where 0 was expected/);
  });

  it('writes the text format with the counts, anomalies and head', () => {
    const text = formatAuditReport(report);
    expect(text).toContain('Audit report 2026-03-10T00:00:00.000Z to 2026-03-11T00:00:00.000Z (end exclusive)');
    expect(text).toContain('25 records in the period');
    expect(text).toContain('Searches: 11 (10 done, 1 refused); 8 with a case number, 2 without; 6 found nothing; 9 results in all');
    expect(text).toContain('reaching data older than one year: 2 (1 with a reason)');
    expect(text).toContain('Anomalies: 7');
    expect(text).toMatch(/failed-logins {2}bob {2}3 failed logins \(threshold 3\) {2}\[seq 58, 59, 60\]/);
    expect(text).toContain('Chain: verified from its first record');
    expect(text).toContain(`head   ${known.head66} (seq 66)`);
  });

  it('refuses a period that ends before it starts', async () => {
    await expect(auditReport(records, { from: TO, to: FROM })).rejects.toThrow('options.from must be a time before options.to');
    await expect(auditReport(records, { from: FROM, to: TO, spikeFactor: 0 })).rejects.toThrow('options.spikeFactor must be a positive number');
  });

  it('takes the median of an even count as the mean of the middle two', () => {
    expect(median([0, 4, 2, 10])).toBe(3);
    expect(median([5, 1, 3])).toBe(3);
    expect(median([])).toBe(0);
  });
});
