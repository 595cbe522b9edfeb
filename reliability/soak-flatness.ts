/**
 * Whether the soak's series stayed flat: after a warm-up of min(2 min, 20 % of the run), the
 * medians of the last third of the samples against the first third.
 */
import type { Sample } from './soak-sampling.js';

/** Median of the finite values; NaN when there are none. */
export function median(xs: readonly number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Medians of the first and the last third of the compared samples. */
export interface Compared {
  first: number;
  last: number;
}

/** The flatness verdict, as written to the JSON. */
export interface Flatness {
  criterion: string;
  warmupS: number;
  samplesCompared: number;
  rss: Compared & { ok: boolean };
  heap: Compared & { ok: boolean; judged: boolean };
  p99: Compared & { ok: boolean };
  lag: Compared & { ok: boolean };
}

/**
 * Judges the samples of a `seconds`-long run at `rate` reads/s. RSS: last <= first x 1.2 +
 * 16 MB. p99: last <= first x 2 + 5 ms. Lag: median of the last third <= one second of reads.
 * `enough`: at least one sample in each third (else nothing is judged flat).
 */
export function flatness(samples: readonly Sample[], seconds: number, rate: number): { flat: Flatness; allFlat: boolean; enough: boolean } {
  const warmupS = Math.min(120, 0.2 * seconds);
  const post = samples.filter((x) => x.t >= warmupS);
  const third = Math.floor(post.length / 3);
  const first = post.slice(0, third);
  const last = post.slice(post.length - third);
  const cmp = (f: (x: Sample) => number): Compared => ({ first: median(first.map(f)), last: median(last.map(f)) });
  const rss = cmp((x) => x.rssMB);
  const heap = cmp((x) => x.heapUsedMB);
  const p99 = cmp((x) => x.p99Ms);
  const lag = cmp((x) => x.lag);
  const enough = third >= 1;
  const flat: Flatness = {
    criterion: 'after a warm-up of min(2 min, 20 % of the run), medians of the last third of the samples vs the first third: RSS last <= first x 1.2 + 16 MB; p99 last <= first x 2 + 5 ms; lag median of the last third <= one second of reads; heap used shown, not judged (GC sawtooth)',
    warmupS,
    samplesCompared: third,
    rss: { ...rss, ok: enough && rss.last <= rss.first * 1.2 + 16 },
    // Heap used is a GC sawtooth (a sample lands anywhere between two collections): shown, not judged.
    heap: { ...heap, ok: true, judged: false },
    p99: { ...p99, ok: enough && p99.last <= p99.first * 2 + 5 },
    lag: { ...lag, ok: enough && lag.last <= rate },
  };
  return { flat, allFlat: flat.rss.ok && flat.p99.ok && flat.lag.ok, enough };
}
