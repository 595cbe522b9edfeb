/**
 * `platesieve match`: load hotlist files, build one matcher, match a stream of reads in
 * batches, write alerts as NDJSON. The embedded default, with no server.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { Command, InvalidArgumentError, Option } from 'commander';
import { createMatcher } from '../index.js';
import { HotlistFileError, OptionsError } from '../errors.js';
import { loadHotlistFile, type HotlistLoadResult } from '../hotlist/index.js';
import { MATCH_TIERS, type HotlistEntry, type Matcher, type MatcherOptions, type MatchTier, type PlateRead, type StateMismatchPolicy } from '../types.js';
import { UsageError } from './errors.js';
import {
  addExtractOptions, addRowOptions, explainHotlistError, extractLoadOptions, fraction, warningLine, type ExtractFlags, type RowFlags,
} from './hotlist-options.js';
import { decodeInput, type InputFormat } from './input.js';
import { LineWriter } from './output.js';
import { CappedReporter, type TextSink } from './report.js';

/** Default number of reads per `matchBatch` call: large enough to amortize the call into the core. */
export const DEFAULT_BATCH_SIZE = 1024;

/**
 * Options of `platesieve match`, as commander hands them over. The extract flags (`--layout`,
 * `--columns`, ...) and row defaults apply to every `--hotlist` file, as in `hotlist validate`.
 */
export interface MatchCommandOptions extends ExtractFlags, RowFlags {
  hotlist: string[];
  input?: string;
  output?: string;
  tiers?: MatchTier[];
  maxDistance?: number;
  format: InputFormat;
  stateMismatch?: StateMismatchPolicy;
  minScore?: number;
  batchSize: number;
  quiet?: boolean;
}

/** Where the command reads and writes; the real process streams unless a test says otherwise. */
export interface CommandIo {
  stdin: Readable;
  stdout: Writable;
  stderr: TextSink;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return previous === undefined ? [value] : [...previous, value];
}

function parseTiers(value: string): MatchTier[] {
  const names = value.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  if (names.length === 0) throw new InvalidArgumentError(`expected one or more of ${MATCH_TIERS.join(', ')}, separated by commas.`);
  for (const name of names) {
    if (!MATCH_TIERS.includes(name as MatchTier)) {
      throw new InvalidArgumentError(`unknown tier ${JSON.stringify(name)}; expected ${MATCH_TIERS.join(', ')}.`);
    }
  }
  return [...new Set(names)] as MatchTier[];
}

function intIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}.`);
    return n;
  };
}

/** Adds the `match` subcommand to `program`. */
export function registerMatchCommand(program: Command, io: CommandIo): Command {
  const cmd = program
    .command('match')
    .description('match reads (NDJSON or msgpack) against hotlist files and write alerts as NDJSON, one per line')
    .requiredOption('--hotlist <file>', 'hotlist file: CSV, NDJSON, or an extract with --layout or --columns (see docs/hotlists.md); repeat for several files', collect);
  // The extract flags describe every --hotlist file; same flags and meaning as `hotlist validate`.
  addExtractOptions(cmd);
  cmd
    .option('--input <file>', 'reads to match, one per line (NDJSON) or a stream of msgpack values (default: standard input)')
    .option('--output <file>', 'write alerts to this file instead of standard output')
    .option('--tiers <list>', `comma-separated tiers applied to every list: ${MATCH_TIERS.join(', ')} (default: exact,ocr)`, parseTiers)
    .option('--max-distance <n>', 'maximum edit distance of the fuzzy tier, 0 to 2 (default: 1)', intIn(0, 2))
    .addOption(new Option('--format <format>', 'encoding of the input').choices(['ndjson', 'msgpack']).default('ndjson'))
    .addOption(
      new Option('--state-mismatch <policy>', 'a read whose state differs from the entry\'s: reject it, or match with a lower score (default: reject)')
        .choices(['reject', 'match']),
    )
    .option('--min-score <x>', 'drop alerts scoring below this, 0 to 1 (default: 0)', fraction);
  return addRowOptions(cmd, 'a hotlist file')
    .option('--batch-size <n>', 'reads per call into the matcher, 1 to 65536', intIn(1, 65536), DEFAULT_BATCH_SIZE)
    .option('-q, --quiet', 'print no rejected rows, hotlist warnings, invalid reads or summary on standard error (errors still print)')
    .addHelpText(
      'after',
      `
Exit status: 0 on success (invalid reads are reported and counted, not fatal); 2 on bad
arguments, a missing, unreadable or refused hotlist, or an unreadable --input; 1 on a failure
while running.

Examples:
  platesieve match --hotlist ncic.csv --hotlist local.ndjson --input reads.ndjson > alerts.ndjson
  platesieve match --hotlist ncic-extract.txt --layout ncic-fixed --input reads.ndjson
  platesieve match --hotlist state.txt --delimiter pipe --columns '{"plate":0,"state":1,"code":2}' --input reads.ndjson`,
    )
    .action(async (opts: MatchCommandOptions) => {
      await runMatch(opts, io);
    });
}

function ioReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'ENOENT': return 'no such file';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EISDIR': return 'is a directory';
    default: return e?.message ?? String(err);
  }
}

async function openInput(path: string | undefined, io: CommandIo): Promise<Readable> {
  if (path === undefined || path === '-') return io.stdin;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new UsageError(`cannot read --input ${path}: is a directory`);
    const fh = await open(path, 'r');
    await fh.close();
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read --input ${path}: ${ioReason(err)}`, { cause: err });
  }
  return createReadStream(path, { highWaterMark: 1 << 20 });
}

