/**
 * Hotlist file loading: CSV and NDJSON parsing, column mapping, every rejection code with its
 * line, junk and expired counting, and the whole-file refusals.
 */
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HotlistFileError, OptionsError } from '../../matcher/errors.js';
import { loadHotlistFile, type HotlistLoadResult, type LoadHotlistOptions } from '../../matcher/hotlist/index.js';
import { tempDir } from '../helpers/cli.js';

const NOW = Date.UTC(2025, 5, 1); // 2025-06-01
const temp = tempDir('platesieve-hotlist-');
const { file } = temp;

async function load(name: string, text: string, options: LoadHotlistOptions = {}): Promise<HotlistLoadResult> {
  return loadHotlistFile(await file(name, text), { now: NOW, maxInvalidFraction: 1, ...options });
}

async function refusal(name: string, text: string, options: LoadHotlistOptions = {}): Promise<HotlistFileError> {
  const path = await file(name, text);
  const err = await loadHotlistFile(path, { now: NOW, ...options }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HotlistFileError);
  const e = err as HotlistFileError;
  expect(e.code).toBe('ERR_HOTLIST_FILE');
  expect(e.file).toBe(path);
  return e;
}

function codes(result: HotlistLoadResult): Array<[number, string]> {
  return result.rejected.map((r) => [r.line, r.code]);
}

describe('CSV hotlists', () => {
  it('maps case-insensitive headers onto entry fields and normalizes the plate and state', async () => {
    const r = await load(
      'list.csv',
      'ID,Plate,STATE,List,Priority,Source,Ref,ORI,Entered,Expires,Case,Notes,Entered_By,Purpose\n' +
        'e1,abc-123,ca,STOLEN_VEHICLE,2,NCIC,V123,CA0010000,2025-01-02,2030-01-01,C-1,note one,jdoe,stolen\n',
    );
    expect(r.format).toBe('csv');
    expect(r.rows).toBe(1);
    expect(r.rejected).toEqual([]);
    expect(r.entries).toEqual([
      {
        id: 'e1', plate: 'ABC123', state: 'CA', list: 'STOLEN_VEHICLE', priority: 2, source: 'NCIC', ref: 'V123',
        ori: 'CA0010000', entered: Date.UTC(2025, 0, 2), expires: Date.UTC(2030, 0, 2), case: 'C-1',
        notes: 'note one', enteredBy: 'jdoe', purpose: 'stolen',
      },
    ]);
  });

  it('collects make, model, colour (or color) and type into vehicle', async () => {
    const r = await load('veh.csv', 'plate,list,Make,model,Color,TYPE\nAB1,BOLO,Honda,Civic,Red,PC\n');
    expect(r.entries[0].vehicle).toEqual({ make: 'Honda', model: 'Civic', colour: 'Red', type: 'PC' });
  });

  it('keeps unknown columns in notes as name=value pairs, after the notes column', async () => {
    const r = await load('extra.csv', 'plate,list,notes,LIT,Agency Code,empty\nAB1,BOLO,seen at night,PC,X9,\n');
    expect(r.entries[0].notes).toBe('seen at night; LIT=PC; Agency Code=X9');
  });

  it('reports physical line numbers across blank lines, CRLF endings and quoted newlines', async () => {
    const r = await load(
      'lines.csv',
      'plate,list,notes\r\nAB1,BOLO,x\r\n\r\n"AB!",BOLO,"two\r\nlines"\r\n,BOLO,y\r\nAB2,BOLO,z',
    );
    expect(codes(r)).toEqual([
      [4, 'INVALID_PLATE'],
      [6, 'MISSING_PLATE'],
    ]);
    expect(r.entries.map((e) => e.plate)).toEqual(['AB1', 'AB2']);
    expect(r.rows).toBe(4);
  });

  it('accepts a file without a trailing newline and with a UTF-8 BOM', async () => {
    const r = await load('bom.csv', '\uFEFFplate,list\nAB1,BOLO');
    expect(r.entries).toEqual([{ plate: 'AB1', list: 'BOLO' }]);
  });

  it('rejects rows with the wrong number of fields', async () => {
    const r = await load('cols.csv', 'plate,list,state\nAB1,BOLO\nAB2,BOLO,CA,extra\nAB3,BOLO,CA\n');
    expect(codes(r)).toEqual([
      [2, 'COLUMN_COUNT'],
      [3, 'COLUMN_COUNT'],
    ]);
    expect(r.entries).toHaveLength(1);
  });
});

