/**
 * Writing live hotlist changes with their attribution: the headers every change to the
 * bucket must carry (docs/hotlists.md "Writing the bucket directly"), and the writes that set
 * them. A service refuses a change without `Platesieve-Actor` (live-audit.ts).
 *
 * nats.js 2.x's `kv.put` and `kv.delete` take no headers, so a change is published to the
 * key's subject in the bucket's stream (`$KV.<bucket>.<key>`), as `kv.put` does itself; a
 * delete or purge carries the `KV-Operation` marker header as `kv.delete` and `kv.purge` do.
 * JetStream domains and mirrored buckets (another subject prefix) are not supported here.
 */
import { Empty, headers, type JetStreamClient, type MsgHdrs } from 'nats';

/** Who made the change: the writer's authenticated identity (required). */
export const ACTOR_HEADER = 'Platesieve-Actor';
/** Why (free text), when given. */
export const REASON_HEADER = 'Platesieve-Reason';
/** The purpose code, when the change has one. */
export const PURPOSE_HEADER = 'Platesieve-Purpose';
/** The case number, when the change has one. */
export const CASE_HEADER = 'Platesieve-Case';
/** A name the operator typed (`--actor`): kept as a note, never taken as the actor. */
export const STATED_ACTOR_HEADER = 'Platesieve-Stated-Actor';

/** The attribution of one change, as headers carry it. */
export interface LiveAttribution {
  /** The writer's identity: an authenticated NATS identity, or the OS user@host. */
  actor: string;
  reason?: string;
  purpose?: string;
  case?: string;
  /** A typed name, recorded as a note only. */
  statedActor?: string;
}

/** The subject a key's changes are published to (the bucket's stream stores it). */
export function keySubject(bucket: string, key: string): string {
  return `$KV.${bucket}.${key}`;
}

/** Header values are one line: control characters (CR and LF would be refused) become spaces. */
function oneLine(value: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what is replaced
  return value.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
}

/** The attribution as message headers; empty optional values are left out. */
export function attributionHeaders(who: LiveAttribution, h: MsgHdrs = headers()): MsgHdrs {
  const fields: Array<[string, string | undefined]> = [
    [ACTOR_HEADER, who.actor],
    [REASON_HEADER, who.reason],
    [PURPOSE_HEADER, who.purpose],
    [CASE_HEADER, who.case],
    [STATED_ACTOR_HEADER, who.statedActor],
  ];
  for (const [name, value] of fields) {
    const v = value === undefined ? '' : oneLine(value);
    if (v !== '') h.set(name, v);
  }
  return h;
}

/**
 * Puts `value` under `key` with the attribution headers; resolves with the revision (the
 * stream sequence), as `kv.put` does.
 */
export async function putLive(js: JetStreamClient, bucket: string, key: string, value: string | Uint8Array, who: LiveAttribution): Promise<number> {
  const data = typeof value === 'string' ? new TextEncoder().encode(value) : value;
  const ack = await js.publish(keySubject(bucket, key), data, { headers: attributionHeaders(who) });
  return ack.seq;
}

/**
 * Deletes `key` (a `DEL` marker; `PURGE` also drops its history) with the attribution
 * headers; resolves with the revision of the marker.
 */
export async function deleteLive(js: JetStreamClient, bucket: string, key: string, who: LiveAttribution, operation: 'DEL' | 'PURGE' = 'DEL'): Promise<number> {
  const h = headers();
  h.set('KV-Operation', operation);
  // As kv.purge: the marker rolls up (replaces) every earlier value of the key.
  if (operation === 'PURGE') h.set('Nats-Rollup', 'sub');
  const ack = await js.publish(keySubject(bucket, key), Empty, { headers: attributionHeaders(who, h) });
  return ack.seq;
}
