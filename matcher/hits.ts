/**
 * The hit-level matcher: reads in, scored (read, entry) hits out. It needs no hotlist
 * entries, only the compiled snapshot, so a worker thread can run it on a snapshot posted
 * to it while the entries (and the alert objects made from them) stay in one thread.
 */
import type { AlertTier, MatchTier, InvalidRead, InvalidReadCode, PartialFilter, PlateRead, VehicleDescription } from './types.js';
import type { ResolvedOptions } from './options.js';
import type { CompiledHotlist } from './core/compile.js';
import { BatchBridge } from './core/batch.js';
import { TIER_BY_BIT, unpackPlate } from './core/codes.js';
import { isNormalizedPlate, normalizePlate, ocrCollapseTable } from './core/plate.js';
import { STATUS_OK, STATUS_EMPTY, STATUS_TOO_LONG } from './core/layout.js';
import { PatternRunner } from './core/patterns.js';
import { DEFAULT_CONFIDENCE, partialScore, patternSpecificity, roundScore, scoreHit } from './core/score.js';

function norm(v: unknown): string {
  return typeof v === 'string' ? v.trim().toUpperCase() : '';
}

/**
 * A partial entry's vehicle attributes against the read's: an attribute the entry names and
 * the read reports must agree (`colour` or `color`); one the read does not report passes.
 */
export function vehicleAgrees(want: VehicleDescription | undefined, read: PlateRead): boolean {
  if (want === undefined) return true;
  const got: (VehicleDescription & { color?: string }) | undefined = read.vehicle;
  if (got === undefined || got === null) return true;
  const w = want as VehicleDescription & { color?: string };
  const pairs: Array<[unknown, unknown]> = [
    [w.make, got.make],
    [w.model, got.model],
    [w.colour ?? w.color, got.colour ?? got.color],
    [w.type, got.type],
  ];
  for (const [a, b] of pairs) {
    const x = norm(a);
    const y = norm(b);
    if (x !== '' && y !== '' && x !== y) return false;
  }
  return true;
}

/** One (read, entry) hit: the best way the read or one of its candidates matched the entry. */
export interface Hit {
  /** Index of the read in the batch. */
  read: number;
  /** Index of the entry in the hotlist the snapshot was built from. */
  entry: number;
  tier: AlertTier;
  distance: number;
  score: number;
  /** The normalized plate (read or candidate) that matched. */
  matchedPlate: string;
  /** The entry's normalized plate, or its pattern for a partial entry. */
  entryPlate: string;
  stateMismatch: boolean;
}

/** Hits and invalid reads of a batch. Hits are grouped by read, best score first. */
export interface HitResult {
  hits: Hit[];
  invalid: InvalidRead[];
}

const STATUS_CODES: Readonly<Record<number, InvalidReadCode>> = {
  [STATUS_EMPTY]: 'EMPTY_PLATE',
  [STATUS_TOO_LONG]: 'PLATE_TOO_LONG',
};

