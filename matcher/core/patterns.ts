/**
 * Partial-plate patterns on the host side: parsing, packing into the core's fixed-size
 * programs, building the pattern block, and running `matchPatterns` over a packed batch.
 * The matching itself (fragment index + glob verification) is core-wasm/assembly/patterns.ts.
 *
 * Syntax (docs/contracts.md "Tiers"): `?` exactly one character, `*` any run (possibly empty), `[AB8]` one
 * of a set, anything else a literal `A-Z0-9`. Input is upper-cased and the plate separators
 * (space, `-`, `.`, `·`) are dropped, outside and inside sets. With `ocr: true` a literal also
 * matches the members of its OCR class (`8` matches `B`), counted in the result's distance;
 * sets and `?` are never widened.
 *
 *   program, 176 bytes, one per pattern (the core fills each omask):
 *   +-----------+-----------+---------+----------+---------------+-------------+-----+
 *   | entry u32 | state u16 | ntok u8 | flags u8 | starMask u32  | litMask u16 | -   |
 *   +-----------+-----------+---------+----------+---------------+-------------+-----+
 *   0           4           6         7          8               12            14    16
 *   | token i (i < 10), 16 bytes at 16 + 16 i:  mask u64 (bit c: code c accepted)      |
 *   |                                           omask u64 (codes accepted through OCR) |
 *   +-----------------------------------------------------------------------------+ 176
 *   codes: '0'-'9' -> 1..10, 'A'-'Z' -> 11..36; `?` is every code; flags bit 0: OCR-aware
 *   literals; starMask bit i: a `*` before token i, bit ntok: a trailing `*`; litMask bit i:
 *   token i is a literal (the fragment index uses runs of literals).
 *
 * Results come back as the batch ABI's 16-byte records with tier {@link TIER_PARTIAL},
 * entry = the spec's `entry`, distance = literals matched only through OCR equivalence
 * (the fewest over all ways the pattern fits), flags 0, position = index in `specs`.
 */
import { performance } from 'node:perf_hooks';
import { CoreError, PatternError } from '../errors.js';
import { charCode, classMapBytes } from './codes.js';
import { DEFAULT_OCR_CLASSES } from './plate.js';
import { coreAlloc, type CoreExports } from './wasm.js';
import { readResults, type HitSink } from './batch.js';
import { RESULT_RECORD } from './layout.js';

/** Tier value of a pattern hit in a result record (exact 1, ocr 2, fuzzy 4). */
export { TIER_PARTIAL } from './layout.js';
/** Most non-`*` tokens in a pattern (a plate has at most 10 characters). */
export const MAX_PATTERN_TOKENS = 10;
/** Bytes per packed program. */
export const PROGRAM_BYTES = 176;

/** One token of a parsed pattern. */
export type PatternToken =
  | { kind: 'literal'; char: string }
  | { kind: 'any' }
  | { kind: 'set'; chars: string }
  | { kind: 'star' };

/** A pattern in canonical form: `text` is its normalized spelling (`[8B]RT*`). */
export interface ParsedPattern {
  text: string;
  tokens: PatternToken[];
}

export type ParsePatternResult = { ok: true; pattern: ParsedPattern } | { ok: false; reason: string };

/** What the compiler needs of one partial entry. */
export interface PatternSpec {
  pattern: string;
  /** Index the results report as `entry` (the host's entry index). */
  entry: number;
  /** u16 state code (StateCodes), 0 = any state. */
  state: number;
  /** Literals also match their OCR class. */
  ocr: boolean;
}

/** Where the patterns sit in their fragment index (from the block header). */
export interface PatternStats {
  patterns: number;
  /** Programs indexed by a run of 4, 3, 2 or 1 literal characters. */
  quadgram: number;
  trigram: number;
  bigram: number;
  unigram: number;
  /** Programs with no literal, verified for every read. */
  scanned: number;
  /** Distinct fragment keys in the index. */
  keys: number;
  bytes: number;
  buildTimeMs: number;
}

