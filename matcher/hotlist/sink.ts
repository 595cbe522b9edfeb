/** The interface between the format parsers (csv.ts, ndjson.ts) and the loader. */
import type { RowInput } from './fields.js';
import type { HotlistRejectCode } from './types.js';

/** Receives a file's data rows in order, with their physical line numbers. */
export interface RowSink {
  row(line: number, input: RowInput): void;
  reject(line: number, code: HotlistRejectCode, reason: string): void;
}

/** What a parser saw of the file's shape, for the loader's "empty file" checks. */
export interface ParseSummary {
  /** A CSV header row was read (always false for NDJSON). */
  header: boolean;
}
