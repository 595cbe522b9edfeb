/**
 * The built `platesieve hotlist validate|stats` commands, run as child processes: accepted and
 * refused files and their exit codes, every rejected row with its line, the cap and --all,
 * --json, the extract layouts, and bad arguments.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli as run, tempDir } from '../helpers/cli.js';

const NCIC_SAMPLE = 'fixtures/sample/ncic-extract.txt';
const STATE_SAMPLE = 'fixtures/sample/state-extract.csv';

const { file } = tempDir('platesieve-hotlist-cli-');

beforeAll(ensureBuilt, 300_000);

describe('platesieve hotlist validate', () => {
  it('accepts the NCIC sample extract with its layout and exits 0', async () => {
    const r = await run(['hotlist', 'validate', '--layout', 'ncic-fixed', NCIC_SAMPLE]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`${NCIC_SAMPLE}: accepted (ncic-fixed, layout ncic-fixed)`);
    expect(r.stdout).toMatch(/rows\s+9\n/);
    expect(r.stdout).toMatch(/valid\s+8 entries\n/);
    expect(r.stdout).toMatch(/junk\s+1\n/);
  });

  it('accepts the state sample extract', async () => {
    const r = await run(['hotlist', 'validate', '--layout', 'state-csv', STATE_SAMPLE, '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { accepted: boolean; entries: number; junk: number; layout: string };
    expect(report).toMatchObject({ accepted: true, entries: 5, junk: 1, layout: 'state-csv' });
  });

  it('prints each forbidden-purpose row with its line and refuses the file with exit 1', async () => {
    const path = await file('forbidden.csv', [
      'plate,state,list,notes',
      'ABC1,CO,STOLEN_VEHICLE,',
      'ABC2,CO,IMMIGRATION,',
      'ABC3,CO,BOLO,ICE detainer',
      'ABC4,CO,WANTED,',
    ].join('\n') + '\n');
    const r = await run(['hotlist', 'validate', path]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${path}:3: FORBIDDEN_PURPOSE list type IMMIGRATION is a forbidden purpose`);
    expect(r.stdout).toContain(`${path}:4: FORBIDDEN_PURPOSE notes names a forbidden purpose`);
    expect(r.stdout).toContain(`${path}: REFUSED (csv): 2 of 4 rows invalid (50%)`);
    expect(r.stdout).toMatch(/rejected\s+2: FORBIDDEN_PURPOSE 2\n/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^platesieve: error: .*refused: 2 of 4 rows invalid/);
  });

  it('accepts the same file under a higher --max-invalid, and counts duplicates', async () => {
    const path = await file('dups.csv', 'plate,state,list\nABC1,CO,WANTED\nABC-1,co,WANTED\n!!,CO,WANTED\n');
    const r = await run(['hotlist', 'validate', path, '--max-invalid', '0.5', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({
      accepted: true, rows: 3, entries: 2, duplicates: 1, rejected: 1, rejectedByCode: { INVALID_PLATE: 1 },
      rejectedRows: [{ line: 4, code: 'INVALID_PLATE' }],
    });
  });

  it('caps the rejected rows at 20 unless --all', async () => {
    const bad = Array.from({ length: 25 }, (_, i) => `BAD#${i},CO,WANTED`).join('\n');
    const path = await file('many.csv', `plate,state,list\n${bad}\n`);
    const capped = await run(['hotlist', 'validate', path]);
    expect(capped.code).toBe(1);
    expect(capped.stdout.match(/:\d+: INVALID_PLATE /g)).toHaveLength(20);
    expect(capped.stdout).toContain('... and 5 more rejected rows');
    const all = await run(['hotlist', 'validate', path, '--all']);
    expect(all.stdout.match(/:\d+: INVALID_PLATE /g)).toHaveLength(25);
    expect(all.stdout).toContain(`${path}:26: INVALID_PLATE`);
  });

  it('refuses a truncated extract with exit 1', async () => {
    const path = await file('cut.txt', 'V123456789LA057020020190509AB123456  CA2009MC2009YAMACYLMCBLK\nV1234567');
    const r = await run(['hotlist', 'validate', '--layout', 'ncic-fixed', path]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('REFUSED');
    expect(r.stderr).toMatch(/looks truncated/);
  });

  it('reads a delimited file through --columns and --delimiter', async () => {
    const path = await file('semi.txt', 'Tag;Reason\nABC1;WANTED\n');
    const r = await run(['hotlist', 'validate', path, '--format', 'delimited', '--delimiter', 'semicolon', '--columns', '{"plate":"Tag","list":"Reason"}', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ accepted: true, entries: 1, format: 'delimited' });
  });

  it.each<[string, string[], RegExp]>([
    ['a missing file', ['hotlist', 'validate', 'no/such/file.csv'], /cannot read hotlist no\/such\/file.csv: no such file/],
    ['an unknown layout', ['hotlist', 'validate', '--layout', 'nope', NCIC_SAMPLE], /layout/],
    ['columns that are not JSON', ['hotlist', 'validate', '--format', 'delimited', '--columns', '{plate', NCIC_SAMPLE], /JSON object/],
    ['a layout against its format', ['hotlist', 'validate', '--layout', 'ncic-fixed', '--format', 'csv', NCIC_SAMPLE], /format/],
    ['a code mapped to a forbidden list type', ['hotlist', 'stats', '--layout', 'ncic-fixed', '--codes', '{"I":"ICE_HOLD"}', NCIC_SAMPLE], /forbidden purpose/],
  ])('exits 2 on %s', async (_, args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('platesieve hotlist stats', () => {
  it('counts by list, source, state, plate length and priority, with the matcher figures', async () => {
    const r = await run(['hotlist', 'stats', '--layout', 'ncic-fixed', NCIC_SAMPLE, '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as {
      entries: number; byList: Record<string, number>; bySource: Record<string, number>; byState: Record<string, number>;
      byPlateLength: Record<string, number>; oldestEntered: string; newestEntered: string;
      matcher: { entries: number; bytesPerEntry: number; buildTimeMs: number };
    };
    expect(s.entries).toBe(8);
    expect(s.byList).toMatchObject({ STOLEN_VEHICLE: 1, STOLEN_PLATE: 1, WANTED: 1, AMBER: 1, SEX_OFFENDER: 1 });
    expect(s.bySource).toEqual({ NCIC: 8 });
    expect(s.byState).toEqual({ CO: 5, CA: 1, TX: 1, UT: 1 });
    expect(s.byPlateLength).toEqual({ 6: 3, 7: 4, 8: 1 });
    expect(s.oldestEntered).toBe('2019-05-09T00:00:00.000Z');
    expect(s.newestEntered).toBe('2025-01-06T00:00:00.000Z');
    expect(s.matcher.entries).toBe(8);
    expect(s.matcher.bytesPerEntry).toBeGreaterThan(0);
    expect(s.matcher.buildTimeMs).toBeGreaterThanOrEqual(0);
  });

  it('counts expired entries and those expiring within 24 hours of --now', async () => {
    const path = await file('exp.csv', [
      'plate,list,expires',
      'ABC1,WANTED,2025-06-01T06:00:00Z',
      'ABC2,WANTED,2025-06-01T20:00:00Z',
      'ABC3,WANTED,2025-06-03',
      'ABC4,WANTED,2025-05-01',
    ].join('\n') + '\n');
    const r = await run(['hotlist', 'stats', path, '--now', '2025-06-01T00:00:00Z', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ entries: 3, expired: 1, expiringWithin24h: 2 });
  });

  it('prints text tables for the sample CSV', async () => {
    const r = await run(['hotlist', 'stats', 'fixtures/sample/hotlist.csv']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^fixtures\/sample\/hotlist\.csv: \d+ entries from \d+ rows \(csv\)/);
    expect(r.stdout).toContain('by list:\n');
    expect(r.stdout).toMatch(/matcher: \d+ entries .* bytes\/entry/);
  });
});
