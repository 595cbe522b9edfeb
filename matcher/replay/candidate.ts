/**
 * A replay candidate from a service configuration file: its `hotlists` loaded the way the
 * service loads them and its `matching` section, so that what is replayed is exactly what
 * `platesieve serve` would run with that file.
 */
import type { Logger } from 'pino';
import { loadServiceConfig } from '../service/config.js';
import { matcherOptions } from '../service/generation.js';
import { loadSources } from '../service/hotlists.js';
import type { ReplayCandidate } from './replay.js';

/**
 * Loads the candidate setting of a configuration file.
 * @throws ConfigError naming every bad key; the hotlist loader's errors for a refused file.
 */
export async function loadCandidate(file: string, logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<ReplayCandidate> {
  const config = loadServiceConfig(file, {}, env, { requireHotlists: true });
  const loaded = await loadSources(config.hotlists, logger);
  const candidate: ReplayCandidate = { entries: loaded.entries, matching: matcherOptions(config) };
  if (config.matching.listMinScore !== undefined) candidate.listMinScore = config.matching.listMinScore;
  return candidate;
}
