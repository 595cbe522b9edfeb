import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { instantiateCore, coreAlloc, type CoreExports } from '../../matcher/core/wasm.js';
import { QUERY_LEN, QUERY_RECORD, QUERY_STATE } from '../../matcher/core/layout.js';
import {
  compilePatterns, loadPatterns, parsePattern, PatternRunner, matchPatternsInto, TIER_PARTIAL,
  type PatternSpec, type PatternExports,
} from '../../matcher/core/patterns.js';
import { PatternError } from '../../matcher/errors.js';
import { referenceHits, type RefPattern, type RefRead } from '../helpers/pattern-reference.js';
import { mulberry32 as mulberry } from '../helpers/random.js';

/** Packs reads into 32-byte query records (as BatchBridge.add does). */
function packReads(core: CoreExports, reads: readonly RefRead[]): { input: number; status: number } {
  const input = coreAlloc(core, Math.max(1, reads.length) * QUERY_RECORD, 'test queries');
  const status = coreAlloc(core, Math.max(1, reads.length), 'test status');
  const u8 = new Uint8Array(core.memory.buffer);
  const u16 = new Uint16Array(core.memory.buffer);
  reads.forEach((r, q) => {
    const rec = input + q * QUERY_RECORD;
    for (let i = 0; i < r.plate.length; i++) u8[rec + i] = Math.min(0xff, r.plate.charCodeAt(i));
    u8[rec + QUERY_LEN] = r.plate.length;
    u16[(rec + QUERY_STATE) >> 1] = r.state;
  });
  return { input, status };
}

function specsOf(patterns: readonly RefPattern[]): PatternSpec[] {
  return patterns.map((p, i) => ({ pattern: p.parsed.text, entry: 1000 + i, state: p.state, ocr: p.ocr }));
}

/** Core hits as `q:position:distance`, checking the record fields on the way. */
function coreHits(core: CoreExports, patterns: readonly RefPattern[], reads: readonly RefRead[], cap = 4096): Set<string> {
  const { input, status } = packReads(core, reads);
  const out = new Set<string>();
  const runner = new PatternRunner(core, cap);
  runner.run(input, reads.length, status, (q, entry, tier, dist, flags, pos) => {
    expect(tier).toBe(TIER_PARTIAL);
    expect(flags).toBe(0);
    expect(entry).toBe(1000 + pos);
    const key = `${q}:${pos}:${dist}`;
    expect(out.has(key)).toBe(false);
    out.add(key);
  });
  return out;
}

function ref(text: string, state = 0, ocr = false): RefPattern {
  const r = parsePattern(text);
  if (!r.ok) throw new Error(r.reason);
  return { parsed: r.pattern, state, ocr };
}

const ALPHA = 'AB8O0D12Z5SX';
const charArb = fc.constantFrom(...ALPHA.split(''));
const tokenArb = fc.oneof(
  { weight: 5, arbitrary: charArb },
  { weight: 2, arbitrary: fc.constant('?') },
  { weight: 2, arbitrary: fc.constant('*') },
  { weight: 2, arbitrary: fc.uniqueArray(charArb, { minLength: 1, maxLength: 3 }).map((cs) => `[${cs.join('')}]`) },
);
const patternArb = fc
  .record({ toks: fc.array(tokenArb, { minLength: 1, maxLength: 8 }), ocr: fc.boolean(), state: fc.constantFrom(0, 0, 1, 2) })
  .map(({ toks, ocr, state }) => ({ text: toks.join(''), ocr, state }))
  .filter(({ text }) => parsePattern(text).ok);

/** A read that instantiates a pattern (stars filled with random runs), then maybe mutates one character. */
function instantiate(text: string, rnd: () => number): string {
  const r = parsePattern(text);
  if (!r.ok) return 'A';
  const pick = (s: string): string => s[Math.floor(rnd() * s.length)];
  let s = '';
  for (const t of r.pattern.tokens) {
    if (t.kind === 'literal') s += t.char;
    else if (t.kind === 'any') s += pick(ALPHA);
    else if (t.kind === 'set') s += pick(t.chars);
    else for (let k = Math.floor(rnd() * 3); k > 0; k--) s += pick(ALPHA);
  }
  if (rnd() < 0.5 && s.length > 0) {
    const i = Math.floor(rnd() * s.length);
    s = s.slice(0, i) + pick(ALPHA) + s.slice(i + 1);
  }
  return s.slice(0, 10) || 'A';
}


