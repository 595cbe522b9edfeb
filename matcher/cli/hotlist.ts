/**
 * `platesieve hotlist validate FILE` and `platesieve hotlist stats FILE`: load a hotlist file as
 * the service would and say whether it would be accepted, every row it would reject, and what
 * it holds (see docs/cli.md and docs/hotlists.md).
 */
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import cliProgress from 'cli-progress';
import { Command, Option } from 'commander';
import { createMatcher } from '../index.js';
import { HotlistFileError, OptionsError } from '../errors.js';
import {
  loadHotlistFile, type HotlistFormat, type HotlistLayoutName, type HotlistLoadResult, type LoadHotlistOptions,
} from '../hotlist/index.js';
import type { HotlistEntry, MatcherStats } from '../types.js';
import { UsageError } from './errors.js';
import {
  addExtractOptions, addRowOptions, explainHotlistError, extractLoadOptions, timeArg, warningLine, type ExtractFlags, type RowFlags,
} from './hotlist-options.js';
import type { CommandIo } from './match.js';
import { CappedReporter } from './report.js';

/** Files above this size get a progress bar (when standard error is a terminal). */
export const PROGRESS_MIN_BYTES = 5 * 1024 * 1024;
const HOUR_MS = 3_600_000;

/** The file would be refused: exit 1 with one line on standard error (the report is printed). */
export class HotlistCheckFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HotlistCheckFailed';
  }
}

/** Load options of both subcommands, as commander hands them over. */
interface LoadOpts extends ExtractFlags, RowFlags {
  format?: HotlistFormat;
  now?: number;
  json?: boolean;
}

interface ValidateOpts extends LoadOpts {
  all?: boolean;
}

function addLoadOptions(cmd: Command): Command {
  cmd
    .argument('<file>', 'hotlist file')
    .addOption(new Option('--format <format>', 'file format (default: from the layout, else the extension, else sniffed; delimited with --delimiter or --columns)').choices(['csv', 'ndjson', 'delimited', 'ncic-fixed']));
  return addRowOptions(addExtractOptions(cmd))
    .option('--now <time>', 'judge expiry as of this time, ISO 8601 or epoch ms (default: now)', timeArg)
    .option('--json', 'print one JSON object instead of text');
}

async function checkReadable(file: string): Promise<number> {
  try {
    const st = await stat(file);
    if (st.isDirectory()) throw new UsageError(`cannot read hotlist ${file}: is a directory`);
    return st.size;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (err as Error).message;
    throw new UsageError(`cannot read hotlist ${file}: ${why}`, { cause: err });
  }
}

