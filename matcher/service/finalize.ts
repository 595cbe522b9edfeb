/**
 * The main thread's share of a batch: alerts from hits (it alone holds the entries and the
 * suppression state), the records of reads that hit, dead letters, and the ids that make a
 * redelivered batch store nothing twice.
 */
import type { AlertTier, HotlistEntry, ReadRecord, RetentionClass } from '../types.js';
import { buildAlert, entryIdOf, type AlertContext } from '../alerts.js';
import type { EntryStore } from './compile.js';
import type { NonhitGroup, TaskResult } from './processor.js';
import type { OutputMessage } from './outputs.js';
import { subjectToken, type Subjects } from './subjects.js';
import { encodeJson, type Reject } from './wire.js';
import { ByteWriter, RECORDS_HEADER, RecordsMessages } from './record-json.js';
import type { AlertSuppressor, TentativeOffer } from './suppression.js';
import { buildRecord, heldRetention, retentionFor, type RetentionConfig } from './retention.js';
import type { ServiceMetrics } from './metrics.js';
import { lapsed } from './expiry.js';

/** An input message of the batch. */
export interface BatchMessage {
  data: Uint8Array;
  subject: string;
  /** Key output ids derive from (`<stream>.<seq>` in JetStream mode). */
  key: string;
}

/** The hotlist version a batch was matched against. */
export interface HotlistVersion {
  version: string;
  entries: EntryStore;
  refreshed: ReadonlyMap<string, number>;
  maxAge: ReadonlyMap<string, number>;
  loadedAt: number;
}

/** Live changes matched beside it (entries numbered after the version's), and filters. */
export interface LiveChanges {
  version: number;
  entries: readonly HotlistEntry[];
  cancelled: ReadonlySet<string>;
  /** Live entries compacted into the version that were removed or replaced since. */
  staleBase: ReadonlySet<string>;
}

export interface FinalizeDeps {
  subjects: Subjects;
  metrics: ServiceMetrics;
  suppressor: AlertSuppressor;
  retention: RetentionConfig;
  maxOutputBytes: number;
  /**
   * Publish a hit on another agency's entry on that agency's alert subject too, and tell
   * `onShared` (the service logs it). Default off here; the service's `shareWithEntryOwner`.
   */
  shareWithEntryOwner?: boolean;
  onShared?: (alert: { alertId?: string; entryId?: string; list: string }, from: string, to: string) => void;
  /**
   * Per list type, a minimum score above the matcher's `minScore` (`matching.listMinScore`): a
   * hit on an entry of the list scoring below it is no hit, as `platesieve replay` counts it.
   */
  listMinScore?: Readonly<Record<string, number>>;
}

/** The header a shared copy of an alert carries: the agency whose camera read the plate. */
export const SHARED_FROM_HEADER = 'Platesieve-Shared-From';

/** An alert output of a finalized batch and its suppression decision, to settle once its store is known. */
export interface PendingAlert {
  /** Index of the alert in {@link FinalizedBatch.outputs}. */
  output: number;
  offer: TentativeOffer;
  tier: AlertTier;
  list: string;
}

/**
 * The outputs of a batch and the suppression decisions behind them, none of them final: an
 * alert's decision is kept once the alert is stored, a suppressed repeat's once its input
 * message is done (see suppression.ts and batch-outcome.ts).
 */
export interface FinalizedBatch {
  /** Published first: alerts, dead letters, records of reads that emitted no alert. */
  outputs: OutputMessage[];
  /**
   * Hit records of input messages that emitted alerts: published only once every alert of
   * their message is stored, so a stored record never names an alert that is not.
   */
  deferred: OutputMessage[];
  alerts: PendingAlert[];
  /** Suppressed repeats, by input message index. */
  repeats: Array<{ input: number; offer: TentativeOffer }>;
}

/** An empty {@link FinalizedBatch}, for {@link finalizeBatch} to fill. */
export function emptyFinalized(): FinalizedBatch {
  return { outputs: [], deferred: [], alerts: [], repeats: [] };
}

