/**
 * Compiles hotlist entries into a snapshot inside a fresh core instance. Entries stream
 * through a staging buffer in chunks, so the host never holds a second copy of the list;
 * normalization, grouping, duplicate merging, the prefilter and the fuzzy index are built
 * by the core (core-wasm/assembly/build.ts).
 */
import { performance } from 'node:perf_hooks';
import { InvalidEntryError, CoreError } from '../errors.js';
import type { HotlistEntry, PartialFilter, VehicleDescription } from '../types.js';
import { checkEntryPurpose } from '../policy/index.js';
import { compilePatterns, loadPatterns, parsePattern } from './patterns.js';
import { tiersForList, type ResolvedOptions } from '../options.js';
import { normalizePlate } from './plate.js';
import { coreAlloc, instantiateCore, type CoreExports } from './wasm.js';
import {
  QUERY_LEN, QUERY_RECORD, QUERY_STATE, QUERY_TAG, QUERY_TIERS, RAW_PLATE_CAPACITY, STATUS_JUNK, STATUS_OK,
} from './layout.js';
import { TIER_BITS, classMapBytes, StateCodes } from './codes.js';

const CHUNK = 65536;

/** A compiled hotlist attached to a core instance. */
export interface CompiledHotlist {
  core: CoreExports;
  base: number;
  size: number;
  states: StateCodes;
  entries: number;
  duplicatesMerged: number;
  junkSkipped: number;
  fuzzyEntries: number;
  fuzzyKeys: number;
  prefilterBits: number;
  buildTimeMs: number;
  version: string;
  /** Pattern block of the partial entries in the same instance, if any. */
  patterns?: { base: number; size: number };
  partials: PartialFilter[];
  partialEntries: number;
}

/** Header fields of a snapshot (core-wasm/assembly/snapshot.ts). */
const H = { ENTRIES: 1, BLOOM_BLOCKS: 8, FZ_POSTINGS: 14, SIZE: 18, UNIQUE: 19, DUPLICATES: 20, FZ_ENTRIES: 21, FZ_UNIQUE: 22 };

export function header(core: CoreExports, base: number, field: number): number {
  return new Uint32Array(core.memory.buffer, base, 32)[field];
}

/** Prefilter bits per key and probes for a target false-positive rate. */
export function prefilterShape(rate: number): { bitsPerKey16: number; k: number } {
  // Classic Bloom sizing, plus 20% for blocking (all k bits in one cache line).
  const bitsPerKey = (-Math.log(rate) / (Math.LN2 * Math.LN2)) * 1.2;
  const k = Math.max(1, Math.min(7, Math.round(Math.LN2 * bitsPerKey)));
  return { bitsPerKey16: Math.ceil(bitsPerKey * 16), k };
}

function entryError(index: number, message: string): InvalidEntryError {
  return new InvalidEntryError(`hotlist entry ${index}: ${message}`, { index });
}

/** Per-build interning: states, list ids and tier masks by list type. */
export class EntryPacker {
  readonly states = new StateCodes();
  /** Partial entries met while packing (their records are left empty). */
  readonly partials: PartialInput[] = [];
  private readonly listIds = new Map<string, number>();
  private readonly listMasks = new Map<string, number>();

  constructor(private readonly opts: ResolvedOptions) {}

