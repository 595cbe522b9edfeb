/**
 * What the long-running commands backed by PostgreSQL (`store`, `ops`) share: loading the
 * service's configuration without requiring hotlists, and running until a signal or a fatal
 * error with a graceful stop. One place, so both handle a bad config and SIGTERM the same way.
 */
import { pino, type Logger } from 'pino';
import { ConfigError } from '../errors.js';
import { loadServiceConfig, redactConfig, type ServiceConfig } from '../service/config.js';
import { redactUrl } from '../service/redact.js';
import { dbUrlOf, type DbCliOptions } from './db-options.js';
import { UsageError } from './errors.js';
import { natsFlagsOf, type NatsCliOptions } from './nats-options.js';

/** Options of a daemon command. */
export interface DaemonOptions extends NatsCliOptions, DbCliOptions {
  config?: string;
  logLevel?: string;
}

/** Something started that can be stopped, and may stop on its own. */
export interface Stoppable {
  stop(): Promise<void>;
  /** Resolves with the error that stopped it on its own. */
  closed?: Promise<Error | undefined>;
}

/** The configuration (bad values are usage errors), its database URL and a logger named `service`. */
export function daemonSetup(opts: DaemonOptions, service: string): { config: ServiceConfig; url: string; logger: Logger } {
  let config: ServiceConfig;
  try {
    config = loadServiceConfig(opts.config, { nats: opts.nats, natsFlags: natsFlagsOf(opts), logLevel: opts.logLevel }, process.env, { requireHotlists: false });
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message, { cause: err });
    throw err;
  }
  const url = dbUrlOf(opts, config.store.db);
  const logger = pino({ level: config.log.level, base: { service } });
  logger.info({ config: redactConfig(config), db: redactUrl(url) }, 'starting');
  return { config, url, logger };
}

/** Starts with `start`, turning a configuration error found while starting into a usage error. */
export async function startDaemon<T>(logger: Logger, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message, { cause: err });
    logger.error({ err }, 'start failed');
    throw err;
  }
}

/** Runs until SIGTERM or SIGINT (then stops gracefully) or a fatal error; throws that error. */
export async function runUntilSignal(logger: Logger, running: Stoppable): Promise<void> {
  const failure = await new Promise<Error | undefined>((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ signal }, 'signal received');
      running.stop().then(() => resolve(undefined), (err: unknown) => resolve(err as Error));
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    void running.closed?.then((err) => err !== undefined && resolve(err));
  });
  logger.info('stopped');
  if (failure !== undefined) throw failure;
}
