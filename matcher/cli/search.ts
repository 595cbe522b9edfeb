/**
 * `platesieve search`: the stored reads the matcher would have matched against an entry with
 * the given plate or pattern (docs/store.md "Retrospective search"), newest first, with their
 * scores. Purpose rules and auditing as every store command (store/open.ts).
 */
import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError } from '../errors.js';
import { loadServiceConfig } from '../service/config.js';
import { MATCH_TIERS, type MatchTier } from '../types.js';
import { openStore, type OpenStoreOptions } from '../store/open.js';
import { SearchError, type SearchHit, type SearchResult } from '../store/search.js';
import { apiClientFor } from './api-client.js';
import { UsageError } from './errors.js';
import type { CommandIo } from './match.js';
import { LineWriter } from './output.js';
import { auditFileOf, dbUrlOf, type DbCliOptions } from './db-options.js';
import { timeArg } from './hold.js';

interface SearchOptions extends DbCliOptions {
  api?: string;
  plate?: string;
  pattern?: string;
  tiers?: MatchTier[];
  maxDistance?: number;
  state?: string;
  camera?: string;
  from: number;
  to: number;
  purpose: string;
  case?: string;
  reason?: string;
  sensitiveApproval?: string;
  config?: string;
  format: 'table' | 'ndjson';
  limit?: number;
}

function tiersArg(value: string): MatchTier[] {
  const tiers = value.split(',').map((t) => t.trim()).filter((t) => t !== '');
  for (const t of tiers) if (!(MATCH_TIERS as readonly string[]).includes(t)) throw new InvalidArgumentError(`unknown tier ${JSON.stringify(t)}; expected exact, ocr, fuzzy.`);
  if (tiers.length === 0) throw new InvalidArgumentError('name at least one tier.');
  return tiers as MatchTier[];
}

