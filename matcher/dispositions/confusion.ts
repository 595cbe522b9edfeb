/**
 * Which characters differed between a read plate and the hotlist plate it matched, for the
 * false-alert statistics: pairs such as `8>B` tell an agency which OCR confusions cost it.
 */

/**
 * Returns `read>listed` pairs of differing characters: position-aligned when both plates have
 * the same length, otherwise the substitutions, insertions (`>X`) and deletions (`X>`) of one
 * minimal edit script (Levenshtein, ties preferring substitution).
 */
export function confusionPairs(plate: string, hotlistPlate: string): string[] {
  const a = plate.toUpperCase();
  const b = hotlistPlate.toUpperCase();
  if (a.length === b.length) {
    const out: string[] = [];
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) out.push(`${a[i]}>${b[i]}`);
    return out;
  }
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    d.push(new Array<number>(b.length + 1).fill(0));
    d[i][0] = i;
  }
  for (let j = 0; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const sub = d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      d[i][j] = Math.min(sub, d[i - 1][j] + 1, d[i][j - 1] + 1);
    }
  }
  const out: string[] = [];
  let i = a.length;
  let j = b.length;
  while (i > 0 || j > 0) {
    if (i > 0 && j > 0 && d[i][j] === d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)) {
      if (a[i - 1] !== b[j - 1]) out.push(`${a[i - 1]}>${b[j - 1]}`);
      i--;
      j--;
    } else if (i > 0 && d[i][j] === d[i - 1][j] + 1) {
      out.push(`${a[i - 1]}>`);
      i--;
    } else {
      out.push(`>${b[j - 1]}`);
      j--;
    }
  }
  return out.reverse();
}