/** A progress bar on standard error for a large file read on a terminal; else nothing. */
function progressBar(io: CommandIo, file: string, size: number): { onProgress?: LoadHotlistOptions['onProgress']; stop(): void } {
  const stream = io.stderr as NodeJS.WritableStream & { isTTY?: boolean };
  if (stream.isTTY !== true || size <= PROGRESS_MIN_BYTES) return { stop: () => undefined };
  const mb = (n: number): string => (n / 1048576).toFixed(0);
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${basename(file)} [{bar}] {percentage}% | {done}/{size} MB | ETA {eta_formatted}`,
      clearOnComplete: true,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(size, 0, { done: '0', size: mb(size) });
  return {
    onProgress: (read) => bar.update(read, { done: mb(read) }),
    stop: () => bar.stop(),
  };
}

/** Loads like the service (the refusal returned, not thrown); a whole-file refusal comes back as `refused`. */
async function load(file: string, opts: LoadOpts, io: CommandIo): Promise<{ result?: HotlistLoadResult; refused?: string; now: number }> {
  const size = await checkReadable(file);
  const now = opts.now ?? Date.now();
  const options: LoadHotlistOptions = { ...extractLoadOptions(opts, opts.format), now, throwOnRefusal: false };
  const bar = progressBar(io, file, size);
  options.onProgress = bar.onProgress;
  try {
    const result = await loadHotlistFile(file, options);
    return { result, refused: result.refusal === undefined ? undefined : `${file}: ${result.refusal}`, now };
  } catch (err) {
    if (err instanceof OptionsError) throw new UsageError(err.message, { cause: err });
    if (err instanceof HotlistFileError) return { refused: explainHotlistError(err), now };
    throw err;
  } finally {
    bar.stop();
  }
}

/** Entries with the same plate, state and list as an earlier one: the matcher merges them. */
export function countDuplicates(entries: readonly HotlistEntry[]): number {
  const seen = new Set<string>();
  let dup = 0;
  for (const e of entries) {
    const key = `${e.plate ?? ''}\u0000${e.state ?? ''}\u0000${e.list}`;
    if (seen.has(key)) dup++;
    else seen.add(key);
  }
  return dup;
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const out = new Map<string, number>();
  for (const it of items) {
    const k = key(it);
    out.set(k, (out.get(k) ?? 0) + 1);
  }
  return Object.fromEntries([...out].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)));
}

function byCodeText(counts: Record<string, number>): string {
  return Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ');
}

/** The summary `hotlist validate` prints and returns as JSON. */
export interface ValidateReport {
  file: string;
  format?: HotlistFormat;
  layout?: HotlistLayoutName;
  accepted: boolean;
  refusal?: string;
  rows: number;
  entries: number;
  duplicates: number;
  rejected: number;
  invalid: number;
  rejectedByCode: Record<string, number>;
  junk: number;
  expired: number;
  rejectedRows: Array<{ line: number; code: string; reason: string }>;
  /** Loaded entries that look wrong (unknown list type, state not a two-letter code). */
  warnings: number;
  warningsByCode: Record<string, number>;
  /** The first 1000 warnings (`MAX_KEPT_WARNINGS`). */
  warningRows: Array<{ line: number; code: string; reason: string }>;
}

async function runValidate(file: string, opts: ValidateOpts, io: CommandIo): Promise<void> {
  const { result, refused } = await load(file, opts, io);
  const report: ValidateReport = {
    file,
    format: result?.format,
    layout: result?.layout,
    accepted: refused === undefined,
    refusal: refused,
    rows: result?.rows ?? 0,
    entries: result?.entries.length ?? 0,
    duplicates: result === undefined ? 0 : countDuplicates(result.entries),
    rejected: result?.rejected.length ?? 0,
    invalid: result?.invalid ?? 0,
    rejectedByCode: result === undefined ? {} : countBy(result.rejected, (r) => r.code),
    junk: result?.junk ?? 0,
    expired: result?.expired ?? 0,
    rejectedRows: (result?.rejected ?? []).map((r) => ({ line: r.line, code: r.code, reason: r.reason })),
    warnings: result?.warningCount ?? 0,
    warningsByCode: result === undefined ? {} : countBy(result.warnings, (w) => w.code),
    warningRows: (result?.warnings ?? []).map((w) => ({ line: w.line, code: w.code, reason: w.reason })),
  };
  if (opts.json === true) {
    io.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    const rows = new CappedReporter(io.stdout, 'rejected rows (--all prints every one)', false, opts.all === true ? Infinity : undefined);
    for (const r of result?.rejected ?? []) rows.line(`${file}:${r.line}: ${r.code} ${r.reason}`);
    rows.finish();
    const warned = new CappedReporter(io.stdout, 'warnings (--all prints every one)', false, opts.all === true ? Infinity : undefined);
    for (const w of result?.warnings ?? []) warned.line(warningLine(w));
    warned.finish();
    const what = result === undefined ? '' : ` (${result.format}${result.layout === undefined ? '' : `, layout ${result.layout}`})`;
    const why = refused?.replace(`${file}: `, '').replace(/^refused: /, '');
    let text = why === undefined ? `${file}: accepted${what}\n` : `${file}: REFUSED${what}: ${why}\n`;
    if (result !== undefined) {
      text +=
        `  rows       ${report.rows}\n` +
        `  valid      ${report.entries} entries${report.duplicates > 0 ? ` (${report.duplicates} duplicates, merged when the matcher builds)` : ''}\n` +
        `  rejected   ${report.rejected}${report.rejected > 0 ? `: ${byCodeText(report.rejectedByCode)}` : ''}\n` +
        `  junk       ${report.junk}\n` +
        `  expired    ${report.expired}\n` +
        `  warnings   ${report.warnings}${report.warnings > 0 ? `: ${byCodeText(report.warningsByCode)}` : ''}\n`;
    }
    io.stdout.write(text);
  }
  if (refused !== undefined) throw new HotlistCheckFailed(refused);
}

/** What `hotlist stats` prints and returns as JSON. */
export interface StatsReport {
  file: string;
  format?: HotlistFormat;
  layout?: HotlistLayoutName;
  accepted: boolean;
  refusal?: string;
  rows: number;
  entries: number;
  rejected: number;
  junk: number;
  expired: number;
  /** Loaded entries that look wrong; `hotlist validate` lists them. */
  warnings: number;
  expiringWithin24h: number;
  byList: Record<string, number>;
  bySource: Record<string, number>;
  byState: Record<string, number>;
  byPlateLength: Record<string, number>;
  byPriority: Record<string, number>;
  oldestEntered?: string;
  newestEntered?: string;
  matcher?: Pick<MatcherStats, 'entries' | 'duplicatesMerged' | 'junkSkipped' | 'fuzzyEntries' | 'memoryBytes' | 'bytesPerEntry' | 'buildTimeMs' | 'hotlistVersion'>;
}

function statsOf(file: string, result: HotlistLoadResult, refused: string | undefined, now: number): StatsReport {
  const { entries } = result;
  let oldest = Infinity;
  let newest = -Infinity;
  let expiring = 0;
  for (const e of entries) {
    if (typeof e.entered === 'number') {
      if (e.entered < oldest) oldest = e.entered;
      if (e.entered > newest) newest = e.entered;
    }
    if (typeof e.expires === 'number' && e.expires > now && e.expires <= now + 24 * HOUR_MS) expiring++;
  }
  const report: StatsReport = {
    file,
    format: result.format,
    layout: result.layout,
    accepted: refused === undefined,
    refusal: refused,
    rows: result.rows,
    entries: entries.length,
    rejected: result.rejected.length,
    junk: result.junk,
    expired: result.expired,
    warnings: result.warningCount,
    expiringWithin24h: expiring,
    byList: countBy(entries, (e) => e.list),
    bySource: countBy(entries, (e) => e.source ?? '(none)'),
    byState: countBy(entries, (e) => e.state ?? '(any)'),
    byPlateLength: Object.fromEntries(Object.entries(countBy(entries, (e) => String(e.plate?.length ?? 0))).sort((a, b) => Number(a[0]) - Number(b[0]))),
    byPriority: Object.fromEntries(Object.entries(countBy(entries, (e) => (e.priority === undefined ? '(none)' : String(e.priority)))).sort((a, b) => (a[0] < b[0] ? -1 : 1))),
  };
  if (Number.isFinite(oldest)) report.oldestEntered = new Date(oldest).toISOString();
  if (Number.isFinite(newest)) report.newestEntered = new Date(newest).toISOString();
  if (entries.length > 0) {
    const s = createMatcher({ entries }).stats();
    report.matcher = {
      entries: s.entries, duplicatesMerged: s.duplicatesMerged, junkSkipped: s.junkSkipped, fuzzyEntries: s.fuzzyEntries,
      memoryBytes: s.memoryBytes, bytesPerEntry: s.bytesPerEntry, buildTimeMs: s.buildTimeMs, hotlistVersion: s.hotlistVersion,
    };
  }
  return report;
}

function table(title: string, counts: Record<string, number>): string {
  const rows = Object.entries(counts);
  if (rows.length === 0) return `${title}: none\n`;
  const width = Math.max(...rows.map(([k]) => k.length));
  return `${title}:\n${rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}\n`).join('')}`;
}

