/**
 * Streaming CSV and delimited-extract hotlist parser (csv-parse). Rows are handled in
 * `on_record`, synchronously and in file order together with csv-parse's `skip` events, so line
 * numbers can be counted from each record's raw text: csv-parse's own `info.lines` drifts on
 * CRLF files with blank lines.
 *
 * Columns come from a header row (CSV: names of entry fields; extracts: NCIC names too), or
 * from a mapping of entry fields to positions or header names (delimited extracts).
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse, type CsvError, type InfoRecord } from 'csv-parse';
import { HotlistFileError } from '../errors.js';
import { fieldKeyOf, type FieldKey, type RowInput } from './fields.js';
import { columnNameKey, rowKeyOf } from './layouts.js';
import type { ParseSummary, RowSink } from './sink.js';
import type { ColumnMapping } from './types.js';

/** How a delimited file is split and mapped. */
export interface DelimitedPlan {
  delimiter: string;
  /** Honour `"` quotes (RFC 4180). */
  quote: boolean;
  /** The first row names the columns; `'auto'`: when one of its fields is `LIC` (NCIC). */
  header: boolean | 'auto';
  /** Entry fields to positions or header names; without it, the header names the fields. */
  columns?: ColumnMapping;
  /** Header name to entry field. */
  keyOf: (name: string) => FieldKey | undefined;
}

/** Plain CSV hotlist: a header of entry field names. */
const CSV_PLAN: DelimitedPlan = {
  delimiter: ',',
  quote: true,
  header: true,
  keyOf: (name) => {
    const key = fieldKeyOf(name);
    // A nested vehicle object only exists in NDJSON; a CSV `vehicle` column is free text.
    return key === 'vehicle' ? undefined : key;
  },
};

/** Keyed columns of a row, and the rest kept in notes under their names. */
interface RowShape {
  /** Position and field of each mapped value (a position may feed two fields): a {@link FieldKey}, or a name kept in notes. */
  mapped: Array<readonly [number, string]>;
  /** Header or `columnN` names of every position, for unmapped ones. */
  names: string[];
  usedPositions: Set<number>;
  /** Fields a row must have: exactly (`exact`) or at least. */
  count: number;
  exact: boolean;
}