/** A dead letter: the original bytes (cut to what the server accepts) and why. */
export function deadLetterOf(inc: BatchMessage, input: number, rej: Pick<Reject, 'index' | 'reason'> & { code: string }, deps: Pick<FinalizeDeps, 'subjects' | 'maxOutputBytes'>): OutputMessage {
  const headers: Record<string, string> = {
    'Platesieve-Code': rej.code,
    'Platesieve-Reason': rej.reason.slice(0, 1000),
    'Platesieve-Subject': inc.subject,
    'Platesieve-Index': rej.index === null ? '' : String(rej.index),
  };
  let data = inc.data;
  if (data.length > deps.maxOutputBytes) {
    headers['Platesieve-Truncated'] = String(data.length);
    data = data.subarray(0, deps.maxOutputBytes);
  }
  return { subject: deps.subjects.deadletter, data, id: `${inc.key}.dl.${rej.index ?? 'm'}`, headers, input };
}

/**
 * Output messages of encoded records: an array message carries the number of its records
 * in a header, so a consumer can count them without parsing.
 */
function pushRecordMessages(
  group: Pick<NonhitGroup, 'policy' | 'data' | 'counts'>, cls: RetentionClass, idBase: string, input: number, deps: FinalizeDeps, outputs: OutputMessage[],
): void {
  const subject = deps.subjects.records(cls, group.policy);
  group.data.forEach((data, c) => {
    const headers = data[0] === 0x5b ? { [RECORDS_HEADER]: String(group.counts[c]) } : undefined;
    outputs.push({ subject, data, id: `${idBase}${c === 0 ? '' : `.${c}`}`, input, headers });
  });
}

// The hit-records writer of this thread, reused.
const hitWriter = new ByteWriter(16 * 1024);

/** Records grouped by policy, one message (or more when too large) per policy. */
function pushRecords(records: readonly ReadRecord[], cls: RetentionClass, tag: string, inc: BatchMessage, input: number, single: boolean, deps: FinalizeDeps, outputs: OutputMessage[]): void {
  const byPolicy = new Map<string, ReadRecord[]>();
  for (const r of records) {
    const group = byPolicy.get(r.retention.policy);
    if (group === undefined) byPolicy.set(r.retention.policy, [r]);
    else group.push(r);
  }
  for (const [policy, group] of byPolicy) {
    const messages = new RecordsMessages(hitWriter, deps.maxOutputBytes, single);
    for (const r of group) messages.addJson(JSON.stringify(r));
    const data = messages.finish();
    pushRecordMessages({ policy, data, counts: messages.counts }, cls, `${inc.key}.${tag}.${subjectToken(policy)}`, input, deps, outputs);
    deps.metrics.record(cls, group.length);
  }
}

/**
 * Every output of a processed batch, each tagged with the input message it comes from, with
 * the tentative suppression decisions behind them. Fills `into` as it goes, so that a caller
 * whose finalizing throws half-way can still undo the decisions made (see batch-outcome.ts).
 */
