/**
 * "A disposition was recorded": one event on `<prefix>.disposed.<agency>` for every disposition
 * stored, whichever way it came (API or NATS), so every open console marks the alert done and
 * an integrator learns of dispositions made elsewhere. Not `<prefix>.dispositions.>`: that
 * subject is the store's input, captured by its stream, and an echo there would come back as
 * a second disposition. Core NATS, best effort: the record in PostgreSQL is what counts, and a
 * lost event only leaves a console to find the outcome on its next list.
 */
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { agencyToken } from '../service/subjects.js';
import type { RecordedDisposition } from './record.js';

/** The subject of the events of an agency's recorded dispositions. */
export function recordedSubject(prefix: string, agency: string | null | undefined): string {
  return `${prefix}.disposed.${agencyToken(agency ?? undefined)}`;
}

/** The event's fields (docs/contracts.md "Dispositions and escalations"); absent values are left out. */
export function recordedEvent(d: RecordedDisposition): Record<string, string | number> {
  const e: Record<string, string | number> = { alertId: d.alertId, outcome: d.outcome, by: d.by, at: d.at, source: d.source };
  if (d.reason !== undefined) e.reason = d.reason;
  if (d.note !== undefined) e.note = d.note;
  if (d.verifiedWith !== undefined) e.verifiedWith = d.verifiedWith;
  if (d.agency !== null) e.agency = d.agency;
  if (d.list !== null) e.list = d.list;
  return e;
}

/** Publishes the event; a failure is logged, never thrown (the disposition is already stored). */
export function publishRecorded(nc: NatsConnection | undefined, prefix: string, d: RecordedDisposition, log: Logger): void {
  if (nc === undefined || nc.isClosed()) return;
  try {
    nc.publish(recordedSubject(prefix, d.agency), JSON.stringify(recordedEvent(d)));
  } catch (err) {
    log.warn({ err: (err as Error).message, alertId: d.alertId }, 'disposition event not published');
  }
}