function formatStats(r: StatsReport): string {
  let text = `${r.file}: ${r.entries} entries from ${r.rows} rows (${r.format}${r.layout === undefined ? '' : `, layout ${r.layout}`})` +
    `${r.accepted ? '' : `, REFUSED: ${r.refusal}`}\n` +
    `  rejected ${r.rejected}, junk ${r.junk}, expired ${r.expired}, expiring within 24 h ${r.expiringWithin24h}` +
    `${r.warnings > 0 ? `, ${r.warnings} warnings (hotlist validate lists them)` : ''}\n` +
    `  entered ${r.oldestEntered ?? '?'} .. ${r.newestEntered ?? '?'}\n`;
  text += table('by list', r.byList) + table('by source', r.bySource) + table('by state', r.byState) +
    table('by plate length', r.byPlateLength) + table('by priority', r.byPriority);
  if (r.matcher !== undefined) {
    const m = r.matcher;
    text += `matcher: ${m.entries} entries (${m.duplicatesMerged} duplicates merged), ${m.fuzzyEntries} fuzzy-indexed, ` +
      `built in ${m.buildTimeMs.toFixed(1)} ms, ${m.memoryBytes} bytes (${m.bytesPerEntry.toFixed(1)} bytes/entry), version ${m.hotlistVersion}\n`;
  }
  return text;
}

async function runStats(file: string, opts: LoadOpts, io: CommandIo): Promise<void> {
  const { result, refused, now } = await load(file, opts, io);
  if (result === undefined) throw new HotlistCheckFailed(refused ?? `${file}: refused`);
  const report = statsOf(file, result, refused, now);
  io.stdout.write(opts.json === true ? `${JSON.stringify(report)}\n` : formatStats(report));
  if (refused !== undefined) throw new HotlistCheckFailed(refused);
}

const EXIT_HELP = '\nExit status: 0 when the file would be accepted; 1 when it would be refused (too many invalid rows, truncated, empty, no plate column); 2 on bad arguments or an unreadable file.';

/** Adds `hotlist validate` and `hotlist stats` to `program`. */
export function registerHotlistCommand(program: Command, io: CommandIo): Command {
  const hotlist = program
    .command('hotlist')
    .description('check hotlist files and extracts before loading them (see docs/hotlists.md)')
    .helpCommand(false);

  addLoadOptions(
    hotlist
      .command('validate')
      .description('load a hotlist file as the service would: print every rejected row, a summary, and whether the file would be accepted'),
  )
    .option('--all', 'print every rejected row (default: the first 20)')
    .addHelpText('after', `${EXIT_HELP}\n\nExamples:\n  platesieve hotlist validate ncic.csv\n  platesieve hotlist validate --layout ncic-fixed ncic-extract.txt --json`)
    .action(async (file: string, opts: ValidateOpts) => {
      await runValidate(file, opts, io);
    });

  addLoadOptions(
    hotlist
      .command('stats')
      .description('counts of a hotlist file by list, source, state, plate length and priority, entry dates, expiry, and the built matcher\'s size'),
  )
    .addHelpText('after', EXIT_HELP)
    .action(async (file: string, opts: LoadOpts) => {
      await runStats(file, opts, io);
    });

  return hotlist;
}
