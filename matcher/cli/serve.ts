/**
 * `platesieve serve`: the service on NATS. Runs until SIGTERM or SIGINT, then stops
 * gracefully (no new reads, batches in flight finished and published, NATS drained).
 */
import { Command, InvalidArgumentError } from 'commander';
import { pino } from 'pino';
import { ConfigError, HotlistFileError } from '../errors.js';
import { loadServiceConfig, redactConfig, type ConfigOverrides } from '../service/config.js';
import { startService } from '../service/service.js';
import { UsageError } from './errors.js';
import type { CommandIo } from './match.js';
import { addNatsOptions, natsFlagsOf, NATS_SECRETS_HELP, type NatsCliOptions } from './nats-options.js';

interface ServeOptions extends NatsCliOptions {
  config?: string;
  hotlist?: string[];
  workers?: number;
  metricsPort?: number;
  logLevel?: string;
  mode?: string;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return previous === undefined ? [value] : [...previous, value];
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a whole number >= 0.');
  return n;
}

export function registerServeCommand(program: Command, io: CommandIo): void {
  // The NATS flags are shared with `platesieve hotlist add|cancel|remove|list` (nats-options.ts).
  addNatsOptions(
    program
      .command('serve')
      .description('run the matcher as a service on NATS: reads in on <prefix>.reads.>, alerts, records and dead letters out')
      .option('--config <file>', 'service configuration, YAML or JSON (docs/configuration.md); without it, defaults plus these flags'),
  )
    .option('--hotlist <file>', 'hotlist file, repeatable (replaces hotlists; source LOCAL)', collect)
    .option('--workers <n>', 'worker threads matching batches; 0 matches on the main thread (pool.workers)', nonNegativeInt)
    .option('--metrics-port <n>', 'port of /metrics and /healthz; 0 picks a free one (metrics.port)', nonNegativeInt)
    .option('--mode <mode>', 'core (at-most-once, lowest latency) or jetstream (durable, acknowledged after outputs are stored)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (log.level)')
    .addHelpText('after', `${NATS_SECRETS_HELP}
Logs are JSON lines (pino) on standard output. SIGTERM or SIGINT stops gracefully;
SIGHUP reloads every hotlist source now (a new version is also picked up when a file changes).`)
    .action(async (opts: ServeOptions) => {
      const overrides: ConfigOverrides = {
        nats: opts.nats,
        natsFlags: natsFlagsOf(opts),
        hotlists: opts.hotlist,
        workers: opts.workers,
        metricsPort: opts.metricsPort,
        logLevel: opts.logLevel,
        mode: opts.mode,
      };
      let config;
      try {
        config = loadServiceConfig(opts.config, overrides);
      } catch (err) {
        if (err instanceof ConfigError) throw new UsageError(err.message, { cause: err });
        throw err;
      }
      const logger = pino({ level: config.log.level, base: { service: 'platesieve' } });
      logger.info({ config: redactConfig(config) }, 'starting');
      let service;
      try {
        service = await startService(config, logger);
      } catch (err) {
        if (err instanceof HotlistFileError) throw new UsageError(err.message, { cause: err });
        logger.error({ err }, 'start failed');
        throw err;
      }
      await new Promise<void>((resolve) => {
        const stop = (signal: string): void => {
          logger.info({ signal }, 'signal received');
          process.removeAllListeners('SIGTERM');
          process.removeAllListeners('SIGINT');
          process.removeAllListeners('SIGHUP');
          service.stop().then(resolve, (err: unknown) => {
            logger.error({ err }, 'stop failed');
            resolve();
          });
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
        process.on('SIGHUP', () => void service.reload('SIGHUP'));
      });
      void io;
    });
}
