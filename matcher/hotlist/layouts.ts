/**
 * Built-in layouts of state and NCIC hotlist extracts, the file / reason code table, and the
 * resolution of a file's layout options into one plan (see docs/hotlists.md, "Extracts").
 *
 * The NCIC plate-reader extract is fixed width. Its column table is inferred from the example
 * row of docs/contracts.md, "NCIC extracts" (plate at 27-37, state at 37-39, 0-based, end exclusive):
 *
 * ```
 *   V123456789LA057020020190509AB123456  CA2009MC2009YAMACYLMCBLK
 *   ^file code
 *   |--NIC---||---ORI--||-DOT--||---LIC---|LS|LIY|LT|VYR|VMA|VMO|VS|VCO
 *   0         10       19      27        37 39  43 45  49  53  56 58  61
 * ```
 */
import { OptionsError } from '../errors.js';
import { checkListType, normalizeCode } from '../policy/index.js';
import type { FieldKey } from './fields.js';
import { fieldKeyOf } from './fields.js';
import type { ColumnMapping, FixedColumn, HotlistFormat, HotlistLayoutName, LoadHotlistOptions } from './types.js';

/** A built-in layout. */
export interface HotlistLayout {
  format: 'delimited' | 'ncic-fixed';
  description: string;
  columns: ColumnMapping;
  delimiter?: string;
  /** `'auto'`: the first row is a header when one of its fields is `LIC`. */
  hasHeader?: boolean | 'auto';
  /** Source of rows when neither the row nor `defaultSource` names one. */
  source?: string;
}

/** NCIC file codes (first character of the plate-reader extract) and common state reason codes. */
export const BUILTIN_CODES: Readonly<Record<string, string>> = {
  A: 'AMBER',
  F: 'FELONY_VEHICLE',
  W: 'WANTED',
  V: 'STOLEN_VEHICLE',
  P: 'STOLEN_PLATE',
  M: 'MISSING_PERSON',
  H: 'PROTECTION_ORDER',
  // Local codes for the NCIC files that the documented list types (docs/contracts.md) do not name.
  C: 'SUPERVISED_RELEASE',
  K: 'PROTECTIVE_INTEREST',
  L: 'VIOLENT_PERSON',
  R: 'STOLEN_VEHICLE_CANADA',
  T: 'GANG_TERRORIST',
  X: 'SEX_OFFENDER',
  // Words and abbreviations seen in state extracts.
  STOLEN: 'STOLEN_VEHICLE',
  SV: 'STOLEN_VEHICLE',
  SP: 'STOLEN_PLATE',
  WARRANT: 'WANTED',
  FELONY: 'FELONY_VEHICLE',
  MISSING: 'MISSING_PERSON',
  PO: 'PROTECTION_ORDER',
};

const NCIC_FIXED: HotlistLayout = {
  format: 'ncic-fixed',
  description: 'NCIC plate-reader extract, fixed width; first character the file code',
  source: 'NCIC',
  columns: {
    code: { start: 0, end: 1 },
    ref: { start: 0, end: 10 }, // NIC: the file letter and nine digits
    ori: { start: 10, end: 19 },
    entered: { start: 19, end: 27 }, // DOT, YYYYMMDD
    plate: { start: 27, end: 37 }, // LIC
    state: { start: 37, end: 39 }, // LIS
    LIY: { start: 39, end: 43 },
    LIT: { start: 43, end: 45 },
    VYR: { start: 45, end: 49 },
    make: { start: 49, end: 53 }, // VMA
    model: { start: 53, end: 56 }, // VMO
    type: { start: 56, end: 58 }, // VST
    colour: { start: 58, end: 61 }, // VCO
  },
};

const NCIC_PIPE: HotlistLayout = {
  format: 'delimited',
  description: 'pipe-delimited NCIC fields, with a header of NCIC field names (LIC|LIS|...) or in the fixed-width order',
  source: 'NCIC',
  delimiter: '|',
  hasHeader: 'auto',
  // Used when the file has no header: the fixed-width order, then VIN, OCA and MIS.
  columns: {
    code: 0, ref: 1, ori: 2, entered: 3, plate: 4, state: 5, LIY: 6, LIT: 7, VYR: 8,
    make: 9, model: 10, type: 11, colour: 12, VIN: 13, case: 14, notes: 15,
  },
};