describe('NDJSON hotlists', () => {
  it('reads one object a line with the same (case-insensitive) keys', async () => {
    const r = await load(
      'list.ndjson',
      '{"id":"n1","plate":"ab 12","state":"tx","list":"AMBER","priority":1,"expires":"2030-01-01T00:00:00Z","vehicle":{"make":"Ford","color":"Blue"}}\n' +
        '\n' +
        '{"Plate":"cd34","LIST":"WANTED","case":12345,"nic":"V1","flags":["a"]}\n',
    );
    expect(r.format).toBe('ndjson');
    expect(r.rows).toBe(2);
    expect(r.entries).toEqual([
      { id: 'n1', plate: 'AB12', state: 'TX', list: 'AMBER', priority: 1, expires: Date.UTC(2030, 0, 1), vehicle: { make: 'Ford', colour: 'Blue' } },
      { plate: 'CD34', list: 'WANTED', case: '12345', notes: 'nic=V1; flags=["a"]' },
    ]);
  });

  it('reports bad JSON, non-objects and wrongly typed fields with their line', async () => {
    const r = await load(
      'bad.jsonl',
      '{"plate":"AB1","list":"BOLO"}\n{nope\n[1,2]\n{"plate":123,"list":"BOLO"}\n{"plate":"AB2","list":"BOLO","ref":{"x":1}}\n{"plate":"AB3","list":"BOLO","vehicle":"red car"}\n',
    );
    expect(codes(r)).toEqual([
      [2, 'BAD_JSON'],
      [3, 'NOT_AN_OBJECT'],
      [4, 'INVALID_PLATE'],
      [5, 'BAD_FIELD'],
      [6, 'BAD_FIELD'],
    ]);
    expect(r.rows).toBe(6);
  });

  it('detects NDJSON by content when the extension says nothing', async () => {
    const r = await load('list.txt', '  {"plate":"AB1","list":"BOLO"}\n');
    expect(r.format).toBe('ndjson');
    const c = await load('list.dat', 'plate,list\nAB1,BOLO\n');
    expect(c.format).toBe('csv');
  });
});

