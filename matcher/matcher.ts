/**
 * createMatcher: compiles a hotlist into the WebAssembly core and matches reads against it
 * in batches. The per-read host work is validation and packing; everything that allocates
 * (alerts, scores, strings) happens only for hits and invalid reads.
 */
import { randomUUID } from 'node:crypto';
import { InvalidReadError, OptionsError } from './errors.js';
import type {
  Alert, BatchResult, HotlistEntry, InvalidRead, InvalidReadCode, Matcher, MatcherOptions,
  MatcherSnapshot, MatcherStats, MatchTier, PlateRead,
} from './types.js';
import { resolveOptions, settingsOf, type ResolvedOptions } from './options.js';
import { compileHotlist, header, loadSnapshot, type CompiledHotlist } from './core/compile.js';
import { BatchBridge } from './core/batch.js';
import { StateCodes, TIER_BY_BIT } from './core/codes.js';
import { normalizePlate, ocrClassMap } from './core/plate.js';
import { STATUS_OK, STATUS_EMPTY, STATUS_TOO_LONG } from './core/wasm.js';
import { buildAlert, scoreHit, type AlertContext } from './alerts.js';

const STATUS_CODES: Readonly<Record<number, InvalidReadCode>> = {
  [STATUS_EMPTY]: 'EMPTY_PLATE',
  [STATUS_TOO_LONG]: 'PLATE_TOO_LONG',
};

function invalidReason(code: InvalidReadCode, plate: unknown): string {
  if (typeof plate === 'string') {
    const n = normalizePlate(plate);
    if (!n.ok) return n.reason;
  }
  switch (code) {
    case 'NOT_AN_OBJECT': return 'read is not an object';
    case 'MISSING_PLATE': return 'read has no plate string';
    default: return code;
  }
}

/** Validates the optional fields the matcher reads; returns a reason or undefined. */
function badField(read: PlateRead): string | undefined {
  const c = read.confidence;
  if (c !== undefined && (typeof c !== 'number' || !(c >= 0 && c <= 1))) return 'confidence must be a number from 0 to 1';
  const s = read.state;
  if (s !== undefined && s !== null && typeof s !== 'string') return 'state must be a string';
  const ts = read.ts;
  if (ts !== undefined && typeof ts !== 'number' && (typeof ts !== 'string' || Number.isNaN(Date.parse(ts)))) {
    return 'ts must be epoch milliseconds or an ISO 8601 string';
  }
  const cands = read.candidates;
  if (cands !== undefined && !Array.isArray(cands)) return 'candidates must be an array of {plate, confidence}';
  return undefined;
}

interface Hit {
  read: number;
  entry: number;
  tier: MatchTier;
  distance: number;
  score: number;
  matchedPlate: string;
  stateMismatch: boolean;
}

class WasmMatcher implements Matcher {
  private readonly opts: ResolvedOptions;
  private readonly entries: readonly HotlistEntry[];
  private readonly compiled: CompiledHotlist;
  private readonly bridge: BatchBridge;
  private readonly classMap: ReadonlyMap<string, string>;
  private readonly builtAt = Date.now();
  // Per batch, by query index: the read it belongs to and which candidate (-1: the plate).
  private readonly qRead: Int32Array;
  private readonly qCand: Int32Array;

