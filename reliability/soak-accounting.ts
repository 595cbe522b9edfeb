/**
 * The soak's accounting. Lost = a read without a record, or an expected alert not stored;
 * duplicate = a read with two records, an alert stored twice. Counted by read sequence number.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { JetStreamManager, NatsConnection } from 'nats';
import { READS_STREAM, outputStreamNames } from './jetstream.js';
import { readStream } from './streams-readback.js';
import { offlineAlerts, readAt, readSeq, type TestData } from './test-data.js';

/**
 * The entry ids `platesieve match` alerts on for each pool read (the template of read `n` is
 * `n % pool`). Reads differ only in id, camera and ts, which matching ignores, so this is
 * every read's expected alerts. The pool is written to `dir`/pool.ndjson for the CLI.
 */
export function expectedAlertsByTemplate(dir: string, data: TestData): string[][] {
  const poolFile = path.join(dir, 'pool.ndjson');
  writeFileSync(poolFile, data.pool.map((_r, i) => JSON.stringify(readAt(data.pool, i, 1.7e12))).join('\n') + '\n');
  const expectedByTemplate: string[][] = data.pool.map(() => []);
  for (const a of offlineAlerts(data.hotlistFile, poolFile)) expectedByTemplate[readSeq(a.readId)].push(a.entryId);
  return expectedByTemplate;
}

/** What the soak's streams hold against the reads sent and the alerts expected. */
export interface SoakAccount {
  /** Messages in the reads stream. */
  published: number;
  /** Bytes every stream holds on the server. */
  storeBytes: number;
  recordsStored: number;
  lostRecords: number;
  dupRecords: number;
  /** Records whose id is not one of the reads sent. */
  strayRecords: number;
  alertsExpected: number;
  alertsDelivered: number;
  lostAlerts: number;
  dupAlerts: number;
  unexpectedAlerts: number;
}

/**
 * Reads the records and alerts streams back in full and counts them against reads
 * 0..`sent`-1. A read's expected alerts are tracked up to 8 (one byte of flags a read); an
 * alert on an entry past those counts as unexpected.
 */
export async function accountSoak(obs: NatsConnection, jsm: JetStreamManager, sent: number, expectedByTemplate: readonly string[][]): Promise<SoakAccount> {
  const readsInfo = await jsm.streams.info(READS_STREAM);
  const published = readsInfo.state.messages;
  // What the run left on disk in JetStream, per read (for sizing long runs).
  let storeBytes = 0;
  for await (const name of jsm.streams.names()) storeBytes += (await jsm.streams.info(name)).state.bytes;
  const recordCount = new Uint8Array(sent);
  let strayRecords = 0;
  const names = await outputStreamNames(jsm);
  const ID = Buffer.from('"id":"R');
  for (const stream of names.records) {
    await readStream(obs, jsm, stream, (d) => {
      const b = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
      for (let at = b.indexOf(ID); at >= 0; at = b.indexOf(ID, at + 17)) {
        const n = Number(b.toString('latin1', at + ID.length, at + ID.length + 10));
        if (Number.isInteger(n) && n < sent) recordCount[n] = Math.min(255, recordCount[n] + 1);
        else strayRecords++;
      }
    }, 30_000);
  }
  const alertMask = new Uint8Array(sent);
  let alertsDelivered = 0;
  let dupAlerts = 0;
  let unexpectedAlerts = 0;
  const alertIds = new Set<string>();
  await readStream(obs, jsm, names.alerts, (d) => {
    const a = JSON.parse(new TextDecoder().decode(d)) as { alertId: string; readId: string; entryId: string };
    if (alertIds.has(a.alertId)) {
      dupAlerts++;
      return;
    }
    alertIds.add(a.alertId);
    const n = readSeq(a.readId);
    const k = n >= 0 && n < sent ? expectedByTemplate[n % expectedByTemplate.length].indexOf(a.entryId) : -1;
    if (k < 0 || k > 7) {
      unexpectedAlerts++;
      return;
    }
    if (alertMask[n] & (1 << k)) dupAlerts++;
    else {
      alertMask[n] |= 1 << k;
      alertsDelivered++;
    }
  }, 30_000);
  let recordsStored = 0;
  let dupRecords = 0;
  let alertsExpected = 0;
  for (let n = 0; n < sent; n++) {
    if (recordCount[n] > 0) recordsStored++;
    if (recordCount[n] > 1) dupRecords += recordCount[n] - 1;
    alertsExpected += Math.min(8, expectedByTemplate[n % expectedByTemplate.length].length);
  }
  return {
    published, storeBytes, recordsStored, lostRecords: sent - recordsStored, dupRecords, strayRecords,
    alertsExpected, alertsDelivered, lostAlerts: alertsExpected - alertsDelivered, dupAlerts, unexpectedAlerts,
  };
}
