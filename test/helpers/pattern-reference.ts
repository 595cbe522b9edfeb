/**
 * Brute-force partial-plate matcher, the reference the core's pattern index is tested
 * against: every pattern becomes a RegExp over the normalized plate (OCR-aware literals
 * expanded to their class), every read is tested against every pattern, and the distance
 * (literals matched only through OCR equivalence, fewest over all alignments) comes from
 * an exhaustive recursion over the tokens.
 */
import { normalizePlate, DEFAULT_OCR_CLASSES } from '../../matcher/core/plate.js';
import type { ParsedPattern, PatternToken } from '../../matcher/core/patterns.js';

export interface RefPattern {
  parsed: ParsedPattern;
  state: number;
  ocr: boolean;
}

export interface RefRead {
  plate: string;
  state: number;
}

function classOf(ch: string, classes: readonly string[]): string {
  return classes.find((c) => c.includes(ch)) ?? ch;
}

/** The RegExp of a pattern (anchored, over normalized plates). */
export function patternRegExp(p: ParsedPattern, ocr: boolean, classes: readonly string[] = DEFAULT_OCR_CLASSES): RegExp {
  let src = '^';
  for (const t of p.tokens) {
    if (t.kind === 'literal') src += ocr ? `[${classOf(t.char, classes)}]` : t.char;
    else if (t.kind === 'any') src += '[A-Z0-9]';
    else if (t.kind === 'set') src += `[${t.chars}]`;
    else src += '[A-Z0-9]*';
  }
  return new RegExp(`${src}$`);
}

/** Fewest OCR-only literal matches over all alignments, or null when the pattern does not match. */
export function referenceDistance(p: ParsedPattern, plate: string, ocr: boolean, classes: readonly string[] = DEFAULT_OCR_CLASSES): number | null {
  const toks: PatternToken[] = p.tokens;
  const memo = new Map<number, number>();
  const go = (t: number, i: number): number => {
    const key = t * 16 + i;
    const m = memo.get(key);
    if (m !== undefined) return m;
    let best = Infinity;
    if (t === toks.length) best = i === plate.length ? 0 : Infinity;
    else {
      const tok = toks[t];
      if (tok.kind === 'star') {
        for (let j = i; j <= plate.length; j++) best = Math.min(best, go(t + 1, j));
      } else if (i < plate.length) {
        const c = plate[i];
        let cost = Infinity;
        if (tok.kind === 'any') cost = 0;
        else if (tok.kind === 'set') cost = tok.chars.includes(c) ? 0 : Infinity;
        else if (tok.char === c) cost = 0;
        else if (ocr && classOf(tok.char, classes).includes(c)) cost = 1;
        if (cost < Infinity) best = cost + go(t + 1, i + 1);
      }
    }
    memo.set(key, best);
    return best;
  };
  const d = go(0, 0);
  return d === Infinity ? null : d;
}

/** Every (query, pattern, distance) hit as `q:position:distance`, by brute force. */
export function referenceHits(patterns: readonly RefPattern[], reads: readonly RefRead[], classes: readonly string[] = DEFAULT_OCR_CLASSES): Set<string> {
  const res = patterns.map((p) => patternRegExp(p.parsed, p.ocr, classes));
  const out = new Set<string>();
  reads.forEach((r, q) => {
    const n = normalizePlate(r.plate);
    if (!n.ok) return;
    patterns.forEach((p, i) => {
      if (p.state !== 0 && r.state !== 0 && p.state !== r.state) return;
      if (!res[i].test(n.plate)) return;
      const d = referenceDistance(p.parsed, n.plate, p.ocr, classes);
      if (d === null) throw new Error(`reference disagrees with itself on ${p.parsed.text} / ${n.plate}`);
      out.add(`${q}:${i}:${d}`);
    });
  });
  return out;
}
