/**
 * createMatcher: compiles a hotlist into the WebAssembly core and matches reads against it
 * in batches. The per-read host work is validation and packing; everything that allocates
 * (alerts, scores, strings) happens only for hits and invalid reads.
 */
import { randomUUID } from 'node:crypto';
import { InvalidReadError, OptionsError } from './errors.js';
import type {
  Alert, BatchResult, HotlistEntry, Matcher, MatcherOptions, MatcherSnapshot, MatcherStats, PlateRead,
} from './types.js';
import { resolveOptions, settingsOf, type ResolvedOptions } from './options.js';
import { compileHotlist, header, loadSnapshot, type CompiledHotlist } from './core/compile.js';
import { StateCodes } from './core/codes.js';
import { buildAlert, entryIdOf, type AlertContext } from './alerts.js';
import { HitMatcher, readIdOf, type Hit } from './hits.js';

class WasmMatcher implements Matcher {
  private readonly opts: ResolvedOptions;
  private readonly entries: readonly HotlistEntry[];
  private readonly compiled: CompiledHotlist;
  private readonly hitMatcher: HitMatcher;
  private readonly builtAt = Date.now();
  private prefilterRate: number | undefined;
  /**
   * 1 where an entry's own `id` is its alerts' entryId, checked once here: on a big list the
   * id strings are scattered over the heap and reading one per alert is a cache miss each.
   */
  private readonly ownId: Uint8Array;
  /** Sink of a gathering loop in alertsOf (keeps its loads from being optimized away). */
  private touched = 0;

  constructor(opts: ResolvedOptions, entries: readonly HotlistEntry[], compiled: CompiledHotlist) {
    this.opts = opts;
    this.entries = entries;
    this.compiled = compiled;
    this.hitMatcher = new HitMatcher(opts, compiled);
    this.ownId = new Uint8Array(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const id = entries[i]?.id;
      if (typeof id === 'string' && id !== '') this.ownId[i] = 1;
    }
  }

  match(read: PlateRead): Alert[] {
    const { alerts, invalid } = this.matchBatch([read]);
    if (invalid.length > 0) {
      const bad = invalid[0];
      throw new InvalidReadError(bad.code, bad.reason, bad.readId);
    }
    return alerts;
  }

  matchBatch(reads: readonly PlateRead[]): BatchResult {
    const { hits, invalid } = this.hitMatcher.match(reads);
    return { alerts: this.alertsOf(reads, hits), invalid };
  }

  /** Alert objects of hits (grouped by read, as HitMatcher returns them). */
  alertsOf(reads: readonly PlateRead[], hits: readonly Hit[]): Alert[] {
    const alerts: Alert[] = [];
    if (hits.length === 0) return alerts;
    const refreshed = this.opts.sourceRefreshedAt;
    const ctx: AlertContext = {
      hotlistVersion: this.compiled.version,
      now: Date.now(),
      // Without per-source times, no lookup: it would read each entry's source string.
      refreshedAt: refreshed.size === 0 ? () => this.builtAt : (source) => (source !== undefined ? refreshed.get(source) : undefined) ?? this.builtAt,
    };
    // What the alerts read from the reads, entries and ids, gathered first, each in a loop
    // that does nothing else: on a big batch or list they are scattered over the heap, and
    // loops this small keep many of their cache misses in flight at once instead of taking
    // one after the other in the alert loop.
    const readIds: string[] = [];
    let lastRead = -1;
    let plateChars = 0;
    for (let i = 0; i < hits.length; i++) {
      const hit = hits[i];
      if (hit.read !== lastRead) {
        lastRead = hit.read;
        readIds.push(readIdOf(reads[hit.read]) ?? randomUUID());
        // The matched plate is often the read's own string, which verifyText concatenates.
        plateChars += hit.matchedPlate.length;
      }
    }
    this.touched = plateChars;
    const entries = this.entries;
    const ownId = this.ownId;
    const entryOf: HotlistEntry[] = new Array<HotlistEntry>(hits.length);
    const entryIds: string[] = new Array<string>(hits.length);
    for (let i = 0; i < hits.length; i++) {
      const index = hits[i].entry;
      const entry = entries[index];
      entryOf[i] = entry;
      entryIds[i] = ownId[index] === 1 ? (entry.id as string) : entryIdOf(entry, index);
    }
    lastRead = -1;
    let k = -1;
    for (let i = 0; i < hits.length; i++) {
      const hit = hits[i];
      if (hit.read !== lastRead) {
        lastRead = hit.read;
        k++;
      }
      alerts.push(buildAlert(reads[hit.read], readIds[k], entryOf[i], hit.entry, hit, ctx, entryIds[i]));
    }
    return alerts;
  }

