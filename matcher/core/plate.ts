/**
 * Plate normalization in plain TypeScript. The hot path does the same inside the core
 * (core-wasm/assembly/codec.ts); this copy serves hotlist loading, scoring of hits and
 * the rare read whose raw plate does not fit a batch slot. Tests hold the two equal.
 */
import type { InvalidReadCode } from '../types.js';

/** Longest normalized plate. */
export const MAX_PLATE_LENGTH = 10;

/** Default OCR-confusable classes; the first character of each is its representative. */
export const DEFAULT_OCR_CLASSES: readonly string[] = ['0ODQ', '1IL', '2Z', '5S', '8B', '6G'];

/** Result of {@link normalizePlate}. */
export type NormalizeResult =
  | { ok: true; plate: string }
  | { ok: false; code: InvalidReadCode; reason: string };

/** Space, `-`, `.` and `·` (a comparison chain: this runs per character of every hit). */
function isSeparator(c: number): boolean {
  return c === 0x20 || c === 0x2d || c === 0x2e || c === 0xb7;
}

/**
 * Upper-cases, drops separators (space, `-`, `.`, `·`) and checks that what is left is
 * 1 to 10 characters of `A-Z0-9`.
 */
export function normalizePlate(raw: string): NormalizeResult {
  // Most plates arrive normalized: return them as they are, with no string built.
  if (isNormalizedPlate(raw)) return { ok: true, plate: raw };
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    let c = raw.charCodeAt(i);
    if (isSeparator(c)) continue;
    if (c >= 0x61 && c <= 0x7a) c -= 0x20;
    if ((c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39)) {
      out += String.fromCharCode(c);
      continue;
    }
    return {
      ok: false,
      code: 'INVALID_CHARACTER',
      reason: `plate contains ${JSON.stringify(raw[i])} (only A-Z, 0-9 and the separators space - . · are allowed)`,
    };
  }
  if (out.length === 0) return { ok: false, code: 'EMPTY_PLATE', reason: 'plate is empty after normalization' };
  if (out.length > MAX_PLATE_LENGTH) {
    return { ok: false, code: 'PLATE_TOO_LONG', reason: `plate has ${out.length} characters after normalization (at most ${MAX_PLATE_LENGTH})` };
  }
  return { ok: true, plate: out };
}

/** True when `raw` is already a normalized plate (1 to 10 characters of `A-Z0-9`). */
export function isNormalizedPlate(raw: string): boolean {
  if (raw.length === 0 || raw.length > MAX_PLATE_LENGTH) return false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39))) return false;
  }
  return true;
}

/** Builds the character -> representative map of a set of OCR classes. */
export function ocrClassMap(classes: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const cls of classes) {
    const rep = cls[0];
    for (const ch of cls) map.set(ch, rep);
  }
  return map;
}

/**
 * The same map as a table for the scoring of hits: character code (0-127) -> code of its
 * class representative, every other character to itself.
 */
export function ocrCollapseTable(classes: readonly string[]): Uint8Array {
  const table = new Uint8Array(128);
  for (let c = 0; c < 128; c++) table[c] = c;
  for (const cls of classes) {
    const rep = cls.charCodeAt(0);
    for (let i = 0; i < cls.length; i++) table[cls.charCodeAt(i)] = rep;
  }
  return table;
}

/** Maps every OCR-confusable character of a normalized plate to its class representative. */
export function collapsePlate(plate: string, classMap: ReadonlyMap<string, string>): string {
  let out = '';
  for (const ch of plate) out += classMap.get(ch) ?? ch;
  return out;
}

/** Placeholder plates that hotlist extracts carry (`0`, `00`, `000`): never indexed. */
export function isJunkPlate(plate: string): boolean {
  return /^0+$/.test(plate);
}

/** Upper-cased, trimmed state code; empty means unknown. */
export function normalizeState(state: string | undefined | null): string {
  if (typeof state !== 'string') return '';
  // Most states arrive normalized: keep the string unless trim or toUpperCase would change it.
  for (let i = 0; i < state.length; i++) {
    const c = state.charCodeAt(i);
    if (c <= 0x20 || (c >= 0x61 && c <= 0x7a) || c > 0x7e) return state.trim().toUpperCase();
  }
  return state;
}