const STATE_CSV: HotlistLayout = {
  format: 'delimited',
  description: 'comma-delimited state extract without header: plate, state, plate type, plate year, reason code, record number, ORI, entry date',
  delimiter: ',',
  hasHeader: false,
  columns: { plate: 0, state: 1, LIT: 2, LIY: 3, code: 4, ref: 5, ori: 6, entered: 7 },
};

/** The built-in layouts, by name. */
export const HOTLIST_LAYOUTS: Readonly<Record<HotlistLayoutName, HotlistLayout>> = {
  'ncic-fixed': NCIC_FIXED,
  'ncic-pipe': NCIC_PIPE,
  'state-csv': STATE_CSV,
};

/** NCIC field names in a header, to entry fields; names not here are kept in notes. */
const NCIC_NAMES: Readonly<Record<string, RowKey>> = {
  LIC: 'plate', LIS: 'state', VMA: 'make', VMO: 'model', VST: 'type', VCO: 'colour',
  DOT: 'entered', OCA: 'case', NIC: 'ref', ORI: 'ori', MIS: 'notes',
  FC: 'code', FIL: 'code', FILE: 'code', FILECODE: 'code', CODE: 'code', RSN: 'code', REASON: 'code',
};

/** A field a column can feed: an entry field, or `code` (translated to `list`). */
export type RowKey = FieldKey;

/** The entry field a column name means (entry field names, then NCIC names), or undefined. */
export function rowKeyOf(name: string): RowKey | undefined {
  const ncic = NCIC_NAMES[name.trim().toUpperCase().replace(/[\s_.-]/g, '')];
  if (ncic !== undefined) return ncic;
  const key = fieldKeyOf(name);
  if (key === 'vehicle') return undefined; // free text in a delimited file
  return key;
}

/** Column names compare like this: case-insensitive, spaces `_` `-` `.` ignored. */
export function columnNameKey(name: string): string {
  return name.toLowerCase().replace(/[\s_.-]/g, '');
}

/** The file's layout, resolved once from the options. */
export interface LayoutPlan {
  format: HotlistFormat;
  layout?: HotlistLayoutName;
  columns?: ColumnMapping;
  delimiter: string;
  /** Quotes honoured for comma-delimited files only: other extracts put `"` in remarks. */
  quote: boolean;
  hasHeader: boolean | 'auto';
  codes: ReadonlyMap<string, string>;
  source?: string;
}

function isFixedColumn(v: unknown): v is FixedColumn {
  return typeof v === 'object' && v !== null && 'start' in v && 'end' in v;
}

function validateColumns(columns: ColumnMapping, format: HotlistFormat): void {
  if (typeof columns !== 'object' || columns === null) throw new OptionsError('columns', 'must be an object mapping field names to columns');
  const entries = Object.entries(columns);
  if (entries.length === 0) throw new OptionsError('columns', 'must map at least the plate');
  for (const [name, v] of entries) {
    const key = `columns.${name}`;
    if (format === 'ncic-fixed') {
      if (!isFixedColumn(v) || !Number.isInteger(v.start) || !Number.isInteger(v.end) || v.start < 0 || v.end <= v.start) {
        throw new OptionsError(key, 'must be { start, end }: 0-based character positions, end exclusive and after start');
      }
    } else if (typeof v === 'number') {
      if (!Number.isInteger(v) || v < 0) throw new OptionsError(key, 'must be a 0-based field position or a header name');
    } else if (typeof v !== 'string' || v.trim() === '') {
      throw new OptionsError(key, 'must be a 0-based field position or a header name');
    }
  }
  const keys = new Set(entries.map(([name]) => rowKeyOf(name)));
  if (!keys.has('plate') && !keys.has('pattern')) throw new OptionsError('columns', 'must map the plate');
}

