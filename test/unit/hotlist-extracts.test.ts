/**
 * Hotlist extracts: the NCIC fixed-width and pipe layouts, the state CSV layout, delimited
 * files with column mappings, file / reason codes, code fields with zeros left alone, and
 * entries for forbidden purposes refused at load with their line.
 */
import { describe, expect, it } from 'vitest';
import { HotlistFileError, OptionsError } from '../../matcher/errors.js';
import { BUILTIN_CODES, loadHotlistFile, type HotlistLoadResult, type LoadHotlistOptions } from '../../matcher/hotlist/index.js';
import { tempDir } from '../helpers/cli.js';

const NOW = Date.UTC(2025, 5, 1); // 2025-06-01
/** The example row of docs/contracts.md (NCIC extracts). */
const DESIGN_ROW = 'V123456789LA057020020190509AB123456  CA2009MC2009YAMACYLMCBLK';

const { file } = tempDir('platesieve-extract-');

async function load(name: string, text: string, options: LoadHotlistOptions): Promise<HotlistLoadResult> {
  return loadHotlistFile(await file(name, text), { now: NOW, maxInvalidFraction: 1, ...options });
}

/** One row of the NCIC fixed-width extract, padded to its columns. */
function ncicRow(f: {
  code: string; nic?: string; ori?: string; dot?: string; plate: string; state: string;
  liy?: string; lit?: string; vyr?: string; vma?: string; vmo?: string; vst?: string; vco?: string;
}): string {
  const pad = (s: string | undefined, w: number): string => (s ?? '').padEnd(w).slice(0, w);
  return (
    f.code + pad(f.nic ?? '000000001', 9) + pad(f.ori ?? 'CO0010000', 9) + pad(f.dot ?? '20240101', 8) +
    pad(f.plate, 10) + pad(f.state, 2) + pad(f.liy, 4) + pad(f.lit, 2) + pad(f.vyr, 4) + pad(f.vma, 4) +
    pad(f.vmo, 3) + pad(f.vst, 2) + pad(f.vco, 3)
  );
}

