/**
 * Validation of {@link MatcherOptions}: once, at build, with messages that name the key and
 * the expected value, so the hot path never re-checks anything.
 */
import { OptionsError } from './errors.js';
import { DEFAULT_OCR_CLASSES } from './core/plate.js';
import { MATCH_TIERS, type MatchTier, type MatcherOptions, type SnapshotSettings, type StateMismatchPolicy } from './types.js';

/** Tiers of a list that `listTiers` does not name. */
export const DEFAULT_TIERS: readonly MatchTier[] = ['exact', 'ocr'];
export const DEFAULT_MAX_DISTANCE = 1;
export const DEFAULT_PREFILTER_FP_RATE = 0.01;

/** Options after validation, with defaults applied. */
export interface ResolvedOptions {
  tiers?: readonly MatchTier[];
  listTiers: ReadonlyMap<string, readonly MatchTier[]>;
  ocrClasses: readonly string[];
  maxDistance: number;
  stateMismatch: StateMismatchPolicy;
  prefilterFalsePositiveRate: number;
  prefilter: boolean;
  hotlistVersion?: string;
  sourceRefreshedAt: ReadonlyMap<string, number>;
  minScore: number;
  partialOcr: boolean;
}

function checkTiers(key: string, value: unknown): readonly MatchTier[] {
  if (!Array.isArray(value)) throw new OptionsError(key, `must be an array of tier names (${MATCH_TIERS.join(', ')})`);
  for (const t of value) {
    if (!MATCH_TIERS.includes(t as MatchTier)) {
      throw new OptionsError(key, `has unknown tier ${JSON.stringify(t)} (expected one of ${MATCH_TIERS.join(', ')})`);
    }
  }
  return value as MatchTier[];
}

function checkClasses(value: unknown): readonly string[] {
  if (!Array.isArray(value)) throw new OptionsError('ocrClasses', 'must be an array of strings such as "0ODQ"');
  const seen = new Set<string>();
  for (const cls of value) {
    if (typeof cls !== 'string' || !/^[A-Z0-9]{2,36}$/.test(cls)) {
      throw new OptionsError('ocrClasses', `has ${JSON.stringify(cls)}: each class is 2 or more of A-Z0-9`);
    }
    for (const ch of cls) {
      if (seen.has(ch)) throw new OptionsError('ocrClasses', `puts ${JSON.stringify(ch)} in more than one class`);
      seen.add(ch);
    }
  }
  return value as string[];
}

/** Validates and resolves options; throws {@link OptionsError}. */
export function resolveOptions(options: MatcherOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new OptionsError('', 'must be an object');
  if (!Array.isArray(options.entries)) throw new OptionsError('entries', 'must be an array of hotlist entries');
  const tiers = options.tiers === undefined ? undefined : checkTiers('tiers', options.tiers);
  const listTiers = new Map<string, readonly MatchTier[]>();
  if (options.listTiers !== undefined) {
    if (typeof options.listTiers !== 'object' || options.listTiers === null) {
      throw new OptionsError('listTiers', 'must be an object mapping list types to tier arrays');
    }
    for (const [list, value] of Object.entries(options.listTiers)) {
      listTiers.set(list, checkTiers(`listTiers.${list}`, value));
    }
  }
  const maxDistance = options.maxDistance ?? DEFAULT_MAX_DISTANCE;
  if (!Number.isInteger(maxDistance) || maxDistance < 0 || maxDistance > 2) {
    throw new OptionsError('maxDistance', `must be an integer from 0 to 2 (got ${String(maxDistance)})`);
  }
  const stateMismatch = options.stateMismatch ?? 'reject';
  if (stateMismatch !== 'reject' && stateMismatch !== 'match') {
    throw new OptionsError('stateMismatch', `must be "reject" or "match" (got ${JSON.stringify(stateMismatch)})`);
  }
  const fp = options.prefilterFalsePositiveRate ?? DEFAULT_PREFILTER_FP_RATE;
  if (typeof fp !== 'number' || !(fp > 0 && fp < 0.5)) {
    throw new OptionsError('prefilterFalsePositiveRate', `must be a number above 0 and below 0.5 (got ${String(fp)})`);
  }
  const prefilter = options.prefilter ?? true;
  if (typeof prefilter !== 'boolean') throw new OptionsError('prefilter', 'must be a boolean');
  const minScore = options.minScore ?? 0;
  if (typeof minScore !== 'number' || !(minScore >= 0 && minScore <= 1)) {
    throw new OptionsError('minScore', `must be a number from 0 to 1 (got ${String(minScore)})`);
  }
  const partialOcr = options.partialOcr ?? false;
  if (typeof partialOcr !== 'boolean') throw new OptionsError('partialOcr', 'must be a boolean');
  if (options.hotlistVersion !== undefined && typeof options.hotlistVersion !== 'string') {
    throw new OptionsError('hotlistVersion', 'must be a string');
  }
  const refreshed = new Map<string, number>();
  for (const [source, at] of Object.entries(options.sourceRefreshedAt ?? {})) {
    if (typeof at !== 'number' || !Number.isFinite(at)) {
      throw new OptionsError(`sourceRefreshedAt.${source}`, 'must be epoch milliseconds');
    }
    refreshed.set(source, at);
  }
  return {
    tiers,
    listTiers,
    ocrClasses: options.ocrClasses === undefined ? DEFAULT_OCR_CLASSES : checkClasses(options.ocrClasses),
    maxDistance,
    stateMismatch,
    prefilterFalsePositiveRate: fp,
    prefilter,
    hotlistVersion: options.hotlistVersion,
    sourceRefreshedAt: refreshed,
    minScore,
    partialOcr,
  };
}

/** Tiers that apply to a list under these options. */
export function tiersForList(opts: ResolvedOptions, list: string): readonly MatchTier[] {
  return opts.tiers ?? opts.listTiers.get(list) ?? DEFAULT_TIERS;
}

/** Settings as plain data, for a snapshot. */
export function settingsOf(opts: ResolvedOptions): SnapshotSettings {
  return {
    tiers: opts.tiers ? [...opts.tiers] : undefined,
    listTiers: Object.fromEntries([...opts.listTiers].map(([k, v]) => [k, [...v]])),
    ocrClasses: [...opts.ocrClasses],
    maxDistance: opts.maxDistance,
    stateMismatch: opts.stateMismatch,
    prefilterFalsePositiveRate: opts.prefilterFalsePositiveRate,
    prefilter: opts.prefilter,
    sourceRefreshedAt: Object.fromEntries(opts.sourceRefreshedAt),
    minScore: opts.minScore,
    partialOcr: opts.partialOcr,
  };
}