/** Number of `\n` in `s`, ignoring its last character (the record delimiter, when present). */
function innerNewlines(s: string, terminated: boolean): number {
  const end = terminated ? s.length - 1 : s.length;
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1 && i < end; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

/** Every entry field a mapped column can feed directly; other mapped names are kept in notes. */
const KEYS: ReadonlySet<string> = new Set<FieldKey>([
  'id', 'plate', 'pattern', 'state', 'list', 'priority', 'source', 'ref', 'ori', 'entered', 'expires', 'case', 'notes',
  'enteredBy', 'purpose', 'make', 'model', 'colour', 'type', 'code',
]);

function isFieldKey(key: string): key is FieldKey {
  return KEYS.has(key);
}

function isTerminated(raw: string): boolean {
  const last = raw.charCodeAt(raw.length - 1);
  return last === 0x0a || last === 0x0d;
}

/**
 * Parses a CSV hotlist from `source`, calling `sink` for each data row. Throws
 * {@link HotlistFileError} for a file that cannot be used as a whole (no plate column,
 * duplicate columns, truncated last record).
 */
export function parseCsv(source: Readable, file: string, sink: RowSink): Promise<ParseSummary> {
  return parseDelimited(source, file, sink, CSV_PLAN);
}

/** Parses a delimited hotlist (CSV or an extract) per `plan`. Throws as {@link parseCsv}. */
export async function parseDelimited(source: Readable, file: string, sink: RowSink, plan: DelimitedPlan): Promise<ParseSummary> {
  let shape: RowShape | undefined;
  let header = false;
  let linesSeen = 0;
  let fatal: HotlistFileError | undefined;
  // Stops reading at the first whole-file problem instead of parsing the rest of a big file.
  const fail = (err: HotlistFileError): void => {
    fatal ??= err;
    parser.destroy(fatal);
  };

  /** Columns named by a header row: each name is a field, or an extra kept in notes. */
  const fromHeader = (record: string[], line: number): RowShape => {
    const seen = new Set<FieldKey>();
    const names = record.map((name, i) => (name === '' ? `column${i + 1}` : name));
    const mapped: Array<readonly [number, string]> = [];
    record.forEach((name, i) => {
      const key = plan.keyOf(name);
      if (key === undefined) return;
      if (seen.has(key)) fail(new HotlistFileError(file, `line ${line}: column ${JSON.stringify(name)} names the ${key} field a second time`));
      seen.add(key);
      mapped.push([i, key]);
    });
    if (!seen.has('plate') && !seen.has('pattern')) {
      fail(new HotlistFileError(file, `line ${line}: no plate column in the header (columns: ${record.join(', ')})`, {
        problem: 'NO_PLATE_COLUMN', header: record,
      }));
    }
    return { mapped, names, usedPositions: new Set(mapped.map(([i]) => i)), count: record.length, exact: true };
  };

  /** Columns of a mapping: positions, or names looked up in the header row. */
  const fromMapping = (columns: ColumnMapping, headerRow: string[] | undefined, line: number): RowShape => {
    const mapped: Array<readonly [number, string]> = [];
    let max = -1;
    for (const [field, where] of Object.entries(columns)) {
      let pos: number;
      if (typeof where === 'number') pos = where;
      else if (typeof where === 'string' && headerRow !== undefined) {
        pos = headerRow.findIndex((h) => columnNameKey(h) === columnNameKey(where));
        if (pos === -1) {
          fail(new HotlistFileError(file, `line ${line}: no column named ${JSON.stringify(where)} (for ${field}) in the header (columns: ${headerRow.join(', ')})`));
          continue;
        }
      } else continue;
      mapped.push([pos, rowKeyOf(field) ?? field]);
      max = Math.max(max, pos);
    }
    const width = headerRow?.length ?? max + 1;
    const names = Array.from({ length: width }, (_, i) => (headerRow?.[i] ? headerRow[i] : `column${i + 1}`));
    return { mapped, names, usedPositions: new Set(mapped.map(([i]) => i)), count: headerRow?.length ?? max + 1, exact: headerRow !== undefined };
  };

  /** The first non-blank record: a header, or (no header) the first data row. */
  const onFirst = (record: string[], line: number): boolean => {
    const isHeader = plan.header === 'auto' ? record.some((v) => v.trim().toUpperCase() === 'LIC') : plan.header;
    if (isHeader && (plan.columns === undefined || plan.header === 'auto')) shape = fromHeader(record, line);
    else if (plan.columns !== undefined) shape = fromMapping(plan.columns, isHeader ? record : undefined, line);
    else shape = fromHeader(record, line);
    header = isHeader;
    return isHeader;
  };

  const onRecord = (record: string[], raw: string): void => {
    const terminated = isTerminated(raw);
    const line = linesSeen + 1;
    linesSeen += 1 + innerNewlines(raw, terminated);
    if (fatal) return;
    if (record.every((v) => v === '')) return; // blank line or only delimiters
    if (shape === undefined && onFirst(record, line)) return;
    if (fatal || shape === undefined) return;
    if (shape.exact ? record.length !== shape.count : record.length < shape.count) {
      if (!terminated && record.length < shape.count) {
        fail(new HotlistFileError(
          file,
          `the last row (line ${line}) has ${record.length} of ${shape.count} fields and no line end: the file looks truncated`,
        ));
        return;
      }
      sink.reject(line, 'COLUMN_COUNT', shape.exact
        ? `row has ${record.length} fields, the header has ${shape.count}`
        : `row has ${record.length} fields, the column mapping needs at least ${shape.count}`);
      return;
    }
    const values: Partial<Record<FieldKey, unknown>> = {};
    const extras: Array<readonly [string, unknown]> = [];
    for (const [pos, key] of shape.mapped) {
      if (isFieldKey(key)) values[key] = record[pos];
      else extras.push([key, record[pos]]);
    }
    for (let i = 0; i < record.length; i++) {
      if (!shape.usedPositions.has(i)) extras.push([shape.names[i] ?? `column${i + 1}`, record[i]]);
    }
    const input: RowInput = { values, extras };
    sink.row(line, input);
  };

  const parser = parse({
    delimiter: plan.delimiter,
    quote: plan.quote ? '"' : false,
    raw: true,
    bom: true,
    trim: true,
    relax_quotes: true,
    relax_column_count: true,
    skip_records_with_error: true,
    // With `raw`, csv-parse hands on_record `{ record, raw }` rather than the bare record.
    on_record: (rec: unknown, info: InfoRecord) => {
      onRecord((rec as { record: string[] }).record, info.raw ?? '');
      return null; // nothing is pushed downstream: the sink has it
    },
  });
  parser.on('skip', (err: CsvError & { raw?: string }) => {
    const line = linesSeen + 1;
    const raw = err.raw ?? '';
    linesSeen += innerNewlines(raw, isTerminated(raw)) + (isTerminated(raw) ? 1 : 0);
    if (fatal) return;
    if (err.code === 'CSV_QUOTE_NOT_CLOSED') {
      fail(new HotlistFileError(
        file,
        `the record starting at line ${line} has an unterminated quoted field at the end of the file: the file looks truncated`,
      ));
      return;
    }
    if (shape === undefined) {
      fail(new HotlistFileError(file, `line ${line}: cannot parse the ${plan.header === false ? 'first row' : 'header row'}: ${err.message}`));
      return;
    }
    sink.reject(line, 'CSV_SYNTAX', err.message);
  });

  try {
    await pipeline(source, parser, async (records: AsyncIterable<unknown>) => {
      for await (const _ of records) {
        // on_record returns null, so nothing arrives here; draining keeps the pipeline flowing.
      }
    });
  } catch (err) {
    if (fatal) throw fatal;
    throw err;
  }
  if (fatal) throw fatal;
  return { header };
}
