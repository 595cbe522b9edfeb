/**
 * Live single-entry changes through a JetStream key-value bucket (`liveUpdates.bucket`,
 * default `alpr-hotlist`), applied by every instance within a second and surviving restarts
 * (the bucket is persistent; a starting instance reads it before taking reads):
 *
 *   entry.<id>   PUT: add or replace a hotlist entry (plate or partial pattern), JSON
 *                DEL/PURGE: remove it
 *   cancel.<id>  PUT: cancel entry <id>, whether from a file or live, JSON { by, reason }
 *                DEL/PURGE: lift the cancellation
 *
 * Every change must name its writer in a `Platesieve-Actor` header (live-write.ts): one that
 * does is applied and audited with that writer as the actor, one that does not is refused,
 * logged and audited (live-audit.ts).
 *
 * The service matches live entries with a small overlay matcher beside the compiled
 * hotlist and filters cancelled entries out of the hits; a full reload compacts both into
 * the next snapshot.
 *
 * Changes are coalesced before they are applied: a trailing debounce of {@link DEBOUNCE_MS}
 * (bursts of puts become one rebuild), bounded by {@link MAX_WAIT_MS} from the first change
 * waiting, so a steady stream of changes cannot postpone every apply.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { KV, NatsConnection, QueuedIterator, KvEntry } from 'nats';
import type { AuditLog } from '../audit/index.js';
import type { HotlistEntry } from '../types.js';
import { attributionOf, lastAttributed, LiveChangeAudit, type AppliedInfo, type LiveChangeAction } from './live-audit.js';

export interface Cancellation {
  by?: string;
  reason?: string;
  at?: number;
}

export interface LiveView {
  /** Live entries by id, with the KV revision that set them, when it was written (server time, epoch ms) and by whom. */
  entries: Map<string, { entry: HotlistEntry; revision: number; created: number; actor?: string }>;
  cancelled: Map<string, Cancellation & { revision: number }>;
}

export const ENTRY_PREFIX = 'entry.';
export const CANCEL_PREFIX = 'cancel.';

/** Quiet time that closes a burst of changes. */
export const DEBOUNCE_MS = 50;
/** Longest a change waits for its apply to start, however steadily changes keep coming. */
export const MAX_WAIT_MS = 250;

export class LiveUpdates {
  readonly view: LiveView = { entries: new Map(), cancelled: new Map() };
  private watcher?: QueuedIterator<KvEntry>;
  private loop?: Promise<void>;
  private timer?: NodeJS.Timeout;
  /** When the oldest change not yet handed to `onChange` arrived (monotonic ms). */
  private waitingSince?: number;
  /** Write times (server clock, epoch ms) of changes since the last {@link takeChanges}. */
  private writes: number[] = [];
  /** False during the initial read of the bucket: those changes are not "applied late". */
  private following = false;
  /** Changes taken from the watcher so far, and whether it has ended. */
  private seen = 0;
  private ended = false;

  private constructor(
    readonly kv: KV,
    private readonly logger: Logger,
    private readonly onChange: () => void,
    /** Attribution: every change applied or refused is audited (live-audit.ts). */
    private readonly changes: LiveChangeAudit,
  ) {}

  /**
   * Opens (or creates) the bucket, reads its current state, then follows its changes. Only
   * changes that name their writer are applied; each one applied or refused goes to `audit`.
   */
  static async start(nc: NatsConnection, bucket: string, logger: Logger, onChange: () => void, audit?: AuditLog): Promise<LiveUpdates> {
    const kv = await nc.jetstream().views.kv(bucket, { history: 10 });
    const live = new LiveUpdates(kv, logger, onChange, new LiveChangeAudit({ audit, logger, bucket }));
    let initialized!: () => void;
    const ready = new Promise<void>((resolve) => (initialized = resolve));
    live.watcher = await kv.watch({ key: '>', initializedFn: () => initialized() });
    live.loop = live.follow(live.watcher);
    await ready;
    // nats.js may call initializedFn while the last initial values still sit in the
    // iterator's queue: let the loop take them before the view is called complete.
    const received = live.watcher.getReceived();
    while (live.seen < received && !live.ended) await new Promise((r) => setImmediate(r));
    live.following = true;
    live.takeChanges();
    return live;
  }