  constructor(opts: ResolvedOptions, entries: readonly HotlistEntry[], compiled: CompiledHotlist) {
    this.opts = opts;
    this.entries = entries;
    this.compiled = compiled;
    this.bridge = new BatchBridge(this.compiled.core);
    this.classMap = ocrClassMap(this.opts.ocrClasses);
    this.qRead = new Int32Array(this.bridge.capacity);
    this.qCand = new Int32Array(this.bridge.capacity);
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
    const alerts: Alert[] = [];
    const invalid: InvalidRead[] = [];
    const bridge = this.bridge;
    const states = this.compiled.states;
    const qRead = this.qRead;
    const qCand = this.qCand;
    let i = 0;
    while (i < reads.length) {
      bridge.reset();
      for (; i < reads.length; i++) {
        const read = reads[i];
        if (typeof read !== 'object' || read === null) {
          invalid.push({ index: i, code: 'NOT_AN_OBJECT', reason: 'read is not an object' });
          continue;
        }
        const plate = read.plate;
        if (typeof plate !== 'string') {
          invalid.push({ index: i, readId: idOf(read), code: 'MISSING_PLATE', reason: 'read has no plate string' });
          continue;
        }
        const bad = badField(read);
        if (bad !== undefined) {
          invalid.push({ index: i, readId: idOf(read), code: 'BAD_FIELD', reason: bad });
          continue;
        }
        const cands = read.candidates;
        const need = cands === undefined ? 1 : 1 + cands.length;
        if (bridge.count + need > bridge.capacity) {
          if (bridge.count > 0) break;
        }
        const state = states.lookup(read.state);
        let q = bridge.add(plate, state);
        qRead[q] = i;
        qCand[q] = -1;
        if (cands !== undefined) {
          const room = Math.min(cands.length, bridge.capacity - bridge.count);
          for (let k = 0; k < room; k++) {
            const cand = cands[k];
            if (typeof cand !== 'object' || cand === null || typeof cand.plate !== 'string') continue;
            q = bridge.add(cand.plate, state);
            qRead[q] = i;
            qCand[q] = k;
          }
        }
      }
      this.runBatch(reads, alerts, invalid);
    }
    if (invalid.length > 1) invalid.sort((a, b) => a.index - b.index);
    return { alerts, invalid };
  }

  private runBatch(reads: readonly PlateRead[], alerts: Alert[], invalid: InvalidRead[]): void {
    const bridge = this.bridge;
    const qRead = this.qRead;
    const qCand = this.qCand;
    const hits: Hit[] = [];
    bridge.run((q, entry, tierBit, distance, flags) => {
      const read = reads[qRead[q]];
      const cand = qCand[q];
      const raw = cand < 0 ? read.plate : read.candidates![cand].plate;
      const n = normalizePlate(raw);
      const matchedPlate = n.ok ? n.plate : raw;
      const confidence = cand < 0 ? read.confidence : (read.candidates![cand].confidence ?? read.confidence);
      const tier = TIER_BY_BIT[tierBit];
      const e = this.entries[entry];
      const entryPlate = normalizePlate(String(e.plate));
      const score = scoreHit(tier, matchedPlate, entryPlate.ok ? entryPlate.plate : '', confidence, flags !== 0, this.classMap);
      hits.push({ read: qRead[q], entry, tier, distance, score, matchedPlate, stateMismatch: flags !== 0 });
    });

    // Invalid plates: the read's own plate decides; a bad candidate is only skipped.
    const status = bridge.statuses();
    const badReads = new Set<number>();
    for (let q = 0; q < status.length; q++) {
      const host = bridge.hostFailure(q);
      if (status[q] === STATUS_OK && host === undefined) continue;
      if (qCand[q] >= 0) continue;
      const idx = qRead[q];
      const read = reads[idx];
      const code = host ?? STATUS_CODES[status[q]] ?? 'INVALID_CHARACTER';
      badReads.add(idx);
      invalid.push({ index: idx, readId: idOf(read), code, reason: invalidReason(code, read.plate) });
    }
    if (hits.length === 0) return;
    this.emitAlerts(reads, hits, badReads, alerts);
  }

