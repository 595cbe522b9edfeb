/**
 * The store publishes the active plate holds to the services (matcher/service/holds-watch.ts):
 * one JSON value under the key `active` of the holds bucket, rewritten only when the set
 * changes. The database stays the one source of truth; the bucket is a copy that every
 * `serve` instance follows, so their records of a held plate's reads leave tagged `hold`
 * within a refresh (2 s) of `hold add` and stop within one of `hold release`.
 *
 * Several store processes write the same value: a write that races another writes the
 * same content, so the last one wins harmlessly.
 */
import type { KV, NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { ACTIVE_HOLDS_KEY, type ActiveHoldsValue } from '../service/holds-watch.js';
import type { ActivePlateHold } from '../service/held.js';

export class HoldMirror {
  private last: string | undefined;

  private constructor(private readonly kv: KV, private readonly log: Logger) {}

  /** Opens (or creates) the bucket and remembers what it holds now. */
  static async open(nc: NatsConnection, bucket: string, log: Logger): Promise<HoldMirror> {
    const kv = await nc.jetstream().views.kv(bucket, { history: 1 });
    const m = new HoldMirror(kv, log);
    const e = await kv.get(ACTIVE_HOLDS_KEY);
    if (e !== null && e.operation === 'PUT' && e.length > 0) {
      try {
        m.last = JSON.stringify(e.json<ActiveHoldsValue>().holds);
      } catch {
        // not ours to keep: the next publish replaces it
      }
    }
    return m;
  }

  /** Writes the active holds when they differ from what the bucket holds. Returns whether it wrote. */
  async publish(holds: ActivePlateHold[], at = Date.now()): Promise<boolean> {
    const key = JSON.stringify(holds);
    if (key === this.last) return false;
    const value: ActiveHoldsValue = { at, holds };
    await this.kv.put(ACTIVE_HOLDS_KEY, JSON.stringify(value));
    this.last = key;
    this.log.info({ holds: holds.length }, 'active holds published to the services');
    return true;
  }
}