describe('row validation', () => {
  it('rejects every invalid row with its line, a stable code and a reason', async () => {
    const r = await load(
      'codes.csv',
      [
        'plate,list,priority,entered,expires,pattern',
        'GOOD1,BOLO,1,2025-01-01,,', // 2 ok
        ',BOLO,1,,,', // 3 MISSING_PLATE
        'AB_12,BOLO,1,,,', // 4 INVALID_PLATE
        'ABCDEFGHIJK,BOLO,1,,,', // 5 INVALID_PLATE (too long)
        'GOOD2,,1,,,', // 6 MISSING_LIST
        'GOOD3,BOLO,0,,,', // 7 INVALID_PRIORITY
        'GOOD4,BOLO,2.5,,,', // 8 INVALID_PRIORITY
        'GOOD5,BOLO,1,yesterday,,', // 9 INVALID_DATE
        'GOOD6,BOLO,1,,2025-02-30,', // 10 INVALID_DATE
        ',BOLO,1,,2026-01-01,AB?12*', // 11 PARTIAL_INCOMPLETE (no case, enteredBy, purpose)
        '',
      ].join('\n'),
    );
    expect(codes(r)).toEqual([
      [3, 'MISSING_PLATE'],
      [4, 'INVALID_PLATE'],
      [5, 'INVALID_PLATE'],
      [6, 'MISSING_LIST'],
      [7, 'INVALID_PRIORITY'],
      [8, 'INVALID_PRIORITY'],
      [9, 'INVALID_DATE'],
      [10, 'INVALID_DATE'],
      [11, 'PARTIAL_INCOMPLETE'],
    ]);
    for (const row of r.rejected) {
      expect(row.file).toBe(r.file);
      expect(row.reason.length).toBeGreaterThan(5);
    }
    expect(r.rejected[1].reason).toContain('"_"');
    expect(r.rejected[8].reason).toMatch(/without case, enteredBy, purpose/);
    expect(r.entries.map((e) => e.plate)).toEqual(['GOOD1']);
  });

  it('uses defaultList and defaultSource for rows that name none', async () => {
    const r = await load('defaults.csv', 'plate,list,source\nAB1,,\nAB2,WANTED,CCIC\n', { defaultList: 'LOCAL_BOLO', defaultSource: 'LOCAL' });
    expect(r.entries).toEqual([
      { plate: 'AB1', list: 'LOCAL_BOLO', source: 'LOCAL' },
      { plate: 'AB2', list: 'WANTED', source: 'CCIC' },
    ]);
  });

  it('parses ISO 8601, YYYYMMDD and epoch-millisecond dates; no zone means UTC', async () => {
    const r = await load(
      'dates.csv',
      'plate,list,entered\nA1,L,2025-03-04T05:06:07Z\nA2,L,2025-03-04 05:06\nA3,L,2025-03-04T05:06:07+02:00\nA4,L,20250304\nA5,L,1741064767000\n',
    );
    expect(r.entries.map((e) => e.entered)).toEqual([
      Date.UTC(2025, 2, 4, 5, 6, 7),
      Date.UTC(2025, 2, 4, 5, 6),
      Date.UTC(2025, 2, 4, 3, 6, 7),
      Date.UTC(2025, 2, 4),
      1741064767000,
    ]);
  });

  it('skips and counts junk plates (0, 00, 000) without reporting them', async () => {
    const r = await load('junk.csv', 'plate,list\n0,BOLO\n00,\n000,BOLO\nAB1,BOLO\n');
    expect(r.junk).toBe(3);
    expect(r.rejected).toEqual([]);
    expect(r.entries).toHaveLength(1);
    expect(r.rows).toBe(4);
  });

  it('drops and counts expired entries; a date-only expiry lasts through that day', async () => {
    const r = await load(
      'expired.csv',
      'plate,list,expires\nOLD1,BOLO,2025-05-31\nTODAY1,BOLO,2025-06-01\nOLD2,BOLO,2025-05-31T23:59:59Z\nNEW1,BOLO,2026-01-01\n',
    );
    expect(r.expired).toBe(2);
    expect(r.entries.map((e) => e.plate)).toEqual(['TODAY1', 'NEW1']);
    expect(r.entries[0].expires).toBe(Date.UTC(2025, 5, 2));
  });
});

