/**
 * The retention policies the store has kept records under, in `platesieve.policies`, and the
 * check that refuses a configuration which would shorten them: a period may grow, never shrink,
 * once records are stored under it, and never below the policy's minimum (El Centro: two years).
 */
import type { Pool } from 'pg';
import { ConfigError } from '../errors.js';
import type { ServiceConfig } from '../service/config.js';
import { SCHEMA } from './schema.js';
import type { Minimums } from './rows.js';

/** One configured policy, by name. */
export interface PolicyPeriods {
  policy: string;
  nonhitDays: number;
  hitDays: number;
  minimumDays: number;
  basis: string;
  /** Where in the configuration it comes from (`retention.default`, `retention.agencies.X`). */
  key: string;
}

/** The distinct policies of a configuration. */
export function configuredPolicies(config: ServiceConfig): PolicyPeriods[] {
  const out = new Map<string, PolicyPeriods>();
  const all: Array<[string, ServiceConfig['retention']['default']]> = [['retention.default', config.retention.default], ...Object.entries(config.retention.agencies).map(([k, v]) => [`retention.agencies.${k}`, v] as [string, typeof v])];
  for (const [key, p] of all) {
    if (out.has(p.policy)) continue;
    out.set(p.policy, { policy: p.policy, nonhitDays: p.nonhitDays, hitDays: p.hitDays, minimumDays: p.minimumDays ?? 0, basis: p.basis, key });
  }
  return [...out.values()];
}

/** Minimum days by policy name, for the row builders. */
export function minimumsOf(policies: readonly PolicyPeriods[]): Minimums {
  return new Map(policies.filter((p) => p.minimumDays > 0).map((p) => [p.policy, p.minimumDays]));
}

/**
 * Refuses a configuration that shortens a period records are already stored under, or lowers a
 * minimum; then records the configured periods. Throws ConfigError naming the rule broken.
 */
export async function checkAndRecordPolicies(pool: Pool, policies: readonly PolicyPeriods[]): Promise<void> {
  const { rows } = await pool.query<{ policy: string; nonhit_days: number; hit_days: number; minimum_days: number; basis: string }>(
    `SELECT policy, nonhit_days, hit_days, minimum_days, basis FROM ${SCHEMA}.policies`,
  );
  const stored = new Map(rows.map((r) => [r.policy, r]));
  const problems: string[] = [];
  for (const p of policies) {
    const was = stored.get(p.policy);
    if (was === undefined) continue;
    if (p.minimumDays < was.minimum_days) {
      problems.push(`${p.key}.minimumDays: ${p.minimumDays} lowers the minimum of policy "${p.policy}" from ${was.minimum_days} days (${was.basis}); a minimum period can never be shortened`);
    }
    const { rows: held } = await pool.query(`SELECT 1 FROM ${SCHEMA}.reads WHERE policy = $1 LIMIT 1`, [p.policy]);
    if (held.length === 0) continue;
    for (const [k, col] of [['nonhitDays', 'nonhit_days'], ['hitDays', 'hit_days']] as const) {
      if (p[k] < was[col]) {
        problems.push(`${p.key}.${k}: ${p[k]} days would shorten the ${was[col]} days of the records stored under policy "${p.policy}" (${was.basis}); keep the period, or give the new period a new policy name`);
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(problems[0].split(':')[0], `config: refused by the store: ${problems.join('; ')}`);
  for (const p of policies) {
    const was = stored.get(p.policy);
    await pool.query(
      `INSERT INTO ${SCHEMA}.policies (policy, nonhit_days, hit_days, minimum_days, basis) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (policy) DO UPDATE SET nonhit_days = $2, hit_days = $3,
         minimum_days = $4, basis = $5, updated_at = now()`,
      [p.policy, Math.ceil(p.nonhitDays), Math.ceil(p.hitDays), Math.ceil(Math.max(p.minimumDays, was?.minimum_days ?? 0)), p.basis],
    );
  }
}
