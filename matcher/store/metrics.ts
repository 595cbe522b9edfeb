/**
 * Prometheus series of `platesieve store` (docs/store.md "Metrics"), on the same ops server as
 * `serve` (/metrics, /healthz on 127.0.0.1 by default).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class StoreMetrics {
  readonly registry = new Registry();
  readonly rows: Counter<'table'>;
  readonly duplicates: Counter;
  readonly held: Counter;
  readonly badMessages: Counter<'stream'>;
  readonly sharedCopies: Counter;
  readonly failedBatches: Counter;
  readonly commitSeconds: Histogram;
  readonly batchRows: Histogram;
  readonly lag: Gauge<'stream'>;
  readonly retentionDropped: Counter<'table'>;
  readonly retentionRuns: Counter<'outcome'>;
  // Dispositions from NATS and escalations (matcher/dispositions/nats-consumer.ts, escalation.ts).
  readonly dispositions: Counter<'source' | 'outcome'>;
  readonly dispositionsRefused: Counter<'problem'>;
  readonly dispositionsDeferred: Counter<'reason'>;
  readonly escalations: Counter<'kind' | 'list'>;
  readonly escalationFailures: Counter<'stage'>;
  readonly awaitingDisposition: Gauge;

  constructor(defaultMetrics = true) {
    const registers = [this.registry];
    this.rows = new Counter({ name: 'platesieve_store_rows_total', help: 'Rows inserted, by table (duplicates not counted)', labelNames: ['table'], registers });
    this.duplicates = new Counter({ name: 'platesieve_store_duplicates_total', help: 'Rows already stored (redeliveries), skipped', registers });
    this.held = new Counter({ name: 'platesieve_store_evidence_copies_total', help: 'Records copied into evidence at ingest for an active hold', registers });
    this.badMessages = new Counter({ name: 'platesieve_store_bad_messages_total', help: 'Messages that could not be stored (terminated, logged)', labelNames: ['stream'], registers });
    this.sharedCopies = new Counter({ name: 'platesieve_store_shared_alert_copies_total', help: 'Shared copies of alerts (Platesieve-Shared-From) acknowledged without storing: the original is stored', registers });
    this.failedBatches = new Counter({ name: 'platesieve_store_failed_batches_total', help: 'Batches whose transaction failed (messages redelivered)', registers });
    this.commitSeconds = new Histogram({
      name: 'platesieve_store_batch_commit_seconds', help: 'Seconds from a batch write starting to its commit', registers,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    });
    this.batchRows = new Histogram({ name: 'platesieve_store_batch_rows', help: 'Rows per committed batch', registers, buckets: [1, 10, 100, 500, 1000, 2000, 4000, 8000, 16000] });
    this.lag = new Gauge({ name: 'platesieve_store_consumer_lag', help: 'Messages not yet delivered to the store, by stream (consumer num_pending)', labelNames: ['stream'], registers });
    this.retentionDropped = new Counter({ name: 'platesieve_store_retention_rows_deleted_total', help: 'Rows deleted by the retention job, by table', labelNames: ['table'], registers });
    this.retentionRuns = new Counter({ name: 'platesieve_store_retention_runs_total', help: 'Retention runs, by outcome', labelNames: ['outcome'], registers });
    this.dispositions = new Counter({ name: 'platesieve_dispositions_total', help: 'Dispositions recorded, by source and outcome', labelNames: ['source', 'outcome'], registers });
    this.dispositionsRefused = new Counter({ name: 'platesieve_dispositions_refused_total', help: 'Dispositions from NATS not recorded (dead-lettered), by problem', labelNames: ['problem'], registers });
    this.dispositionsDeferred = new Counter({
      name: 'platesieve_dispositions_deferred_total', help: 'Dispositions from NATS handed back for redelivery, by reason (database, alert_not_stored, deadletter)', labelNames: ['reason'], registers,
    });
    this.escalations = new Counter({ name: 'platesieve_escalations_total', help: 'Alerts escalated for want of a disposition in their window, by window kind and list', labelNames: ['kind', 'list'], registers });
    this.escalationFailures = new Counter({ name: 'platesieve_escalation_failures_total', help: 'Escalation steps that failed, by stage (sweep, publish, audit)', labelNames: ['stage'], registers });
    this.awaitingDisposition = new Gauge({ name: 'platesieve_alerts_awaiting_disposition', help: 'Live alerts inside their confirmation window with no disposition yet (at the last sweep)', registers });
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'platesieve_store_' });
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
