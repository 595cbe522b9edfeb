/**
 * Target `patterns`: partial-plate patterns (core/patterns.ts parsePattern). Most cases parse
 * one pattern: accepted ones must be canonical (their text parses to itself) and within the
 * limits, rejected ones must say why. One case in 64 compiles a batch of accepted patterns
 * into a matcher (the core's fragment index) and matches plates against them, differential
 * against a regular expression per pattern.
 */
import { createMatcher } from '../../matcher/matcher.js';
import { MAX_PATTERN_TOKENS, parsePattern, type ParsedPattern } from '../../matcher/core/patterns.js';
import type { HotlistEntry } from '../../matcher/types.js';
import type { Rng } from '../rng.js';
import { mutateBytes } from '../mutate.js';
import { FuzzFailure, type CaseResult, type FuzzCase, type Target } from '../types.js';

const PLATE_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const SEPARATORS = [' ', '-', '.', '\u00b7'];
const ODD = ['[', ']', '[]', '[[', 'é', 'ß', 'ﬁ', 'İ', 'ı', '😀', '\u0000', '/', '+', '{', '_', '\t', '\ud800', 'ǅ'];

function literal(rng: Rng): string {
  const c = PLATE_CHARS[rng.int(36)];
  return rng.chance(0.2) ? c.toLowerCase() : c;
}

/** A pattern of plausible tokens, now and then with a character that does not belong. */
function patternText(rng: Rng): string {
  let s = '';
  for (let n = rng.range(1, rng.chance(0.9) ? 9 : 16); n > 0; n--) {
    s += rng.weighted<() => string>([
      [10, () => literal(rng)],
      [3, () => '?'],
      [2, () => '*'],
      [2, () => `[${Array.from({ length: rng.range(rng.chance(0.05) ? 0 : 1, rng.chance(0.05) ? 36 : 4) }, () => (rng.chance(0.1) ? rng.pick(SEPARATORS) : literal(rng))).join('')}]`],
      [1, () => rng.pick(SEPARATORS)],
      [1, () => rng.pick(ODD)],
    ])();
  }
  return s;
}

/** A plate that fits `p` (stars filled with 0 to 3 characters), or close to fitting. */
function plateFor(rng: Rng, p: ParsedPattern): string {
  let s = '';
  for (const t of p.tokens) {
    if (t.kind === 'literal') s += t.char;
    else if (t.kind === 'set') s += t.chars[rng.int(t.chars.length)];
    else if (t.kind === 'any') s += PLATE_CHARS[rng.int(36)];
    else for (let k = rng.int(4); k > 0; k--) s += PLATE_CHARS[rng.int(36)];
  }
  if (rng.chance(0.3) && s.length > 0) {
    const i = rng.int(s.length);
    s = s.slice(0, i) + PLATE_CHARS[rng.int(36)] + s.slice(i + 1);
  }
  return s.slice(0, 10);
}

const utf8 = new TextEncoder();
const text = new TextDecoder();

function generate(rng: Rng): FuzzCase {
  if (rng.int(64) !== 0) {
    const data = utf8.encode(patternText(rng));
    return { data: rng.chance(0.3) ? mutateBytes(rng, data, { text: true, maxLength: 256 }) : data, opt: 0 };
  }
  // Compile mode: pattern lines, a blank line, then plates.
  const patterns: string[] = [];
  const plates: string[] = [];
  while (patterns.length < 48) {
    const t = patternText(rng).replace(/[\r\n]/g, '');
    const r = parsePattern(t);
    if (!r.ok) continue;
    patterns.push(t);
    for (let k = rng.range(1, 3); k > 0; k--) plates.push(plateFor(rng, r.pattern));
  }
  for (let k = 0; k < 20; k++) plates.push(Array.from({ length: rng.range(1, 8) }, () => PLATE_CHARS[rng.int(36)]).join(''));
  return { data: utf8.encode(`${patterns.join('\n')}\n\n${plates.join('\n')}`), opt: 1 };
}

function regexOf(p: ParsedPattern): RegExp {
  let src = '^';
  for (const t of p.tokens) src += t.kind === 'literal' ? t.char : t.kind === 'any' ? '[A-Z0-9]' : t.kind === 'set' ? `[${t.chars}]` : '[A-Z0-9]*';
  return new RegExp(`${src}$`);
}

function checkParse(input: string): boolean {
  const r = parsePattern(input);
  if (!r.ok) {
    if (typeof r.reason !== 'string' || r.reason.trim() === '' || r.reason.includes('undefined')) {
      throw new FuzzFailure(`pattern ${JSON.stringify(input)} refused without a proper reason: ${JSON.stringify(r.reason)}`);
    }
    return false;
  }
  const { text: canonical, tokens } = r.pattern;
  const again = parsePattern(canonical);
  if (!again.ok || again.pattern.text !== canonical) throw new FuzzFailure(`canonical form ${JSON.stringify(canonical)} of ${JSON.stringify(input)} does not parse to itself`);
  const fixed = tokens.filter((t) => t.kind !== 'star').length;
  if (fixed < 1 || fixed > MAX_PATTERN_TOKENS) throw new FuzzFailure(`pattern ${JSON.stringify(input)} accepted with ${fixed} tokens`);
  if (!/^[A-Z0-9?*[\]]+$/.test(canonical)) throw new FuzzFailure(`canonical form ${JSON.stringify(canonical)} has characters outside the syntax`);
  return true;
}

function checkCompiled(lines: string[], plates: string[]): void {
  const parsed = lines.map((l) => parsePattern(l)).filter((r): r is { ok: true; pattern: ParsedPattern } => r.ok).map((r) => r.pattern);
  const entries: HotlistEntry[] = parsed.map((p, i) => ({ id: `P${i}`, pattern: p.text, list: 'BOLO', case: 'C-1', enteredBy: 'fuzz', purpose: 'HOMICIDE', expires: '2999-01-01' }));
  const matcher = createMatcher({ entries });
  const regexes = parsed.map(regexOf);
  for (const plate of plates) {
    const got = matcher.match({ plate }).filter((a) => a.match === 'partial').map((a) => a.entryId).sort();
    const want = regexes.flatMap((re, i) => (re.test(plate) ? [`P${i}`] : [])).sort();
    if (got.join() !== want.join()) throw new FuzzFailure(`plate ${plate}: the core matched [${got.join()}], the reference [${want.join()}]`);
  }
}

function run(c: FuzzCase): CaseResult {
  const input = text.decode(c.data);
  if (c.opt !== 1) return { rejected: !checkParse(input) };
  const [head, tail = ''] = input.split('\n\n');
  const lines = head.split('\n');
  lines.forEach(checkParse);
  checkCompiled(lines, tail.split('\n').filter((p) => p !== ''));
  return { rejected: false };
}

/** The partial-pattern fuzz target. */
export const patternsTarget: Target = {
  name: 'patterns',
  description: 'partial-plate patterns (parsePattern; 1 case in 64 compiles 48 into the core and matches plates vs a RegExp)',
  generate,
  run,
};
