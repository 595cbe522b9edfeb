/**
 * Targets `csv`, `ndjson`, `fixed` and `pipe`: hotlist files in each format of
 * docs/hotlists.md, built from rows of plausible and implausible values (junk and invalid
 * plates, impossible dates, patterns, forbidden purposes, quotes and line breaks inside
 * fields, a byte-order mark, CRLF, a last line without its line end), then mutated as text.
 */
import type { Rng } from '../rng.js';
import { mutateBytes } from '../mutate.js';
import type { FuzzCase, Target } from '../types.js';
import { chunkCuts, runHotlist, type HotlistCounters } from './hotlist-harness.js';

/** Values of a field: usually one of `good`, now and then one of `bad` (rejected, or junk). */
interface Choices {
  good: readonly string[];
  bad: readonly string[];
}

const PLATES: Choices = { good: ['ABC123', 'abc-123', '7XYZ88', 'A B.C', 'NOHIT1', 'X', '8RT 77', '  ZZ9  '], bad: ['0', '000', '', 'AB@12', '12345678901', 'ÄBC'] };
const STATES: Choices = { good: ['CO', 'co', 'CA', '', 'XX'], bad: ['C', 'COL', '1'] };
const LISTS: Choices = { good: ['STOLEN_VEHICLE', 'WANTED', 'BOLO', 'AMBER', 'LOCAL_WATCH', 'V', 'SV'], bad: ['', 'IMMIGRATION', 'ICE_HOLD', 'protest', 'x y'] };
const DATES: Choices = {
  good: ['2025-03-01', '20250301', '1736143202176', '2999-01-01', '2999-01-01T00:00:00Z', '2025-03-01T10:00:00+0530', '2025-03-01 10:00', ''],
  bad: ['2025-02-30', '20251399', 'tomorrow', '-1', '99999999999999999999', '1e3'],
};
const PATTERNS: Choices = {
  good: ['7AB?12?', '*X4K*', '[8B]RT*', 'a-b.c', '[8B][8B]?*Q', ''],
  bad: ['??', '*', '[AB', 'A]B', '[]', '???????????', 'ABCDEFGHIJK', '[ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789]', 'é*'],
};
const PURPOSES: Choices = { good: ['HOMICIDE', 'SHOOTING', 'BOLO', 'AMBER_ALERT'], bad: ['IMMIGRATION', '', 'unknown'] };
const PRIORITIES: Choices = { good: ['1', '3', '5', ' 4 ', ''], bad: ['0', '6', 'a', '2.0'] };
const TEXTS: Choices = {
  good: ['', 'ok', 'a "quoted" word', 'comma, inside', 'line\nbreak', 'pipe|inside', 'tab\tinside', 'Citroën', '😀', '=cmd()', 'x'.repeat(200)],
  bad: ['\u0000', 'deport this one', 'protest march'],
};
const CODES: Choices = { good: ['V', 'W', 'F', 'A', 'P', 'M', 'H', 'C', 'K', 'L', 'R', 'T', 'X', 'STOLEN', 'SV', 'WARRANT'], bad: ['Q', 'Z', ' ', '1', 'ICE'] };
const FILE_CODES: Choices = { good: ['V', 'W', 'F', 'A', 'P', 'M', 'H', 'C', 'K', 'L', 'R', 'T', 'X'], bad: ['Q', 'Z', ' ', '1'] };
const YYYYMMDD: Choices = { good: ['20250301', '19991231', '20240229'], bad: ['20250230', '2025-03-', '        ', '99999999'] };
const CASES: Choices = { good: ['26-004512', 'C-1'], bad: [''] };
const ENTERED_BY: Choices = { good: ['det.ortiz'], bad: [''] };

function choose(rng: Rng, c: Choices): string {
  return rng.chance(0.95) ? rng.pick(c.good) : rng.pick(c.bad);
}

