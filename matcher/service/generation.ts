/**
 * Hotlist generations: one compiled version with its runner, entries and source ages, built
 * off the main thread (compile.ts), refused when it looks truncated, and audited when it goes
 * in force.
 */
import type { Logger } from 'pino';
import { HotlistRefusedError } from '../errors.js';
import type { MatcherOptions } from '../types.js';
import type { AuditLog } from '../audit/index.js';
import type { ServiceConfig } from './config.js';
import { loadOffThread, type EntryStore } from './compile.js';
import type { LoadedSource } from './hotlists.js';
import { createRunner, type BatchRunner } from './runner.js';
import type { CheckedLiveEntry } from './overlay.js';

/**
 * One hotlist version with everything that matches against it. A reload builds a new
 * generation beside the one in force and swaps it in between batches: a batch is matched,
 * finalized and published against the generation it started with, so no read is dropped,
 * none is matched against a half-built list, and every alert names its version.
 */
export interface Generation {
  version: string;
  entries: EntryStore;
  sources: LoadedSource[];
  refreshed: Map<string, number>;
  maxAge: Map<string, number>;
  runner: BatchRunner;
  inFlight: number;
  retired: boolean;
  loadedAt: number;
  /** Live entries compacted into this version, by id, with their KV revision. */
  compacted: Map<string, number>;
  /** File entries by the source they name (the same sources as `refreshed`). */
  sourceEntries: Map<string, number>;
}

/** What {@link loadGeneration} needs of the service. */
export interface GenerationDeps {
  config: ServiceConfig;
  logger: Logger;
  maxMessageBytes: number;
  maxOutputBytes: number;
  /** Live entries to compact into the version (already checked; lapsed ones left out). */
  liveEntries(): Promise<CheckedLiveEntry[]>;
  /** Entry ids cancelled live: left out of the version. */
  cancelled(): string[];
}

/** The matcher options of the service's configuration. */
export function matcherOptions(config: ServiceConfig): Omit<MatcherOptions, 'entries' | 'sourceRefreshedAt'> {
  const m = config.matching;
  return { tiers: m.tiers, listTiers: m.listTiers, maxDistance: m.maxDistance, stateMismatch: m.stateMismatch, minScore: m.minScore, ocrClasses: m.ocrClasses, partialOcr: m.partialOcr };
}

/**
 * Loads every source and builds a generation off the main thread. Refuses (throws) a load
 * whose file is refused by the loader (truncated, mostly invalid) or that keeps fewer than
 * `minRetainedFraction` of a source's entries in force.
 */
export async function loadGeneration(prev: Generation | undefined, deps: GenerationDeps): Promise<Generation> {
  const config = deps.config;
  const liveEntries = await deps.liveEntries();
  const loaded = await loadOffThread({
    sources: config.hotlists,
    options: matcherOptions(config),
    logLevel: config.log.level,
    live: liveEntries.map((x) => x.entry),
    cancelled: deps.cancelled(),
  });
  if (prev !== undefined) {
    for (const cfg of config.hotlists) {
      const before = prev.sources.find((x) => x.file === cfg.file);
      const after = loaded.sources.find((x) => x.file === cfg.file);
      if (before !== undefined && after !== undefined && after.entries < before.entries * cfg.minRetainedFraction) {
        throw new HotlistRefusedError(
          cfg.file,
          `${after.entries} entries, fewer than ${Math.round(cfg.minRetainedFraction * 100)}% of the ${before.entries} in force: looks truncated`,
        );
      }
    }
  }
  const snapshot = loaded.snapshot;
  const runner = createRunner(
    snapshot,
    { maxMessageBytes: deps.maxMessageBytes, maxOutputBytes: deps.maxOutputBytes, retention: config.retention, coalesceRecords: config.mode === 'core' && config.records.coalesce },
    config.pool.workers,
  );
  deps.logger.info({ stage: 'hotlist', entries: snapshot.stats.entries, bytes: snapshot.bytes.byteLength, buildMs: Math.round(snapshot.stats.buildTimeMs), version: snapshot.version }, 'hotlist compiled');
  return {
    version: snapshot.version,
    entries: loaded.entries,
    sources: loaded.sources,
    refreshed: new Map(loaded.refreshed),
    maxAge: new Map(loaded.maxAge),
    runner,
    inFlight: 0,
    retired: false,
    loadedAt: Date.now(),
    compacted: new Map(liveEntries.map((x) => [x.id, x.revision])),
    sourceEntries: new Map(loaded.sourceEntries),
  };
}

/** Hotlist loads are operator-visible actions: each goes to the audit log. */
export async function auditLoad(audit: AuditLog | undefined, logger: Logger, reason: string, gen: Generation, replaced?: string): Promise<void> {
  await audit
    ?.append({
      action: 'hotlist.load',
      reason,
      subject: { files: gen.sources.map((x) => x.file), count: gen.entries.length },
      details: { version: gen.version, replaced, sources: gen.sources.map((x) => ({ source: x.source, file: x.file, entries: x.entries, rejected: x.rejected })) },
    })
    .catch((err: unknown) => logger.error({ err }, 'audit log append failed'));
}
