/**
 * The built `platesieve match` CLI, run as a child process: alerts, exit codes and one-line
 * errors, malformed input lines, msgpack input, --output, capped diagnostics and EPIPE.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, runCli as run, type RunResult } from '../helpers/cli.js';

interface AlertLine {
  readId: string;
  match: string;
  hotlistPlate: string;
  score: number;
  hotlistAgeS?: number;
  [key: string]: unknown;
}

function alerts(stdout: string): AlertLine[] {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const a = JSON.parse(l) as AlertLine;
      delete a.hotlistAgeS; // depends on the wall clock
      return a;
    });
}

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}

let dir: string;
let hotlist: string;
let hotlistNd: string;
let readsPath: string;
const READS = [
  { id: 'r1', plate: 'abc-123', state: 'CA' }, // exact ABC123
  { id: 'r2', plate: 'ABC1Z3', state: 'CA' }, // ocr ABC123
  { id: 'r3', plate: 'ZZZ999', state: 'CA' }, // nothing
  { id: 'r4', plate: 'XYZ78', state: 'NV' }, // fuzzy XYZ789 (fuzzy tier only)
  { id: 'r5', plate: '7TRK445' }, // exact, state unknown
];

beforeAll(async () => {
  ensureBuilt();
  dir = await mkdtemp(join(tmpdir(), 'platesieve-cli-'));
  hotlist = join(dir, 'hotlist.csv');
  await writeFile(
    hotlist,
    'id,plate,state,list,priority,source\n' +
      'h1,ABC123,CA,STOLEN_VEHICLE,1,NCIC\n' +
      'h2,XYZ789,,AMBER,1,NCIC\n' +
      'h3,BAD!,CA,WANTED,2,LOCAL\n', // rejected row: line 4
    'utf8',
  );
  hotlistNd = join(dir, 'local.ndjson');
  await writeFile(hotlistNd, '{"id":"n1","plate":"7TRK445","list":"BOLO","priority":3}\n', 'utf8');
  readsPath = join(dir, 'reads.ndjson');
  await writeFile(readsPath, READS.map((r) => JSON.stringify(r)).join('\n') + '\n', 'utf8');
}, 300_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const base = (): string[] => ['match', '--hotlist', hotlist, '--hotlist', hotlistNd, '--max-invalid', '0.5'];

describe('platesieve match', () => {
  it('writes one NDJSON alert per hit and a summary on standard error', async () => {
    const r = await run([...base(), '--input', readsPath]);
    expect(r.code).toBe(0);
    const got = alerts(r.stdout).map((a) => [a.readId, a.match, a.hotlistPlate]);
    expect(got).toEqual([
      ['r1', 'exact', 'ABC123'],
      ['r2', 'ocr', 'ABC123'],
      ['r5', 'exact', '7TRK445'],
    ]);
    expect(r.stderr).toContain(`${hotlist}:4: INVALID_PLATE`);
    expect(r.stderr).toMatch(/^platesieve: 5 reads, 3 alerts, 0 invalid, \d+ reads\/s \(hotlist 3 entries, 1 rejected rows\)$/m);
  });

  it('reads standard input by default and applies --tiers and --min-score', async () => {
    const input = READS.map((x) => JSON.stringify(x)).join('\n');
    const r = await run([...base(), '--tiers', 'exact,ocr,fuzzy', '--quiet'], input);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(alerts(r.stdout).map((a) => [a.readId, a.match])).toEqual([
      ['r1', 'exact'],
      ['r2', 'ocr'],
      ['r4', 'fuzzy'],
      ['r5', 'exact'],
    ]);
    const strict = await run([...base(), '--tiers', 'exact,ocr,fuzzy', '--min-score', '0.8', '--quiet'], input);
    expect(alerts(strict.stdout).map((a) => a.readId)).toEqual(['r1', 'r5']);
  });

  it('reports malformed lines with their line number and still matches the other reads', async () => {
    const input = [
      JSON.stringify(READS[0]),
      '{"plate": "ABC123", oops}',
      '',
      '"just a string"',
      JSON.stringify({ id: 'bad', plate: 'AB$123' }),
      JSON.stringify(READS[1]),
    ].join('\n') + '\n';
    const r = await run([...base()], input);
    expect(r.code).toBe(0);
    expect(alerts(r.stdout).map((a) => a.readId)).toEqual(['r1', 'r2']);
    const diag = lines(r.stderr);
    expect(diag).toContainEqual(expect.stringMatching(/^line 2: BAD_JSON /));
    expect(diag).toContainEqual(expect.stringMatching(/^line 4: NOT_AN_OBJECT /));
    expect(diag).toContainEqual(expect.stringMatching(/^line 5: INVALID_CHARACTER /));
    expect(r.stderr).toMatch(/platesieve: 5 reads, 2 alerts, 3 invalid, /);
  });

  it('gives the same alerts for msgpack input, even with values split across chunks', async () => {
    const nd = await run([...base(), '--tiers', 'exact,ocr,fuzzy', '--input', readsPath, '--quiet']);
    const mp = Buffer.concat(READS.map((x) => pack(x)));
    const whole = await run([...base(), '--tiers', 'exact,ocr,fuzzy', '--format', 'msgpack', '--quiet'], mp);
    const split = await run([...base(), '--tiers', 'exact,ocr,fuzzy', '--format', 'msgpack', '--quiet'], mp, 5);
    expect(whole.code).toBe(0);
    expect(split.code).toBe(0);
    expect(alerts(nd.stdout)).toHaveLength(4);
    expect(alerts(whole.stdout)).toEqual(alerts(nd.stdout));
    expect(alerts(split.stdout)).toEqual(alerts(nd.stdout));
  });

  it('reports msgpack values that are not reads, and a stream cut inside a value', async () => {
    const mp = Buffer.concat([pack(READS[0]), pack([1, 2]), pack(READS[1]), pack(READS[4]).subarray(0, 6)]);
    const r = await run([...base(), '--format', 'msgpack'], mp);
    expect(r.code).toBe(0);
    expect(alerts(r.stdout).map((a) => a.readId)).toEqual(['r1', 'r2']);
    expect(r.stderr).toMatch(/^value 2: NOT_AN_OBJECT /m);
    expect(r.stderr).toMatch(/^value 4: TRUNCATED /m);
  });

  it('writes alerts to --output instead of standard output', async () => {
    const out = join(dir, 'alerts.ndjson');
    const r = await run([...base(), '--input', readsPath, '--output', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(alerts(await readFile(out, 'utf8')).map((a) => a.readId)).toEqual(['r1', 'r2', 'r5']);
  });

  it('caps rejected-row reports at 20 lines and counts the rest', async () => {
    const rows = ['plate,list'];
    for (let i = 0; i < 25; i++) rows.push(`BAD!${i},BOLO`);
    for (let i = 0; i < 75; i++) rows.push(`OK${i},BOLO`);
    const path = join(dir, 'many-bad.csv');
    await writeFile(path, rows.join('\n') + '\n');
    const r = await run(['match', '--hotlist', path, '--max-invalid', '0.3', '--input', readsPath]);
    expect(r.code).toBe(0);
    const rejected = lines(r.stderr).filter((l) => l.startsWith(`${path}:`));
    expect(rejected).toHaveLength(20);
    expect(rejected[0]).toBe(`${path}:2: INVALID_PLATE plate "BAD!0": plate contains "!" (only A-Z, 0-9 and the separators space - . · are allowed)`);
    expect(r.stderr).toContain('... and 5 more rejected rows');
    expect(r.stderr).toMatch(/\(hotlist 75 entries, 25 rejected rows\)/);
  });

  it('stops quietly with exit 0 when the reader of standard output goes away', async () => {
    const input = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ id: `r${i}`, plate: 'ABC123', state: 'CA' })).join('\n');
    const result = await new Promise<RunResult>((resolvePromise) => {
      const child = spawn(process.execPath, [CLI, ...base()], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
      child.stdout.once('data', () => child.stdout.destroy());
      child.on('close', (code) => resolvePromise({ code, stdout: '', stderr }));
      child.stdin.on('error', () => undefined);
      child.stdin.end(input);
    });
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/error|EPIPE/i);
  });
});

describe('platesieve match: exit 2 with a one-line reason', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['an unknown flag', ['match', '--hotlist', 'x.csv', '--frobnicate'], /unknown option '--frobnicate'/],
    ['a bad tier name', ['match', '--hotlist', 'x.csv', '--tiers', 'exact,psychic'], /unknown tier "psychic"/],
    ['--max-distance out of range', ['match', '--hotlist', 'x.csv', '--max-distance', '3'], /--max-distance.*0 to 2/],
    ['--max-distance not a number', ['match', '--hotlist', 'x.csv', '--max-distance', 'one'], /--max-distance/],
    ['a bad --format', ['match', '--hotlist', 'x.csv', '--format', 'xml'], /--format.*ndjson, msgpack/],
    ['a bad --state-mismatch', ['match', '--hotlist', 'x.csv', '--state-mismatch', 'maybe'], /--state-mismatch/],
    ['a bad --min-score', ['match', '--hotlist', 'x.csv', '--min-score', '2'], /--min-score/],
    ['no --hotlist', ['match'], /required option '--hotlist <file>'/],
    ['an unknown command', ['frob'], /unknown command 'frob'/],
  ];
  for (const [what, args, pattern] of cases) {
    it(`for ${what}`, async () => {
      const r = await run(args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(lines(r.stderr)).toHaveLength(1);
      expect(r.stderr).toMatch(/^platesieve: error: /);
      expect(r.stderr).toMatch(pattern);
    });
  }

  it('for a missing hotlist file', async () => {
    const missing = join(dir, 'nope.csv');
    const r = await run(['match', '--hotlist', hotlist, '--hotlist', missing, '--max-invalid', '0.5', '--input', readsPath]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr).filter((l) => l.startsWith('platesieve:'))).toEqual([`platesieve: error: ${missing}: cannot read: no such file`]);
  });

  it('for a refused hotlist (too many invalid rows)', async () => {
    const r = await run(['match', '--hotlist', hotlist, '--input', readsPath]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^platesieve: error: .*hotlist\.csv: refused: 1 of 3 rows invalid \(33%\), more than the 5% allowed; first: line 4 INVALID_PLATE/m);
  });

  it('for an unreadable --input', async () => {
    const r = await run([...base(), '--input', join(dir, 'no-reads.ndjson')]);
    expect(r.code).toBe(2);
    expect(lines(r.stderr).at(-1)).toMatch(/^platesieve: error: cannot read --input .*no-reads\.ndjson: no such file$/);
  });
});

describe('platesieve --help', () => {
  it('documents every flag of match and exits 0', async () => {
    const r = await run(['match', '--help']);
    expect(r.code).toBe(0);
    for (const flag of [
      '--hotlist', '--input', '--output', '--tiers', '--max-distance', '--format', '--state-mismatch',
      '--min-score', '--default-list', '--default-source', '--max-invalid', '--batch-size', '--quiet', '--help',
    ]) {
      expect(r.stdout).toContain(flag);
    }
    const top = await run(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('match');
  });
});
