/**
 * The audit log: a hash chain that verifies, detects every kind of tampering with the line,
 * continues across reopen, serializes concurrent appends and exports by filter.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog, exportAuditArray, verifyAuditFile, type AuditRecord, type AuditVerifyResult } from '../../matcher/audit/index.js';
import { canonicalJson } from '../../matcher/audit/canonical.js';
import { AuditError } from '../../matcher/errors.js';
import { checkPurpose } from '../../matcher/policy/purpose.js';

let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'platesieve-audit-'));
  file = join(dir, 'audit.log');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A log with the genesis record and `n` searches, at 1000, 2000, ... ms. */
async function makeLog(n: number): Promise<string[]> {
  let t = 0;
  const log = await AuditLog.open(file, { actor: 'jdoe', now: () => (t += 1000) });
  for (let i = 0; i < n; i++) {
    await log.append({ action: 'search', purpose: 'ROBBERY', case: `24-${i}`, subject: { plate: `ABC${i}` }, reason: 'suspect vehicle' });
  }
  await log.close();
  return lines(await readFile(file, 'utf8'));
}

function lines(text: string): string[] {
  return text.split('\n').slice(0, -1);
}

async function writeLines(ls: string[]): Promise<void> {
  await writeFile(file, ls.map((l) => `${l}\n`).join(''));
}

/** A verification's fields, and its reason against `reason`. */
function expectProblem(result: AuditVerifyResult, fields: Partial<AuditVerifyResult>, reason: RegExp): void {
  expect(result).toMatchObject(fields);
  expect(result.reason).toMatch(reason);
}

function rehash(r: Record<string, unknown>): string {
  const { hash: _drop, ...body } = r;
  const h = createHash('sha256').update(String(r.prev)).update(canonicalJson(body as never)).digest('hex');
  return canonicalJson({ ...body, hash: h });
}

describe('audit log chain', () => {
  it('verifies a fresh log and reports its head and log id', async () => {
    const ls = await makeLog(3);
    expect(ls).toHaveLength(4);
    const first = JSON.parse(ls[0]) as AuditRecord;
    const last = JSON.parse(ls[3]) as AuditRecord;
    expect(first.action).toBe('log.created');
    expect(last).toMatchObject({ seq: 3, actor: 'jdoe', action: 'search', outcome: 'ok', purpose: 'ROBBERY', case: '24-2', subject: { plate: 'ABC2' } });
    const r = await verifyAuditFile(file);
    expect(r).toMatchObject({ ok: true, records: 4, head: last.hash, logId: (first.details as { logId: string }).logId });
  });

  it('gives two logs different genesis values', async () => {
    await makeLog(0);
    const a = JSON.parse((await readFile(file, 'utf8')).trim()) as AuditRecord;
    await rm(file);
    await makeLog(0);
    const b = JSON.parse((await readFile(file, 'utf8')).trim()) as AuditRecord;
    expect(a.prev).not.toBe(b.prev);
  });

  it.each([
    ['actor', 'someone'],
    ['action', 'export'],
    ['outcome', 'refused'],
    ['at', 5],
    ['seq', 7],
    ['purpose', 'HOMICIDE'],
    ['case', '99-1'],
    ['reason', 'edited'],
    ['prev', 'a'.repeat(64)],
    ['hash', 'b'.repeat(64)],
  ])('detects an edited %s on its line', async (field, value) => {
    const ls = await makeLog(4);
    const rec = JSON.parse(ls[2]) as Record<string, unknown>;
    rec[field] = value;
    ls[2] = canonicalJson(rec as never);
    await writeLines(ls);
    const r = await verifyAuditFile(file);
    expect(r).toMatchObject({ ok: false, badLine: 3, records: 2 });
  });

  it('detects an edited plate in the subject', async () => {
    const ls = await makeLog(3);
    ls[1] = ls[1].replace('"ABC0"', '"XYZ0"');
    await writeLines(ls);
    expectProblem(await verifyAuditFile(file), { ok: false, badLine: 2 }, /hash does not match/);
  });

  it('detects a reformatted line even when its content is unchanged', async () => {
    const ls = await makeLog(2);
    ls[1] = JSON.stringify(JSON.parse(ls[1]), null, 1).replace(/\n/g, '');
    await writeLines(ls);
    expectProblem(await verifyAuditFile(file), { ok: false, badLine: 2 }, /canonical/);
  });

  it('detects an edit whose hash was recomputed at the next line', async () => {
    const ls = await makeLog(3);
    const rec = JSON.parse(ls[2]) as Record<string, unknown>;
    rec.actor = 'mallory';
    ls[2] = rehash(rec);
    await writeLines(ls);
    expectProblem(await verifyAuditFile(file), { ok: false, badLine: 4 }, /prev does not match/);
  });

  it('detects a deleted line', async () => {
    const ls = await makeLog(4);
    ls.splice(2, 1);
    await writeLines(ls);
    expectProblem(await verifyAuditFile(file), { ok: false, badLine: 3 }, /deleted, inserted or moved/);
  });

  it('detects lines deleted from the start', async () => {
    const ls = await makeLog(3);
    await writeLines(ls.slice(1));
    expect(await verifyAuditFile(file)).toMatchObject({ ok: false, badLine: 1 });
  });

  it('detects reordered lines', async () => {
    const ls = await makeLog(4);
    [ls[2], ls[3]] = [ls[3], ls[2]];
    await writeLines(ls);
    expect(await verifyAuditFile(file)).toMatchObject({ ok: false, badLine: 3 });
  });

  it('detects an inserted line, copied or forged', async () => {
    const ls = await makeLog(3);
    await writeLines([...ls.slice(0, 2), ls[1], ...ls.slice(2)]);
    expect(await verifyAuditFile(file)).toMatchObject({ ok: false, badLine: 3 });
    const prev = JSON.parse(ls[1]) as AuditRecord;
    const forged = rehash({ ...prev, seq: 2, prev: prev.hash, subject: { plate: 'FORGED' } });
    await writeLines([...ls.slice(0, 2), forged, ...ls.slice(2)]);
    expect(await verifyAuditFile(file)).toMatchObject({ ok: false, badLine: 4 });
  });

  it('detects a truncated last line and an empty line', async () => {
    const ls = await makeLog(3);
    const text = ls.map((l) => `${l}\n`).join('');
    await writeFile(file, text.slice(0, text.length - 20));
    expectProblem(await verifyAuditFile(file), { ok: false, badLine: 4, records: 3 }, /truncated/);
    await writeFile(file, text.slice(0, text.length - 1));
    expectProblem(await verifyAuditFile(file), { ok: false, badLine: 4 }, /truncated/);
    await writeLines([ls[0], '', ...ls.slice(1)]);
    expect(await verifyAuditFile(file)).toMatchObject({ ok: false, badLine: 2, reason: 'empty line' });
  });

  it('detects whole lines removed from the end against a head kept elsewhere', async () => {
    const ls = await makeLog(3);
    const head = (JSON.parse(ls[3]) as AuditRecord).hash;
    await writeLines(ls.slice(0, 3));
    expect(await verifyAuditFile(file)).toMatchObject({ ok: true, records: 3 });
    expectProblem(await verifyAuditFile(file, { head }), { ok: false }, /removed from its end/);
    await writeLines(ls);
    expect(await verifyAuditFile(file, { head })).toMatchObject({ ok: true, head });
  });

  it('refuses an empty file as a log and rejects an unreadable one', async () => {
    await writeFile(file, '');
    expect(await verifyAuditFile(file)).toMatchObject({ ok: false, badLine: 1 });
    await expect(verifyAuditFile(join(dir, 'missing.log'))).rejects.toBeInstanceOf(AuditError);
  });
});

