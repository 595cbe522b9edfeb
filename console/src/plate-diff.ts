/**
 * Which characters of the plate as read differ from the plate as listed: an edit-distance
 * alignment (the matcher's fuzzy tier allows substitutions, insertions and deletions), so an
 * inserted character does not mark everything after it as different.
 */
export interface PlateChar {
  ch: string;
  differs: boolean;
}

export function plateDiff(read: string, listed: string): { read: PlateChar[]; listed: PlateChar[] } {
  const n = read.length;
  const m = listed.length;
  const d: number[][] = Array.from({ length: n + 1 }, (_, i) => Array.from({ length: m + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= m; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (read[i - 1] === listed[j - 1] ? 0 : 1));
    }
  }
  const r: PlateChar[] = [];
  const l: PlateChar[] = [];
  let i = n;
  let j = m;
  while (i > 0 || j > 0) {
    if (i > 0 && j > 0 && d[i][j] === d[i - 1][j - 1] + (read[i - 1] === listed[j - 1] ? 0 : 1)) {
      const same = read[i - 1] === listed[j - 1];
      r.unshift({ ch: read[i - 1], differs: !same });
      l.unshift({ ch: listed[j - 1], differs: !same });
      i--;
      j--;
    } else if (i > 0 && d[i][j] === d[i - 1][j] + 1) {
      r.unshift({ ch: read[i - 1], differs: true });
      i--;
    } else {
      l.unshift({ ch: listed[j - 1], differs: true });
      j--;
    }
  }
  return { read: r, listed: l };
}

/** A partial-plate pattern against the read: `?` (one character) and `*` (any run) never differ. */
export function patternDiff(read: string, pattern: string): { read: PlateChar[]; listed: PlateChar[] } {
  if (pattern.includes('*')) {
    return { read: [...read].map((ch) => ({ ch, differs: false })), listed: [...pattern].map((ch) => ({ ch, differs: false })) };
  }
  const out = plateDiff(read, pattern);
  return {
    read: out.read,
    listed: out.listed.map((c) => (c.ch === '?' ? { ch: c.ch, differs: false } : c)),
  };
}