function invalidReason(code: InvalidReadCode, plate: unknown): string {
  if (typeof plate === 'string') {
    const n = normalizePlate(plate);
    if (!n.ok) return n.reason;
  }
  return code;
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

export function readIdOf(read: PlateRead): string | undefined {
  return typeof read.id === 'string' ? read.id : undefined;
}

/**
 * The best-scoring hit per entry among raw[from..to) (a read's candidates can reach one
 * entry several ways), in order of each entry's first hit. A read has a few hits: a linear
 * scan beats a Map until it has many.
 */
function bestPerEntry(raw: readonly Hit[], from: number, to: number): Hit[] {
  const group: Hit[] = [];
  if (to - from > 32) {
    const at = new Map<number, number>();
    for (let k = from; k < to; k++) {
      const hit = raw[k];
      const j = at.get(hit.entry);
      if (j === undefined) {
        at.set(hit.entry, group.length);
        group.push(hit);
      } else if (hit.score > group[j].score) group[j] = hit;
    }
    return group;
  }
  for (let k = from; k < to; k++) {
    const hit = raw[k];
    let j = 0;
    while (j < group.length && group[j].entry !== hit.entry) j++;
    if (j === group.length) group.push(hit);
    else if (hit.score > group[j].score) group[j] = hit;
  }
  return group;
}

export class HitMatcher {
  readonly compiled: CompiledHotlist;
  readonly opts: ResolvedOptions;
  private readonly bridge: BatchBridge;
  private readonly collapse: Uint8Array;
  // Per batch, by query index: the read it belongs to and which candidate (-1: the plate).
  private readonly qRead: Int32Array;
  private readonly qCand: Int32Array;
  private readonly patterns?: PatternRunner;
  private readonly partials = new Map<number, PartialFilter>();
  // Hit records of the current core call, as numbers (see runBatch): query, entry,
  // tier | distance << 8 | flags << 16, position; and the entries' packed plates.
  private hitCap = 4096;
  private hitRec = new Int32Array(4096 * 4);
  private hitPlate = new Uint32Array(4096 * 2);

  constructor(opts: ResolvedOptions, compiled: CompiledHotlist) {
    this.opts = opts;
    this.compiled = compiled;
    this.bridge = new BatchBridge(compiled.core);
    if (compiled.patterns !== undefined) {
      this.patterns = new PatternRunner(compiled.core);
      for (const p of compiled.partials) this.partials.set(p.entry, p);
    }
    this.collapse = ocrCollapseTable(opts.ocrClasses);
    this.qRead = new Int32Array(this.bridge.capacity);
    this.qCand = new Int32Array(this.bridge.capacity);
  }

  /** Matches a batch: one core call per 4096 queries (plates and candidates). */
  match(reads: readonly PlateRead[]): HitResult {
    const hits: Hit[] = [];
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
          invalid.push({ index: i, readId: readIdOf(read), code: 'MISSING_PLATE', reason: 'read has no plate string' });
          continue;
        }
        const bad = badField(read);
        if (bad !== undefined) {
          invalid.push({ index: i, readId: readIdOf(read), code: 'BAD_FIELD', reason: bad });
          continue;
        }
        const cands = read.candidates;
        const need = cands === undefined ? 1 : 1 + cands.length;
        if (bridge.count + need > bridge.capacity && bridge.count > 0) break;
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
      this.runBatch((r) => reads[r], hits, invalid);
    }
    if (invalid.length > 1) invalid.sort((a, b) => a.index - b.index);
    return { hits, invalid };
  }

  /**
   * Matches `n` reads whose query records something else writes (the service's fast path
   * packs them in the core from the messages' bytes): `pack(queries, from, count)` writes
   * the records of reads from..from+count-1 at address `queries` of this matcher's core.
   * `readOf(i)` gives read i as an object, asked only for reads that hit or are invalid
   * (scoring, pattern vehicle checks and reasons need their fields).
   */
  matchPacked(n: number, pack: (queries: number, from: number, count: number) => void, readOf: (i: number) => PlateRead): HitResult {
    const hits: Hit[] = [];
    const invalid: InvalidRead[] = [];
    const bridge = this.bridge;
    for (let from = 0; from < n; from += bridge.capacity) {
      const count = Math.min(bridge.capacity, n - from);
      bridge.reset();
      pack(bridge.input, from, count);
      bridge.count = count;
      for (let q = 0; q < count; q++) {
        this.qRead[q] = from + q;
        this.qCand[q] = -1;
      }
      this.runBatch(readOf, hits, invalid);
    }
    return { hits, invalid };
  }

  /** The core of this matcher (the service's fast path packs queries in its memory). */
  get core(): CompiledHotlist['core'] {
    return this.compiled.core;
  }

  /** Code of a read's state in this matcher's hotlist. */
  stateCode(state: string): number {
    return this.compiled.states.lookup(state);
  }

  private runBatch(reads: (i: number) => PlateRead, out: Hit[], invalid: InvalidRead[]): void {
    const bridge = this.bridge;
    const qRead = this.qRead;
    const qCand = this.qCand;
    const core = this.compiled.core;
    const raw: Hit[] = [];
    // The core's hit records, kept as numbers first: entry plates are then read from linear
    // memory in a loop of their own (on a big list each is a cache miss, and this way they
    // overlap), and only then do hits become objects.
    let n = 0;
    bridge.run((q, entry, tierBit, distance, flags, position) => {
      if (n === this.hitCap) this.growHits();
      const rec = this.hitRec;
      rec[n * 4] = q;
      rec[n * 4 + 1] = entry;
      rec[n * 4 + 2] = tierBit | (distance << 8) | (flags << 16);
      rec[n * 4 + 3] = position;
      n++;
    });
    if (n > 0) {
      const rec = this.hitRec;
      const plates = this.hitPlate;
      // Entries' packed plates, straight from linear memory (two u32 words each).
      const words = new Uint32Array(core.memory.buffer);
      const keys = (core.entryKeys() >>> 0) >> 2;
      for (let h = 0; h < n; h++) {
        const w = keys + rec[h * 4 + 3] * 2;
        plates[h * 2] = words[w];
        plates[h * 2 + 1] = words[w + 1];
      }
      const collapse = this.collapse;
      // Hits arrive in query order: what the query's hits share is worked out once.
      let lastQ = -1;
      let matchedPlate = '';
      let confidence: number | undefined;
      for (let h = 0; h < n; h++) {
        const q = rec[h * 4];
        if (q !== lastQ) {
          lastQ = q;
          const read = reads(qRead[q]);
          const cand = qCand[q];
          const plate = cand < 0 ? read.plate : read.candidates![cand].plate;
          if (isNormalizedPlate(plate)) matchedPlate = plate;
          else {
            const norm = normalizePlate(plate);
            matchedPlate = norm.ok ? norm.plate : plate;
          }
          confidence = cand < 0 ? read.confidence : (read.candidates![cand].confidence ?? read.confidence);
        }
        const info = rec[h * 4 + 2];
        const tier = TIER_BY_BIT[info & 0xff] as MatchTier;
        const mismatch = (info >>> 16) !== 0;
        const entryPlate = unpackPlate(plates[h * 2], plates[h * 2 + 1]);
        const score = scoreHit(tier, matchedPlate, entryPlate, confidence, mismatch, collapse);
        raw.push({ read: qRead[q], entry: rec[h * 4 + 1], tier, distance: (info >>> 8) & 0xff, score, matchedPlate, entryPlate, stateMismatch: mismatch });
      }
    }
    // Partial patterns, over the same packed batch, then hits back in read order.
    if (this.patterns !== undefined && bridge.count > 0) {
      const before = raw.length;
      this.patterns.run(bridge.input, bridge.count, bridge.status, (q, entry, _tier, distance) => {
        const read = reads(qRead[q]);
        const partial = this.partials.get(entry);
        if (partial === undefined || !vehicleAgrees(partial.vehicle, read)) return;
        const cand = qCand[q];
        const plate = cand < 0 ? read.plate : read.candidates![cand].plate;
        const n = normalizePlate(plate);
        const matchedPlate = n.ok ? n.plate : plate;
        const confidence = (cand < 0 ? read.confidence : (read.candidates![cand].confidence ?? read.confidence)) ?? DEFAULT_CONFIDENCE;
        const score = roundScore(partialScore(confidence, false, patternSpecificity(partial.pattern, matchedPlate.length), distance));
        raw.push({ read: qRead[q], entry, tier: 'partial', distance, score, matchedPlate, entryPlate: partial.pattern, stateMismatch: false });
      });
      if (raw.length > before && before > 0) raw.sort((a, b) => a.read - b.read);
    }

    // Invalid plates: the read's own plate decides; a bad candidate is only skipped.
    const status = bridge.statuses();
    let badReads: Set<number> | undefined;
    for (let q = 0; q < status.length; q++) {
      const host = bridge.hostFailure(q);
      if (status[q] === STATUS_OK && host === undefined) continue;
      if (qCand[q] >= 0) continue;
      const idx = qRead[q];
      const read = reads(idx);
      const code = host ?? STATUS_CODES[status[q]] ?? 'INVALID_CHARACTER';
      (badReads ??= new Set()).add(idx);
      invalid.push({ index: idx, readId: readIdOf(read), code, reason: invalidReason(code, read.plate) });
    }
    if (raw.length === 0) return;

    // Hits arrive in query order, so the hits of one read are contiguous: keep the best
    // per entry, drop those under minScore, best first.
    const minScore = this.opts.minScore;
    let h = 0;
    while (h < raw.length) {
      const readIndex = raw[h].read;
      let end = h;
      while (end < raw.length && raw[end].read === readIndex) end++;
      if (badReads === undefined || !badReads.has(readIndex)) {
        if (end - h === 1) {
          if (raw[h].score >= minScore) out.push(raw[h]);
        } else {
          const group = bestPerEntry(raw, h, end).filter((x) => x.score >= minScore);
          group.sort((a, b) => b.score - a.score);
          for (const x of group) out.push(x);
        }
      }
      h = end;
    }
  }

  /** The hit records of a batch: doubles when a batch has more hits than it holds. */
  private growHits(): void {
    this.hitCap *= 2;
    const rec = new Int32Array(this.hitCap * 4);
    rec.set(this.hitRec);
    this.hitRec = rec;
    this.hitPlate = new Uint32Array(this.hitCap * 2);
  }

  /** Measured prefilter false-positive rate: random absent plates through the filter. */
  measurePrefilter(samples = 200_000): number {
    const core = this.compiled.core;
    const fp = core.prefilterProbe(samples, 0x9e3779b97f4a7c15n);
    const negatives = core.getProbeNegatives();
    return negatives > 0 ? fp / negatives : 0;
  }

  /** For benchmarks: the batch crossing with no work. */
  emptyCall(n: number): number {
    this.bridge.reset();
    for (let i = 0; i < n && i < this.bridge.capacity; i++) this.bridge.add('ABC1234', 0);
    return this.bridge.runEmpty();
  }
}
