/**
 * Streaming CSV hotlist parser (csv-parse). Rows are handled in `on_record`, synchronously and
 * in file order together with csv-parse's `skip` events, so line numbers can be counted from
 * each record's raw text: csv-parse's own `info.lines` drifts on CRLF files with blank lines.
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse, type CsvError, type InfoRecord } from 'csv-parse';
import { HotlistFileError } from '../errors.js';
import { fieldKeyOf, type FieldKey, type RowInput } from './fields.js';
import type { ParseSummary, RowSink } from './sink.js';

interface Column {
  name: string;
  key: FieldKey | undefined;
}

/** Number of `\n` in `s`, ignoring its last character (the record delimiter, when present). */
function innerNewlines(s: string, terminated: boolean): number {
  const end = terminated ? s.length - 1 : s.length;
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1 && i < end; i = s.indexOf('\n', i + 1)) n++;
  return n;
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
export async function parseCsv(source: Readable, file: string, sink: RowSink): Promise<ParseSummary> {
  let columns: Column[] | undefined;
  let linesSeen = 0;
  let fatal: HotlistFileError | undefined;
  // Stops reading at the first whole-file problem instead of parsing the rest of a big file.
  const fail = (err: HotlistFileError): void => {
    fatal ??= err;
    parser.destroy(fatal);
  };

  const onHeader = (record: string[], line: number): void => {
    const seen = new Set<FieldKey>();
    columns = record.map((name, i) => {
      let key = fieldKeyOf(name);
      // A nested vehicle object only exists in NDJSON; a CSV `vehicle` column is free text.
      if (key === 'vehicle') key = undefined;
      if (key !== undefined) {
        if (seen.has(key)) fail(new HotlistFileError(file, `line ${line}: column ${JSON.stringify(name)} names the ${key} field a second time`));
        seen.add(key);
      }
      return { name: name === '' ? `column${i + 1}` : name, key };
    });
    if (!seen.has('plate') && !seen.has('pattern')) {
      fail(new HotlistFileError(file, `line ${line}: no plate column in the header (columns: ${record.join(', ')})`));
    }
  };

  const onRecord = (record: string[], raw: string): void => {
    const terminated = isTerminated(raw);
    const line = linesSeen + 1;
    linesSeen += 1 + innerNewlines(raw, terminated);
    if (fatal) return;
    if (record.every((v) => v === '')) return; // blank line or only delimiters
    if (columns === undefined) {
      onHeader(record, line);
      return;
    }
    if (record.length !== columns.length) {
      if (!terminated && record.length < columns.length) {
        fail(new HotlistFileError(
          file,
          `the last row (line ${line}) has ${record.length} of ${columns.length} fields and no line end: the file looks truncated`,
        ));
        return;
      }
      sink.reject(line, 'COLUMN_COUNT', `row has ${record.length} fields, the header has ${columns.length}`);
      return;
    }
    const values: Partial<Record<FieldKey, unknown>> = {};
    const extras: Array<readonly [string, unknown]> = [];
    for (let i = 0; i < columns.length; i++) {
      const col = columns[i];
      if (col.key === undefined) extras.push([col.name, record[i]]);
      else values[col.key] = record[i];
    }
    const input: RowInput = { values, extras };
    sink.row(line, input);
  };

  const parser = parse({
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
    if (columns === undefined) {
      fail(new HotlistFileError(file, `line ${line}: cannot parse the header row: ${err.message}`));
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
  return { header: columns !== undefined };
}
