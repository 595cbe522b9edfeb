/**
 * `platesieve store --config FILE` (the records store), `platesieve store migrate` and
 * `platesieve store retention [--dry-run]`. The database comes from --db, else
 * PLATESIEVE_DB_URL, else the config's `store.db`.
 */
import { Command } from 'commander';
import { pino } from 'pino';
import { ConfigError } from '../errors.js';
import { loadServiceConfig, redactConfig, type ServiceConfig } from '../service/config.js';
import { redactUrl } from '../service/redact.js';
import { startStore } from '../store/service.js';
import { formatRetention } from '../store/retention.js';
import { openStore } from '../store/open.js';
import { UsageError } from './errors.js';
import type { CommandIo } from './match.js';
import { addNatsOptions, natsFlagsOf, type NatsCliOptions } from './nats-options.js';
import { auditFileOf, dbUrlOf, type DbCliOptions } from './db-options.js';

interface StoreOptions extends NatsCliOptions, DbCliOptions {
  config?: string;
  logLevel?: string;
}

function loadConfig(opts: StoreOptions): ServiceConfig {
  try {
    return loadServiceConfig(opts.config, { nats: opts.nats, natsFlags: natsFlagsOf(opts), logLevel: opts.logLevel }, process.env, { requireHotlists: false });
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message, { cause: err });
    throw err;
  }
}

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
    .action(async (opts: StoreOptions) => {
      const config = loadConfig(opts);
      const url = dbUrlOf(opts, config.store.db);
      const logger = pino({ level: config.log.level, base: { service: 'platesieve-store' } });
      logger.info({ config: redactConfig(config), db: redactUrl(url) }, 'starting');
      let running;
      try {
        running = await startStore(config, logger, { dbUrl: url });
      } catch (err) {
        if (err instanceof ConfigError) throw new UsageError(err.message, { cause: err });
        logger.error({ err }, 'start failed');
        throw err;
      }
      const failure = await new Promise<Error | undefined>((resolve) => {
        const stop = (signal: string): void => {
          logger.info({ signal }, 'signal received');
          running.stop().then(() => resolve(undefined), (err: unknown) => resolve(err as Error));
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
        void running.closed.then((err) => err !== undefined && resolve(err));
      });
      if (failure !== undefined) throw failure;
      void io;
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
