/**
 * `platesieve replay`: a candidate matching setting (a service configuration file's hotlists
 * and matching section) replayed over the stored reads of a window and compared with the
 * stored alerts and their dispositions (docs/replay.md). Through the operations API as the
 * logged-in user, or `--db` for administrators (audited as direct access).
 */
import { basename } from 'node:path';
import { Command, Option } from 'commander';
import pg from 'pg';
import { pino } from 'pino';
import { AuditLog } from '../audit/index.js';
import { ConfigError } from '../errors.js';
import { auditedReplay, REPLAY_PURPOSE } from '../replay/audited.js';
import { loadCandidate } from '../replay/candidate.js';
import { ReplayError, type ReplayReport } from '../replay/replay.js';
import { formatReplay } from '../replay/report-text.js';
import { osActor } from '../store/open.js';
import { apiClientFor } from './api-client.js';
import { auditFileOf, dbUrlOf, type DbCliOptions } from './db-options.js';
import { UsageError } from './errors.js';
import { timeArg } from './hold.js';
import type { CommandIo } from './match.js';

interface ReplayCliOptions extends DbCliOptions {
  api?: string;
  config: string;
  from: number;
  to: number;
  purpose: string;
  case?: string;
  reason?: string;
  format: 'text' | 'json';
}

export function registerReplayCommand(program: Command, io: CommandIo): void {
  program
    .command('replay')
    .description('replay a candidate matching setting over the stored reads of a window against the recorded dispositions (audited)')
    .requiredOption('--config <file>', 'the candidate: a service configuration file (its hotlists and matching sections, matching.listMinScore included)')
    .requiredOption('--from <time>', 'first read time (ISO 8601 or epoch ms), inclusive', timeArg)
    .requiredOption('--to <time>', 'end of the window (ISO 8601 or epoch ms), exclusive', timeArg)
    .requiredOption('--purpose <code>', `purpose code: ${REPLAY_PURPOSE} (docs/replay.md)`)
    .option('--case <number>', 'case number')
    .option('--reason <text>', 'why; required when the window reaches reads older than one year')
    .addOption(new Option('--format <format>', 'text (a table by list) or json (the whole report)').choices(['text', 'json']).default('text'))
    .option('--api <url>', 'the operations API (default: the one you logged in to with platesieve login)')
    .option('--db <url>', 'PostgreSQL URL (or PLATESIEVE_DB_URL): direct access, for admins, audited as such')
    .option('--audit <file>', 'with --db: audit log (or PLATESIEVE_AUDIT_FILE); required: every replay is audited')
    .action(async (opts: ReplayCliOptions) => {
      if (opts.from >= opts.to) throw new UsageError('--from must be before --to');
      const logger = pino({ level: 'warn' }, pino.destination(2));
      let candidate;
      try {
        candidate = await loadCandidate(opts.config, logger);
      } catch (err) {
        if (err instanceof ConfigError) throw new UsageError(err.message, { cause: err });
        throw err;
      }
      const label = basename(opts.config);
      const client = apiClientFor(opts);
      let report: ReplayReport;
      let auditedAs: string;
      if (client !== undefined) {
        report = await client.request<ReplayReport>('POST', '/api/replay', {
          entries: candidate.entries, matching: candidate.matching, listMinScore: candidate.listMinScore, label,
          from: opts.from, to: opts.to, purpose: opts.purpose, case: opts.case, reason: opts.reason,
        });
        auditedAs = `${client.user ?? 'the session user'} (through ${client.base})`;
      } else {
        const actor = osActor();
        const pool = new pg.Pool({ connectionString: dbUrlOf(opts), max: 2, application_name: 'platesieve' });
        pool.on('error', () => undefined);
        const audit = await AuditLog.open(auditFileOf(opts), { actor });
        try {
          report = await auditedReplay(pool, audit, { actor, direct: true }, { candidate, from: opts.from, to: opts.to, purpose: opts.purpose, case: opts.case, reason: opts.reason, label });
        } catch (err) {
          if (err instanceof ReplayError && err.code !== 'REPLAY_NO_DISPOSITIONS') throw new UsageError(err.message, { cause: err });
          throw err;
        } finally {
          await audit.close();
          await pool.end();
        }
        auditedAs = `${actor} (direct database access)`;
      }
      io.stdout.write(opts.format === 'json' ? `${JSON.stringify(report)}\n` : `${formatReplay(report)}\n`);
      io.stderr.write(`replay: audited as ${auditedAs}\n`);
    });
}
