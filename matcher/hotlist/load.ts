/**
 * loadHotlistFile: reads one hotlist file (CSV, NDJSON, or a delimited or fixed-width extract)
 * as a stream, validates every row and either returns the usable entries with a report of the
 * rest, or refuses the whole file.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { HotlistFileError, OptionsError } from '../errors.js';
import { parseCsv, parseDelimited } from './csv.js';
import { rowToEntry, type RowContext } from './fields.js';
import { parseFixed } from './fixed.js';
import { formatGiven, resolveLayout, rowKeyOf, type LayoutPlan } from './layouts.js';
import { parseNdjson } from './ndjson.js';
import type { ParseSummary, RowSink } from './sink.js';
import type { HotlistFormat, HotlistLoadResult, HotlistRejectCode, LoadHotlistOptions } from './types.js';
import { EntryChecker, MAX_KEPT_WARNINGS } from './warnings.js';

/** Default of {@link LoadHotlistOptions.maxInvalidFraction}. */
export const DEFAULT_MAX_INVALID_FRACTION = 0.05;

const FORMAT_BY_EXTENSION: Readonly<Record<string, HotlistFormat>> = {
  '.csv': 'csv',
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
};

function validateOptions(options: LoadHotlistOptions): void {
  const f = options.maxInvalidFraction;
  if (f !== undefined && !(typeof f === 'number' && f >= 0 && f <= 1)) {
    throw new OptionsError('maxInvalidFraction', 'must be a number from 0 to 1');
  }
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw new OptionsError('onProgress', 'must be a function');
  for (const key of ['defaultList', 'defaultSource'] as const) {
    const v = options[key];
    if (v !== undefined && (typeof v !== 'string' || v.trim() === '')) throw new OptionsError(key, 'must be a non-empty string');
  }
  const dp = options.defaultPriority;
  if (dp !== undefined && !(Number.isInteger(dp) && dp >= 1 && dp <= 5)) throw new OptionsError('defaultPriority', 'must be an integer from 1 to 5');
  if (options.now !== undefined && !Number.isFinite(options.now)) throw new OptionsError('now', 'must be epoch milliseconds');
}

/** Percentage for messages: whole numbers from 10 %, one decimal below. */
function pct(fraction: number): string {
  const p = fraction * 100;
  return `${p >= 10 ? Math.round(p) : Math.round(p * 10) / 10}%`;
}

/** Format from the extension, else from the first non-blank character: `{` means NDJSON. */
async function detectFormat(fh: FileHandle, path: string): Promise<HotlistFormat> {
  const byExt = FORMAT_BY_EXTENSION[extname(path).toLowerCase()];
  if (byExt !== undefined) return byExt;
  const buf = Buffer.alloc(4096);
  const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
  const head = buf.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '').trimStart();
  return head.startsWith('{') ? 'ndjson' : 'csv';
}

/** Counts bytes on their way to the parser, for `onProgress`. */
function progressTap(total: number, onProgress: (bytesRead: number, totalBytes: number) => void): Transform {
  let read = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      read += chunk.length;
      onProgress(read, total);
      done(null, chunk);
    },
  });
}

function parse(plan: LayoutPlan, stream: Readable, path: string, sink: RowSink): Promise<ParseSummary> {
  switch (plan.format) {
    case 'ndjson': return parseNdjson(stream, path, sink);
    case 'csv': return parseCsv(stream, path, sink);
    case 'ncic-fixed': return parseFixed(stream, path, sink, plan.columns ?? {});
    case 'delimited':
      return parseDelimited(stream, path, sink, {
        delimiter: plan.delimiter, quote: plan.quote, header: plan.hasHeader, columns: plan.columns, keyOf: rowKeyOf,
      });
  }
}

function describeIoError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'ENOENT': return 'cannot read: no such file';
    case 'EACCES': case 'EPERM': return 'cannot read: permission denied';
    case 'EISDIR': return 'cannot read: is a directory';
    default: return `cannot read: ${e?.message ?? String(err)}`;
  }
}

