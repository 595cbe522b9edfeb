/**
 * The built CLI with hotlist extracts and problem files, as child processes: `platesieve match`
 * reading extracts through --layout, --columns and --delimiter (the flags of `hotlist
 * validate`), the advice on a header without a plate column, and warnings about entries that
 * load but look wrong (unknown list type, state that is not a two-letter code).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli as run, tempDir } from '../helpers/cli.js';

const NCIC_SAMPLE = 'fixtures/sample/ncic-extract.txt';
const temp = tempDir('platesieve-extract-cli-');
const file = (name: string, text: string): Promise<string> => temp.file(name, text);

beforeAll(ensureBuilt, 300_000);

interface AlertLine {
  readId: string;
  entryId: string;
  hotlistPlate: string;
  hotlistState?: string;
  list: string;
  source?: string;
  ref?: string;
  match: string;
}

function alerts(stdout: string): AlertLine[] {
  return stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as AlertLine);
}

function ndjson(reads: object[]): string {
  return reads.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

describe('platesieve match reads extracts', () => {
  it('matches against the NCIC fixed-width sample with --layout ncic-fixed', async () => {
    const reads = await file('reads.ndjson', ndjson([
      { id: 'r1', plate: 'AB 123456', state: 'CA' },
      { id: 'r2', plate: 'BRT4471', state: 'CO' },
      { id: 'r3', plate: 'ZZZ999', state: 'CO' },
      { id: 'r4', plate: 'OOB123', state: 'CO' }, // listed O0B123: O and 0 are one OCR class
    ]));
    const r = await run(['match', '--hotlist', NCIC_SAMPLE, '--layout', 'ncic-fixed', '--input', reads]);
    expect(r.code).toBe(0);
    expect(alerts(r.stdout).map((a) => [a.readId, a.match, a.hotlistPlate, a.list, a.source, a.ref])).toEqual([
      ['r1', 'exact', 'AB123456', 'STOLEN_VEHICLE', 'NCIC', 'V123456789'],
      ['r2', 'exact', 'BRT4471', 'AMBER', 'NCIC', 'A000000917'],
      ['r4', 'ocr', 'O0B123', 'STOLEN_PLATE', 'NCIC', 'P000412345'],
    ]);
    expect(r.stderr).toMatch(/^platesieve: 4 reads, 3 alerts, 0 invalid, \d+ reads\/s \(hotlist 8 entries, 0 rejected rows, 1 junk skipped\)$/m);
  });

  it('matches against a pipe-delimited file through --delimiter and positional --columns', async () => {
    const list = await file('state.txt', 'ABC123|CO|V|CO24-1\nXYZ789|TX|W|TX24-2\n');
    const reads = await file('reads2.ndjson', ndjson([{ id: 'a', plate: 'XYZ789', state: 'TX' }, { id: 'b', plate: 'ABC123', state: 'CO' }]));
    const r = await run([
      'match', '--hotlist', list, '--delimiter', 'pipe', '--columns', '{"plate":0,"state":1,"code":2,"ref":3}', '--input', reads,
    ]);
    expect(r.code).toBe(0);
    expect(alerts(r.stdout).map((a) => [a.readId, a.hotlistPlate, a.hotlistState, a.list, a.ref])).toEqual([
      ['a', 'XYZ789', 'TX', 'WANTED', 'TX24-2'],
      ['b', 'ABC123', 'CO', 'STOLEN_VEHICLE', 'CO24-1'],
    ]);
  });

  it('reads a delimited file whose header names the columns, with --delimiter alone', async () => {
    const list = await file('semi.txt', 'Plate;State;List\nABC123;CO;WANTED\n');
    const reads = await file('reads3.ndjson', ndjson([{ id: 'a', plate: 'ABC123', state: 'CO' }]));
    const r = await run(['match', '--hotlist', list, '--delimiter', 'semicolon', '--input', reads]);
    expect(r.code).toBe(0);
    expect(alerts(r.stdout).map((a) => [a.readId, a.list])).toEqual([['a', 'WANTED']]);
    const v = await run(['hotlist', 'validate', list, '--delimiter', 'semicolon', '--json']);
    expect(v.code).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ accepted: true, format: 'delimited', entries: 1 });
  });

  it('documents the extract flags in --help', async () => {
    const r = await run(['match', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--layout', '--columns', '--delimiter', '--header', '--no-header', '--codes']) expect(r.stdout).toContain(flag);
  });
});

describe('a header without a plate column', () => {
  it('match names --layout for a fixed-width extract read as CSV, exit 2', async () => {
    const r = await run(['match', '--hotlist', NCIC_SAMPLE, '--input', '/dev/null']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^platesieve: error: .*no plate column in the header .*try --layout ncic-fixed$/m);
  });

  it('hotlist validate names --layout ncic-pipe for a pipe-delimited NCIC file, exit 1', async () => {
    const path = await file('ncic-pipe.txt', 'LIC|LIS|FC\nABC123|CO|V\n');
    const r = await run(['hotlist', 'validate', path]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${path}: REFUSED: line 1: no plate column in the header (columns: LIC|LIS|FC); `);
    expect(r.stdout).toContain('try --layout ncic-pipe');
    expect(r.stderr).toMatch(/^platesieve: error: .*try --layout ncic-pipe$/m);
  });

  it('hotlist validate names --delimiter for a tab-delimited file, and the file loads with it', async () => {
    const path = await file('tabs.txt', 'plate\tstate\tlist\nABC123\tCO\tWANTED\n');
    const r = await run(['hotlist', 'validate', path]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('it looks tab-delimited: try --delimiter tab');
    const ok = await run(['hotlist', 'validate', path, '--delimiter', 'tab']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`${path}: accepted (delimited)`);
  });

  it('hotlist validate says the first row is data for a state extract without header', async () => {
    const r = await run(['hotlist', 'validate', 'fixtures/sample/state-extract.csv']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('the first row looks like data, not a header');
    expect(r.stdout).toContain('--layout state-csv');
  });
});

describe('warnings about entries that load but look wrong', () => {
  const rows = ['plate,state,list', 'ABC123,COLORADO,STOLEN_VEHICLE', 'XYZ789,CO,STOLEN_VEHICEL', 'QRS111,CO,WANTED'];

  it('hotlist validate lists each with its line, accepts the file, and counts them', async () => {
    const path = await file('typos.csv', rows.join('\n') + '\n');
    const r = await run(['hotlist', 'validate', path]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${path}:2: warning INVALID_STATE state "COLORADO" is not a two-letter code`);
    expect(r.stdout).toContain(`${path}:3: warning UNKNOWN_LIST list type "STOLEN_VEHICEL" is not a documented list type: did you mean STOLEN_VEHICLE?`);
    expect(r.stdout).toContain(`${path}: accepted (csv)`);
    expect(r.stdout).toMatch(/valid\s+3 entries\n/);
    expect(r.stdout).toMatch(/warnings\s+2: INVALID_STATE 1, UNKNOWN_LIST 1\n/);
    const json = await run(['hotlist', 'validate', path, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      accepted: true, warnings: 2, warningRows: [{ line: 2, code: 'INVALID_STATE' }, { line: 3, code: 'UNKNOWN_LIST' }],
    });
  });

  it('match prints them on standard error and still loads the entries', async () => {
    const path = await file('typos2.csv', rows.join('\n') + '\n');
    const reads = await file('reads4.ndjson', ndjson([{ id: 'a', plate: 'XYZ789', state: 'CO' }, { id: 'b', plate: 'ABC123', state: 'CO' }]));
    const r = await run(['match', '--hotlist', path, '--input', reads]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`${path}:2: warning INVALID_STATE`);
    expect(r.stderr).toContain(`${path}:3: warning UNKNOWN_LIST`);
    expect(r.stderr).toMatch(/\(hotlist 3 entries, 0 rejected rows, 2 warnings\)$/m);
    // The typo still loads as a list of its own; COLORADO never matches a read of CO.
    expect(alerts(r.stdout).map((a) => [a.readId, a.list])).toEqual([['a', 'STOLEN_VEHICEL']]);
    const quiet = await run(['match', '--hotlist', path, '--input', reads, '--quiet']);
    expect(quiet.stderr).toBe('');
  });
});
