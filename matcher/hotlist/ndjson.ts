/**
 * Streaming NDJSON hotlist parser: one JSON object a line, keys as in the CSV header
 * (case-insensitive, unknown keys kept in notes).
 */
import type { Readable } from 'node:stream';
import { HotlistFileError } from '../errors.js';
import { fieldKeyOf, type FieldKey } from './fields.js';
import { readLines } from './lines.js';
import type { ParseSummary, RowSink } from './sink.js';

/**
 * Parses an NDJSON hotlist from `source`, calling `sink` for each non-blank line. Throws
 * {@link HotlistFileError} when the last line is not valid JSON and has no line end
 * (a truncated file).
 */
export async function parseNdjson(source: Readable, file: string, sink: RowSink): Promise<ParseSummary> {
  for await (const lines of readLines(source)) {
    for (const { text, line, terminated } of lines) {
      if (text.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        if (!terminated) {
          source.destroy();
          throw new HotlistFileError(file, `the last line (${line}) is not valid JSON and has no line end: the file looks truncated`, { cause: err });
        }
        sink.reject(line, 'BAD_JSON', `not valid JSON: ${(err as Error).message}`);
        continue;
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        sink.reject(line, 'NOT_AN_OBJECT', `expected a JSON object, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`);
        continue;
      }
      const values: Partial<Record<FieldKey, unknown>> = {};
      const extras: Array<readonly [string, unknown]> = [];
      for (const [name, v] of Object.entries(value)) {
        const key = fieldKeyOf(name);
        if (key === undefined) extras.push([name, v]);
        else values[key] = v;
      }
      sink.row(line, { values, extras });
    }
  }
  return { header: false };
}
