/**
 * The `nats` section alone, for commands that talk to NATS without running the service
 * (`platesieve hotlist add|cancel|remove|list`): read from the same configuration file as
 * `platesieve serve`, with the same `${VAR}` expansion, environment variables and flags, so
 * an operator points the CLI at the service's file (or a copy of its `nats` section) and
 * authenticates the same way. The other sections of the file are not read: the CLI does not
 * need them and must not fail on them.
 */
import { dirname, resolve } from 'node:path';
import type { ConfigIssue } from '../errors.js';
import { expandVars, fail, formatIssue, natsSchema, readConfigFile, type NatsConfig } from './config.js';
import { applyNatsSources, resolveNatsPaths, type NatsFlags } from './nats-sources.js';

/**
 * Loads and validates the NATS connection settings: defaults < the file's `nats` section <
 * `PLATESIEVE_NATS_*` (keys the file leaves unset) < flags.
 * @param file the service configuration file (YAML or JSON), or undefined.
 * @throws ConfigError naming every bad `nats.*` key.
 */
export function loadNatsConfig(file: string | undefined, flags: NatsFlags = {}, env: NodeJS.ProcessEnv = process.env): NatsConfig {
  const cwd = process.cwd();
  const configFile = file === undefined ? undefined : resolve(cwd, file);
  const issues: ConfigIssue[] = [];
  const fromFile = configFile === undefined ? {} : readConfigFile(configFile);
  const section = fromFile.nats === undefined ? {} : expandVars(fromFile.nats, ['nats'], env, issues);
  const isObject = typeof section === 'object' && section !== null && !Array.isArray(section);
  if (isObject) applyNatsSources(section as Record<string, unknown>, flags, env, cwd);
  const parsed = natsSchema.safeParse(section, { reportInput: true });
  if (!parsed.success) for (const issue of parsed.error.issues) issues.push(...formatIssue({ ...issue, path: ['nats', ...issue.path] }));
  if (issues.length > 0 || !parsed.success) fail(issues);
  const base = configFile === undefined ? cwd : dirname(configFile);
  const nats: NatsConfig = resolveNatsPaths(parsed.data, base);
  // Keys left unset stay absent, as in loadServiceConfig, so `'pass' in config` means "given".
  for (const key of Object.keys(nats) as Array<keyof NatsConfig>) if (nats[key] === undefined) delete nats[key];
  return nats;
}