describe('NCIC fixed-width extract', () => {
  it('reads the NCIC example row of the contracts field by field', async () => {
    const r = await load('ncic.txt', `${DESIGN_ROW}\n`, { layout: 'ncic-fixed' });
    expect(r.format).toBe('ncic-fixed');
    expect(r.layout).toBe('ncic-fixed');
    expect(r.rejected).toEqual([]);
    expect(r.entries).toEqual([
      {
        plate: 'AB123456',
        state: 'CA',
        list: 'STOLEN_VEHICLE',
        source: 'NCIC',
        ref: 'V123456789',
        ori: 'LA0570200',
        entered: Date.UTC(2019, 4, 9),
        notes: 'LIY=2009; LIT=MC; VYR=2009',
        vehicle: { make: 'YAMA', model: 'CYL', type: 'MC', colour: 'BLK' },
      },
    ]);
  });

  it('uses the NCIC layout for the ncic-fixed format without columns', async () => {
    const r = await load('fmt.txt', `${DESIGN_ROW}\n`, { format: 'ncic-fixed' });
    expect(r.layout).toBe('ncic-fixed');
    expect(r.entries[0]).toMatchObject({ plate: 'AB123456', state: 'CA', list: 'STOLEN_VEHICLE', source: 'NCIC' });
  });

  it('matches the example row built from its fields (the column table)', () => {
    expect(
      ncicRow({
        code: 'V', nic: '123456789', ori: 'LA0570200', dot: '20190509', plate: 'AB123456', state: 'CA',
        liy: '2009', lit: 'MC', vyr: '2009', vma: 'YAMA', vmo: 'CYL', vst: 'MC', vco: 'BLK',
      }),
    ).toBe(DESIGN_ROW);
  });

  it('maps every file code to its list type', async () => {
    const codes = Object.entries(BUILTIN_CODES).filter(([c]) => c.length === 1);
    const text = codes.map(([c], i) => ncicRow({ code: c, plate: `ABC${100 + i}`, state: 'CO' })).join('\r\n');
    const r = await load('codes.txt', `${text}\r\n`, { layout: 'ncic-fixed' });
    expect(r.entries.map((e) => e.list)).toEqual(codes.map(([, list]) => list));
    expect(r.entries.filter((e) => ['A', 'F', 'W', 'V', 'P', 'M', 'H'].includes(e.ref!.charAt(0))).map((e) => e.list)).toEqual([
      'AMBER', 'FELONY_VEHICLE', 'WANTED', 'STOLEN_VEHICLE', 'STOLEN_PLATE', 'MISSING_PERSON', 'PROTECTION_ORDER',
    ]);
  });

  it('normalizes the plate only: plate types, makes and colours with zeros stay as they are', async () => {
    const row = ncicRow({ code: 'P', plate: 'O0B-123', state: 'tx', liy: '2022', lit: '0B', vma: 'D0DG', vmo: '0R', vco: 'O0O' });
    const r = await load('zeros.txt', `${row}\n`, { layout: 'ncic-fixed' });
    const e = r.entries[0];
    expect(e.plate).toBe('O0B123');
    expect(e.state).toBe('TX');
    expect(e.notes).toBe('LIY=2022; LIT=0B');
    expect(e.vehicle).toEqual({ make: 'D0DG', model: '0R', colour: 'O0O' });
  });

  it('rejects unknown file codes and short rows with their line, and skips junk plates', async () => {
    const text = [
      ncicRow({ code: 'V', plate: 'GOOD1', state: 'CO' }),
      ncicRow({ code: 'Q', plate: 'BAD1', state: 'CO' }),
      'V000000001CO0010000202401',
      ncicRow({ code: 'V', plate: '000', state: 'CO' }),
      ncicRow({ code: 'V', plate: 'AB#12', state: 'CO' }),
    ].join('\n');
    const r = await load('bad.txt', `${text}\n`, { layout: 'ncic-fixed' });
    expect(r.entries.map((e) => e.plate)).toEqual(['GOOD1']);
    expect(r.junk).toBe(1);
    expect(r.rejected.map((x) => [x.line, x.code])).toEqual([[2, 'UNKNOWN_CODE'], [3, 'SHORT_ROW'], [5, 'INVALID_PLATE']]);
    expect(r.rejected[0].reason).toContain('"Q"');
  });

  it('extends the code table with the codes option', async () => {
    const r = await load('q.txt', `${ncicRow({ code: 'Q', plate: 'ABC1', state: 'CO' })}\n`, { layout: 'ncic-fixed', codes: { Q: 'LOCAL_BOLO' } });
    expect(r.entries[0].list).toBe('LOCAL_BOLO');
  });

  it('refuses a file whose last line is cut before the state and has no line end', async () => {
    const path = await file('cut.txt', `${DESIGN_ROW}\nV123456789LA057020020190509AB12`);
    const err = await loadHotlistFile(path, { layout: 'ncic-fixed', now: NOW }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HotlistFileError);
    expect((err as Error).message).toMatch(/line \(2\).*looks truncated/);
  });

  it('keeps a row source and lets defaultSource replace NCIC', async () => {
    const r = await load('src.txt', `${DESIGN_ROW}\n`, { layout: 'ncic-fixed', defaultSource: 'CCIC' });
    expect(r.entries[0].source).toBe('CCIC');
  });

  it('reads a fixed-width file with a custom column table', async () => {
    const text = 'ABC123    CO S 20240301\nXYZ9      UT W 20240302\n';
    const r = await load('custom.txt', text, {
      format: 'ncic-fixed',
      columns: { plate: { start: 0, end: 10 }, state: { start: 10, end: 12 }, code: { start: 13, end: 14 }, entered: { start: 15, end: 23 } },
      codes: { S: 'STOLEN_VEHICLE' },
    });
    expect(r.entries.map((e) => [e.plate, e.state, e.list, e.entered])).toEqual([
      ['ABC123', 'CO', 'STOLEN_VEHICLE', Date.UTC(2024, 2, 1)],
      ['XYZ9', 'UT', 'WANTED', Date.UTC(2024, 2, 2)],
    ]);
  });
});

describe('NCIC pipe-delimited extract', () => {
  it('reads a header of NCIC field names, with unknown ones kept in notes', async () => {
    const text = [
      'FC|NIC|ORI|DOT|LIC|LIS|LIT|LIY|VIN|VYR|VMA|VMO|VST|VCO|OCA|MIS',
      'V|V123456789|LA0570200|20190509|AB123456|CA|MC|2009|JYA1234567890|2009|YAMA|CYL|MC|BLK|24-0001|STOLEN FROM "LOT" 5',
      'P|P000000002|CO0010000|20240101|0OB-12|CO|0B|2024||||||||',
    ].join('\n');
    const r = await load('ncic.psv', `${text}\n`, { layout: 'ncic-pipe' });
    expect(r.rejected).toEqual([]);
    expect(r.entries[0]).toEqual({
      plate: 'AB123456', state: 'CA', list: 'STOLEN_VEHICLE', source: 'NCIC', ref: 'V123456789', ori: 'LA0570200',
      case: '24-0001', entered: Date.UTC(2019, 4, 9),
      notes: 'STOLEN FROM "LOT" 5; LIT=MC; LIY=2009; VIN=JYA1234567890; VYR=2009',
      vehicle: { make: 'YAMA', model: 'CYL', type: 'MC', colour: 'BLK' },
    });
    expect(r.entries[1]).toMatchObject({ plate: '0OB12', list: 'STOLEN_PLATE', notes: 'LIT=0B; LIY=2024' });
  });

  it('reads rows without a header in the fixed-width field order', async () => {
    const text = 'W|W000000003|CO0010000|20240105|XYZ789|CO|2023|PC|2015|TOYT|CAM|4D|SIL|1HGCM82633A004352|C-77|ARMED\n';
    const r = await load('noheader.psv', text, { layout: 'ncic-pipe' });
    expect(r.entries[0]).toMatchObject({
      plate: 'XYZ789', state: 'CO', list: 'WANTED', ref: 'W000000003', case: 'C-77', notes: 'ARMED; LIY=2023; LIT=PC; VYR=2015; VIN=1HGCM82633A004352',
      vehicle: { make: 'TOYT', model: 'CAM', type: '4D', colour: 'SIL' },
    });
  });

  it('rejects a row with too few fields', async () => {
    const r = await load('short.psv', 'FC|LIC|LIS\nV|ABC1|CO\nV|ABC2\n', { layout: 'ncic-pipe' });
    expect(r.rejected.map((x) => [x.line, x.code])).toEqual([[3, 'COLUMN_COUNT']]);
  });
});