describe('whole-file refusals', () => {
  it('refuses a missing file, a directory and an empty file', async () => {
    expect((await refusal('x', '')).message).toMatch(/empty/);
    const missing = await loadHotlistFile(join(temp.path, 'does-not-exist.csv')).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(HotlistFileError);
    expect((missing as Error).message).toMatch(/no such file/);
    const sub = join(temp.path, 'a-directory.csv');
    await mkdir(sub);
    const isDir = await loadHotlistFile(sub).catch((e: unknown) => e);
    expect((isDir as Error).message).toMatch(/directory/);
  });

  it('refuses a CSV with a header but no rows, and one without a plate column', async () => {
    expect((await refusal('header.csv', 'plate,list\n\n')).message).toMatch(/header row but no data rows/);
    expect((await refusal('noplate.csv', 'tag,list\nAB1,BOLO\n')).message).toMatch(/no plate column/);
    expect((await refusal('dup.csv', 'plate,list,Plate\nAB1,BOLO,AB1\n')).message).toMatch(/second time/);
  });

  it('refuses a CSV whose last record is cut inside a quoted field', async () => {
    const e = await refusal('cut.csv', 'plate,list,notes\nAB1,BOLO,x\nAB2,BOLO,"half a no');
    expect(e.message).toMatch(/line 3.*truncated/);
  });

  it('refuses a CSV whose last row is short and has no line end', async () => {
    const e = await refusal('short.csv', 'plate,list,state\nAB1,BOLO,CA\nAB2,BO');
    expect(e.message).toMatch(/last row \(line 3\).*truncated/);
  });

  it('refuses an NDJSON file whose last line is cut mid-object', async () => {
    const e = await refusal('cut.ndjson', '{"plate":"AB1","list":"BOLO"}\n{"plate":"AB2","li');
    expect(e.message).toMatch(/last line \(2\).*truncated/);
  });

  it('refuses a file with more invalid rows than allowed, naming the first', async () => {
    const rows = ['plate,list'];
    for (let i = 0; i < 100; i++) rows.push(i % 4 === 0 ? `BAD!${i},BOLO` : `OK${i},BOLO`);
    const e = await refusal('mostly-bad.csv', `${rows.join('\n')}\n`);
    expect(e.message).toMatch(/refused: 25 of 100 rows invalid \(25%\), more than the 5% allowed; first: line 2 INVALID_PLATE/);
    // The same file passes when the threshold allows it.
    const ok = await loadHotlistFile(e.file, { maxInvalidFraction: 0.25 });
    expect(ok.entries).toHaveLength(75);
    expect(ok.rejected).toHaveLength(25);
  });

  it('loads partial-plate rows with their case, officer, purpose and expiry, and rejects incomplete or malformed ones', async () => {
    const path = await file(
      'partials.csv',
      [
        'plate,pattern,list,case,enteredBy,purpose,expires,colour',
        ',7ab-?12*,BOLO,26-001,det.ortiz,ROBBERY,2027-01-01,RED', // 2 ok
        ',CD*,BOLO,,det.ortiz,ROBBERY,2027-01-01,', // 3 no case
        ',CD[8,BOLO,26-002,det.ortiz,ROBBERY,2027-01-01,', // 4 bad pattern
        ',CD?9,BOLO,26-003,det.ortiz,FLEET_SURVEY,2027-01-01,', // 5 unknown purpose
        ',CD?9,BOLO,26-004,det.ortiz,CIVIL_IMMIGRATION,2027-01-01,', // 6 forbidden purpose
        'AB1,,BOLO,,,,,', // 7 plate entry
        '',
      ].join('\n'),
    );
    const r = await loadHotlistFile(path, { now: NOW, maxInvalidFraction: 1 });
    expect(codes(r)).toEqual([
      [3, 'PARTIAL_INCOMPLETE'],
      [4, 'INVALID_PATTERN'],
      [5, 'INVALID_PURPOSE'],
      [6, 'FORBIDDEN_PURPOSE'],
    ]);
    expect(r.entries).toHaveLength(2);
    expect(r.entries[0]).toMatchObject({ pattern: '7AB?12*', list: 'BOLO', case: '26-001', enteredBy: 'det.ortiz', purpose: 'ROBBERY', vehicle: { colour: 'RED' } });
    expect(r.entries[0].plate).toBeUndefined();
  });

  it('validates its options', async () => {
    const path = await file('opt.csv', 'plate,list\nAB1,BOLO\n');
    await expect(loadHotlistFile(path, { maxInvalidFraction: 2 })).rejects.toBeInstanceOf(OptionsError);
  });
});

describe('source defaults', () => {
  it('gives rows that name no priority the source default, and checks it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ps-prio-'));
    const path = join(dir, 'p.csv');
    await writeFile(path, 'plate,list,priority\nAB1,BOLO,\nAB2,BOLO,1\n');
    const r = await loadHotlistFile(path, { defaultPriority: 2 });
    expect(r.entries.map((e) => e.priority)).toEqual([2, 1]);
    await expect(loadHotlistFile(path, { defaultPriority: 9 })).rejects.toThrow(/defaultPriority/);
    await rm(dir, { recursive: true, force: true });
  });
});
