/**
 * `platesieve store --config FILE` (the records store), `platesieve store migrate` and
 * `platesieve store retention [--dry-run]`. The database comes from --db, else
 * PLATESIEVE_DB_URL, else the config's `store.db`.
 */
import { Command } from 'commander';
import { startStore } from '../store/service.js';
import { formatRetention } from '../store/retention.js';
import { openStore } from '../store/open.js';
import { daemonSetup, runUntilSignal, startDaemon, type DaemonOptions } from './daemon.js';
import type { CommandIo } from './match.js';
import { addNatsOptions } from './nats-options.js';
import { auditFileOf, dbUrlOf, type DbCliOptions } from './db-options.js';

export function registerStoreCommand(program: Command, io: CommandIo): void {
  const store = addNatsOptions(
    program
      .command('store')
      .description('keep records, alerts and dead letters in PostgreSQL: durable JetStream consumers, retention by the database (docs/store.md)')
      .option('--config <file>', 'configuration file (the service\'s, with its store, retention and matching sections)')
      .option('--db <url>', 'PostgreSQL URL (or PLATESIEVE_DB_URL, or store.db in the config)')
      .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (log.level)'),
  )
    .addHelpText('after', '\nLogs are JSON lines (pino) on standard output. SIGTERM or SIGINT stops gracefully: what was received is written and acknowledged first.')
    .action(async (opts: DaemonOptions) => {
      const { config, url, logger } = daemonSetup(opts, 'platesieve-store');
      const running = await startDaemon(logger, () => startStore(config, logger, { dbUrl: url }));
      await runUntilSignal(logger, running);
    });

  store
    .command('migrate')
    .description('create or upgrade the store schema (also done when `store` starts)')
    .option('--db <url>', 'PostgreSQL URL (or PLATESIEVE_DB_URL)')
    .action(async (_opts: DbCliOptions, cmd: Command) => {
      // --db may land on `store` itself (it has the flag too): take it from either.
      const opts = cmd.optsWithGlobals<DbCliOptions>();
      const s = await openStore({ url: dbUrlOf(opts), audit: '' });
      try {
        const r = await s.migrate();
        io.stdout.write(r.applied.length === 0 ? `schema at version ${r.to}: nothing to do\n` : `schema migrated from version ${r.from} to ${r.to}: ${r.applied.map((a) => `${a.version} (${a.name})`).join(', ')}\n`);
      } finally {
        await s.close();
      }
    });

  store
    .command('retention')
    .description('delete every stored record, alert and dead letter whose day is past (held records are kept as evidence); audited')
    .option('--db <url>', 'PostgreSQL URL (or PLATESIEVE_DB_URL)')
    .option('--audit <file>', 'audit log (or PLATESIEVE_AUDIT_FILE); required: every run is audited')
    .option('--dry-run', 'count what would be deleted, delete nothing')
    .option('--json', 'print the report as JSON')
    .action(async (_opts: DbCliOptions, cmd: Command) => {
      const opts = cmd.optsWithGlobals<DbCliOptions & { dryRun?: boolean; json?: boolean }>();
      const s = await openStore({ url: dbUrlOf(opts), audit: auditFileOf(opts) });
      try {
        const r = await s.retention.run({ dryRun: opts.dryRun === true });
        io.stdout.write(opts.json === true ? `${JSON.stringify(r)}\n` : formatRetention(r));
      } finally {
        await s.close();
      }
    });
}
