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
 * The service matches live entries with a small overlay matcher beside the compiled
 * hotlist and filters cancelled entries out of the hits; a full reload compacts both into
 * the next snapshot.
 */
import type { Logger } from 'pino';
import type { KV, NatsConnection, QueuedIterator, KvEntry } from 'nats';
import type { HotlistEntry } from '../types.js';

export interface Cancellation {
  by?: string;
  reason?: string;
  at?: number;
}

export interface LiveView {
  /** Live entries by id, with the KV revision that set them. */
  entries: Map<string, { entry: HotlistEntry; revision: number }>;
  cancelled: Map<string, Cancellation & { revision: number }>;
}

export const ENTRY_PREFIX = 'entry.';
export const CANCEL_PREFIX = 'cancel.';

export class LiveUpdates {
  readonly view: LiveView = { entries: new Map(), cancelled: new Map() };
  private watcher?: QueuedIterator<KvEntry>;
  private loop?: Promise<void>;
  private timer?: NodeJS.Timeout;

  private constructor(
    readonly kv: KV,
    private readonly logger: Logger,
    private readonly onChange: () => void,
  ) {}

  /** Opens (or creates) the bucket, reads its current state, then follows its changes. */
  static async start(nc: NatsConnection, bucket: string, logger: Logger, onChange: () => void): Promise<LiveUpdates> {
    const kv = await nc.jetstream().views.kv(bucket, { history: 10 });
    const live = new LiveUpdates(kv, logger, onChange);
    let initialized!: () => void;
    const ready = new Promise<void>((resolve) => (initialized = resolve));
    live.watcher = await kv.watch({ key: '>', initializedFn: () => initialized() });
    live.loop = live.follow(live.watcher);
    await ready;
    return live;
  }

  private async follow(watcher: QueuedIterator<KvEntry>): Promise<void> {
    for await (const e of watcher) {
      try {
        this.apply(e);
      } catch (err) {
        this.logger.error({ key: e.key, revision: e.revision, error: (err as Error).message }, 'live hotlist change ignored');
        continue;
      }
      // Changes come in bursts (a batch of puts): coalesce them, well inside the 1 s promise.
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.onChange(), 50);
    }
  }

  private apply(e: KvEntry): void {
    const remove = e.operation !== 'PUT';
    if (e.key.startsWith(ENTRY_PREFIX)) {
      const id = e.key.slice(ENTRY_PREFIX.length);
      if (remove) this.view.entries.delete(id);
      else {
        const entry = e.json<HotlistEntry>();
        if (typeof entry !== 'object' || entry === null) throw new Error('value is not a JSON object');
        this.view.entries.set(id, { entry: { ...entry, id }, revision: e.revision });
      }
    } else if (e.key.startsWith(CANCEL_PREFIX)) {
      const id = e.key.slice(CANCEL_PREFIX.length);
      if (remove) this.view.cancelled.delete(id);
      else {
        const c = e.length > 0 ? e.json<Cancellation>() : {};
        this.view.cancelled.set(id, { ...(typeof c === 'object' && c !== null ? c : {}), revision: e.revision });
      }
    } else {
      throw new Error(`unknown key (expected ${ENTRY_PREFIX}<id> or ${CANCEL_PREFIX}<id>)`);
    }
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.watcher?.stop();
    await this.loop?.catch(() => undefined);
  }
}
