/**
 * `platesieve store`: durable JetStream consumers on the output streams (records, alerts, dead
 * letters) writing to PostgreSQL. A message is acknowledged only after the transaction holding
 * its rows committed; a failed transaction naks its messages for redelivery; a message that can
 * never become a row is terminated and counted. Killing the store, PostgreSQL or nats-server at
 * any moment therefore loses nothing (unacknowledged messages come back) and duplicates nothing
 * (the writer skips rows already stored). It also records dispositions published on NATS and
 * escalates alerts left without one past their confirmation window (matcher/dispositions/).
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { AckPolicy, DeliverPolicy, connect, nanos, type ConsumerMessages, type JsMsg, type NatsConnection } from 'nats';
import { AuditLog, PgAuditLog } from '../audit/index.js';
import { EscalationSweep } from '../dispositions/escalation.js';
import { missingConsumer, startDispositionConsumer } from '../dispositions/nats-consumer.js';
import { DEFAULT_OCR_CLASSES, ocrClassMap } from '../core/plate.js';
import { natsConnectionOptions } from '../service/connection.js';
import type { ServiceConfig } from '../service/config.js';
import { startOpsServer, type HealthReport, type OpsServer } from '../service/http.js';
import { ensureOutputStreams, outputStreams } from '../service/streams.js';
import { unpackr } from '../service/msgpack.js';
import { ActiveHolds } from './holds.js';
import { HoldMirror } from './hold-mirror.js';
import { SHARED_FROM_HEADER } from '../service/finalize.js';
import { StoreMetrics } from './metrics.js';
import { checkAndRecordPolicies, configuredPolicies, minimumsOf } from './policies.js';
import { runRetention, type RetentionReport } from './retention.js';
import { alertRow, BadStoreMessage, deadLetterAgency, deadLetterRow, readRow, type Minimums, type ReadRow, type Row } from './rows.js';
import { prepareDatabase } from './open.js';
import { StoreWriter } from './writer.js';
import { startHistorical } from './historical.js';
import { searchReads } from './search.js';

/**
 * Messages one consumer pulls at a time. Measured with `npm run bench:store` (arrays of 512
 * records / one record a message): 1 000 a pull 3.9k / 14.6k records/s; 8 MiB a pull (max_bytes)
 * 26.4k / 2.1k; 256 a pull 22.1k / 11.5k (bench/results/store-ingest-2026-11-30.json).
 */
const PULL_MESSAGES = 256;

/** A running store. */
export interface RunningStore {
  metricsPort?: number;
  metrics: StoreMetrics;
  /** Runs the retention job now (what the schedule does). */
  retention(dryRun?: boolean): Promise<RetentionReport | undefined>;
  /** Stops consuming, writes what it holds, acknowledges, closes. */
  stop(): Promise<void>;
  /** Resolves when the store stopped on its own (a fatal error), with that error. */
  closed: Promise<Error | undefined>;
}

/** One message and the rows it became. */
interface Item {
  m: JsMsg;
  reads: ReadRow[];
  alerts: Row[];
  deadletters: Row[];
}

/**
 * A database error that the same rows will meet again (bad data, a constraint other than the
 * duplicate key the writer handles): its batch is split to find the message at fault rather
 * than redelivered forever. Everything else (connection lost, shutdown, timeouts) is transient.
 */
function permanent(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^(22|23|42)/.test(code) && code !== '23505';
}

