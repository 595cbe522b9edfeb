/**
 * The hotlist-file flags that `platesieve match` and `platesieve hotlist validate|stats` share
 * (layout, columns, delimiter, header, codes; the row defaults and refusal threshold), their
 * parsing, and how both commands explain a file that cannot be read: one place, so a flag means
 * the same in every command (docs/cli.md).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { HotlistFileError } from '../errors.js';
import {
  DEFAULT_MAX_INVALID_FRACTION, HOTLIST_LAYOUTS, type ColumnMapping, type HotlistFormat, type HotlistLayoutName,
  type HotlistWarning, type LoadHotlistOptions,
} from '../hotlist/index.js';
import { fieldKeyOf } from '../hotlist/fields.js';
import { rowKeyOf } from '../hotlist/layouts.js';

/** The extract flags, as commander hands them over. */
export interface ExtractFlags {
  layout?: HotlistLayoutName;
  delimiter?: string;
  columns?: ColumnMapping;
  header?: boolean;
  codes?: Record<string, string>;
}

/** The row flags: defaults for rows that name none, and the refusal threshold. */
export interface RowFlags {
  defaultList?: string;
  defaultSource?: string;
  maxInvalid: number;
}

/** A number from 0 to 1. */
export function fraction(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('expected a number from 0 to 1.');
  return n;
}

/** An ISO 8601 time or epoch milliseconds. */
export function timeArg(value: string): number {
  const ms = /^\d+$/.test(value.trim()) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw new InvalidArgumentError('expected an ISO 8601 time or epoch milliseconds.');
  return ms;
}

/** A JSON object; `what` says what it maps, for the message. */
export function jsonObject<T>(what: string): (value: string) => T {
  return (value) => {
    let v: unknown;
    try {
      v = JSON.parse(value);
    } catch {
      throw new InvalidArgumentError(`expected a JSON object (${what}).`);
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InvalidArgumentError(`expected a JSON object (${what}).`);
    return v as T;
  };
}

const NAMED_DELIMITERS: Readonly<Record<string, string>> = { tab: '\t', pipe: '|', comma: ',', semicolon: ';' };

/** One character, or a name (`tab`, `pipe`, ...), because `|` and a tab are awkward in a shell. */
export function delimiterArg(value: string): string {
  const d = NAMED_DELIMITERS[value.toLowerCase()] ?? (value === '\\t' ? '\t' : value);
  if (d.length !== 1) throw new InvalidArgumentError('expected one character, or tab, pipe, comma, semicolon.');
  return d;
}

/** Adds `--layout`, `--delimiter`, `--columns`, `--header`/`--no-header` and `--codes` to `cmd`. */
export function addExtractOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--layout <layout>', 'a built-in extract layout (see docs/hotlists.md)').choices(Object.keys(HOTLIST_LAYOUTS)))
    .option('--delimiter <char>', 'field delimiter of a delimited file: one character, or tab, pipe, comma, semicolon', delimiterArg)
    .option('--columns <json>', 'column mapping as JSON: {"plate":0,"state":1} (positions or header names), {"plate":{"start":27,"end":37}} (fixed width)', jsonObject<ColumnMapping>('field to column'))
    .option('--header', 'the first row of a delimited file names the columns')
    .option('--no-header', 'the first row of a delimited file is data')
    .option('--codes <json>', 'extra file / reason codes as JSON: {"Q":"LOCAL_BOLO"}', jsonObject<Record<string, string>>('code to list type'));
}

/** Adds `--default-list`, `--default-source` and `--max-invalid` to `cmd`. */
export function addRowOptions(cmd: Command, what = 'the file'): Command {
  return cmd
    .option('--default-list <list>', 'list type of hotlist rows that name none (default: such rows are rejected)')
    .option('--default-source <source>', 'source of hotlist rows that name none')
    .option('--max-invalid <fraction>', `refuse ${what} with more than this fraction of invalid rows, 0 to 1`, fraction, DEFAULT_MAX_INVALID_FRACTION);
}

function isRange(v: unknown): boolean {
  return typeof v === 'object' && v !== null;
}

/**
 * The loader options of the flags. `--delimiter` or `--columns` without `--format` or
 * `--layout` mean a delimited file (fixed width when the columns are character ranges): they
 * describe nothing else, and the loader would refuse them on CSV.
 */
export function extractLoadOptions(flags: ExtractFlags & RowFlags, format?: HotlistFormat): LoadHotlistOptions {
  let fmt = format;
  if (fmt === undefined && flags.layout === undefined && (flags.delimiter !== undefined || flags.columns !== undefined)) {
    const ranges = flags.columns !== undefined && Object.values(flags.columns).some(isRange);
    fmt = ranges ? 'ncic-fixed' : 'delimited';
  }
  return {
    maxInvalidFraction: flags.maxInvalid,
    defaultList: flags.defaultList,
    defaultSource: flags.defaultSource,
    format: fmt,
    layout: flags.layout,
    delimiter: flags.delimiter,
    columns: flags.columns,
    hasHeader: flags.header,
    codes: flags.codes,
  };
}

/** `FILE:LINE: warning CODE reason`, as both commands print a warning. */
export function warningLine(w: HotlistWarning): string {
  return `${w.file}:${w.line}: warning ${w.code} ${w.reason}`;
}

/** What the split header looks like instead of a header with a plate column. */
function noPlateColumnHint(header: readonly string[]): string {
  const joined = header.join('\u0000');
  const lic = header.some((f) => /(^|[|\t;,])\s*LIC\s*($|[|\t;,])/i.test(f));
  for (const [name, ch] of [['pipe', '|'], ['tab', '\t'], ['semicolon', ';']] as const) {
    if (!joined.includes(ch)) continue;
    if (lic && name === 'pipe') return 'it looks like a pipe-delimited NCIC extract: try --layout ncic-pipe';
    return `it looks ${name}-delimited: try --delimiter ${name}${lic ? ' (NCIC field names such as LIC are understood)' : ''}`;
  }
  if (header.length === 1 && /^[A-Z][0-9A-Z]{9}/i.test(header[0]) && header[0].length >= 39) {
    return 'it looks like a fixed-width NCIC extract: try --layout ncic-fixed';
  }
  if (lic) return 'it has NCIC field names: try --delimiter comma (a delimited file understands LIC, LIS, ...)';
  // Header names rarely hold digits; a first row of data (plate, year, date) nearly always does.
  if (header.every((f) => rowKeyOf(f) === undefined && fieldKeyOf(f) === undefined) && header.some((f) => /\d/.test(f))) {
    return 'the first row looks like data, not a header: give the columns by position, for example ' +
      `--columns '{"plate":0,"state":1}' --no-header, or --layout state-csv for a state extract`;
  }
  return `name the plate column: --columns '{"plate":"<its header>"}', or give the extract's --layout (${Object.keys(HOTLIST_LAYOUTS).join(', ')})`;
}

/** The loader's message, with advice on the flags when the file was read the wrong way. */
export function explainHotlistError(err: HotlistFileError): string {
  if (err.problem === 'NO_PLATE_COLUMN' && err.header !== undefined) return `${err.message}; ${noPlateColumnHint(err.header)}`;
  return err.message;
}