  stats(): MatcherStats {
    const c = this.compiled;
    this.prefilterRate ??= this.hitMatcher.measurePrefilter();
    return {
      entries: c.entries,
      duplicatesMerged: c.duplicatesMerged,
      junkSkipped: c.junkSkipped,
      fuzzyEntries: c.fuzzyEntries,
      partialEntries: c.partialEntries,
      fuzzyKeys: c.fuzzyKeys,
      memoryBytes: c.size + (c.patterns?.size ?? 0),
      coreMemoryBytes: c.core.memory.buffer.byteLength,
      bytesPerEntry: c.entries > 0 ? c.size / c.entries : 0,
      buildTimeMs: c.buildTimeMs,
      prefilterBits: c.prefilterBits,
      prefilterFalsePositiveRate: this.prefilterRate,
      hotlistVersion: c.version,
    };
  }

  snapshot(): MatcherSnapshot {
    return snapshotOf(this.compiled, this.opts);
  }

  /** @internal For benchmarks: a batch's scored hits without their alert objects; returns their number. */
  matchHits(reads: readonly PlateRead[]): number {
    return this.hitMatcher.match(reads).hits.length;
  }

  /** @internal For benchmarks: the batch crossing with no work. */
  emptyCall(n: number): number {
    return this.hitMatcher.emptyCall(n);
  }
}

/** The snapshot of a compiled hotlist. */
export function snapshotOf(c: CompiledHotlist, opts: ResolvedOptions): MatcherSnapshot {
  return {
    format: 1,
    bytes: new Uint8Array(c.core.memory.buffer.slice(c.base, c.base + c.size)),
    patterns: c.patterns === undefined ? undefined : new Uint8Array(c.core.memory.buffer.slice(c.patterns.base, c.patterns.base + c.patterns.size)),
    partials: c.partials,
    version: c.version,
    states: c.states.toJSON(),
    settings: settingsOf(opts),
    stats: {
      entries: c.entries,
      duplicatesMerged: c.duplicatesMerged,
      junkSkipped: c.junkSkipped,
      fuzzyEntries: c.fuzzyEntries,
      partialEntries: c.partialEntries,
      fuzzyKeys: c.fuzzyKeys,
      prefilterBits: c.prefilterBits,
      buildTimeMs: c.buildTimeMs,
    },
  };
}


/**
 * Compiles `options.entries` into a matcher. Throws {@link OptionsError} on bad options and
 * {@link InvalidEntryError} on a malformed entry (load hotlist files with
 * `loadHotlistFile`, which reports bad rows with their line numbers instead).
 */
export function createMatcher(options: MatcherOptions): Matcher {
  const opts = resolveOptions(options);
  return new WasmMatcher(opts, options.entries, compileHotlist(options.entries, opts));
}

/**
 * Instantiates a matcher from a snapshot made by {@link Matcher.snapshot}, in this thread or
 * another, without recompiling the hotlist. `entries` must be the list the snapshot was
 * built from (alerts take their fields from it).
 */
export function createMatcherFromSnapshot(snapshot: MatcherSnapshot, entries: readonly HotlistEntry[]): Matcher {
  const { opts, compiled } = attachSnapshot(snapshot, entries);
  return new WasmMatcher(opts, entries, compiled);
}

/** A hit-level matcher on a snapshot: what a worker thread runs (no entries needed). */
export function createHitMatcherFromSnapshot(snapshot: MatcherSnapshot): HitMatcher {
  const { opts, compiled } = attachSnapshot(snapshot, []);
  return new HitMatcher(opts, compiled);
}

function attachSnapshot(snapshot: MatcherSnapshot, entries: readonly HotlistEntry[]): { opts: ResolvedOptions; compiled: CompiledHotlist } {
  if (snapshot?.format !== 1 || !(snapshot.bytes instanceof Uint8Array)) {
    throw new OptionsError('snapshot', 'must be a snapshot made by matcher.snapshot()');
  }
  const opts = resolveOptions({ entries, ...snapshot.settings, hotlistVersion: snapshot.version });
  const { core, base, size, patterns } = loadSnapshot(snapshot.bytes, snapshot.patterns);
  if (header(core, base, 1) - snapshot.stats.duplicatesMerged !== snapshot.stats.entries) {
    throw new OptionsError('snapshot', 'header does not agree with its stats');
  }
  const compiled: CompiledHotlist = {
    ...snapshot.stats,
    core,
    base,
    size,
    patterns,
    partials: snapshot.partials ?? [],
    states: StateCodes.from(snapshot.states),
    version: snapshot.version,
  };
  return { opts, compiled };
}
