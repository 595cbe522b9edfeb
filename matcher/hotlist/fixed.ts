/**
 * Streaming fixed-width extract parser (the NCIC plate-reader extract and the like): each
 * field is a character range of the line, trimmed. Only the fields are cut here; what they
 * mean (the file code, the plate) is decided by the row validation shared by every format.
 */
import type { Readable } from 'node:stream';
import { HotlistFileError } from '../errors.js';
import type { FieldKey } from './fields.js';
import { fixedColumns, rowKeyOf } from './layouts.js';
import { readLines } from './lines.js';
import type { ParseSummary, RowSink } from './sink.js';
import type { ColumnMapping } from './types.js';

/**
 * Parses a fixed-width hotlist. A row shorter than the end of its plate, state and code fields
 * is rejected (`SHORT_ROW`); fields past the end of a shorter row are empty. A last line that
 * is that short and has no line end makes the file look truncated.
 */
export async function parseFixed(source: Readable, file: string, sink: RowSink, columns: ColumnMapping): Promise<ParseSummary> {
  const fields = fixedColumns(columns).map(([name, range]) => ({ name, key: rowKeyOf(name), ...range }));
  const required = fields.filter((f) => f.key === 'plate' || f.key === 'pattern' || f.key === 'state' || f.key === 'code' || f.key === 'list');
  const minWidth = Math.max(...required.map((f) => f.end));
  for await (const lines of readLines(source)) {
    for (const { text, line, terminated } of lines) {
      if (text.trim() === '') continue;
      const width = text.length;
      if (width < minWidth) {
        if (!terminated) {
          source.destroy();
          throw new HotlistFileError(file, `the last line (${line}) has ${width} of at least ${minWidth} characters and no line end: the file looks truncated`);
        }
        sink.reject(line, 'SHORT_ROW', `row has ${width} characters, the layout needs at least ${minWidth}`);
        continue;
      }
      const values: Partial<Record<FieldKey, unknown>> = {};
      const extras: Array<readonly [string, unknown]> = [];
      for (const f of fields) {
        const v = text.slice(f.start, f.end).trim();
        if (f.key !== undefined) values[f.key] = v;
        else extras.push([f.name, v]);
      }
      sink.row(line, { values, extras });
    }
  }
  return { header: false };
}
