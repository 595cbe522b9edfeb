/**
 * Alert scores: how likely a read is of the hotlisted vehicle, in [0, 1].
 *
 * Each tier owns a band, so for one read an `exact` match always outranks an `ocr` match,
 * which always outranks a `fuzzy` one, whatever the confidences:
 *
 *   exact  0.80 + 0.20 * q * s
 *   ocr    0.55 + 0.24 * q * s * L
 *   fuzzy  0.20 + 0.34 * q * s * L * E
 *   partial 0.05 + 0.14 * q * s * P * 0.8^o
 *
 * q: the read's (or candidate's) OCR confidence, 0.9 when absent;
 * s: 0.5 when the states differ (only with stateMismatch 'match'), else 1;
 * L: product over confused characters of how often OCR confuses that pair (CONFUSION);
 * E: product over edits of 0.6 for a character dropped or added at either end of the plate
 *    (the commonest OCR error), 0.45 for any other substitution, insertion or deletion;
 * P: how much of the plate the pattern pins down (literals 1, sets 0.5, `?` 0, over the
 *    plate's length); o: literals matched only as OCR equivalents.
 * docs/scoring.md explains the figures and the accuracy report measures them.
 */
import type { MatchTier } from '../types.js';

export const DEFAULT_CONFIDENCE = 0.9;

/** Likelihood that OCR reads one character of a pair as the other (default classes). */
const CONFUSION: Readonly<Record<string, number>> = {
  '0O': 0.95, '0D': 0.8, '0Q': 0.7, 'DO': 0.75, 'OQ': 0.7, 'DQ': 0.6,
  '1I': 0.9, '1L': 0.7, 'IL': 0.7,
  '2Z': 0.8, '5S': 0.85, '8B': 0.85, '6G': 0.75,
};
/** Pairs of configured classes missing from CONFUSION. */
const OTHER_CONFUSION = 0.7;
const END_EDIT = 0.6;
const INNER_EDIT = 0.45;
const STATE_MISMATCH = 0.5;

// CONFUSION as a table indexed by the two characters' codes, (a << 7) | b, both orders:
// scoring runs per hit and a string key per confused pair would allocate.
const PAIR = new Float64Array(1 << 14).fill(OTHER_CONFUSION);
for (const [pair, likelihood] of Object.entries(CONFUSION)) {
  const a = pair.charCodeAt(0);
  const b = pair.charCodeAt(1);
  PAIR[(a << 7) | b] = likelihood;
  PAIR[(b << 7) | a] = likelihood;
}

function pairLikelihood(a: number, b: number): number {
  return PAIR[((a & 127) << 7) | (b & 127)];
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

/** Confusion factor L of two plates of equal length that collapse to the same form. */
export function confusionFactor(read: string, entry: string): number {
  let l = 1;
  for (let i = 0; i < read.length; i++) {
    const a = read.charCodeAt(i);
    const b = entry.charCodeAt(i);
    if (a !== b) l *= pairLikelihood(a, b);
  }
  return l;
}

/**
 * Factors E and L of a fuzzy match: aligns the collapsed plates with a minimum-edit
 * alignment and weighs each edit, and each confused-but-aligned character pair. `collapse`
 * maps a character code to its OCR class representative's (ocrCollapseTable).
 */
export function fuzzyFactors(read: string, entry: string, collapse: Uint8Array): { edits: number; confusion: number } {
  fuzzyFactorsInto(read, entry, collapse, FACTORS);
  return { edits: FACTORS[0], confusion: FACTORS[1] };
}

/** Scratch of {@link fuzzyScoreOf}: scoring runs per hit and should not allocate. */
const FACTORS = new Float64Array(2);

/** The fuzzy score of a hit (the factors of {@link fuzzyFactors}, without an object per hit). */
export function fuzzyScoreOf(read: string, entry: string, collapse: Uint8Array, confidence: number, stateMismatch: boolean): number {
  fuzzyFactorsInto(read, entry, collapse, FACTORS);
  return fuzzyScore(confidence, stateMismatch, FACTORS[1], FACTORS[0]);
}

/** {@link fuzzyFactors} into out[0] (edits) and out[1] (confusion). */
function fuzzyFactorsInto(read: string, entry: string, collapse: Uint8Array, out: Float64Array): void {
  const n = read.length;
  const m = entry.length;
  const w = m + 1;
  const ra = RA;
  const ea = EA;
  const rc = RC;
  const ec = EC;
  for (let i = 0; i < n; i++) {
    ra[i] = read.charCodeAt(i);
    rc[i] = collapse[ra[i] & 127];
  }
  for (let j = 0; j < m; j++) {
    ea[j] = entry.charCodeAt(j);
    ec[j] = collapse[ea[j] & 127];
  }
  if (n === m) {
    // Same length, at most one collapsed character apart (every substitution at distance 1):
    // the minimum-edit alignment is the diagonal, so no table is needed. Factors multiply
    // from the last character back, as the traceback below does, for identical rounding.
    let mismatches = 0;
    for (let i = 0; i < n; i++) if (rc[i] !== ec[i]) mismatches++;
    if (mismatches <= 1) {
      let confusion = 1;
      for (let i = n - 1; i >= 0; i--) {
        if (rc[i] === ec[i] && ra[i] !== ea[i]) confusion *= pairLikelihood(ra[i], ea[i]);
      }
      out[0] = mismatches === 1 ? INNER_EDIT : 1;
      out[1] = confusion;
      return;
    }
  }
  // Plates have at most 10 characters: one preallocated 11 x 11 table, row-major.
  const d = DP;
  for (let i = 0; i <= n; i++) d[i * w] = i;
  for (let j = 0; j <= m; j++) d[j] = j;
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= m; j++) {
      const sub = d[(i - 1) * w + j - 1] + (rc[i - 1] === ec[j - 1] ? 0 : 1);
      const del = d[(i - 1) * w + j] + 1;
      const ins = d[i * w + j - 1] + 1;
      d[i * w + j] = sub < del ? (sub < ins ? sub : ins) : del < ins ? del : ins;
    }
  }
  let edits = 1;
  let confusion = 1;
  let i = n;
  let j = m;
  while (i > 0 || j > 0) {
    const here = d[i * w + j];
    if (i > 0 && j > 0 && here === d[(i - 1) * w + j - 1] + (rc[i - 1] === ec[j - 1] ? 0 : 1)) {
      if (rc[i - 1] !== ec[j - 1]) edits *= INNER_EDIT;
      else if (ra[i - 1] !== ea[j - 1]) confusion *= pairLikelihood(ra[i - 1], ea[j - 1]);
      i--;
      j--;
    } else if (i > 0 && here === d[(i - 1) * w + j] + 1) {
      edits *= i === 1 || i === n ? END_EDIT : INNER_EDIT; // read has an extra character
      i--;
    } else {
      edits *= j === 1 || j === m ? END_EDIT : INNER_EDIT; // read dropped a character
      j--;
    }
  }
  out[0] = edits;
  out[1] = confusion;
}

