/**
 * The NATS connection flags shared by `platesieve serve` and `platesieve hotlist
 * add|cancel|remove|list`, and the CLI's connection: one definition, so an operator
 * authenticates the CLI exactly as the service does (flags, `PLATESIEVE_NATS_*`, or the `nats`
 * section of the configuration file). Passwords and tokens have no flag: a command line is
 * visible to every local user and kept in shell history.
 */
import { connect, type ConnectionOptions, type NatsConnection } from 'nats';
import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import type { NatsConfig } from '../service/config.js';
import { natsConnectionOptions } from '../service/connection.js';
import { loadNatsConfig } from '../service/nats-config.js';
import type { NatsFlags } from '../service/nats-sources.js';
import { redactText, redactUrl } from '../service/redact.js';
import { natsSecrets } from '../service/url-credentials.js';
import { UsageError } from './errors.js';

/** What commander parses from {@link addNatsOptions}' flags. */
export interface NatsCliOptions {
  nats?: string[];
  natsUser?: string;
  natsCreds?: string;
  natsNkeySeed?: string;
  natsCa?: string;
  natsCert?: string;
  natsKey?: string;
}

/** Help text on where secrets come from, for the commands that take {@link addNatsOptions}. */
export const NATS_SECRETS_HELP = `
NATS credentials come from the configuration file's nats section, these flags, or the
environment when neither sets them:
  PLATESIEVE_NATS_USER, PLATESIEVE_NATS_PASS, PLATESIEVE_NATS_TOKEN,
  PLATESIEVE_NATS_CREDS, PLATESIEVE_NATS_NKEY_SEED_FILE, PLATESIEVE_NATS_URL
A server URL may carry them too (nats://user:password@host:4222, nats://token@host:4222);
they are used to authenticate and never logged. Passwords and tokens have no flag.`;

function collect(value: string, previous: string[] | undefined): string[] {
  return previous === undefined ? [value] : [...previous, value];
}

/** Adds the NATS connection flags to a command. */
export function addNatsOptions(cmd: Command): Command {
  return cmd
    .option('--nats <url>', 'NATS server URL, repeatable or comma-separated (replaces nats.servers)', collect)
    .option('--nats-user <name>', 'NATS user (nats.user); the password from the file or PLATESIEVE_NATS_PASS')
    .option('--nats-creds <file>', 'NATS credentials file, user JWT and seed (nats.credsFile)')
    .option('--nats-nkey-seed <file>', 'file holding an nkey user seed (nats.nkeySeedFile)')
    .option('--nats-ca <file>', 'CA certificate(s) of the NATS servers; turns TLS on (nats.tls.caFile)')
    .option('--nats-cert <file>', 'client certificate for servers that verify clients (nats.tls.certFile)')
    .option('--nats-key <file>', "the client certificate's private key (nats.tls.keyFile)");
}

/** The flags as overrides of the `nats` section. */
export function natsFlagsOf(opts: NatsCliOptions): NatsFlags {
  return {
    servers: opts.nats,
    user: opts.natsUser,
    credsFile: opts.natsCreds,
    nkeySeedFile: opts.natsNkeySeed,
    caFile: opts.natsCa,
    certFile: opts.natsCert,
    keyFile: opts.natsKey,
  };
}

/**
 * Connects the CLI: the `nats` settings from `--config FILE`, the environment and the flags,
 * one attempt with a 5 s timeout. Every failure is a UsageError whose message names the
 * servers without credentials and never quotes a password or token.
 */
export async function connectCli(opts: NatsCliOptions & { config?: string }, name: string): Promise<NatsConnection> {
  let config: NatsConfig;
  let options: ConnectionOptions;
  try {
    config = loadNatsConfig(opts.config, natsFlagsOf(opts));
    options = natsConnectionOptions(config);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message, { cause: err });
    throw err;
  }
  const named = config.name === 'platesieve' ? name : config.name;
  try {
    return await connect({ ...options, name: named, waitOnFirstConnect: false, timeout: 5000 });
  } catch (err) {
    const servers = config.servers.map(redactUrl).join(', ');
    const message = redactText(err instanceof Error ? err.message : String(err), natsSecrets(config));
    throw new UsageError(`cannot connect to NATS at ${servers}: ${message}`);
  }
}