describe('state CSV extract', () => {
  it('reads positional rows: plate, state, plate type, year, reason code, record, ORI, date', async () => {
    const text = [
      'ABC1234,CO,PC,2024,STOLEN,CO24-001,CO0010000,2024-03-01',
      '"XYZ 987",CO,0R,2023,SP,CO24-002,CO0010000,20240302,"BLUE HONDA, DENT"',
      'Q1234,UT,PC,2024,A,UT24-9,UT0010000,20240303',
    ].join('\n');
    const r = await load('state.csv', `${text}\n`, { layout: 'state-csv', defaultSource: 'CCIC' });
    expect(r.rejected).toEqual([]);
    expect(r.entries.map((e) => [e.plate, e.state, e.list, e.ref, e.ori, e.entered, e.source, e.notes])).toEqual([
      ['ABC1234', 'CO', 'STOLEN_VEHICLE', 'CO24-001', 'CO0010000', Date.UTC(2024, 2, 1), 'CCIC', 'LIT=PC; LIY=2024'],
      ['XYZ987', 'CO', 'STOLEN_PLATE', 'CO24-002', 'CO0010000', Date.UTC(2024, 2, 2), 'CCIC', 'LIT=0R; LIY=2023; column9=BLUE HONDA, DENT'],
      ['Q1234', 'UT', 'AMBER', 'UT24-9', 'UT0010000', Date.UTC(2024, 2, 3), 'CCIC', 'LIT=PC; LIY=2024'],
    ]);
  });

  it('rejects unknown reason codes and rows missing columns', async () => {
    const r = await load('state2.csv', 'ABC1,CO,PC,2024,PARKING,1,CO1,20240101\nABC2,CO,PC\n', { layout: 'state-csv' });
    expect(r.rejected.map((x) => [x.line, x.code])).toEqual([[1, 'UNKNOWN_CODE'], [2, 'COLUMN_COUNT']]);
  });
});

