/**
 * The active evidence holds, as the records store publishes them (matcher/store/hold-mirror.ts)
 * to a JetStream key-value bucket (`holds.bucket`, default `alpr-holds`), key `active`: every
 * instance follows the key and tags the records of held plates' reads `hold` from the next
 * batch on (held.ts). The store is the only writer: the holds themselves live in PostgreSQL,
 * placed and released by `platesieve hold` (or the operations API), and the store mirrors the
 * active plate holds within seconds of a change.
 *
 * A value that does not parse is logged and ignored: the holds in force stay.
 */
import type { Logger } from 'pino';
import type { KV, KvEntry, NatsConnection, QueuedIterator } from 'nats';
import { holdsTask, type ActivePlateHold } from './held.js';
import type { HoldsTask } from './task.js';

/** The key of the bucket that holds the active plate holds. */
export const ACTIVE_HOLDS_KEY = 'active';

/** The value under {@link ACTIVE_HOLDS_KEY}. */
export interface ActiveHoldsValue {
  /** When the store read them from the database (epoch ms). */
  at: number;
  holds: ActivePlateHold[];
}

/** The holds of a value, or the reason it is refused. */
export function parseActiveHolds(value: unknown): { ok: true; holds: ActivePlateHold[] } | { ok: false; reason: string } {
  if (typeof value !== 'object' || value === null || !Array.isArray((value as ActiveHoldsValue).holds)) return { ok: false, reason: 'not an object with a holds array' };
  const out: ActivePlateHold[] = [];
  for (const [i, h] of (value as ActiveHoldsValue).holds.entries()) {
    const o = h as unknown as Record<string, unknown>;
    const time = (k: string): boolean => o[k] === undefined || o[k] === null || (typeof o[k] === 'number' && Number.isFinite(o[k]));
    if (typeof o?.holdId !== 'string' || typeof o.plate !== 'string' || !/^[A-Z0-9]{1,16}$/.test(o.plate) || !time('from') || !time('to')) {
      return { ok: false, reason: `holds[${i}] is not {holdId, plate (normalized), from?, to?}` };
    }
    out.push({ holdId: o.holdId, plate: o.plate, ...(typeof o.from === 'number' ? { from: o.from } : {}), ...(typeof o.to === 'number' ? { to: o.to } : {}) });
  }
  return { ok: true, holds: out };
}

/** Follows the active holds; {@link task} is what the next batch carries. */
export class HoldsWatch {
  /** The compiled holds in force (undefined: none). */
  task: HoldsTask | undefined;
  /** Holds in force. */
  count = 0;
  private watcher?: QueuedIterator<KvEntry>;
  private loop?: Promise<void>;

  private constructor(private readonly logger: Logger) {}

  /** Opens (or creates) the bucket and reads the key before returning, then follows it. */
  static async start(nc: NatsConnection, bucket: string, logger: Logger): Promise<HoldsWatch> {
    const kv: KV = await nc.jetstream().views.kv(bucket, { history: 1 });
    const w = new HoldsWatch(logger);
    let initialized!: () => void;
    const ready = new Promise<void>((resolve) => (initialized = resolve));
    w.watcher = await kv.watch({ key: ACTIVE_HOLDS_KEY, initializedFn: () => initialized() });
    let seen = 0;
    let ended = false;
    w.loop = (async () => {
      for await (const e of w.watcher!) {
        w.take(e);
        seen++;
      }
    })().catch((err: unknown) => logger.error({ err }, 'holds watch ended')).finally(() => (ended = true));
    await ready;
    // The initial value may still sit in the iterator's queue when initializedFn fires.
    while (seen < w.watcher.getReceived() && !ended) await new Promise((r) => setImmediate(r));
    return w;
  }

  private take(e: KvEntry): void {
    if (e.operation !== 'PUT' || e.length === 0) {
      this.task = undefined;
      this.count = 0;
      this.logger.info({ revision: e.revision }, 'active holds cleared');
      return;
    }
    let value: unknown;
    try {
      value = e.json<unknown>();
    } catch {
      value = undefined;
    }
    const parsed = parseActiveHolds(value);
    if (!parsed.ok) {
      this.logger.error({ revision: e.revision, reason: parsed.reason }, 'active holds value refused; the holds in force stay');
      return;
    }
    this.task = holdsTask(parsed.holds, e.revision);
    this.count = parsed.holds.length;
    this.logger.info({ revision: e.revision, holds: this.count }, 'active holds in force');
  }

  async stop(): Promise<void> {
    this.watcher?.stop();
    await this.loop?.catch(() => undefined);
  }
}

/**
 * The service's holds watch per its `holds` settings: undefined when off, or when the bucket
 * cannot be opened (no JetStream) and it is not `required` (a warning says so).
 */
export async function followHolds(nc: NatsConnection, settings: { bucket: string | null; required: boolean }, log: Logger): Promise<HoldsWatch | undefined> {
  if (settings.bucket === null) return undefined;
  try {
    const w = await HoldsWatch.start(nc, settings.bucket, log);
    log.info({ bucket: settings.bucket, holds: w.count }, 'evidence holds followed');
    return w;
  } catch (err) {
    if (settings.required) throw err;
    log.warn({ bucket: settings.bucket, error: (err as Error).message }, 'evidence holds unavailable (no JetStream?); no record is tagged hold');
    return undefined;
  }
}