describe('pattern syntax', () => {
  it('normalizes case, separators and sets, and collapses star runs', () => {
    const r = parsePattern(' 7ab-?12·? ');
    expect(r.ok && r.pattern.text).toBe('7AB?12?');
    const s = parsePattern('**x4k**');
    expect(s.ok && s.pattern.text).toBe('*X4K*');
    const t = parsePattern('[b8 8]rt*');
    expect(t.ok && t.pattern.text).toBe('[8B]RT*');
    expect(t.ok && t.pattern.tokens[0]).toEqual({ kind: 'set', chars: '8B' });
  });

  it.each([
    ['', 'empty'],
    ['*', 'every plate'],
    ['***', 'every plate'],
    ['??*?', 'constrains no character'],
    ['???????', 'constrains no character'],
    ['AB[C', 'unclosed'],
    ['AB]C', 'unmatched'],
    ['A[B[C]]', 'nested'],
    ['A[]B', 'empty set'],
    ['A[B+]', 'set contains'],
    ['AB_C', 'contains'],
    ['ABCDEFGHIJK', 'at most 10'],
    ['A?B?C?D?E?F', 'at most 10'],
  ])('refuses %j', (text, reason) => {
    const r = parsePattern(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(reason);
  });

  it('accepts ten characters with stars around them', () => {
    expect(parsePattern('*ABCDEFGHIJ*').ok).toBe(true);
  });

  it('compilePatterns throws a typed error naming the bad pattern', () => {
    const core = instantiateCore();
    const specs: PatternSpec[] = [
      { pattern: 'AB?', entry: 0, state: 0, ocr: false },
      { pattern: 'A[B', entry: 1, state: 0, ocr: false },
    ];
    try {
      compilePatterns(core, specs);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(PatternError);
      expect((e as PatternError).code).toBe('ERR_PATTERN');
      expect((e as PatternError).index).toBe(1);
    }
  });
});

describe('pattern core against the brute-force reference', () => {
  it('finds the same (query, pattern, distance) hits on random patterns and reads', () => {
    fc.assert(
      fc.property(
        fc.array(patternArb, { minLength: 1, maxLength: 40 }),
        fc.array(fc.string({ unit: fc.constantFrom(...`${ALPHA}-a`.split('')), minLength: 0, maxLength: 11 }), { maxLength: 20 }),
        fc.integer(),
        (pats, randomPlates, seed) => {
          const rnd = mulberry(seed);
          const patterns = pats.map((p) => ref(p.text, p.state, p.ocr));
          const reads: RefRead[] = [];
          for (const p of pats) reads.push({ plate: instantiate(p.text, rnd), state: Math.floor(rnd() * 3) });
          for (const s of randomPlates) reads.push({ plate: s, state: Math.floor(rnd() * 3) });
          const core = instantiateCore();
          compilePatterns(core, specsOf(patterns));
          const got = coreHits(core, patterns, reads);
          expect([...got].sort()).toEqual([...referenceHits(patterns, reads)].sort());
        },
      ),
      { numRuns: 300, seed: 424242 },
    );
  });

  it('counts OCR-only literals as the distance, taking the best alignment', () => {
    const patterns = [ref('8RT*', 0, true), ref('*0O*', 0, true), ref('[8B]RT*', 0, true), ref('8RT*', 0, false)];
    const reads: RefRead[] = [{ plate: 'BRT123', state: 0 }, { plate: '8RT', state: 0 }, { plate: 'OOQ', state: 0 }, { plate: 'D0', state: 0 }];
    const core = instantiateCore();
    compilePatterns(core, specsOf(patterns));
    const got = coreHits(core, patterns, reads);
    expect([...got].sort()).toEqual(['0:0:1', '0:2:0', '1:0:0', '1:2:0', '1:3:0', '2:1:1', '3:1:2'].sort());
    expect([...got].sort()).toEqual([...referenceHits(patterns, reads)].sort());
  });

  it('filters by state: pattern state 0 or read state 0 or equal', () => {
    const patterns = [ref('AB?1', 0), ref('AB?1', 3), ref('AB?1', 4)];
    const reads: RefRead[] = [{ plate: 'ABC1', state: 0 }, { plate: 'ABC1', state: 3 }, { plate: 'ABC1', state: 5 }];
    const core = instantiateCore();
    compilePatterns(core, specsOf(patterns));
    expect([...coreHits(core, patterns, reads)].sort()).toEqual(['0:0:0', '0:1:0', '0:2:0', '1:0:0', '1:1:0', '2:0:0']);
  });

  it('writes the status bytes and skips invalid reads', () => {
    const patterns = [ref('*A*')];
    const reads: RefRead[] = [{ plate: 'a-b', state: 0 }, { plate: 'A+', state: 0 }, { plate: '', state: 0 }, { plate: 'AAAAAAAAAAA', state: 0 }];
    const core = instantiateCore();
    compilePatterns(core, specsOf(patterns));
    const { input, status } = packReads(core, reads);
    const hits: number[] = [];
    new PatternRunner(core).run(input, reads.length, status, (q) => hits.push(q));
    expect(hits).toEqual([0]);
    expect([...new Uint8Array(core.memory.buffer, status, 4)]).toEqual([0, 3, 1, 2]);
  });
});

describe('pattern result buffer and block', () => {
  const patterns: RefPattern[] = [];
  for (let i = 0; i < 30; i++) patterns.push(ref(`*${'ABX'[i % 3]}*`, 0, i % 2 === 0));
  patterns.push(ref('[AB]?[12]*'), ref('??1*'), ref('7AB?12?', 0, true));
  const rnd = mulberry(7);
  const reads: RefRead[] = Array.from({ length: 200 }, () => ({
    plate: Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => 'AB1278X?'[Math.floor(rnd() * 7)]).join(''),
    state: 0,
  }));

  it('drains a tiny result buffer, resumes, and grows it when one read overflows it', () => {
    const core = instantiateCore();
    compilePatterns(core, specsOf(patterns));
    const big = coreHits(core, patterns, reads, 1 << 16);
    const tiny = coreHits(core, patterns, reads, 2);
    expect(tiny).toEqual(big);
    expect([...big].sort()).toEqual([...referenceHits(patterns, reads)].sort());
    expect(big.size).toBeGreaterThan(500);
  });

  it('reports resume and overflow through matchPatternsInto', () => {
    const core = instantiateCore();
    compilePatterns(core, specsOf(patterns));
    const { input, status } = packReads(core, [{ plate: 'ABX', state: 0 }, { plate: 'QQQ', state: 0 }]);
    const out = coreAlloc(core, 16 * 4, 'out');
    const r = matchPatternsInto(core, input, 2, 0, status, out, 4, () => {});
    expect(r).toEqual({ resumeAt: 0, overflow: true, hits: 0 });
    const big = coreAlloc(core, 16 * 64, 'out');
    const seen: number[] = [];
    const r2 = matchPatternsInto(core, input, 2, 0, status, big, 64, (q) => seen.push(q));
    expect(r2.resumeAt).toBe(2);
    expect(r2.overflow).toBe(false);
    expect(seen.length).toBe(r2.hits);
    expect(seen.length).toBe(30);
  });

  it('gives the same results from a copy of the block in another instance', () => {
    const a = instantiateCore();
    const compiled = compilePatterns(a, specsOf(patterns));
    const bytes = new Uint8Array(a.memory.buffer, compiled.base, compiled.size).slice();
    const b = instantiateCore();
    coreAlloc(b, 12345, 'shift the block');
    loadPatterns(b, bytes);
    expect(coreHits(b, patterns, reads)).toEqual(coreHits(a, patterns, reads));
    expect(compiled.stats.patterns).toBe(patterns.length);
    expect(compiled.stats.scanned).toBe(1);
    expect(compiled.stats.unigram).toBe(31);
  });

  it('verifies only a few programs per read with thousands of patterns', () => {
    const rnd2 = mulberry(99);
    const A = 'ABCDEFGHJKLMNPRSTUVWXYZ0123456789';
    const ch = (): string => A[Math.floor(rnd2() * A.length)];
    const pats: RefPattern[] = [];
    for (let i = 0; i < 5000; i++) {
      const kind = i % 3;
      const text = kind === 0 ? `${ch()}${ch()}${ch()}?${ch()}${ch()}?` : kind === 1 ? `*${ch()}${ch()}${ch()}*` : `[${ch()}${ch()}]${ch()}${ch()}*`;
      pats.push(ref(text, 0, i % 2 === 0));
    }
    const rs: RefRead[] = Array.from({ length: 2000 }, () => ({ plate: Array.from({ length: 7 }, ch).join(''), state: 0 }));
    const core = instantiateCore();
    compilePatterns(core, specsOf(pats));
    const before = (core as CoreExports & PatternExports).getPatternVerified();
    const got = coreHits(core, pats, rs);
    const verified = Number((core as CoreExports & PatternExports).getPatternVerified() - before);
    expect(verified / rs.length).toBeLessThan(3);
    expect([...got].sort()).toEqual([...referenceHits(pats, rs)].sort());
  });
});