  /**
   * Writes entries [from, from + count) as 32-byte staging records (the query record shape:
   * raw plate | length | tier mask @25 | state u16 @26 | list id u32 @28) at `at` in `u8`.
   */
  pack(entries: readonly HotlistEntry[], from: number, count: number, u8: Uint8Array, at: number): void {
    const u16 = new Uint16Array(u8.buffer, u8.byteOffset + at, (count * QUERY_RECORD) >> 1);
    const u32 = new Uint32Array(u8.buffer, u8.byteOffset + at, (count * QUERY_RECORD) >> 2);
    for (let i = 0; i < count; i++) {
      const index = from + i;
      const e = entries[index];
      if (typeof e !== 'object' || e === null) throw entryError(index, 'is not an object');
      let plate = e.plate;
      const list = e.list;
      if (typeof list !== 'string' || list.length === 0) throw entryError(index, 'has no list type');
      if (typeof plate !== 'string') {
        if (typeof e.pattern !== 'string') throw entryError(index, 'has no plate (or pattern)');
        this.partials.push(partialInput(e, index, this.states.intern(e.state)));
        // An empty record with no tiers: the core skips it (see buildCore).
        u8[at + i * QUERY_RECORD + QUERY_LEN] = 0;
        u8[at + i * QUERY_RECORD + QUERY_TIERS] = 0;
        continue;
      }
      let mask = this.listMasks.get(list);
      if (mask === undefined) {
        mask = 0;
        for (const t of tiersForList(this.opts, list)) mask |= TIER_BITS[t];
        this.listMasks.set(list, mask);
      }
      let listId = this.listIds.get(list);
      if (listId === undefined) this.listIds.set(list, (listId = this.listIds.size + 1));
      if (plate.length > RAW_PLATE_CAPACITY) {
        const n = normalizePlate(plate);
        if (!n.ok) throw entryError(index, n.reason);
        plate = n.plate;
      }
      const rec = at + i * QUERY_RECORD;
      for (let c = 0; c < plate.length; c++) {
        const ch = plate.charCodeAt(c);
        u8[rec + c] = ch > 0xff ? 0xff : ch;
      }
      u8[rec + QUERY_LEN] = plate.length;
      u8[rec + QUERY_TIERS] = mask;
      u16[(i * QUERY_RECORD + QUERY_STATE) >> 1] = this.states.intern(e.state);
      u32[(i * QUERY_RECORD + QUERY_TAG) >> 2] = listId;
    }
  }
}

/** A partial entry, checked and reduced to what the pattern index and its filter need. */
export interface PartialInput {
  entry: number;
  pattern: string;
  state: number;
  vehicle?: VehicleDescription;
}

const PARTIAL_REQUIRED = ['case', 'enteredBy', 'purpose', 'expires'] as const;

/**
 * Checks a partial entry (docs/contracts.md "Hotlist entry": `case`, `enteredBy`, `purpose` and `expires` are
 * required; the purpose must be allowed by the policies) and parses its pattern.
 */
function partialInput(e: HotlistEntry, index: number, state: number): PartialInput {
  for (const key of PARTIAL_REQUIRED) {
    const v = e[key];
    if (v === undefined || v === null || v === '') throw entryError(index, `partial entry has no ${key} (required with a pattern)`);
  }
  const verdict = checkEntryPurpose({ list: e.list, notes: e.notes, purpose: e.purpose, case: e.case });
  if (!verdict.ok) throw entryError(index, `refused: ${verdict.reason} (${verdict.citation})`);
  const parsed = parsePattern(e.pattern!);
  if (!parsed.ok) throw entryError(index, `pattern ${JSON.stringify(e.pattern)}: ${parsed.reason}`);
  const out: PartialInput = { entry: index, pattern: parsed.pattern.text, state };
  if (e.vehicle !== undefined) out.vehicle = e.vehicle;
  return out;
}

/**
 * Builds a snapshot in a fresh core from staging records. `fill(from, count, u8, at)` writes
 * records [from, from + count) into the staging buffer; `reason(index, status)` explains a
 * rejected entry.
 */
