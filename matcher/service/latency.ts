/**
 * Latency in HDR histograms (1 µs .. 60 s, 3 significant digits; metrics.ts exposes them):
 * recording is an array increment and quantiles are exact to 0.1 %. Each stage keeps a
 * lifetime histogram and two rotating windows.
 */
import { build, type Histogram as HdrHistogram } from 'hdr-histogram-js';

/** Stages whose latency is recorded. */
export type LatencyStage = 'match' | 'end_to_end';
export const LATENCY_STAGES: readonly LatencyStage[] = ['match', 'end_to_end'];

/** Latency of a stage in milliseconds, from ServiceMetrics.latencySummary. */
export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  /** Samples recorded. */
  count: number;
}

const LOWEST_US = 1;
export const HIGHEST_US = 60_000_000;
/** Quantile label -> percentile asked of the HDR histogram; `1` is the maximum. */
export const QUANTILES: ReadonlyArray<[string, number]> = [
  ['0.5', 50],
  ['0.9', 90],
  ['0.99', 99],
  ['0.999', 99.9],
  ['1', 100],
];

/** An empty histogram of the range above. */
export function hdr(): HdrHistogram {
  return build({
    lowestDiscernibleValue: LOWEST_US,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
    autoResize: false,
  });
}

/** Lifetime histogram plus two rotating windows of one stage. */
export class StageLatency {
  readonly lifetime = hdr();
  private current = hdr();
  private previous = hdr();
  private windowStart: number;

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number,
  ) {
    this.windowStart = now();
  }

  record(micros: number, count: number): void {
    this.rotate();
    this.current.recordValueWithCount(micros, count);
    this.lifetime.recordValueWithCount(micros, count);
  }

  /** Fills `into` with the last one to two windows. */
  windowed(into: HdrHistogram): HdrHistogram {
    this.rotate();
    into.reset();
    into.add(this.previous);
    into.add(this.current);
    return into;
  }

  private rotate(): void {
    const t = this.now();
    const elapsed = t - this.windowStart;
    if (elapsed < this.windowMs) return;
    if (elapsed >= 2 * this.windowMs) {
      // Nothing recorded for a whole window: both are stale.
      this.previous.reset();
      this.current.reset();
    } else {
      const stale = this.previous;
      this.previous = this.current;
      stale.reset();
      this.current = stale;
    }
    this.windowStart = t;
  }
}

/** The percentiles of `h`, in milliseconds (zeros when it is empty). */
export function summarize(h: HdrHistogram): LatencySummary {
  const ms = (percentile: number): number => (h.totalCount === 0 ? 0 : h.getValueAtPercentile(percentile) / 1000);
  return {
    p50: ms(50),
    p90: ms(90),
    p99: ms(99),
    p999: ms(99.9),
    max: h.totalCount === 0 ? 0 : h.maxValue / 1000,
    count: h.totalCount,
  };
}