// Character codes of the two plates and of their collapsed forms (at most 10 each).
const RA = new Int32Array(10);
const EA = new Int32Array(10);
const RC = new Int32Array(10);
const EC = new Int32Array(10);
const DP = new Int32Array(11 * 11);

export function exactScore(confidence: number, stateMismatch: boolean): number {
  return 0.8 + 0.2 * clamp01(confidence) * (stateMismatch ? STATE_MISMATCH : 1);
}

export function ocrScore(confidence: number, stateMismatch: boolean, confusion: number): number {
  return 0.55 + 0.24 * clamp01(confidence) * (stateMismatch ? STATE_MISMATCH : 1) * confusion;
}

export function fuzzyScore(confidence: number, stateMismatch: boolean, confusion: number, edits: number): number {
  return 0.2 + 0.34 * clamp01(confidence) * (stateMismatch ? STATE_MISMATCH : 1) * confusion * edits;
}

/**
 * Score of a hit: `queryPlate` and `entryPlate` are normalized; `collapse` is the OCR class
 * table of the matcher (ocrCollapseTable).
 */
export function scoreHit(
  tier: MatchTier,
  queryPlate: string,
  entryPlate: string,
  confidence: number | undefined,
  stateMismatch: boolean,
  collapse: Uint8Array,
): number {
  const q = confidence ?? DEFAULT_CONFIDENCE;
  if (tier === 'exact') return roundScore(exactScore(q, stateMismatch));
  if (tier === 'ocr') return roundScore(ocrScore(q, stateMismatch, confusionFactor(queryPlate, entryPlate)));
  return roundScore(fuzzyScoreOf(queryPlate, entryPlate, collapse, q, stateMismatch));
}

/** Rounds a score for output (4 decimals) without leaving its band. */
export function roundScore(x: number): number {
  return Math.round(x * 10000) / 10000;
}

/** Specificity P of a partial pattern against a plate of `length` characters. */
export function patternSpecificity(pattern: string, length: number): number {
  let pinned = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '[') {
      pinned += 0.5;
      i = pattern.indexOf(']', i);
    } else if (c !== '?' && c !== '*') pinned += 1;
  }
  return length > 0 ? Math.min(1, pinned / length) : 0;
}

export function partialScore(confidence: number, stateMismatch: boolean, specificity: number, ocrLiterals: number): number {
  return 0.05 + 0.14 * clamp01(confidence) * (stateMismatch ? STATE_MISMATCH : 1) * specificity * Math.pow(0.8, ocrLiterals);
}