describe('AuditLog', () => {
  it('continues the chain when reopened', async () => {
    await makeLog(2);
    const log = await AuditLog.open(file, { actor: 'asmith' });
    expect(log.records).toBe(3);
    const rec = await log.append({ action: 'hold.add', case: '24-7', subject: { entryId: 'e1' }, reason: 'evidence' });
    expect(rec.seq).toBe(3);
    await log.close();
    const r = await verifyAuditFile(file);
    expect(r).toMatchObject({ ok: true, records: 4, head: rec.hash });
  });

  it('refuses to continue a chain that does not verify', async () => {
    const ls = await makeLog(3);
    ls[2] = ls[2].replace('jdoe', 'joe');
    await writeLines(ls);
    const err = await AuditLog.open(file, { actor: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditError);
    expect(err).toMatchObject({ code: 'ERR_AUDIT', line: 3 });
    // The refused open released its lock: a new log can be started in its place.
    await rm(file);
    const fresh = await AuditLog.open(file, { actor: 'x' });
    await fresh.close();
  });

  it('serializes concurrent appends into one unbroken chain, in call order', async () => {
    const log = await AuditLog.open(file, { actor: 'svc' });
    const recs = await Promise.all(Array.from({ length: 300 }, (_, i) => log.append({ action: 'search', subject: { plate: `P${i}` } })));
    expect(recs.map((r) => r.seq)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(recs.map((r) => r.subject?.plate)).toEqual(Array.from({ length: 300 }, (_, i) => `P${i}`));
    await log.close();
    expect(await verifyAuditFile(file)).toMatchObject({ ok: true, records: 301, head: recs[299].hash });
  });

  it('keeps one writer: a second open is refused until the first closes', async () => {
    const a = await AuditLog.open(file, { actor: 'a' });
    await expect(AuditLog.open(file, { actor: 'b' })).rejects.toThrow(/open for writing by process/);
    await a.close();
    const b = await AuditLog.open(file, { actor: 'b' });
    await b.append({ action: 'export' });
    await b.close();
    expect(await verifyAuditFile(file)).toMatchObject({ ok: true, records: 2 });
  });

  it('takes over a lock left by a process that is gone', async () => {
    await writeFile(`${file}.lock`, '2147483646\n');
    const log = await AuditLog.open(file, { actor: 'a' });
    await log.close();
  });

  it('rejects invalid events without writing them', async () => {
    const log = await AuditLog.open(file);
    await expect(log.append({ action: 'search' })).rejects.toThrow(/actor/);
    await expect(log.append({ action: 'delete.everything' as never, actor: 'x' })).rejects.toThrow(/audited action/);
    await expect(log.append({ action: 'search', actor: 'x', subject: 'ABC' as never })).rejects.toThrow(/subject/);
    expect(log.records).toBe(1);
    await log.close();
    await expect(log.append({ action: 'search', actor: 'x' })).rejects.toThrow(/closed/);
    expect(await verifyAuditFile(file)).toMatchObject({ ok: true, records: 1 });
  });

  it('records a refusal with its rule, category and citation', async () => {
    const log = await AuditLog.open(file, { actor: 'jdoe' });
    const check = checkPurpose({ purpose: 'CIVIL_IMMIGRATION' });
    if (check.ok) throw new Error('expected a refusal');
    const rec = await log.refused({ case: '24-1', subject: { plate: 'ABC123' } }, check);
    await log.close();
    expect(rec).toMatchObject({ action: 'purpose.refused', outcome: 'refused', subject: { plate: 'ABC123' } });
    expect(rec.details).toMatchObject({ category: 'CIVIL_IMMIGRATION', code: 'FORBIDDEN_PURPOSE' });
    expect(rec.details?.citation).toMatch(/425\.5\(f\)/);
    expect(await verifyAuditFile(file)).toMatchObject({ ok: true });
  });

  it('stores details with any keys so that they verify (integer-like keys, dates, undefined)', async () => {
    const log = await AuditLog.open(file, { actor: 'a' });
    await log.append({ action: 'hotlist.load', details: { '10': 1, '9': 2, b: undefined, when: new Date(0) as never, nested: { z: 1, a: [1, { y: 2, x: 1 }] } } });
    await log.close();
    expect(await verifyAuditFile(file)).toMatchObject({ ok: true, records: 2 });
  });

  it('never lets time go backwards within a log', async () => {
    const times = [5000, 9000, 3000];
    const log = await AuditLog.open(file, { actor: 'a', now: () => times.shift() ?? 0 });
    const r1 = await log.append({ action: 'search' });
    const r2 = await log.append({ action: 'search' });
    await log.close();
    expect(r1.at).toBe(9000);
    expect(r2.at).toBe(9000);
    expect(await verifyAuditFile(file)).toMatchObject({ ok: true });
  });
});

describe('exportAudit', () => {
  async function mixedLog(): Promise<void> {
    let t = Date.parse('2025-03-01T00:00:00Z');
    const log = await AuditLog.open(file, { actor: 'jdoe', now: () => (t += 3_600_000) }); // genesis at 01:00
    await log.append({ action: 'hotlist.load', subject: { file: 'ncic.csv' } }); // 02:00
    await log.append({ action: 'hold.add', case: '1' }); // 03:00
    await log.append({ action: 'search', purpose: 'HOMICIDE', case: '2', subject: { plate: 'ABC123' } }); // 04:00
    await log.append({ action: 'hold.release', case: '1' }); // 05:00
    await log.close();
  }

  it('exports every record, genesis first, when unfiltered', async () => {
    await mixedLog();
    const all = await exportAuditArray(file);
    expect(all.map((r) => r.action)).toEqual(['log.created', 'hotlist.load', 'hold.add', 'search', 'hold.release']);
  });

  it('filters by time (from inclusive, to exclusive) and by action or action prefix', async () => {
    await mixedLog();
    const inRange = await exportAuditArray(file, { from: '2025-03-01T03:00:00Z', to: '2025-03-01T05:00:00Z' });
    expect(inRange.map((r) => r.action)).toEqual(['hold.add', 'search']);
    expect((await exportAuditArray(file, { action: 'hold' })).map((r) => r.action)).toEqual(['hold.add', 'hold.release']);
    expect((await exportAuditArray(file, { action: ['search', 'hotlist.load'] })).map((r) => r.seq)).toEqual([1, 3]);
    expect((await exportAuditArray(file, { action: 'search,hold.release', from: Date.parse('2025-03-01T04:30:00Z') })).map((r) => r.seq)).toEqual([4]);
    await expect(exportAuditArray(file, { from: 'yesterday' })).rejects.toThrow(TypeError);
  });

  it('stops at a break in the chain after the records before it', async () => {
    await mixedLog();
    const ls = lines(await readFile(file, 'utf8'));
    ls[3] = ls[3].replace('ABC123', 'ABC124');
    await writeLines(ls);
    const got: AuditRecord[] = [];
    const { exportAudit } = await import('../../matcher/audit/index.js');
    const err = await (async () => {
      for await (const r of exportAudit(file)) got.push(r);
    })().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_AUDIT', line: 4 });
    expect(got).toHaveLength(3);
    expect(await exportAuditArray(file, { verify: false })).toHaveLength(5);
  });
});
