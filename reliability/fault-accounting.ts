/**
 * A fault-table row's accounting: after the run, the records, alerts and dead-letter streams
 * read back in full and set against the reads the reads stream acknowledged and the alerts
 * `platesieve match` finds in them.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { unpack } from 'msgpackr';
import type { JetStreamManager, NatsConnection } from 'nats';
import type { PlateRead } from '../matcher/types.js';
import { outputStreamNames } from './jetstream.js';
import type { AckedPublisher } from './publisher.js';
import { readStream } from './streams-readback.js';
import { offlineAlerts } from './test-data.js';

/** What a row's output streams hold against what they should. */
export interface RowAccount {
  /** The reads the reads stream acknowledged, in sequence order. */
  published: PlateRead[];
  recordsStored: number;
  dupRecords: number;
  /** Ids of acknowledged reads without a record. */
  lostRecords: string[];
  alertsExpected: number;
  alertsDelivered: number;
  /** `readId|entryId` of expected alerts not stored. */
  lostAlerts: string[];
  dupAlerts: number;
  unexpected: number;
  /** Dead-lettered messages by their `Platesieve-Code` header. */
  deadLettered: Record<string, number>;
}

/**
 * Reads the row's output streams back and counts, against the acknowledged reads (written to
 * `dir`/reads.ndjson for `platesieve match` on `hotlistFile`), what was stored, lost,
 * duplicated or unexpected. Adds a note when lost reads were dead-lettered.
 */
export async function accountRow(
  nc: NatsConnection, jsm: JetStreamManager, publisher: AckedPublisher, hotlistFile: string, dir: string, notes: string[],
): Promise<RowAccount> {
  const names = await outputStreamNames(jsm);
  const recordCount = new Map<string, number>();
  for (const stream of names.records) {
    await readStream(nc, jsm, stream, (d) => {
      const v = JSON.parse(new TextDecoder().decode(d)) as { id: string } | Array<{ id: string }>;
      for (const r of Array.isArray(v) ? v : [v]) recordCount.set(r.id, (recordCount.get(r.id) ?? 0) + 1);
    });
  }
  const alertIdCount = new Map<string, number>();
  const pairCount = new Map<string, number>();
  await readStream(nc, jsm, names.alerts, (d) => {
    const a = JSON.parse(new TextDecoder().decode(d)) as { alertId: string; readId: string; entryId: string };
    alertIdCount.set(a.alertId, (alertIdCount.get(a.alertId) ?? 0) + 1);
    const k = `${a.readId}|${a.entryId}`;
    pairCount.set(k, (pairCount.get(k) ?? 0) + 1);
  });
  const deadLettered: Record<string, number> = {};
  const deadReads = new Set<string>();
  await readStream(nc, jsm, names.deadletter, (d, h) => {
    const code = h('Platesieve-Code') ?? '?';
    deadLettered[code] = (deadLettered[code] ?? 0) + 1;
    try {
      const v = unpack(d) as { id?: string };
      if (typeof v?.id === 'string') deadReads.add(v.id);
    } catch {
      // not a msgpack read
    }
  });

  const published = publisher.reads.filter((_r, n) => publisher.ackedFlags[n] === 1);
  const readsFile = path.join(dir, 'reads.ndjson');
  writeFileSync(readsFile, published.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const expected = offlineAlerts(hotlistFile, readsFile);
  const expectedPairs = new Set(expected.map((a) => `${a.readId}|${a.entryId}`));

  let recordsStored = 0;
  let dupRecords = 0;
  const lostRecords: string[] = [];
  for (const r of published) {
    const c = recordCount.get(r.id!) ?? 0;
    if (c > 0) recordsStored++;
    else lostRecords.push(r.id!);
    if (c > 1) dupRecords += c - 1;
  }
  let alertsDelivered = 0;
  const lostAlerts: string[] = [];
  for (const k of expectedPairs) {
    if ((pairCount.get(k) ?? 0) > 0) alertsDelivered++;
    else lostAlerts.push(k);
  }
  let dupAlerts = 0;
  for (const c of alertIdCount.values()) if (c > 1) dupAlerts += c - 1;
  for (const c of pairCount.values()) if (c > 1) dupAlerts += c - 1;
  let unexpected = 0;
  for (const k of pairCount.keys()) if (!expectedPairs.has(k)) unexpected++;
  if (lostRecords.some((id) => deadReads.has(id))) notes.push(`${lostRecords.filter((id) => deadReads.has(id)).length} of the reads without a record are in the dead-letter stream`);
  return {
    published, recordsStored, dupRecords, lostRecords, alertsExpected: expectedPairs.size, alertsDelivered, lostAlerts, dupAlerts, unexpected, deadLettered,
  };
}
