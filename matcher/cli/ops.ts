/**
 * `platesieve ops --config FILE`: the operations API (docs/ops.md). The database comes from
 * --db, else PLATESIEVE_DB_URL, else the config's `store.db`; everything else from the `ops`,
 * `nats`, `liveUpdates` and `matching` sections.
 */
import { Command } from 'commander';
import { startOps } from '../ops/start.js';
import { daemonSetup, runUntilSignal, startDaemon, type DaemonOptions } from './daemon.js';
import type { CommandIo } from './match.js';
import { addNatsOptions } from './nats-options.js';

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
    .action(async (opts: DaemonOptions) => {
      const { config, url, logger } = daemonSetup(opts, 'platesieve-ops');
      const running = await startDaemon(logger, () => startOps(config, logger, { dbUrl: url }));
      io.stderr.write(`platesieve ops: listening on ${running.url}\n`);
      await runUntilSignal(logger, running);
    });
}
