/**
 * Alert suppression: the same hotlist entry read again by the same camera within a window
 * raises no new alert; the repeat is counted and reported as `sightings` on the next alert.
 *
 * Time: an alert's own `ts` (the read time, epoch ms) when it has one, else `now()`. Read time
 * makes the window mean the same thing live and on replayed or backlogged data: a backlog of
 * a parked car read every 30 s for an hour, drained in one second, still gives one alert per
 * window of read time instead of one alert in all. Reads may arrive out of order, so a sighting
 * within `windowMs` either side of the last emitted alert is suppressed, and the clocks of a
 * key only move forward.
 *
 * Keys are `entryId` + `cameraId`; an alert without `cameraId` is never suppressed (there is
 * no camera to key the cooldown on, and guessing would hide a sighting).
 *
 * Memory: one small record per key, in a Map ordered by last sighting (a touched key is moved
 * to the end). A key is forgotten `forgetAfterMs` after its last sighting: `offer` treats it as
 * new from then on, whether or not it has been pruned yet, so results never depend on when
 * pruning ran. Every `pruneEvery` offers the oldest keys are dropped from the front of the Map
 * while they are forgotten; when more than `maxKeys` keys are held the least recently seen are
 * dropped, and any repeats counted on them are lost (their next alert says `sightings: 1`).
 */
import { OptionsError } from '../errors.js';
import type { Alert } from '../types.js';

/** Options of {@link AlertSuppressor}. */
export interface AlertSuppressorOptions {
  /** Cooldown per entry and camera, ms. 0 disables suppression (every alert emitted, sightings 1). */
  windowMs: number;
  /** Clock for alerts without `ts`. Default `Date.now`. */
  now?: () => number;
  /** Most keys held; beyond it the least recently seen are dropped. Default 1 000 000. */
  maxKeys?: number;
  /** A key not seen for this long (ms) is forgotten with its count. Default max(windowMs, 1 hour). */
  forgetAfterMs?: number;
  /** Lazy pruning runs once every this many offers. Default 1024. */
  pruneEvery?: number;
}

interface KeyState {
  /** Time of the last emitted alert. */
  emittedAt: number;
  /** Latest sighting, emitted or suppressed. */
  seenAt: number;
  /** Sightings suppressed since the last emitted alert. */
  suppressed: number;
}

const HOUR_MS = 3_600_000;

export class AlertSuppressor {
  private readonly windowMs: number;
  private readonly forgetAfterMs: number;
  private readonly maxKeys: number;
  private readonly pruneEvery: number;
  private readonly now: () => number;
  private readonly keys = new Map<string, KeyState>();
  /** Latest time seen by any offer: the reference for pruning (read time on replays). */
  private highWater = -Infinity;
  private sincePrune = 0;
  private suppressedTotal = 0;

  constructor(opts: AlertSuppressorOptions) {
    const { windowMs, maxKeys = 1_000_000, pruneEvery = 1024 } = opts;
    if (typeof windowMs !== 'number' || !Number.isFinite(windowMs) || windowMs < 0) {
      throw new OptionsError('windowMs', 'must be a non-negative number of milliseconds');
    }
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new OptionsError('maxKeys', 'must be a positive integer');
    if (!Number.isInteger(pruneEvery) || pruneEvery < 1) {
      throw new OptionsError('pruneEvery', 'must be a positive integer');
    }
    const forgetAfterMs = opts.forgetAfterMs ?? Math.max(windowMs, HOUR_MS);
    if (typeof forgetAfterMs !== 'number' || !(forgetAfterMs >= windowMs)) {
      throw new OptionsError('forgetAfterMs', 'must be a number of milliseconds not less than windowMs');
    }
    this.windowMs = windowMs;
    this.maxKeys = maxKeys;
    this.pruneEvery = pruneEvery;
    this.forgetAfterMs = forgetAfterMs;
    this.now = opts.now ?? Date.now;
  }

  /** Keys held now. */
  get size(): number {
    return this.keys.size;
  }

  /** Alerts suppressed since construction. */
  get suppressedCount(): number {
    return this.suppressedTotal;
  }

  /**
   * Offers an alert. Returns the `sightings` to set on it when it is to be emitted (1, or 1 +
   * the repeats suppressed since the key's last emitted alert), or `undefined` when it is
   * suppressed (counted, to be reported on the next emitted alert of the key).
   */
  offer(alert: Alert): number | undefined {
    if (this.windowMs === 0 || alert.cameraId === undefined || alert.cameraId === '') return 1;
    const t = typeof alert.ts === 'number' && Number.isFinite(alert.ts) ? alert.ts : this.now();
    if (t > this.highWater) this.highWater = t;
    if (++this.sincePrune >= this.pruneEvery) {
      this.sincePrune = 0;
      this.prune();
    }

    // NUL cannot occur in an id that came through JSON text unescaped, and the key only has
    // to be unambiguous, not pretty.
    const key = `${alert.entryId}\u0000${alert.cameraId}`;
    const state = this.keys.get(key);
    if (state === undefined || t - state.seenAt >= this.forgetAfterMs) {
      if (state !== undefined) this.keys.delete(key);
      this.keys.set(key, { emittedAt: t, seenAt: t, suppressed: 0 });
      if (this.keys.size > this.maxKeys) this.evictOldest(this.keys.size - this.maxKeys);
      return 1;
    }

    // Move to the end of the Map so that its order stays "least recently seen first".
    this.keys.delete(key);
    this.keys.set(key, state);
    if (t > state.seenAt) state.seenAt = t;
    const delta = t - state.emittedAt;
    if (delta < this.windowMs && delta > -this.windowMs) {
      state.suppressed++;
      this.suppressedTotal++;
      return undefined;
    }
    const sightings = 1 + state.suppressed;
    state.suppressed = 0;
    if (t > state.emittedAt) state.emittedAt = t;
    return sightings;
  }

  /**
   * Drops forgotten keys from the front of the Map (least recently seen first), stopping at
   * the first key still remembered. Time is the latest time offered, not the wall clock, so a
   * replay of old data prunes by its own read times.
   */
  prune(): void {
    const cutoff = this.highWater - this.forgetAfterMs;
    for (const [key, state] of this.keys) {
      if (state.seenAt > cutoff) break;
      this.keys.delete(key);
    }
  }

  /** Forgets every key. */
  clear(): void {
    this.keys.clear();
  }

  private evictOldest(n: number): void {
    for (const key of this.keys.keys()) {
      if (n-- <= 0) break;
      this.keys.delete(key);
    }
  }
}
