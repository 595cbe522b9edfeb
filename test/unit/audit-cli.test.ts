/**
 * `platesieve audit verify` and `audit export`, run in process through runCli: human output,
 * exit 0 for a chain that verifies, 1 for one that does not (with the line), 2 for bad
 * arguments or an unreadable file.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../matcher/audit/index.js';
import { runCli } from '../../matcher/cli/program.js';

let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'platesieve-audit-cli-'));
  file = join(dir, 'audit.log');
  let t = Date.parse('2025-03-01T00:00:00Z');
  const log = await AuditLog.open(file, { actor: 'jdoe', now: () => (t += 3_600_000) });
  await log.append({ action: 'hotlist.load', subject: { file: 'ncic.csv', count: 120 } });
  await log.append({ action: 'search', purpose: 'ROBBERY', case: '24-1', subject: { plate: 'ABC123' } });
  await log.append({ action: 'hold.add', case: '24-1', reason: 'evidence' });
  await log.close();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  let out = '';
  stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  let err = '';
  const code = await runCli(['node', 'platesieve', ...args], { stdin: new PassThrough(), stdout, stderr: { write: (s: string) => (err += s) } });
  return { code, stdout: out, stderr: err };
}

describe('platesieve audit verify', () => {
  it('exits 0 and prints the record count and head for a chain that verifies', async () => {
    const r = await cli('audit', 'verify', file);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/: OK, 4 records \(3 actions\) from 2025-03-01T01:00:00.000Z to 2025-03-01T04:00:00.000Z/);
    expect(r.stdout).toMatch(/head +[0-9a-f]{64}/);
    expect(r.stderr).toBe('');
  });

  it('exits 1 naming the line and the reason when a line was edited', async () => {
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('ABC123', 'ABC128'));
    const r = await cli('audit', 'verify', file);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAILED at line 3: hash does not match the record/);
    expect(r.stderr).toMatch(/^platesieve: error: audit log .* does not verify: line 3: /);
  });

  it('exits 1 when the head kept elsewhere is missing', async () => {
    const head = /head +([0-9a-f]{64})/.exec((await cli('audit', 'verify', file)).stdout)?.[1] as string;
    const ls = (await readFile(file, 'utf8')).split('\n');
    await writeFile(file, `${ls.slice(0, 3).join('\n')}\n`);
    expect((await cli('audit', 'verify', file)).code).toBe(0);
    const r = await cli('audit', 'verify', file, '--head', head);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/removed from its end/);
  });

  it('exits 2 for a missing file, a directory, a bad --head or no file', async () => {
    for (const args of [['audit', 'verify', join(dir, 'nope.log')], ['audit', 'verify', dir], ['audit', 'verify', file, '--head', 'xyz'], ['audit', 'verify']]) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^platesieve: error: /);
    }
    expect((await cli('audit', 'verify', join(dir, 'nope.log'))).stderr).toMatch(/no such file/);
  });
});

describe('platesieve audit export', () => {
  it('writes every record as NDJSON', async () => {
    const r = await cli('audit', 'export', file);
    expect(r.code).toBe(0);
    const recs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { action: string });
    expect(recs.map((x) => x.action)).toEqual(['log.created', 'hotlist.load', 'search', 'hold.add']);
    // An unfiltered export is itself a log that verifies.
    const copy = join(dir, 'copy.log');
    await writeFile(copy, r.stdout);
    expect((await cli('audit', 'verify', copy)).code).toBe(0);
  });

  it('filters by --from, --to and --action, and writes text with --format text', async () => {
    const r = await cli('audit', 'export', file, '--from', '2025-03-01T02:00:00Z', '--to', '2025-03-01T04:00:00Z');
    expect(r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { action: string }).action)).toEqual(['hotlist.load', 'search']);
    const h = await cli('audit', 'export', file, '--action', 'hold', '--format', 'text');
    expect(h.code).toBe(0);
    expect(h.stdout).toBe('2025-03-01T04:00:00.000Z  #3  jdoe  hold.add  ok  case=24-1  reason="evidence"\n');
  });

  it('exits 1 at a break in the chain after writing the records before it', async () => {
    const text = await readFile(file, 'utf8');
    const ls = text.split('\n');
    ls[2] = ls[2].replace('"jdoe"', '"eve"');
    await writeFile(file, ls.join('\n'));
    const r = await cli('audit', 'export', file);
    expect(r.code).toBe(1);
    expect(r.stdout.trim().split('\n')).toHaveLength(2);
    expect(r.stderr).toMatch(/line 3: hash does not match .*\(2 records exported before it\)/);
    expect((await cli('audit', 'export', file, '--no-verify')).code).toBe(0);
  });

  it('exits 2 for bad arguments', async () => {
    for (const args of [
      ['audit', 'export', file, '--from', 'last tuesday'],
      ['audit', 'export', file, '--action', 'delete'],
      ['audit', 'export', file, '--from', '2025-03-02', '--to', '2025-03-01'],
      ['audit', 'export', file, '--format', 'csv'],
      ['audit', 'export', join(dir, 'nope.log')],
      ['audit'],
    ]) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
    }
  });
});
