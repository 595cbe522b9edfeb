/**
 * Writes to the live-changes bucket as any NATS client could, with or without the
 * `Platesieve-Actor` header the services require (docs/hotlists.md "Writing the bucket
 * directly"). The headers are spelled out here, not taken from the code under test, so the
 * tests hold the documented wire contract.
 */
import { Empty, headers, type NatsConnection } from 'nats';

/** Headers of one write; `actor: null` writes none (an unattributed change). */
export interface LiveWriteHeaders {
  actor: string | null;
  reason?: string;
  purpose?: string;
  case?: string;
}

/** Buckets already opened per connection: one round trip per bucket, not per write (latency tests). */
const opened = new WeakMap<NatsConnection, Set<string>>();

/**
 * Puts `value` (JSON-encoded) under `key`, or deletes the key when `value` is null, with the
 * attribution headers; resolves with the revision. Creates the bucket (history 10) if needed.
 */
export async function writeLive(nc: NatsConnection, bucket: string, key: string, value: unknown, who: LiveWriteHeaders): Promise<number> {
  const buckets = opened.get(nc) ?? new Set<string>();
  opened.set(nc, buckets);
  if (!buckets.has(bucket)) {
    await nc.jetstream().views.kv(bucket, { history: 10 });
    buckets.add(bucket);
  }
  const h = headers();
  if (who.actor !== null) h.set('Platesieve-Actor', who.actor);
  if (who.reason !== undefined) h.set('Platesieve-Reason', who.reason);
  if (who.purpose !== undefined) h.set('Platesieve-Purpose', who.purpose);
  if (who.case !== undefined) h.set('Platesieve-Case', who.case);
  if (value === null) h.set('KV-Operation', 'DEL');
  const data = value === null ? Empty : new TextEncoder().encode(JSON.stringify(value));
  const ack = await nc.jetstream().publish(`$KV.${bucket}.${key}`, data, { headers: h });
  return ack.seq;
}