/**
 * Loads a hotlist file. Format from `layout` or `format`, else by extension (`.csv`, `.ndjson`,
 * `.jsonl`) or sniffed from the content. Rows that fail validation are returned in `rejected` with their line and a stable
 * code; junk plates and expired entries are counted and dropped. Entries that load but look
 * wrong (an unknown list type, a state that is not a two-letter code) are listed in `warnings`.
 *
 * @throws {HotlistFileError} the file is missing or unreadable, empty, has no plate column,
 *   looks truncated, or has more than `maxInvalidFraction` of its rows invalid.
 * @throws {OptionsError} an option is out of range.
 */
export async function loadHotlistFile(path: string, options: LoadHotlistOptions = {}): Promise<HotlistLoadResult> {
  validateOptions(options);
  const plan = resolveLayout(options);
  const maxInvalid = options.maxInvalidFraction ?? DEFAULT_MAX_INVALID_FRACTION;
  const ctx: RowContext = {
    defaultList: options.defaultList?.trim(),
    defaultSource: options.defaultSource?.trim() ?? plan.source,
    defaultPriority: options.defaultPriority,
    codes: plan.codes,
    now: options.now ?? Date.now(),
  };
  const result: HotlistLoadResult = {
    file: path, format: plan.format, entries: [], rejected: [], rows: 0, junk: 0, expired: 0, invalid: 0, warnings: [], warningCount: 0,
  };
  // List types the options declare (code table targets, the default list) are not typos.
  const checker = new EntryChecker([...plan.codes.values(), ...(ctx.defaultList === undefined ? [] : [ctx.defaultList])]);
  if (plan.layout !== undefined) result.layout = plan.layout;
  // Every rejected row counts toward the refusal threshold; rows refused for a forbidden
  // purpose too, so a file full of them is refused as a whole.
  let firstInvalid: string | undefined;
  const reject = (line: number, code: HotlistRejectCode, reason: string): void => {
    result.rejected.push({ file: path, line, code, reason });
    result.invalid++;
    firstInvalid ??= `line ${line} ${code} ${reason}`;
  };
  const sink: RowSink = {
    row(line, input) {
      result.rows++;
      const out = rowToEntry(input, ctx);
      switch (out.kind) {
        case 'entry': {
          result.entries.push(out.entry);
          for (const w of checker.check(out.entry)) {
            result.warningCount++;
            if (result.warnings.length < MAX_KEPT_WARNINGS) result.warnings.push({ file: path, line, code: w.code, reason: w.reason });
          }
          break;
        }
        case 'junk': result.junk++; break;
        case 'expired': result.expired++; break;
        case 'rejected': reject(line, out.code, out.reason); break;
      }
    },
    reject(line, code, reason) {
      result.rows++;
      reject(line, code, reason);
    },
  };

  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new HotlistFileError(path, describeIoError(err), { cause: err });
  }
  let summary: ParseSummary;
  try {
    const stat = await fh.stat();
    if (stat.isDirectory()) throw new HotlistFileError(path, 'cannot read: is a directory');
    if (!formatGiven(options)) {
      plan.format = stat.isFile() ? await detectFormat(fh, path) : 'csv';
      result.format = plan.format;
    }
    const file = fh.createReadStream({ start: stat.isFile() ? 0 : undefined, highWaterMark: 1 << 20, autoClose: false });
    const onProgress = options.onProgress;
    const stream = onProgress === undefined ? file : file.pipe(progressTap(stat.size, onProgress));
    if (stream !== file) file.on('error', (err) => stream.destroy(err));
    summary = await parse(plan, stream, path, sink);
  } catch (err) {
    if (err instanceof HotlistFileError) throw err;
    throw new HotlistFileError(path, describeIoError(err), { cause: err });
  } finally {
    await fh.close().catch(() => undefined);
  }

  if (result.rows === 0) {
    throw new HotlistFileError(path, summary.header ? 'has a header row but no data rows' : 'is empty: no hotlist rows');
  }
  const invalid = result.invalid;
  if (invalid / result.rows > maxInvalid) {
    const refusal = `refused: ${invalid} of ${result.rows} rows invalid (${pct(invalid / result.rows)}), more than the ${pct(maxInvalid)} allowed; first: ${firstInvalid}`;
    if (options.throwOnRefusal === false) result.refusal = refusal;
    else throw new HotlistFileError(path, refusal);
  }
  return result;
}