async function openOutput(path: string | undefined, io: CommandIo): Promise<{ stream: Writable; close: boolean }> {
  if (path === undefined || path === '-') return { stream: io.stdout, close: false };
  try {
    const fh = await open(path, 'w');
    return { stream: fh.createWriteStream({ highWaterMark: 1 << 20 }), close: true };
  } catch (err) {
    throw new UsageError(`cannot write --output ${path}: ${ioReason(err)}`, { cause: err });
  }
}

/** Runs `platesieve match`. Throws {@link UsageError} for the exit-2 cases. */
export async function runMatch(opts: MatchCommandOptions, io: CommandIo): Promise<void> {
  const quiet = opts.quiet === true;
  const input = await openInput(opts.input, io);

  // Hotlists: every file must load; rejected rows are reported, a refused file stops the run.
  const rejectedReport = new CappedReporter(io.stderr, 'rejected rows', quiet);
  const warningReport = new CappedReporter(io.stderr, 'hotlist warnings', quiet);
  const loadOptions = extractLoadOptions(opts);
  const entries: HotlistEntry[] = [];
  let rejectedRows = 0;
  let junk = 0;
  let expired = 0;
  let warnings = 0;
  for (const file of opts.hotlist) {
    let loaded: HotlistLoadResult;
    try {
      loaded = await loadHotlistFile(file, loadOptions);
    } catch (err) {
      if (err instanceof HotlistFileError) throw new UsageError(explainHotlistError(err), { cause: err });
      if (err instanceof OptionsError) throw new UsageError(err.message, { cause: err });
      throw err;
    }
    for (const r of loaded.rejected) rejectedReport.line(`${r.file}:${r.line}: ${r.code} ${r.reason}`);
    for (const w of loaded.warnings) warningReport.line(warningLine(w));
    warningReport.skipped(loaded.warningCount - loaded.warnings.length);
    rejectedRows += loaded.rejected.length;
    junk += loaded.junk;
    expired += loaded.expired;
    warnings += loaded.warningCount;
    for (const e of loaded.entries) entries.push(e);
  }
  rejectedReport.finish();
  warningReport.finish();

  const matcherOptions: MatcherOptions = { entries };
  if (opts.tiers !== undefined) matcherOptions.tiers = opts.tiers;
  if (opts.maxDistance !== undefined) matcherOptions.maxDistance = opts.maxDistance;
  if (opts.stateMismatch !== undefined) matcherOptions.stateMismatch = opts.stateMismatch;
  if (opts.minScore !== undefined) matcherOptions.minScore = opts.minScore;
  let matcher: Matcher;
  try {
    matcher = createMatcher(matcherOptions);
  } catch (err) {
    if (err instanceof OptionsError) throw new UsageError(err.message, { cause: err });
    throw err;
  }

  const { stream, close } = await openOutput(opts.output, io);
  const writer = new LineWriter(stream);
  const invalidReport = new CappedReporter(io.stderr, 'invalid reads', quiet);
  const unit = opts.format === 'msgpack' ? 'value' : 'line';
  let reads = 0;
  let alerts = 0;
  let invalid = 0;
  let batch: PlateRead[] = [];
  let positions: number[] = [];

  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const result = matcher.matchBatch(batch);
    for (const bad of result.invalid) invalidReport.line(`${unit} ${positions[bad.index]}: ${bad.code} ${bad.reason}`);
    invalid += result.invalid.length;
    alerts += result.alerts.length;
    batch = [];
    positions = [];
    if (result.alerts.length > 0) {
      let text = '';
      for (const alert of result.alerts) text += `${JSON.stringify(alert)}\n`;
      await writer.write(text);
    }
  };

  const started = process.hrtime.bigint();
  for await (const items of decodeInput(input, opts.format)) {
    for (const it of items) {
      reads++;
      if (it.kind === 'problem') {
        invalid++;
        invalidReport.line(`${unit} ${it.pos}: ${it.code} ${it.reason}`);
        continue;
      }
      batch.push(it.value as PlateRead);
      positions.push(it.pos);
      if (batch.length >= opts.batchSize) await flush();
    }
  }
  await flush();
  await writer.end(close);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  invalidReport.finish();

  if (!quiet) {
    const rate = Math.round(reads / Math.max(seconds, 1e-6));
    const extra = [
      junk > 0 ? `, ${junk} junk skipped` : '', expired > 0 ? `, ${expired} expired` : '', warnings > 0 ? `, ${warnings} warnings` : '',
    ].join('');
    io.stderr.write(
      `platesieve: ${reads} reads, ${alerts} alerts, ${invalid} invalid, ${rate} reads/s ` +
        `(hotlist ${matcher.stats().entries} entries, ${rejectedRows} rejected rows${extra})\n`,
    );
  }
}

