/**
 * `platesieve ops --config FILE`: the operations API (docs/ops.md). The database comes from
 * --db, else PLATESIEVE_DB_URL, else the config's `store.db`; everything else from the `ops`,
 * `nats`, `liveUpdates` and `matching` sections.
 */
import { Command } from 'commander';
import { pino } from 'pino';
import { ConfigError } from '../errors.js';
import { startOps } from '../ops/start.js';
import { loadServiceConfig, redactConfig, type ServiceConfig } from '../service/config.js';
import { redactUrl } from '../service/redact.js';
import { dbUrlOf } from './db-options.js';
import { UsageError } from './errors.js';
import type { CommandIo } from './match.js';
import { addNatsOptions, natsFlagsOf, type NatsCliOptions } from './nats-options.js';

interface OpsOptions extends NatsCliOptions {
  config?: string;
  db?: string;
  logLevel?: string;
}

function loadConfig(opts: OpsOptions): ServiceConfig {
  try {
    return loadServiceConfig(opts.config, { nats: opts.nats, natsFlags: natsFlagsOf(opts), logLevel: opts.logLevel }, process.env, { requireHotlists: false });
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message, { cause: err });
    throw err;
  }
}

export function registerOpsCommand(program: Command, io: CommandIo): void {
  addNatsOptions(
    program
      .command('ops')
      .description('serve the operations API: logins, roles, search, holds, live hotlist entries, accounts, the audit log (docs/ops.md)')
      .option('--config <file>', "configuration file (the service's, with its ops, store, nats and matching sections)")
      .option('--db <url>', 'PostgreSQL URL (or PLATESIEVE_DB_URL, or store.db in the config)')
      .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (log.level)'),
  )
    .addHelpText('after', '\nLogs are JSON lines (pino) on standard output. SIGTERM or SIGINT stops gracefully: requests in flight finish first.')
    .action(async (opts: OpsOptions) => {
      const config = loadConfig(opts);
      const url = dbUrlOf(opts, config.store.db);
      const logger = pino({ level: config.log.level, base: { service: 'platesieve-ops' } });
      logger.info({ config: redactConfig(config), db: redactUrl(url) }, 'starting');
      let running;
      try {
        running = await startOps(config, logger, { dbUrl: url });
      } catch (err) {
        if (err instanceof ConfigError) throw new UsageError(err.message, { cause: err });
        logger.error({ err }, 'start failed');
        throw err;
      }
      io.stderr.write(`platesieve ops: listening on ${running.url}\n`);
      const failure = await new Promise<Error | undefined>((resolve) => {
        const stop = (signal: string): void => {
          logger.info({ signal }, 'signal received');
          running.stop().then(() => resolve(undefined), (err: unknown) => resolve(err as Error));
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
      logger.info('stopped');
      if (failure !== undefined) throw failure;
    });
}