export interface CompiledPatterns {
  base: number;
  size: number;
  stats: PatternStats;
}

/** Core exports of the pattern matcher (core-wasm/assembly/index.ts); pointers are u32. */
export interface PatternExports {
  beginPatterns(n: number, classMap: number): number;
  addPatterns(input: number, count: number, status: number): number;
  finishPatterns(): number;
  attachPatterns(base: number): number;
  patternsSize(base: number): number;
  matchPatterns(input: number, n: number, start: number, status: number, out: number, cap: number): number;
  getPatternResumeAt(): number;
  getPatternOverflow(): number;
  getPatternVerified(): bigint;
}

export type PatternCore = CoreExports & PatternExports;

function patternCore(core: CoreExports): PatternCore {
  const c = core as PatternCore;
  if (typeof c.matchPatterns !== 'function') throw new CoreError('this WebAssembly core has no pattern matcher: rebuild it (`npm run build`)');
  return c;
}

const SEPARATORS = new Set([' ', '-', '.', '\u00b7']);

function isPlateChar(c: string): boolean {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/**
 * Parses a partial-plate pattern. Refuses: characters other than `A-Z0-9?*[]` and the
 * separators, unbalanced or nested brackets, empty sets, more than 10 non-`*` tokens, no
 * non-`*` token, and patterns that constrain no character (only `?` and `*`), which would
 * match every plate of some length.
 */
export function parsePattern(text: string): ParsePatternResult {
  if (typeof text !== 'string') return { ok: false, reason: 'pattern is not a string' };
  const src = text.toUpperCase();
  const tokens: PatternToken[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (SEPARATORS.has(c)) {
      i++;
      continue;
    }
    if (c === '*') {
      if (tokens.length === 0 || tokens[tokens.length - 1].kind !== 'star') tokens.push({ kind: 'star' });
      i++;
    } else if (c === '?') {
      tokens.push({ kind: 'any' });
      i++;
    } else if (c === '[') {
      let chars = '';
      let j = i + 1;
      for (; j < src.length && src[j] !== ']'; j++) {
        const d = src[j];
        if (SEPARATORS.has(d)) continue;
        if (d === '[') return { ok: false, reason: `nested "[" at position ${j}` };
        if (!isPlateChar(d)) return { ok: false, reason: `set contains ${JSON.stringify(d)} (only A-Z and 0-9)` };
        if (!chars.includes(d)) chars += d;
      }
      if (j >= src.length) return { ok: false, reason: `unclosed "[" at position ${i}` };
      if (chars.length === 0) return { ok: false, reason: `empty set at position ${i}` };
      tokens.push({ kind: 'set', chars: [...chars].sort().join('') });
      i = j + 1;
    } else if (c === ']') {
      return { ok: false, reason: `unmatched "]" at position ${i}` };
    } else if (isPlateChar(c)) {
      tokens.push({ kind: 'literal', char: c });
      i++;
    } else {
      // src[i], not text[i]: upper-casing may lengthen the text ("ß" is "SS"), so indices differ.
      return { ok: false, reason: `pattern contains ${JSON.stringify(src[i])} (only A-Z, 0-9, ?, *, [...] and the separators space - . ·)` };
    }
  }
  const fixed = tokens.filter((t) => t.kind !== 'star');
  if (fixed.length === 0) return { ok: false, reason: tokens.length === 0 ? 'pattern is empty' : 'pattern matches every plate (only "*")' };
  if (fixed.length > MAX_PATTERN_TOKENS) return { ok: false, reason: `pattern has ${fixed.length} characters besides "*" (at most ${MAX_PATTERN_TOKENS})` };
  if (!fixed.some((t) => t.kind === 'literal' || (t.kind === 'set' && t.chars.length < 36))) {
    return { ok: false, reason: 'pattern constrains no character (only "?" and "*"): it would match every plate of its length' };
  }
  return { ok: true, pattern: { text: patternText(tokens), tokens } };
}

/** Canonical spelling of parsed tokens. */
export function patternText(tokens: readonly PatternToken[]): string {
  let s = '';
  for (const t of tokens) s += t.kind === 'literal' ? t.char : t.kind === 'any' ? '?' : t.kind === 'star' ? '*' : `[${t.chars}]`;
  return s;
}

const ANY_MASK = ((1n << 37n) - 1n) & ~1n;

/** Writes the program of `p` at byte offset `at` of `view` (omask left 0: the core fills it). */
export function packProgram(view: DataView, at: number, p: ParsedPattern, entry: number, state: number, ocr: boolean): void {
  for (let b = 0; b < PROGRAM_BYTES; b += 4) view.setUint32(at + b, 0, true);
  let ntok = 0;
  let star = 0;
  let lit = 0;
  for (const t of p.tokens) {
    if (t.kind === 'star') {
      star |= 1 << ntok;
      continue;
    }
    let mask = 0n;
    if (t.kind === 'literal') {
      mask = 1n << BigInt(charCode(t.char));
      lit |= 1 << ntok;
    } else if (t.kind === 'any') mask = ANY_MASK;
    else for (const ch of t.chars) mask |= 1n << BigInt(charCode(ch));
    view.setBigUint64(at + 16 + ntok * 16, mask, true);
    ntok++;
  }
  view.setUint32(at, entry >>> 0, true);
  view.setUint16(at + 4, state, true);
  view.setUint8(at + 6, ntok);
  view.setUint8(at + 7, ocr ? 1 : 0);
  view.setUint32(at + 8, star >>> 0, true);
  view.setUint16(at + 12, lit, true);
}

/** Header fields of a pattern block (core-wasm/assembly/patterns.ts, P_*). */
const P = { COUNT: 1, SIZE: 2, SCAN: 10, TRI: 13, BI: 14, UNI: 15, KEYS: 16, QUAD: 25 };

/**
 * Builds the pattern block of `specs` inside `core` and attaches it. Throws
 * {@link PatternError} on a malformed pattern (nothing is attached then) and
 * {@link CoreError} when linear memory cannot grow. `ocrClasses` must be those of the
 * hotlist attached to the same instance.
 */
export function compilePatterns(core: CoreExports, specs: readonly PatternSpec[], ocrClasses: readonly string[] = DEFAULT_OCR_CLASSES): CompiledPatterns {
  const started = performance.now();
  const pc = patternCore(core);
  const parsed: ParsedPattern[] = specs.map((s, index) => {
    const r = parsePattern(s.pattern);
    if (!r.ok) throw new PatternError(`pattern ${index} ${JSON.stringify(s.pattern)}: ${r.reason}`, { index, pattern: String(s.pattern) });
    if (!Number.isInteger(s.state) || s.state < 0 || s.state > 0xffff) {
      throw new PatternError(`pattern ${index}: state code must be a u16, got ${s.state}`, { index, pattern: s.pattern });
    }
    return r.pattern;
  });
  const classPtr = coreAlloc(core, 64, 'the OCR class map');
  new Uint8Array(core.memory.buffer, classPtr, 64).set(classMapBytes(ocrClasses));
  if (!pc.beginPatterns(specs.length, classPtr)) throw new CoreError(`out of WebAssembly memory for ${specs.length} patterns`);
  const CHUNK = 4096;
  const staging = coreAlloc(core, Math.min(CHUNK, Math.max(1, specs.length)) * PROGRAM_BYTES, 'pattern staging');
  const status = coreAlloc(core, CHUNK, 'pattern status');
  for (let from = 0; from < specs.length; from += CHUNK) {
    const count = Math.min(CHUNK, specs.length - from);
    const view = new DataView(core.memory.buffer, staging, count * PROGRAM_BYTES);
    for (let i = 0; i < count; i++) {
      const s = specs[from + i];
      packProgram(view, i * PROGRAM_BYTES, parsed[from + i], s.entry, s.state, s.ocr);
    }
    pc.addPatterns(staging, count, status);
    const st = new Uint8Array(core.memory.buffer, status, count);
    const bad = st.findIndex((v) => v !== 0);
    if (bad >= 0) {
      const index = from + bad;
      throw new PatternError(`pattern ${index}: rejected by the core`, { index, pattern: specs[index].pattern });
    }
  }
  const base = pc.finishPatterns() >>> 0;
  if (base === 0) throw new CoreError(`out of WebAssembly memory building the index of ${specs.length} patterns`);
  const h = new Uint32Array(core.memory.buffer, base, 32);
  return {
    base,
    size: h[P.SIZE],
    stats: {
      patterns: h[P.COUNT],
      quadgram: h[P.QUAD],
      trigram: h[P.TRI],
      bigram: h[P.BI],
      unigram: h[P.UNI],
      scanned: h[P.SCAN],
      keys: h[P.KEYS],
      bytes: h[P.SIZE],
      buildTimeMs: performance.now() - started,
    },
  };
}

/** Attaches a pattern block already in `core`'s memory (for example copied from another instance). */
export function attachPatterns(core: CoreExports, base: number): void {
  if (!patternCore(core).attachPatterns(base)) throw new CoreError('not a platesieve pattern block (bad magic)');
}

/** Copies a pattern block's bytes into `core` and attaches it; returns its base there. */
export function loadPatterns(core: CoreExports, bytes: Uint8Array): number {
  const base = coreAlloc(core, bytes.byteLength, 'the pattern block');
  new Uint8Array(core.memory.buffer, base, bytes.byteLength).set(bytes);
  attachPatterns(core, base);
  const size = patternCore(core).patternsSize(base) >>> 0;
  if (size !== bytes.byteLength) throw new CoreError(`pattern block is ${bytes.byteLength} bytes, its header says ${size}`);
  return base;
}

/**
 * Runs matchPatterns over a batch already packed in linear memory (the BatchBridge's
 * `input`, `n` and `status`), draining its own result buffer into `sink` in query order,
 * resuming after a full buffer and doubling the buffer when one query alone overflows it.
 * Writes the status bytes too (the same values matchBatch writes), so it may run alone.
 */
export class PatternRunner {
  private readonly core: PatternCore;
  private out: number;
  private cap: number;

  constructor(core: CoreExports, resultCapacity = 4096) {
    this.core = patternCore(core);
    this.cap = resultCapacity;
    this.out = coreAlloc(core, resultCapacity * RESULT_RECORD, 'the pattern result batch');
  }

  /** Returns the number of hits. */
  run(input: number, n: number, status: number, sink: HitSink): number {
    const core = this.core;
    let start = 0;
    let total = 0;
    while (start < n) {
      const hits = core.matchPatterns(input, n, start, status, this.out, this.cap);
      if (hits > 0) {
        readResults(core.memory.buffer, this.out, hits, sink);
        total += hits;
      }
      start = core.getPatternResumeAt() >>> 0;
      if (core.getPatternOverflow()) {
        this.cap *= 2;
        this.out = coreAlloc(core, this.cap * RESULT_RECORD, 'the pattern result batch');
      }
    }
    return total;
  }
}

/**
 * One call of the loop above with a caller-owned buffer: matches queries [start, n) into
 * `out` (room for `cap` records), calls `sink` per hit, and returns where to resume (`n`
 * when done) and whether one query alone overflowed the buffer.
 */
export function matchPatternsInto(
  core: CoreExports, input: number, n: number, start: number, status: number, out: number, cap: number, sink: HitSink,
): { resumeAt: number; overflow: boolean; hits: number } {
  const pc = patternCore(core);
  const hits = pc.matchPatterns(input, n, start, status, out, cap);
  if (hits > 0) readResults(core.memory.buffer, out, hits, sink);
  return { resumeAt: pc.getPatternResumeAt() >>> 0, overflow: pc.getPatternOverflow() !== 0, hits };
}