/** Entry fields and other column names a header may carry (CSV: field names; pipe: NCIC names). */
const CSV_COLUMNS = ['state', 'list', 'priority', 'source', 'ref', 'ori', 'entered', 'expires', 'case', 'notes', 'enteredBy', 'purpose', 'make', 'model', 'colour', 'type', 'id', 'pattern'];
/** Header names that are unusual (spelled otherwise, unknown, empty) or name a field twice (the file is refused). */
const CSV_ODD_COLUMNS = ['Entered By', 'color', 'vehicle', 'Extra', '', 'PLATE', 'plate'];
const NCIC_COLUMNS = ['FC', 'NIC', 'ORI', 'DOT', 'LIS', 'LIY', 'LIT', 'VYR', 'VMA', 'VMO', 'VST', 'VCO', 'VIN', 'OCA', 'MIS'];
const NCIC_ODD_COLUMNS = ['RSN', 'plate', 'X', '', 'LIC'];

function valueFor(rng: Rng, column: string): string {
  const c = column.toLowerCase().replace(/[\s_.-]/g, '');
  if (rng.chance(0.02)) return choose(rng, TEXTS);
  switch (c) {
    case 'plate': case 'lic': return choose(rng, PLATES);
    case 'state': case 'lis': return choose(rng, STATES);
    case 'list': return choose(rng, LISTS);
    case 'fc': case 'rsn': case 'code': return choose(rng, CODES);
    case 'priority': return choose(rng, PRIORITIES);
    case 'entered': case 'expires': case 'dot': return choose(rng, DATES);
    case 'pattern': return choose(rng, PATTERNS);
    case 'purpose': return choose(rng, PURPOSES);
    case 'case': case 'oca': return choose(rng, CASES);
    case 'enteredby': return choose(rng, ENTERED_BY);
    default: return choose(rng, TEXTS);
  }
}

function lineEnd(rng: Rng): string {
  return rng.weighted([[8, '\n'], [3, '\r\n'], [1, '\r'], [1, '\n\n']]);
}

/** Joins rows of fields with `delim`, quoting (RFC 4180) when `quote` and the field needs it. */
function delimited(rng: Rng, rows: string[][], delim: string, quote: boolean): string {
  let s = rng.chance(0.05) ? '\ufeff' : '';
  rows.forEach((row, i) => {
    s += row
      .map((f) => {
        const needs = f.includes(delim) || f.includes('"') || f.includes('\n') || f.includes('\r');
        if (quote && (needs || rng.chance(0.05))) return `"${f.replace(/"/g, '""')}"`;
        return rng.chance(0.03) ? ` ${f} ` : f;
      })
      .join(delim);
    if (i < rows.length - 1 || rng.chance(0.85)) s += lineEnd(rng);
  });
  return s;
}

/** Some of `names` (each of `must` nearly always, an odd one rarely), in random order. */
function columnsOf(rng: Rng, names: readonly string[], odd: readonly string[], must: readonly string[]): string[] {
  const cols = names.filter((n) => !must.includes(n) && rng.chance(0.4));
  for (const o of odd) if (rng.chance(0.01)) cols.splice(rng.int(cols.length + 1), 0, o);
  for (const m of must) if (rng.chance(0.95)) cols.splice(rng.int(cols.length + 1), 0, m);
  return cols;
}

function csvText(rng: Rng): string {
  const cols = columnsOf(rng, CSV_COLUMNS, CSV_ODD_COLUMNS, ['plate', 'list']);
  const rows = [cols];
  for (let n = rng.size(20); n > 0; n--) {
    const row = cols.map((c) => valueFor(rng, c));
    if (rng.chance(0.02)) row.push('extra');
    if (rng.chance(0.02)) row.pop();
    rows.push(rng.chance(0.03) ? [] : row);
  }
  return delimited(rng, rows, ',', true);
}

function ndjsonText(rng: Rng): string {
  let s = '';
  for (let n = rng.size(20); n > 0; n--) {
    const obj: Record<string, unknown> = {};
    for (const c of columnsOf(rng, CSV_COLUMNS, CSV_ODD_COLUMNS, ['plate', 'list'])) {
      obj[c] = rng.weighted<() => unknown>([
        [80, () => valueFor(rng, c)],
        [1, () => rng.int(100_000)],
        [1, () => null],
        [1, () => ({ make: 'FORD', colour: rng.chance(0.5) ? 'RED' : 7 })],
        [1, () => [1, 'a']],
        [1, () => true],
      ])();
    }
    const line = rng.weighted<() => string>([
      [100, () => JSON.stringify(obj)],
      [1, () => '[1,2]'],
      [1, () => 'null'],
      [1, () => '{"plate":'],
      [1, () => '   '],
    ])();
    s += line + (n > 1 || rng.chance(0.85) ? lineEnd(rng) : '');
  }
  return s;
}