function buildCore(
  count: number,
  opts: ResolvedOptions,
  states: StateCodes,
  fill: (from: number, n: number, u8: Uint8Array, at: number) => void,
  reason: (index: number, status: number) => string,
  partials: () => readonly PartialInput[],
): CompiledHotlist {
  const started = performance.now();
  const core = instantiateCore();
  const classPtr = coreAlloc(core, 64, 'the OCR class map');
  new Uint8Array(core.memory.buffer, classPtr, 64).set(classMapBytes(opts.ocrClasses));
  if (!core.beginBuild(count, classPtr)) throw new CoreError(`out of WebAssembly memory for ${count} entries`);
  const staging = coreAlloc(core, CHUNK * QUERY_RECORD, 'entry staging');
  const statusPtr = coreAlloc(core, CHUNK, 'entry status');
  let junk = 0;
  for (let from = 0; from < count; from += CHUNK) {
    const n = Math.min(CHUNK, count - from);
    // Views are taken per chunk: beginBuild may have grown (and so replaced) the buffer.
    const u8 = new Uint8Array(core.memory.buffer);
    fill(from, n, u8, staging);
    core.addEntries(staging, n, statusPtr);
    const status = new Uint8Array(core.memory.buffer, statusPtr, n);
    for (let i = 0; i < n; i++) {
      const st = status[i];
      if (st === STATUS_OK) continue;
      // A partial entry's placeholder: no plate, no tiers.
      if (u8[staging + i * QUERY_RECORD + QUERY_LEN] === 0 && u8[staging + i * QUERY_RECORD + QUERY_TIERS] === 0) continue;
      if (st === STATUS_JUNK) {
        junk++;
        continue;
      }
      throw entryError(from + i, reason(from + i, st));
    }
  }

  const shape = prefilterShape(opts.prefilterFalsePositiveRate);
  // k = 0 turns the filter off (every lookup passes): the benchmark's "no prefilter" case.
  const bitsPerKey16 = opts.prefilter ? shape.bitsPerKey16 : 1;
  const k = opts.prefilter ? shape.k : 0;
  const base = core.finishBuild(bitsPerKey16, k, opts.maxDistance, opts.stateMismatch === 'match' ? 1 : 0) >>> 0;
  if (base === 0) throw new CoreError(`out of WebAssembly memory building the tables of ${count} entries`);
  const size = core.snapshotSize(base) >>> 0;
  let hash = core.hashRegion(base, size);
  const dups = header(core, base, H.DUPLICATES);
  const parts = partials();
  let patterns: { base: number; size: number } | undefined;
  if (parts.length > 0) {
    const specs = parts.map((p) => ({ pattern: p.pattern, entry: p.entry, state: p.state, ocr: opts.partialOcr }));
    const compiled = compilePatterns(core, specs, opts.ocrClasses);
    patterns = { base: compiled.base, size: compiled.size };
    hash ^= core.hashRegion(compiled.base, compiled.size);
  }
  return {
    patterns,
    partials: parts.map(({ entry, pattern, vehicle }) => (vehicle === undefined ? { entry, pattern } : { entry, pattern, vehicle })),
    partialEntries: parts.length,
    core,
    base,
    size,
    states,
    entries: header(core, base, H.ENTRIES) - dups,
    duplicatesMerged: dups,
    junkSkipped: junk,
    fuzzyEntries: header(core, base, H.FZ_ENTRIES),
    fuzzyKeys: header(core, base, H.FZ_UNIQUE),
    prefilterBits: header(core, base, H.BLOOM_BLOCKS) * 512,
    buildTimeMs: performance.now() - started,
    version: opts.hotlistVersion ?? `h${BigInt.asUintN(64, hash).toString(16).padStart(16, '0')}`,
  };
}

/**
 * Builds the snapshot of `entries`, streaming them through a 64k-entry staging buffer so the
 * host never holds a second copy of the list. Throws {@link InvalidEntryError} on a malformed entry.
 */
export function compileHotlist(entries: readonly HotlistEntry[], opts: ResolvedOptions): CompiledHotlist {
  const packer = new EntryPacker(opts);
  return buildCore(
    entries.length,
    opts,
    packer.states,
    (from, n, u8, at) => packer.pack(entries, from, n, u8, at),
    (index) => {
      const r = normalizePlate(String(entries[index].plate));
      return r.ok ? 'plate rejected by the core' : r.reason;
    },
    () => packer.partials,
  );
}

/** Attaches a snapshot's tables (and its pattern block) to a fresh core instance (no recompilation). */
export function loadSnapshot(bytes: Uint8Array, patternBytes?: Uint8Array): { core: CoreExports; base: number; size: number; patterns?: { base: number; size: number } } {
  const core = instantiateCore();
  const base = coreAlloc(core, bytes.byteLength, 'the hotlist snapshot');
  new Uint8Array(core.memory.buffer, base, bytes.byteLength).set(bytes);
  if (!core.attach(base)) throw new CoreError('not a platesieve hotlist snapshot (bad magic)');
  const size = core.snapshotSize(base) >>> 0;
  if (size !== bytes.byteLength) throw new CoreError(`hotlist snapshot is ${bytes.byteLength} bytes, its header says ${size}`);
  if (patternBytes === undefined) return { core, base, size };
  return { core, base, size, patterns: { base: loadPatterns(core, patternBytes), size: patternBytes.byteLength } };
}