export function finalizeBatch(
  batch: readonly BatchMessage[], result: TaskResult, gen: HotlistVersion, live: LiveChanges | undefined, deps: FinalizeDeps, into: FinalizedBatch = emptyFinalized(),
): FinalizedBatch {
  const outputs = into.outputs;
  const base = gen.entries.length;
  const m = deps.metrics;
  const now = Date.now();
  const changed = live !== undefined && (live.entries.length > 0 || live.cancelled.size > 0 || live.staleBase.size > 0);
  const ctx: AlertContext = {
    // Live changes make a version of their own: the compiled one plus the overlay's.
    hotlistVersion: changed ? `${gen.version}+live${live.version}` : gen.version,
    now,
    refreshedAt: (source) => (source !== undefined ? gen.refreshed.get(source) : undefined) ?? gen.loadedAt,
  };
  if (result.nonhit !== undefined && batch.length > 0) {
    // Coalesced (core mode): not tied to one input message, so `input` is -1.
    for (const group of result.nonhit) pushRecordMessages(group, 'nonhit', `${batch[0].key}.nonhit.${subjectToken(group.policy)}.b`, -1, deps, outputs);
  }
  // Counters once per batch, not per message.
  let readsIn = 0;
  let nonhit = 0;
  for (let i = 0; i < batch.length; i++) {
    const inc = batch[i];
    const out = result.outcomes[i];
    readsIn += out.reads;
    nonhit += out.nonhitCount;
    for (const rej of out.rejects) {
      outputs.push(deadLetterOf(inc, i, rej, deps));
      m.deadLetter(rej.code);
      if (rej.index !== null) m.invalidRead(rej.code);
    }
    for (const group of out.nonhit) pushRecordMessages(group, 'nonhit', `${inc.key}.nonhit.${subjectToken(group.policy)}`, i, deps, outputs);
    if (out.heldReads.length > 0) {
      const held = out.heldReads.map((r) => buildRecord(r.read, [], heldRetention(r.read.agency, false, r.read.ts, deps.retention, r.holdIds)));
      pushRecords(held, 'hold', 'hold', inc, i, out.single, deps, outputs);
    }
    if (out.hitReads.length === 0) continue;
    const hitRecords: ReadRecord[] = [];
    const heldHitRecords: ReadRecord[] = [];
    const lateNonhit: ReadRecord[] = [];
    let alerted = false;
    for (const hr of out.hitReads) {
      const emitted: string[] = [];
      let matched = 0;
      for (const hit of hr.hits) {
        const entry = hit.entry >= base ? live!.entries[hit.entry - base] : gen.entries.get(hit.entry);
        if (changed) {
          const id = entryIdOf(entry, hit.entry);
          if (live.cancelled.has(id) || (hit.entry < base && live.staleBase.has(id))) continue;
        }
        // An entry stops matching at its `expires`, not at the next build (expiry.ts).
        if (lapsed(entry, now)) continue;
        const floor = deps.listMinScore?.[entry.list];
        if (floor !== undefined && hit.score < floor) continue;
        matched++;
        const alert = buildAlert(hr.read, hr.read.id, entry, hit.entry, hit, ctx);
        alert.alertId = `${inc.key}.${hr.index}.${hit.entry}`;
        const maxAge = entry.source !== undefined ? gen.maxAge.get(entry.source) : undefined;
        if (maxAge !== undefined && alert.hotlistAgeS > maxAge) alert.stale = true;
        // Tentative: kept only once the alert is stored (or, for a repeat, its message is done),
        // so a redelivered batch emits again what was not stored.
        const offer = deps.suppressor.offerTentative(alert);
        if (offer.sightings === undefined) {
          into.repeats.push({ input: i, offer });
          continue;
        }
        alert.sightings = offer.sightings;
        into.alerts.push({ output: outputs.length, offer, tier: alert.match, list: alert.list });
        const subject = deps.subjects.alerts(alert.agency);
        const data = encodeJson(alert);
        outputs.push({ subject, data, id: alert.alertId, input: i });
        if (deps.shareWithEntryOwner === true && typeof entry.ori === 'string' && entry.ori !== '') {
          // The entry's owner learns of the sighting on its own subject: the same alert (same
          // id, so a consumer of both subjects stores it once), marked as a shared copy.
          const owner = deps.subjects.alerts(entry.ori);
          if (owner !== subject) {
            const from = alert.agency ?? '';
            outputs.push({ subject: owner, data, id: `${alert.alertId}.shared`, input: i, headers: { [SHARED_FROM_HEADER]: from } });
            m.alertShared();
            deps.onShared?.(alert, from, entry.ori);
          }
        }
        emitted.push(alert.alertId);
        alerted = true;
      }
      if (hr.holdIds !== undefined) {
        // Held: class `hold` whether it hit or not (every entry it hit cancelled or lapsed).
        heldHitRecords.push(buildRecord(hr.read, emitted, heldRetention(hr.read.agency, matched > 0, hr.read.ts, deps.retention, hr.holdIds), matched > 0));
      } else if (matched === 0) {
        // Every entry it hit was cancelled live or has lapsed: a read like any other.
        lateNonhit.push(buildRecord(hr.read, [], retentionFor(hr.read.agency, false, hr.read.ts, deps.retention)));
      } else {
        hitRecords.push(buildRecord(hr.read, emitted, retentionFor(hr.read.agency, true, hr.read.ts, deps.retention)));
      }
    }
    if (lateNonhit.length > 0) pushRecords(lateNonhit, 'nonhit', 'nonhit-late', inc, i, out.single, deps, outputs);
    if (hitRecords.length > 0) pushRecords(hitRecords, 'hit', 'hit', inc, i, out.single, deps, alerted ? into.deferred : outputs);
    if (heldHitRecords.length > 0) pushRecords(heldHitRecords, 'hold', 'hit-hold', inc, i, out.single, deps, alerted ? into.deferred : outputs);
  }
  m.readsIn(readsIn);
  m.fastReads(result.fastReads ?? 0);
  if (nonhit > 0) m.record('nonhit', nonhit);
  return into;
}