/** NCIC fixed-width fields (layouts.ts NCIC_FIXED): widths in order. */
const FIXED_WIDTHS: Array<[string, number]> = [['FC', 1], ['NIC', 9], ['ORI', 9], ['DOT', 8], ['LIC', 10], ['LIS', 2], ['LIY', 4], ['LIT', 2], ['VYR', 4], ['VMA', 4], ['VMO', 3], ['VST', 2], ['VCO', 3]];

function fixedText(rng: Rng): string {
  let s = rng.chance(0.05) ? '\ufeff' : '';
  for (let n = rng.size(20); n > 0; n--) {
    let line = '';
    for (const [name, width] of FIXED_WIDTHS) {
      // The extract's own spellings: one-letter file codes, YYYYMMDD dates.
      let v = name === 'NIC' ? String(rng.int(1e9)).padStart(9, '0')
        : name === 'ORI' ? rng.pick(['CO0010000', 'CA0570200', ''])
          : name === 'FC' ? choose(rng, FILE_CODES)
            : name === 'DOT' ? choose(rng, YYYYMMDD)
              : valueFor(rng, name).replace(/[\r\n]/g, ' ');
      if (rng.chance(0.97)) v = v.slice(0, width).padEnd(width, ' ');
      line += v;
    }
    if (rng.chance(0.03)) line = line.slice(0, rng.int(line.length));
    if (rng.chance(0.05)) line += choose(rng, TEXTS);
    s += line + (n > 1 || rng.chance(0.85) ? lineEnd(rng) : '');
  }
  return s;
}

function pipeText(rng: Rng): string {
  const header = rng.chance(0.5);
  // Without a header the layout's positions apply: all 16 fields (a shorter row is rejected).
  const cols = header ? columnsOf(rng, NCIC_COLUMNS, NCIC_ODD_COLUMNS, ['LIC', 'FC']) : FIXED_WIDTHS.map(([name]) => name).concat(['VIN', 'OCA', 'MIS']);
  const rows = header ? [cols] : [];
  for (let n = rng.size(20); n > 0; n--) {
    // No quoting in a pipe extract: a line break inside a value would split its row.
    const row = cols.map((c) => valueFor(rng, c).replace(/[\r\n]/g, ' '));
    if (rng.chance(0.02)) row.splice(rng.int(row.length + 1), 1);
    rows.push(row);
  }
  return delimited(rng, rows, '|', false);
}

const utf8 = new TextEncoder();

function generator(text: (rng: Rng) => string): (rng: Rng) => FuzzCase {
  return (rng) => {
    let data: Uint8Array = utf8.encode(text(rng));
    if (rng.chance(0.4)) data = mutateBytes(rng, data, { text: true, maxLength: 1 << 16 });
    // One case in 16 also goes through loadHotlistFile (a file write and read each).
    return { data, parts: chunkCuts(rng, data.length), opt: rng.int(2) | (rng.chance(1 / 16) ? 2 : 0) };
  };
}

function hotlistTarget(name: string, description: string, text: (rng: Rng) => string, options: Parameters<typeof runHotlist>[0]): Target {
  const counters: HotlistCounters = { rows: 0, rejectedRows: 0, refusedFiles: 0, chunkCompareSkipped: 0 };
  return { name, description, generate: generator(text), run: (c) => runHotlist(options, c, counters), counters: () => ({ ...counters }) };
}

/** The hotlist fuzz targets, one per format. */
export const hotlistTargets: Target[] = [
  hotlistTarget('csv', 'hotlist CSV (csv.ts parseCsv + fields.ts rowToEntry, chunked vs whole, vs loadHotlistFile)', csvText, { format: 'csv' }),
  hotlistTarget('ndjson', 'hotlist NDJSON (ndjson.ts parseNdjson + rowToEntry)', ndjsonText, { format: 'ndjson' }),
  hotlistTarget('fixed', 'NCIC fixed-width extract (fixed.ts parseFixed, layout ncic-fixed)', fixedText, { layout: 'ncic-fixed' }),
  hotlistTarget('pipe', 'NCIC pipe extract (csv.ts parseDelimited, layout ncic-pipe, header auto-detected)', pipeText, { layout: 'ncic-pipe' }),
];