describe('delimited files with a column mapping', () => {
  it('maps columns by header name with another delimiter', async () => {
    const text = 'Tag;Jurisdiction;Reason;Record;Colour\nABC 123;co;WANTED;R1;RED\n';
    const r = await load('semi.txt', text, {
      format: 'delimited', delimiter: ';', columns: { plate: 'Tag', state: 'jurisdiction', list: 'Reason', ref: 'RECORD' },
    });
    expect(r.entries).toEqual([{ plate: 'ABC123', state: 'CO', list: 'WANTED', ref: 'R1', notes: 'Colour=RED' }]);
  });

  it('maps columns by position and skips a header row when told', async () => {
    const text = 'x|y|z\nWANTED|ABC9|CO\n';
    const r = await load('pos.txt', text, { format: 'delimited', delimiter: '|', hasHeader: true, columns: { list: 0, plate: 1, state: 2 } });
    expect(r.entries).toEqual([{ plate: 'ABC9', state: 'CO', list: 'WANTED' }]);
  });

  it('reads a delimited file whose header names entry fields', async () => {
    const r = await load('tab.tsv', 'plate\tstate\tlist\nABC1\tCO\tBOLO\n', { format: 'delimited', delimiter: '\t' });
    expect(r.entries).toEqual([{ plate: 'ABC1', state: 'CO', list: 'BOLO' }]);
  });

  it('refuses a mapping naming a column the header lacks', async () => {
    const path = await file('missing.txt', 'a,b\n1,2\n');
    const err = await loadHotlistFile(path, { format: 'delimited', columns: { plate: 'Tag' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HotlistFileError);
    expect((err as Error).message).toContain('no column named "Tag"');
  });
});

describe('forbidden purposes at load', () => {
  it('rejects CSV rows whose list type, notes or purpose name a forbidden purpose, with line and citation', async () => {
    const text = [
      'plate,state,list,notes,purpose',
      'ABC1,CO,STOLEN_VEHICLE,,',
      'ABC2,CO,IMMIGRATION,,',
      'ABC3,CO,BOLO,ICE detainer request,',
      'ABC4,CO,ICE_HOLD,,',
      'ABC5,CO,BOLO,,CIVIL_IMMIGRATION',
      'ABC6,CO,BOLO,tracking visits to the clinic,',
      'ABC7,CO,WANTED,shooting near the hospital,',
    ].join('\n');
    const r = await load('forbidden.csv', `${text}\n`, {});
    expect(r.entries.map((e) => e.plate)).toEqual(['ABC1', 'ABC7']);
    expect(r.rejected.map((x) => [x.line, x.code])).toEqual([
      [3, 'FORBIDDEN_PURPOSE'], [4, 'FORBIDDEN_PURPOSE'], [5, 'FORBIDDEN_PURPOSE'], [6, 'FORBIDDEN_PURPOSE'], [7, 'FORBIDDEN_PURPOSE'],
    ]);
    expect(r.rejected[0].reason).toContain('IMMIGRATION');
    expect(r.rejected[0].reason).toContain('Englewood PD Policy 425.5(f)');
    expect(r.rejected[4].reason).toContain('425.5(h)');
  });

  it('rejects a reason code that is a forbidden purpose rather than calling it unknown', async () => {
    const r = await load('ice.csv', 'ABC1,CO,PC,2024,ICE,1,CO1,20240101\n', { layout: 'state-csv' });
    expect(r.rejected.map((x) => x.code)).toEqual(['FORBIDDEN_PURPOSE']);
  });

  it('rejects NDJSON rows too, and refuses a file made of them', async () => {
    const rows = Array.from({ length: 10 }, (_, i) => JSON.stringify({ plate: `IMM${i}`, list: 'DEPORTATION' })).join('\n');
    const path = await file('all.ndjson', `${rows}\n`);
    const err = await loadHotlistFile(path, { now: NOW }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HotlistFileError);
    expect((err as Error).message).toMatch(/refused: 10 of 10 rows invalid.*FORBIDDEN_PURPOSE/);
  });

  it('refuses a code table that maps a code to a forbidden list type', async () => {
    const path = await file('x.txt', `${DESIGN_ROW}\n`);
    await expect(loadHotlistFile(path, { layout: 'ncic-fixed', codes: { I: 'IMMIGRATION' } })).rejects.toThrow(OptionsError);
  });
});

describe('options', () => {
  it.each<[string, LoadHotlistOptions, RegExp]>([
    ['unknown layout', { layout: 'nope' as 'ncic-fixed' }, /layout/],
    ['layout against format', { layout: 'ncic-fixed', format: 'csv' }, /format/],
    ['columns on CSV', { format: 'csv', columns: { plate: 0 } }, /columns/],
    ['bad fixed range', { format: 'ncic-fixed', columns: { plate: { start: 5, end: 2 } } }, /columns\.plate/],
    ['no plate mapped', { format: 'delimited', columns: { state: 1 } }, /columns/],
    ['two-character delimiter', { format: 'delimited', delimiter: '||' }, /delimiter/],
    ['header names without a header', { format: 'delimited', columns: { plate: 'Tag' }, hasHeader: false }, /hasHeader/],
  ])('refuses %s', async (_, options, key) => {
    const path = await file('opt.txt', 'plate\nABC\n');
    const err = await loadHotlistFile(path, options).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OptionsError);
    expect((err as Error).message).toMatch(key);
  });

  it('reports progress up to the file size', async () => {
    const text = `${Array.from({ length: 3000 }, (_, i) => ncicRow({ code: 'V', plate: `P${i}`, state: 'CO' })).join('\n')}\n`;
    const calls: Array<[number, number]> = [];
    await load('big.txt', text, { layout: 'ncic-fixed', onProgress: (a, b) => calls.push([a, b]) });
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.at(-1)).toEqual([Buffer.byteLength(text), Buffer.byteLength(text)]);
  });

  it('returns the refusal instead of throwing with throwOnRefusal: false', async () => {
    const path = await file('half.csv', 'plate,list\nABC,X\n!!,X\n');
    const r = await loadHotlistFile(path, { throwOnRefusal: false, now: NOW });
    expect(r.refusal).toMatch(/^refused: 1 of 2 rows invalid/);
    expect(r.invalid).toBe(1);
    expect(r.entries).toHaveLength(1);
  });
});