function intArg(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}.`);
    return n;
  };
}

function row(h: SearchHit): string {
  const r = h.record;
  return [new Date(h.ts).toISOString(), r.plate.padEnd(10), (r.state ?? '').padEnd(3), (r.cameraId ?? '').padEnd(14), (r.agency ?? '').padEnd(10), h.match.padEnd(7), h.score.toFixed(2), h.id].join('  ');
}

/** The store settings of a service configuration file (the --db path). */
function configOf(file: string | undefined): Pick<OpenStoreOptions, 'sensitivePlaces' | 'partialOcr' | 'stateMismatch'> {
  if (file === undefined) return {};
  try {
    const c = loadServiceConfig(file, {}, process.env, { requireHotlists: false });
    return { sensitivePlaces: c.sensitivePlaces, partialOcr: c.matching.partialOcr, stateMismatch: c.matching.stateMismatch };
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message, { cause: err });
    throw err;
  }
}

export function registerSearchCommand(program: Command, io: CommandIo): void {
  program
    .command('search')
    .description('search the stored reads for a plate or a partial pattern, as the matcher would have matched them (audited)')
    .option('--plate <plate>', 'the plate of the entry to search for')
    .option('--pattern <pattern>', 'a partial plate: ? one character, * any run, [AB8] one of a set')
    .option('--tiers <list>', 'tiers for --plate, comma-separated (default exact,ocr)', tiersArg)
    .option('--max-distance <n>', 'fuzzy edit distance, 0..2 (default 1)', intArg(0, 2))
    .option('--state <state>', 'the entry\'s state: reads of another state do not match (the matcher\'s state rule)')
    .option('--camera <id>', 'only reads of this camera')
    .requiredOption('--from <time>', 'first read time (ISO 8601 or epoch ms)', timeArg)
    .requiredOption('--to <time>', 'last read time (ISO 8601 or epoch ms)', timeArg)
    .requiredOption('--purpose <code>', 'purpose code (docs/audit.md); investigative purposes need --case')
    .option('--case <number>', 'case number')
    .option('--reason <text>', 'why; required when the window reaches reads older than one year')
    .option('--sensitive-approval <id>', 'your approved sensitive-place approval for this purpose and case (platesieve sensitive request)')
    .addOption(new Option('--format <format>', 'table, or ndjson: one stored record per line with id, match and score').choices(['table', 'ndjson']).default('table'))
    .option('--limit <n>', 'most reads returned (default 10000)', intArg(1, 10_000_000))
    .option('--api <url>', 'the operations API (default: the one you logged in to with platesieve login)')
    .option('--db <url>', 'PostgreSQL URL (or PLATESIEVE_DB_URL): direct access, for admins, audited as such')
    .option('--audit <file>', 'with --db: audit log (or PLATESIEVE_AUDIT_FILE); required: every search is audited')
    .option('--config <file>', 'with --db: the service configuration whose matching and sensitivePlaces sections apply (default: the sensitivePlaces the API last started with)')
    .action(async (opts: SearchOptions) => {
      if ((opts.plate === undefined) === (opts.pattern === undefined)) throw new UsageError('give either --plate or --pattern');
      if (opts.pattern !== undefined && (opts.tiers !== undefined || opts.maxDistance !== undefined)) throw new UsageError('--tiers and --max-distance go with --plate; a pattern matches as a partial entry');
      if (opts.from > opts.to) throw new UsageError('--from is after --to');
      const client = apiClientFor(opts);
      if (client !== undefined) {
        if (opts.config !== undefined) throw new UsageError('--config goes with --db; through the API the server applies its own');
        const result = await client.request<SearchResult>('POST', '/api/search', {
          plate: opts.plate, pattern: opts.pattern, tiers: opts.tiers, maxDistance: opts.maxDistance, state: opts.state, cameraId: opts.camera,
          from: opts.from, to: opts.to, limit: opts.limit, purpose: opts.purpose, case: opts.case, reason: opts.reason, sensitiveApproval: opts.sensitiveApproval,
        });
        await printResult(result, opts.format, `${client.user ?? 'the session user'} (through ${client.base})`);
        return;
      }
      const s = await openStore({ url: dbUrlOf(opts), audit: auditFileOf(opts), direct: true, ...configOf(opts.config) });
      const stream = io.stderr as NodeJS.WritableStream & { isTTY?: boolean };
      let bar: cliProgress.SingleBar | undefined;
      try {
        await runSearch();
      } catch (err) {
        if (err instanceof SearchError) throw new UsageError(err.message, { cause: err });
        throw err;
      } finally {
        bar?.stop();
        await s.close();
      }
      async function runSearch(): Promise<void> {
        const result = await s.search({
          plate: opts.plate, pattern: opts.pattern, tiers: opts.tiers, maxDistance: opts.maxDistance, state: opts.state, cameraId: opts.camera,
          from: opts.from, to: opts.to, limit: opts.limit, purpose: opts.purpose, case: opts.case, reason: opts.reason, sensitiveApproval: opts.sensitiveApproval,
          onProgress: stream.isTTY === true
            ? (done, total) => {
              bar ??= new cliProgress.SingleBar({ stream, format: 'search [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted}', clearOnComplete: true, hideCursor: true }, cliProgress.Presets.shades_classic);
              if (bar.getTotal() !== total) bar.start(total, done);
              else bar.update(done);
            }
            : undefined,
        });
        bar?.stop();
        await printResult(result, opts.format, `${s.actor} (direct database access)`);
      }
    });

  async function printResult(result: SearchResult, format: SearchOptions['format'], auditedAs: string): Promise<void> {
    const out = new LineWriter(io.stdout);
    if (format === 'ndjson') {
      for (const h of result.hits) await out.write(`${JSON.stringify({ ...h.record, id: h.id, match: h.match, score: h.score })}\n`);
    } else {
      if (result.hits.length > 0) await out.write(`${['time'.padEnd(24), 'plate'.padEnd(10), 'st '.padEnd(3), 'camera'.padEnd(14), 'agency'.padEnd(10), 'match'.padEnd(7), 'score', 'read id'].join('  ')}\n`);
      for (const h of result.hits) await out.write(`${row(h)}\n`);
    }
    await out.end(false);
    io.stderr.write(`search: ${result.hits.length} reads${result.truncated ? ` (limit reached: narrow the window or raise --limit)` : ''} in ${result.ms.toFixed(0)} ms; audited as ${auditedAs}\n`);
    if (result.withheld?.sensitive === true) io.stderr.write('search: reads of sensitive places were withheld: they need a supervisor\'s approval for this purpose and case (platesieve sensitive request; docs/sensitive-places.md)\n');
  }
}