function codeTable(extra: LoadHotlistOptions['codes']): Map<string, string> {
  const table = new Map<string, string>(Object.entries(BUILTIN_CODES));
  if (extra === undefined) return table;
  if (typeof extra !== 'object' || extra === null) throw new OptionsError('codes', 'must be an object mapping codes to list types');
  for (const [code, list] of Object.entries(extra)) {
    if (typeof list !== 'string' || list.trim() === '' || normalizeCode(code) === '') {
      throw new OptionsError(`codes.${code}`, 'must map a code to a list type (non-empty text)');
    }
    const check = checkListType(list);
    if (!check.ok) throw new OptionsError(`codes.${code}`, `${check.reason} [${check.citation}]`);
    table.set(normalizeCode(code), list.trim());
  }
  return table;
}

/** Resolves format, layout and column options. Throws {@link OptionsError} on a bad or conflicting one. */
export function resolveLayout(options: LoadHotlistOptions): LayoutPlan {
  if (options.layout !== undefined && !Object.hasOwn(HOTLIST_LAYOUTS, options.layout)) {
    throw new OptionsError('layout', `must be one of ${Object.keys(HOTLIST_LAYOUTS).join(', ')}`);
  }
  // The fixed-width format without a layout or columns means the NCIC extract.
  const layoutName = options.layout ?? (options.format === 'ncic-fixed' && options.columns === undefined ? 'ncic-fixed' : undefined);
  const layout = layoutName === undefined ? undefined : HOTLIST_LAYOUTS[layoutName];
  const formats: HotlistFormat[] = ['csv', 'ndjson', 'delimited', 'ncic-fixed'];
  if (options.format !== undefined && !formats.includes(options.format)) {
    throw new OptionsError('format', `must be one of ${formats.map((f) => `'${f}'`).join(', ')}`);
  }
  if (layout !== undefined && options.format !== undefined && options.format !== layout.format) {
    throw new OptionsError('format', `layout ${options.layout} is a ${layout.format} format, not ${options.format}`);
  }
  const format = layout?.format ?? options.format;
  const mapping = options.columns ?? layout?.columns;
  const textual = format === 'csv' || format === 'ndjson' || format === undefined;
  if (options.columns !== undefined && textual) throw new OptionsError('columns', "applies to the 'delimited' and 'ncic-fixed' formats only");
  if (options.delimiter !== undefined) {
    if (format !== 'delimited') throw new OptionsError('delimiter', "applies to the 'delimited' format only");
    if (typeof options.delimiter !== 'string' || options.delimiter.length !== 1 || /[\r\n"]/.test(options.delimiter)) {
      throw new OptionsError('delimiter', 'must be one character other than a quote or a line end');
    }
  }
  if (options.hasHeader !== undefined && typeof options.hasHeader !== 'boolean') throw new OptionsError('hasHeader', 'must be true or false');
  if (mapping !== undefined && format !== undefined) validateColumns(mapping, format);
  const delimiter = options.delimiter ?? layout?.delimiter ?? ',';
  const byName = mapping !== undefined && Object.values(mapping).some((v) => typeof v === 'string');
  let hasHeader: boolean | 'auto' = options.hasHeader ?? (options.columns !== undefined ? byName : layout?.hasHeader ?? true);
  if (mapping === undefined) hasHeader = true; // a delimited file without a mapping names its columns
  if (byName && hasHeader === false) throw new OptionsError('hasHeader', 'columns named by header need a header row');
  return {
    format: format ?? 'csv',
    layout: layoutName,
    columns: mapping,
    delimiter,
    quote: delimiter === ',',
    hasHeader,
    codes: codeTable(options.codes),
    source: layout?.source,
  };
}

/** Whether a format was fixed by the options (else it is detected from the file). */
export function formatGiven(options: LoadHotlistOptions): boolean {
  return options.format !== undefined || options.layout !== undefined;
}

/** For the fixed-width parser: the mapping as character ranges. */
export function fixedColumns(mapping: ColumnMapping): Array<readonly [string, FixedColumn]> {
  return Object.entries(mapping).filter((e): e is [string, FixedColumn] => isFixedColumn(e[1]));
}