  /**
   * Write times (epoch ms, server clock) of the changes received since the last call, for
   * the apply-latency metric; the caller observes them once those changes are in force.
   */
  takeChanges(): number[] {
    const out = this.writes;
    this.writes = [];
    return out;
  }

  private async follow(watcher: QueuedIterator<KvEntry>): Promise<void> {
    try {
      await this.followEach(watcher);
    } finally {
      this.ended = true;
    }
  }

  private async followEach(watcher: QueuedIterator<KvEntry>): Promise<void> {
    for await (const e of watcher) {
      try {
        if (!(await this.take(e))) continue;
      } finally {
        // Counted once handled: start() waits for the initial values to be in the view.
        this.seen++;
      }
      if (this.following) this.writes.push(e.created.getTime());
      this.schedule();
    }
  }

  /**
   * One change: applied and audited when it names its writer, else refused and audited. At
   * start a refused latest value leaves the key as its last attributed change set it (from
   * the key's history), so an unattributed write does not take effect through a restart
   * either; while following, the view already holds that state. Returns whether the view changed.
   */
  private async take(e: KvEntry): Promise<boolean> {
    const atStart = !this.following;
    let change = e;
    let who = attributionOf(e);
    let standsFor: number | undefined;
    if (!who.ok) {
      const standing = atStart ? await lastAttributed(this.kv, e.key, e.revision, this.logger) : undefined;
      this.changes.refused(e, who.code, who.reason, { atStart, standing: standing?.revision });
      if (standing === undefined) return false;
      change = standing;
      standsFor = e.revision;
      who = attributionOf(standing);
      if (!who.ok) return false;
    }
    let applied: ReturnType<LiveUpdates['apply']>;
    try {
      applied = this.apply(change, who.actor);
    } catch (err) {
      this.changes.refused(change, 'MALFORMED', (err as Error).message, { atStart, writer: who.actor });
      return false;
    }
    this.changes.applied(change, applied.action, applied.id, who, { ...applied, atStart, standsFor });
    return true;
  }

  /**
   * Trailing debounce with a maximum wait: changes come in bursts (a batch of puts) and one
   * rebuild serves them all, but a change never waits more than MAX_WAIT_MS for its
   * rebuild to start, or a steady stream of changes would postpone every apply.
   */
  private schedule(): void {
    const now = performance.now();
    this.waitingSince ??= now;
    clearTimeout(this.timer);
    const delay = Math.max(0, Math.min(DEBOUNCE_MS, this.waitingSince + MAX_WAIT_MS - now));
    this.timer = setTimeout(() => {
      this.waitingSince = undefined;
      this.onChange();
    }, delay);
  }

  /** Applies an attributed change to the view; says what it did, for the audit record. Throws on a malformed change (view untouched). */
  private apply(e: KvEntry, actor: string): Pick<AppliedInfo, 'present' | 'entry' | 'reason'> & { action: LiveChangeAction; id: string } {
    const remove = e.operation !== 'PUT';
    if (e.key.startsWith(ENTRY_PREFIX)) {
      const id = e.key.slice(ENTRY_PREFIX.length);
      const before = this.view.entries.get(id);
      if (remove) {
        this.view.entries.delete(id);
        return { action: 'live.remove', id, present: before !== undefined, entry: before?.entry };
      }
      const value = e.json<HotlistEntry>();
      if (typeof value !== 'object' || value === null) throw new Error('value is not a JSON object');
      const entry = { ...value, id };
      this.view.entries.set(id, { entry, revision: e.revision, created: e.created.getTime(), actor });
      return { action: 'live.add', id, present: before !== undefined, entry };
    }
    if (e.key.startsWith(CANCEL_PREFIX)) {
      const id = e.key.slice(CANCEL_PREFIX.length);
      const present = this.view.cancelled.has(id);
      if (remove) {
        this.view.cancelled.delete(id);
        return { action: 'live.cancel.lift', id, present };
      }
      const value = e.length > 0 ? e.json<Cancellation>() : {};
      const c = typeof value === 'object' && value !== null ? value : {};
      this.view.cancelled.set(id, { ...c, revision: e.revision });
      return { action: 'live.cancel', id, present, reason: typeof c.reason === 'string' ? c.reason : undefined };
    }
    throw new Error(`unknown key (expected ${ENTRY_PREFIX}<id> or ${CANCEL_PREFIX}<id>)`);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.watcher?.stop();
    await this.loop?.catch(() => undefined);
  }
}
