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
 *
 * Commit after store: the service cannot know, when it decides, that an alert will be
 * stored (a stream may refuse it, the connection may drop), and a batch whose outputs were
 * not stored is offered again on redelivery. Recording the decision at once made the
 * redelivered alert a repeat of itself, and it was lost. So the service uses
 * {@link AlertSuppressor.offerTentative}: the decision is visible to later offers at once
 * (so a repeat in the next batch is still suppressed while the alert is in flight) but is
 * kept only on `commit()` (the alert is stored; the repeat's message is done) and undone on
 * `rollback()`: the key's state is rebuilt from its last committed state and the decisions
 * still in force, in the order they were made. An alert offered again under the alertId of
 * the key's last emitted alert (a redelivery after the store succeeded but the ack was lost)
 * is emitted again with the same `sightings`, never suppressed as a repeat of itself;
 * `Nats-Msg-Id` makes the stream keep one copy.
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

/**
 * A decision of {@link AlertSuppressor.offerTentative}: in force for later offers at once,
 * kept for good only when committed.
 */
export interface TentativeOffer {
  /** The `sightings` to set on the alert when it is to be emitted; undefined when it is a suppressed repeat. */
  readonly sightings: number | undefined;
  /**
   * Keeps the decision: the alert was stored, or the repeat's message was processed. Returns
   * false when that changed nothing: the offer was settled already, or it is an alert
   * committed before under the same alertId (a redelivery: not a new alert).
   */
  commit(): boolean;
  /** Undoes the decision, as if never offered (the alert was not stored; its read will be offered again or given up). No-op once settled. */
  rollback(): void;
}

/** A key's state: what the window and the sightings are computed from. */
interface Snapshot {
  /** Time of the last emitted alert (-Infinity: none yet). */
  emittedAt: number;
  /** Latest sighting, emitted or suppressed. */
  seenAt: number;
  /** Sightings suppressed since the last emitted alert. */
  suppressed: number;
  /**
   * Hash of the alertId of the emitted alert that set `emittedAt` (0: none), to recognize it
   * when offered again. A hash, not the string: the id (a concatenation) cost about 160 bytes a
   * key, near doubling the state. Two ids of one key colliding (1 in 4 billion) would emit
   * the later alert as a copy of the earlier one: an alert too many, never one lost.
   */
  alertHash: number;
  /** Its `sightings`, given again to the same alert offered again. */
  sightings: number;
}

const EMIT = 0;
const REPEAT = 1;
const PENDING = 0;
const COMMITTED = 1;
const ROLLED_BACK = 2;

/** One tentative decision on a key. */
interface Op {
  kind: typeof EMIT | typeof REPEAT;
  t: number;
  alertHash: number;
  sightings: number;
  state: typeof PENDING | typeof COMMITTED | typeof ROLLED_BACK;
}

/** A key's state in force: its committed state with its pending decisions applied. */
type KeyState = Snapshot;

/** The decisions of a key not yet folded into its committed state (kept aside: most keys have none). */
interface Pending {
  /** The committed state under the decisions. */
  base: Snapshot;
  /** In the order they were made. */
  ops: Op[];
}

const HOUR_MS = 3_600_000;

/** Returned for alerts that are never suppressed (no camera, or suppression off). */
const UNTRACKED: TentativeOffer = { sightings: 1, commit: () => true, rollback: () => undefined };

/** FNV-1a of an alertId, as a non-zero int32 (a small integer: no heap object in the key's state). */
function hashId(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h === 0 ? 1 : h | 0;
}

function freshState(): KeyState {
  return { emittedAt: -Infinity, seenAt: -Infinity, suppressed: 0, alertHash: 0, sightings: 0 };
}

function copySnapshot(from: Snapshot, to: Snapshot): void {
  to.emittedAt = from.emittedAt;
  to.seenAt = from.seenAt;
  to.suppressed = from.suppressed;
  to.alertHash = from.alertHash;
  to.sightings = from.sightings;
}

/** Applies one decision to a state (the same rules `offer` decided it by). */
function apply(s: Snapshot, op: Op): void {
  if (op.t > s.seenAt) s.seenAt = op.t;
  if (op.kind === REPEAT) {
    s.suppressed++;
    return;
  }
  // The same alert emitted again (a redelivery) changes nothing.
  if (op.alertHash !== 0 && op.alertHash === s.alertHash) return;
  s.suppressed = 0;
  if (op.t > s.emittedAt) {
    s.emittedAt = op.t;
    s.alertHash = op.alertHash;
    s.sightings = op.sightings;
  }
}

export class AlertSuppressor {
  private readonly windowMs: number;
  private readonly forgetAfterMs: number;
  private readonly maxKeys: number;
  private readonly pruneEvery: number;
  private readonly now: () => number;
  private readonly keys = new Map<string, KeyState>();
  /** Keys with decisions not yet settled (or settled out of order), by their state. */
  private readonly pending = new Map<KeyState, Pending>();
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
   * Offers an alert and keeps the decision at once. Returns the `sightings` to set on it when
   * it is to be emitted (1, or 1 + the repeats suppressed since the key's last emitted alert),
   * or `undefined` when it is suppressed (counted, to be reported on the next emitted alert of
   * the key). For a caller that cannot be sure the alert will be stored, see {@link offerTentative}.
   */
  offer(alert: Alert): number | undefined {
    const offer = this.offerTentative(alert);
    offer.commit();
    return offer.sightings;
  }

  /**
   * Offers an alert whose emission may still fail: the decision counts for later offers at
   * once, and is kept on `commit()` or undone on `rollback()` (see the module comment). An
   * alert with the `alertId` of the key's last emitted alert is emitted again with the same
   * sightings.
   */
  offerTentative(alert: Alert): TentativeOffer {
    if (this.windowMs === 0 || alert.cameraId === undefined || alert.cameraId === '') return UNTRACKED;
    const t = typeof alert.ts === 'number' && Number.isFinite(alert.ts) ? alert.ts : this.now();
    if (t > this.highWater) this.highWater = t;
    if (++this.sincePrune >= this.pruneEvery) {
      this.sincePrune = 0;
      this.prune();
    }

    // NUL cannot occur in an id that came through JSON text unescaped, and the key only has
    // to be unambiguous, not pretty.
    const key = `${alert.entryId}\u0000${alert.cameraId}`;
    let state = this.keys.get(key);
    // A key with decisions pending is never forgotten: their settling needs it.
    if (state === undefined || (!this.pending.has(state) && t - state.seenAt >= this.forgetAfterMs)) {
      if (state !== undefined) this.keys.delete(key);
      state = freshState();
      this.keys.set(key, state);
      if (this.keys.size > this.maxKeys) this.evictOldest(this.keys.size - this.maxKeys);
    } else {
      // Move to the end of the Map so that its order stays "least recently seen first".
      this.keys.delete(key);
      this.keys.set(key, state);
    }

    const alertHash = alert.alertId === undefined ? 0 : hashId(alert.alertId);
    let op: Op;
    if (alertHash !== 0 && alertHash === state.alertHash) {
      op = { kind: EMIT, t, alertHash, sightings: state.sightings, state: PENDING };
    } else {
      const delta = t - state.emittedAt;
      const repeat = delta < this.windowMs && delta > -this.windowMs;
      op = { kind: repeat ? REPEAT : EMIT, t, alertHash, sightings: repeat ? 0 : 1 + state.suppressed, state: PENDING };
    }
    let pending = this.pending.get(state);
    if (pending === undefined) {
      pending = { base: freshState(), ops: [] };
      copySnapshot(state, pending.base);
      this.pending.set(state, pending);
    }
    pending.ops.push(op);
    apply(state, op);
    const held = state;
    return {
      sightings: op.kind === EMIT ? op.sightings : undefined,
      commit: () => this.commit(key, held, op),
      rollback: () => this.rollback(key, held, op),
    };
  }

  private commit(key: string, state: KeyState, op: Op): boolean {
    if (op.state !== PENDING) return false;
    op.state = COMMITTED;
    if (op.kind === REPEAT) this.suppressedTotal++;
    const pending = this.pending.get(state);
    if (pending === undefined) return true;
    // Dropped meanwhile (evicted, cleared): nothing left to keep.
    if (this.keys.get(key) !== state) {
      this.pending.delete(state);
      return true;
    }
    const { base, ops } = pending;
    const h = op.alertHash;
    const again = op.kind === EMIT && h !== 0 && (base.alertHash === h || ops.some((o) => o !== op && o.state === COMMITTED && o.kind === EMIT && o.alertHash === h));
    // Decisions are folded in the order they were made, so the base is always a state that was in force.
    while (ops.length > 0 && ops[0].state === COMMITTED) apply(base, ops.shift()!);
    if (ops.length === 0) this.pending.delete(state);
    return !again;
  }

  private rollback(key: string, state: KeyState, op: Op): void {
    if (op.state !== PENDING) return;
    op.state = ROLLED_BACK;
    const pending = this.pending.get(state);
    if (pending === undefined) return;
    if (this.keys.get(key) !== state) {
      this.pending.delete(state);
      return;
    }
    const { base, ops } = pending;
    ops.splice(ops.indexOf(op), 1);
    // Rebuilt from the committed state and the decisions still in force, which stand as made.
    copySnapshot(base, state);
    for (const o of ops) apply(state, o);
    while (ops.length > 0 && ops[0].state === COMMITTED) apply(base, ops.shift()!);
    if (ops.length > 0) return;
    this.pending.delete(state);
    // A key made by the undone offer alone: forget it.
    if (state.emittedAt === -Infinity && state.suppressed === 0) this.keys.delete(key);
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
      // Decisions still pending keep their key until they are settled.
      if (!this.pending.has(state)) this.keys.delete(key);
    }
  }

  /** Forgets every key. */
  clear(): void {
    this.keys.clear();
    this.pending.clear();
  }

  private evictOldest(n: number): void {
    for (const [key, state] of this.keys) {
      if (n-- <= 0) break;
      this.keys.delete(key);
      this.pending.delete(state);
    }
  }
}
