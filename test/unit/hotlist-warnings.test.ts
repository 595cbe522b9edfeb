/**
 * Entries that load but look wrong: an unknown list type (a typo, or an undeclared local list)
 * and a state that is not a two-letter code get a warning with their line; the entry still
 * loads. Also the advice a file without a plate column carries, and the service's log.
 */
import type { Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { HotlistFileError } from '../../matcher/errors.js';
import { loadHotlistFile, MAX_KEPT_WARNINGS, type LoadHotlistOptions } from '../../matcher/hotlist/index.js';
import { loadSources } from '../../matcher/service/hotlists.js';
import type { HotlistSourceConfig } from '../../matcher/service/config.js';
import { tempDir } from '../helpers/cli.js';

const temp = tempDir('platesieve-hotlist-warn-');
const file = (name: string, text: string): Promise<string> => temp.file(name, text);

async function load(name: string, text: string, options: LoadHotlistOptions = {}) {
  return loadHotlistFile(await file(name, text), options);
}

describe('hotlist warnings', () => {
  it('warns about an unknown list type and a state that is not a two-letter code, with their lines, and loads the entries', async () => {
    const r = await load('typos.csv', [
      'plate,state,list',
      'ABC1,CO,STOLEN_VEHICLE',
      'ABC2,COLORADO,STOLEN_VEHICLE',
      'ABC3,CO,STOLEN_VEHICEL',
      'ABC4,co,amber',
      'ABC5,,LOCAL_GANG',
      'ABC6,,BOLO',
    ].join('\n') + '\n');
    expect(r.entries.map((e) => e.plate)).toEqual(['ABC1', 'ABC2', 'ABC3', 'ABC4', 'ABC5', 'ABC6']);
    expect(r.rejected).toEqual([]);
    expect(r.warnings.map((w) => [w.line, w.code])).toEqual([
      [3, 'INVALID_STATE'], [4, 'UNKNOWN_LIST'], [5, 'UNKNOWN_LIST'], [6, 'UNKNOWN_LIST'],
    ]);
    expect(r.warningCount).toBe(4);
    expect(r.warnings[0].reason).toMatch(/^state "COLORADO" is not a two-letter code/);
    expect(r.warnings[1].reason).toContain('did you mean STOLEN_VEHICLE?');
    expect(r.warnings[2].reason).toContain('did you mean AMBER?');
    expect(r.warnings[3].reason).toContain('"LOCAL_GANG" is not one of the documented list types');
    expect(r.warnings.every((w) => w.file.endsWith('typos.csv'))).toBe(true);
  });

  it('takes list types the code table maps to, and the default list, as declared', async () => {
    const r = await load('declared.csv', 'plate,list\nABC1,LOCAL_GANG\nABC2,SEX_OFFENDER\nABC3,\n', {
      codes: { G: 'LOCAL_GANG' }, defaultList: 'TOW_LIST',
    });
    expect(r.entries.map((e) => e.list)).toEqual(['LOCAL_GANG', 'SEX_OFFENDER', 'TOW_LIST']);
    expect(r.warnings).toEqual([]);
  });

  it('warns on fixed-width extracts too, and not on the NCIC sample', async () => {
    const ok = await loadHotlistFile('fixtures/sample/ncic-extract.txt', { layout: 'ncic-fixed' });
    expect(ok.warningCount).toBe(0);
    const r = await load('ncic.txt', 'V123456789LA057020020190509AB123456  C12009MC2009YAMACYLMCBLK\n', { layout: 'ncic-fixed' });
    expect(r.warnings.map((w) => [w.line, w.code])).toEqual([[1, 'INVALID_STATE']]);
  });

  it('keeps the first MAX_KEPT_WARNINGS and counts every one', async () => {
    const rows = Array.from({ length: MAX_KEPT_WARNINGS + 5 }, (_, i) => `P${i},TEXAS,WANTED`);
    const r = await load('many.csv', `plate,state,list\n${rows.join('\n')}\n`);
    expect(r.entries).toHaveLength(MAX_KEPT_WARNINGS + 5);
    expect(r.warnings).toHaveLength(MAX_KEPT_WARNINGS);
    expect(r.warningCount).toBe(MAX_KEPT_WARNINGS + 5);
  });
});

describe('a header without a plate column', () => {
  it('throws HotlistFileError with problem NO_PLATE_COLUMN and the header as split', async () => {
    const path = await file('pipe.csv', 'LIC|LIS|FC\nABC1|CO|V\n');
    const err = await loadHotlistFile(path).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(HotlistFileError);
    expect(err).toMatchObject({ code: 'ERR_HOTLIST_FILE', problem: 'NO_PLATE_COLUMN', header: ['LIC|LIS|FC'] });
  });
});

describe('the service log', () => {
  it('logs each warning with its file, line and code', async () => {
    const path = await file('svc.csv', 'plate,state,list\nABC1,COLORADO,WANTED\n');
    const warned: Array<[Record<string, unknown>, string]> = [];
    const logger = {
      warn: (obj: Record<string, unknown>, msg: string) => void warned.push([obj, msg]),
      info: () => undefined,
    } as unknown as Logger;
    const cfg = { file: path, source: 'LOCAL', maxAgeHours: 24 } as HotlistSourceConfig;
    const loaded = await loadSources([cfg], logger);
    expect(loaded.entries).toHaveLength(1);
    expect(warned).toHaveLength(1);
    expect(warned[0][0]).toMatchObject({ file: path, line: 2, code: 'INVALID_STATE' });
    expect(warned[0][1]).toMatch(/^hotlist entry warning: state "COLORADO"/);
  });
});