/** Starts the store. The database URL is `config.store.db` (or PLATESIEVE_DB_URL, applied by the caller). */
export async function startStore(config: ServiceConfig, logger: Logger, options: { dbUrl: string; now?: () => number }): Promise<RunningStore> {
  const now = options.now ?? Date.now;
  const log = logger.child({ component: 'store' });
  const metrics = new StoreMetrics();
  const pool = new pg.Pool({ connectionString: options.dbUrl, max: config.store.poolSize, application_name: 'platesieve-store' });
  let dbError: string | undefined;
  // A connection that dies while checked out (PostgreSQL killed between two queries of a
  // transaction) emits 'error' on its client: without a listener that would end the process.
  // The query in flight rejects on its own, and the batch is redelivered.
  pool.on('connect', (client) => client.on('error', (err) => {
    dbError = err.message;
  }));
  pool.on('error', (err) => {
    dbError = err.message;
    log.warn({ err: err.message }, 'database connection lost');
  });
  const policies = configuredPolicies(config);
  const minimums: Minimums = minimumsOf(policies);
  const ocrClasses = config.matching.ocrClasses ?? DEFAULT_OCR_CLASSES;
  const classes = ocrClassMap(ocrClasses);
  try {
    await prepareDatabase(pool, ocrClasses, log);
    await checkAndRecordPolicies(pool, policies);
  } catch (err) {
    await pool.end();
    throw err;
  }
  const holds = new ActiveHolds();
  await holds.refresh(pool);
  const writer = new StoreWriter(pool, holds);

  const nc: NatsConnection = await connect(natsConnectionOptions(config.nats));
  // `jetstream.createStreams: false`: the NATS administrators created the streams and the
  // consumers; a user without stream and consumer create or update permissions only uses them
  // (docs/security.md, docs/examples/nats-accounts.conf).
  const manage = config.jetstream.createStreams;
  const streams = manage ? await ensureOutputStreams(nc, config, log) : outputStreams(config);
  const jsm = await nc.jetstreamManager();
  const js = nc.jetstream();
  // The active plate holds, mirrored to the services so they tag held reads `hold` (hold-mirror.ts).
  const mirror = config.holds.bucket !== null ? await HoldMirror.open(nc, config.holds.bucket, log) : undefined;
  const mirrorHolds = (): Promise<unknown> => mirror?.publish(holds.list(), now()).catch((err: unknown) => log.warn({ err }, 'active holds not published; retried at the next refresh')) ?? Promise.resolve();
  await mirrorHolds();
  const prefix = config.subjects.prefix;
  const iters: ConsumerMessages[] = [];
  for (const s of streams) {
    try {
      await jsm.consumers.info(s.name, config.store.consumer);
    } catch (err) {
      if (!manage) throw missingConsumer(s.name, config.store.consumer, err);
      await jsm.consumers.add(s.name, {
        durable_name: config.store.consumer, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(60_000), max_ack_pending: config.store.maxAckPending,
      });
      log.info({ stream: s.name, consumer: config.store.consumer }, 'store consumer created');
    }
  }

  let pending: Item[] = [];
  let pendingRows = 0;
  // Batches being written, at most `store.writers` at once, each a transaction on its own
  // connection: the next batch is parsed while one commits, and with several writers
  // PostgreSQL works on several at once (docs/store.md "Speed").
  const writers = Math.max(1, Math.min(config.store.writers, config.store.poolSize));
  const inFlight = new Set<Promise<void>>();
  let slotFreed: Array<() => void> = [];
  let timer: NodeJS.Timeout | undefined;
  let stopping = false;
  let lastCommitAt = now();
  let resolveClosed: (e: Error | undefined) => void = () => undefined;
  const closed = new Promise<Error | undefined>((r) => (resolveClosed = r));

  const add = (m: JsMsg): void => {
    try {
      const subject = m.subject;
      const item: Item = { m, reads: [], alerts: [], deadletters: [] };
      if (subject === `${prefix}.deadletter`) {
        const data = m.data;
        const agency = deadLetterAgency(data, (b) => unpackr.unpack(b));
        item.deadletters.push(deadLetterRow({ id: `dl-${m.info.streamSequence}`, receivedAt: Math.floor(Number(m.info.timestampNanos) / 1e6), code: m.headers?.get('Platesieve-Code') || undefined, reason: m.headers?.get('Platesieve-Reason') || undefined, data }, agency, config.retention, minimums));
      } else if (m.headers?.has(SHARED_FROM_HEADER) === true) {
        // A copy of an alert published for the entry's owner: the original (same alertId) is
        // stored from its own subject; this one is acknowledged with the batch, storing nothing.
        metrics.sharedCopies.inc();
      } else {
        const value = JSON.parse(m.string()) as unknown;
        const items = Array.isArray(value) ? value : [value];
        const isAlert = subject.startsWith(`${prefix}.alerts.`);
        // One bad record of an array message is left out alone; the others are stored.
        for (let i = 0; i < items.length; i++) {
          try {
            if (isAlert) item.alerts.push(alertRow(items[i] as Parameters<typeof alertRow>[0], config.retention, minimums, now()));
            else item.reads.push(readRow(items[i] as Parameters<typeof readRow>[0], classes, minimums));
          } catch (err) {
            if (items.length === 1) throw err;
            metrics.badMessages.inc({ stream: m.info.stream });
            log.warn({ stream: m.info.stream, seq: m.info.streamSequence, subject, index: i, reason: (err as Error).message }, 'record cannot be stored: left out, the rest of its message stored');
          }
        }
      }
      pending.push(item);
      pendingRows += item.reads.length + item.alerts.length + item.deadletters.length;
    } catch (err) {
      const why = err instanceof BadStoreMessage || err instanceof SyntaxError ? err.message : String(err);
      metrics.badMessages.inc({ stream: m.info.stream });
      log.warn({ stream: m.info.stream, seq: m.info.streamSequence, subject: m.subject, reason: why }, 'message cannot be stored: terminated');
      m.term();
      return;
    }
    if (pending.length >= config.store.batchSize || pendingRows >= config.store.batchRows) schedule(0);
    else if (timer === undefined) schedule(config.store.batchWaitMs);
  };

  /**
   * Hands the pending rows to a writer once one is free; resolves when they are handed over,
   * not written (each batch acks its own messages after its commit). Waiting for a free writer
   * is the backpressure: at most `writers` batches and the one filling are held.
   */
  const flushNow = async (): Promise<void> => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    while (inFlight.size >= writers) await new Promise<void>((r) => slotFreed.push(r));
    if (pending.length === 0) return;
    const p: Promise<void> = flush().finally(() => {
      inFlight.delete(p);
      // Every waiter looks again: one may find nothing pending and leave the slot to another.
      const waiting = slotFreed;
      slotFreed = [];
      for (const wake of waiting) wake();
    });
    inFlight.add(p);
  };

  const schedule = (ms: number): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      void flushNow();
    }, ms);
  };

  const terminate = (item: Item, why: string): void => {
    metrics.badMessages.inc({ stream: item.m.info.stream });
    log.warn({ stream: item.m.info.stream, seq: item.m.info.streamSequence, subject: item.m.subject, reason: why }, 'message cannot be stored: terminated');
    item.m.term();
  };

  /** Writes the rows of `items` in one transaction; acks them after the commit. */
  const writeItems = async (items: Item[]): Promise<void> => {
    const t0 = process.hrtime.bigint();
    const nowMs = now();
    // A record already past its expiry when it arrives is not kept: the policy says it is gone.
    const reads = items.flatMap((i) => i.reads).filter((r) => r.expiresAt > nowMs);
    const alerts = items.flatMap((i) => i.alerts);
    const deadletters = items.flatMap((i) => i.deadletters);
    const res = await writer.write({ reads, alerts, deadletters });
    for (const i of items) i.m.ack();
    dbError = undefined;
    lastCommitAt = now();
    metrics.commitSeconds.observe(Number(process.hrtime.bigint() - t0) / 1e9);
    metrics.batchRows.observe(reads.length + alerts.length + deadletters.length);
    metrics.rows.inc({ table: 'reads' }, res.reads);
    metrics.rows.inc({ table: 'alerts' }, res.alerts);
    metrics.rows.inc({ table: 'deadletters' }, res.deadletters);
    if (res.duplicates > 0) metrics.duplicates.inc(res.duplicates);
    if (res.held > 0) metrics.held.inc(res.held);
    log.debug({ messages: items.length, ...res }, 'batch committed');
  };

  /** A batch the database refuses for its data: halves until the message at fault stands alone. */
  const bisect = async (items: Item[], err: unknown): Promise<void> => {
    if (items.length === 1) {
      terminate(items[0], `the database refused its rows: ${(err as Error).message}`);
      return;
    }
    const mid = items.length >> 1;
    for (const half of [items.slice(0, mid), items.slice(mid)]) {
      try {
        await writeItems(half);
      } catch (e) {
        if (!permanent(e)) throw e;
        await bisect(half, e);
      }
    }
  };

  const flush = async (): Promise<void> => {
    const batch = pending;
    pending = [];
    pendingRows = 0;
    if (batch.length === 0) return;
    try {
      try {
        await writeItems(batch);
      } catch (err) {
        if (!permanent(err)) throw err;
        await bisect(batch, err);
      }
    } catch (err) {
      dbError = (err as Error).message;
      metrics.failedBatches.inc();
      log.error({ err: dbError, messages: batch.length }, 'batch not stored: redelivered later');
      // Acked or terminated messages ignore a nak; the rest come back.
      for (const i of batch) i.m.nak(2_000);
    }
  };

  for (const s of streams) {
    const consumer = await js.consumers.get(s.name, config.store.consumer);
    // Small pulls: an array message of the core-mode service holds hundreds of records, and
    // everything pulled must be written well inside the 60 s ack wait (see PULL_MESSAGES).
    const it = await consumer.consume({ max_messages: Math.min(config.store.batchSize, config.store.maxAckPending, PULL_MESSAGES) });
    iters.push(it);
    void (async () => {
      for await (const m of it) {
        add(m);
        // Backpressure: while a full batch waits for the database, take no more messages.
        if (pendingRows >= config.store.batchRows) await flushNow();
      }
    })().catch((err: unknown) => log.error({ err, stream: s.name }, 'consumer stopped'));
  }

  // Dispositions from NATS and the escalation sweep (matcher/dispositions/): audited in the
  // PostgreSQL log, the one every store process and the operations API share.
  const audit = await PgAuditLog.open(pool, { actor: config.audit.actor, now });
  const dispositions = await startDispositionConsumer({ nc, pool, audit, config, log, metrics, actor: config.audit.actor, now });
  const escalation = config.escalation.enabled
    ? new EscalationSweep({ nc, pool, audit, log, metrics, prefix, settings: config.escalation, actor: config.audit.actor, now })
    : undefined;
  escalation?.start();

  // Historical hits (historical.ts): stored reads searched for every hotlist entry added.
  const hist = config.store.historicalDays > 0 || Object.keys(config.store.historicalDaysByList).length > 0
    ? await startHistorical({ nc, pool, config, log, search: searchReads, classes: ocrClasses, registry: metrics.registry, now })
    : undefined;

  const lagTimer = setInterval(() => {
    for (const s of streams) {
      jsm.consumers.info(s.name, config.store.consumer).then(
        (i) => metrics.lag.set({ stream: s.name }, i.num_pending + i.num_ack_pending),
        () => undefined,
      );
    }
    holds.refresh(pool).then(mirrorHolds, () => undefined);
  }, 2_000);

  const retention = async (dryRun = false): Promise<RetentionReport | undefined> => {
    const report = await runRetention(pool, { dryRun, now: now(), actor: config.audit.actor });
    if (report.skipped) return undefined;
    writer.partitions.clear();
    metrics.retentionRuns.inc({ outcome: 'ok' });
    for (const d of report.deleted) if (!report.dryRun) metrics.retentionDropped.inc({ table: d.table }, d.rows);
    log.info({ partitions: report.partitions.length, rows: report.totalRows, deleted: report.deleted, dryRun }, 'retention run');
    if (config.audit.file !== undefined && (report.partitions.length > 0 || dryRun)) {
      const audit = await AuditLog.open(config.audit.file, { actor: config.audit.actor });
      try {
        await audit.append({ action: 'retention.delete', subject: { count: report.totalRows }, details: { dryRun, beforeDay: report.beforeDay, deleted: report.deleted.map((d) => ({ ...d })), evidenceCopied: report.evidenceCopied } });
      } finally {
        await audit.close();
      }
    }
    return report;
  };
  const retentionTimer = config.store.retentionEveryMinutes > 0
    ? setInterval(() => void retention().catch((err: unknown) => {
      metrics.retentionRuns.inc({ outcome: 'failed' });
      log.error({ err: (err as Error).message }, 'retention run failed');
    }), config.store.retentionEveryMinutes * 60_000)
    : undefined;
  if (retentionTimer !== undefined) {
    // One run at start, after the consumers are up: a store started after a pause catches up.
    setTimeout(() => void retention().catch((err: unknown) => log.error({ err: (err as Error).message }, 'retention run failed')), 1_000).unref();
  }

  const health = (): HealthReport => {
    const reasons: string[] = [];
    const connected = !nc.isClosed();
    if (!connected) reasons.push('NATS not connected');
    if (dbError !== undefined) reasons.push(`database: ${dbError}`);
    return {
      status: !connected || dbError !== undefined ? 'failing' : 'ok',
      ...(reasons.length > 0 ? { reasons } : {}),
      checks: { nats: { connected }, hotlists: [], database: { ok: dbError === undefined, lastCommitAt: new Date(lastCommitAt).toISOString(), activeHolds: holds.size } },
    };
  };
  let ops: OpsServer | undefined;
  if (config.metrics !== null) ops = await startOpsServer({ host: config.metrics.host, port: config.metrics.port, metrics, health, logger: log });

  void nc.closed().then((err) => {
    if (!stopping) resolveClosed(err instanceof Error ? err : new Error('NATS connection closed'));
  });
  log.info({ streams: streams.map((s) => s.name), consumer: config.store.consumer }, 'store started');

  return {
    metricsPort: ops?.port,
    metrics,
    retention,
    closed,
    async stop() {
      stopping = true;
      await escalation?.stop();
      await dispositions.stop();
      await hist?.stop();
      clearInterval(lagTimer);
      if (retentionTimer !== undefined) clearInterval(retentionTimer);
      for (const it of iters) it.stop();
      await flushNow();
      await Promise.all(inFlight);
      await nc.drain().catch(() => undefined);
      await ops?.close();
      await audit.close();
      await pool.end();
      log.info('store stopped');
      resolveClosed(undefined);
    },
  };
}