  private emitAlerts(reads: readonly PlateRead[], hits: Hit[], badReads: ReadonlySet<number>, alerts: Alert[]): void {
    const ctx: AlertContext = {
      hotlistVersion: this.compiled.version,
      now: Date.now(),
      refreshedAt: (source) => (source !== undefined ? this.opts.sourceRefreshedAt.get(source) : undefined) ?? this.builtAt,
    };
    // Hits arrive in query order, so the hits of one read are contiguous.
    let h = 0;
    while (h < hits.length) {
      const readIndex = hits[h].read;
      let end = h;
      while (end < hits.length && hits[end].read === readIndex) end++;
      if (!badReads.has(readIndex)) {
        const best = new Map<number, Hit>();
        for (let k = h; k < end; k++) {
          const hit = hits[k];
          const prev = best.get(hit.entry);
          if (prev === undefined || hit.score > prev.score) best.set(hit.entry, hit);
        }
        const read = reads[readIndex];
        const readId = idOf(read) ?? randomUUID();
        const out: Alert[] = [];
        for (const hit of best.values()) {
          if (hit.score < this.opts.minScore) continue;
          out.push(buildAlert(read, readId, this.entries[hit.entry], hit.entry, hit.tier, hit.distance, hit.score, hit.matchedPlate, hit.stateMismatch, ctx));
        }
        out.sort((a, b) => b.score - a.score || a.priority - b.priority);
        for (const a of out) alerts.push(a);
      }
      h = end;
    }
  }

  stats(): MatcherStats {
    const c = this.compiled;
    return {
      entries: c.entries,
      duplicatesMerged: c.duplicatesMerged,
      junkSkipped: c.junkSkipped,
      fuzzyEntries: c.fuzzyEntries,
      fuzzyKeys: c.fuzzyKeys,
      memoryBytes: c.size,
      coreMemoryBytes: c.core.memory.buffer.byteLength,
      bytesPerEntry: c.entries > 0 ? c.size / c.entries : 0,
      buildTimeMs: c.buildTimeMs,
      prefilterBits: c.prefilterBits,
      prefilterFalsePositiveRate: this.measurePrefilter(),
      hotlistVersion: c.version,
    };
  }

  snapshot(): MatcherSnapshot {
    const c = this.compiled;
    return {
      format: 1,
      bytes: new Uint8Array(c.core.memory.buffer.slice(c.base, c.base + c.size)),
      version: c.version,
      states: c.states.toJSON(),
      settings: settingsOf(this.opts),
      stats: {
        entries: c.entries,
        duplicatesMerged: c.duplicatesMerged,
        junkSkipped: c.junkSkipped,
        fuzzyEntries: c.fuzzyEntries,
        fuzzyKeys: c.fuzzyKeys,
        prefilterBits: c.prefilterBits,
        buildTimeMs: c.buildTimeMs,
      },
    };
  }

  private prefilterRate: number | undefined;

  /** Measured, not computed: random absent plates through the filter (cached). */
  private measurePrefilter(): number {
    if (this.prefilterRate === undefined) {
      const core = this.compiled.core;
      const fp = core.prefilterProbe(200_000, 0x9e3779b97f4a7c15n);
      const negatives = core.getProbeNegatives();
      this.prefilterRate = negatives > 0 ? fp / negatives : 0;
    }
    return this.prefilterRate;
  }

  /** @internal For benchmarks: the batch crossing with no work. */
  emptyCall(n: number): number {
    this.bridge.reset();
    for (let i = 0; i < n && i < this.bridge.capacity; i++) this.bridge.add('ABC1234', 0);
    return this.bridge.runEmpty();
  }
}

function idOf(read: PlateRead): string | undefined {
  return typeof read.id === 'string' ? read.id : undefined;
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
  if (snapshot?.format !== 1 || !(snapshot.bytes instanceof Uint8Array)) {
    throw new OptionsError('snapshot', 'must be a snapshot made by matcher.snapshot()');
  }
  const opts = resolveOptions({ entries, ...snapshot.settings, hotlistVersion: snapshot.version });
  const { core, base, size } = loadSnapshot(snapshot.bytes);
  if (header(core, base, 1) - snapshot.stats.duplicatesMerged !== snapshot.stats.entries) {
    throw new OptionsError('snapshot', 'header does not agree with its stats');
  }
  const compiled: CompiledHotlist = {
    ...snapshot.stats,
    core,
    base,
    size,
    states: StateCodes.from(snapshot.states),
    version: snapshot.version,
  };
  return new WasmMatcher(opts, entries, compiled);
}
