/**
 * The escalation sweep of the store (docs/store.md "Dispositions and escalations"): every
 * `escalation.checkSeconds`, live alerts past their confirmation deadline (windows.ts) with no
 * disposition are escalated, each once: an event on `<prefix>.escalations.<agency>`, a warning
 * in the log, `platesieve_escalations_total` and an `alert.escalate` audit record.
 *
 * Once across any number of store processes: an alert is claimed by inserting its row into
 * `escalations` (ON CONFLICT DO NOTHING RETURNING), and only the process whose insert returned
 * it publishes. The event is published after the claim, on core NATS; when the publish (or the
 * flush that proves the server took it) fails, the claim is deleted so that the next sweep
 * tries again. A process that dies between a claim's commit and its publish leaves the alert
 * escalated (its row) with no event sent and no audit record: an `escalations` row without an
 * `alert.escalate` record shows it. The other order would risk two events for one alert.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import type { NatsConnection } from 'nats';
import type { AuditSink } from '../audit/types.js';
import type { EscalationConfig } from '../service/config-schema.js';
import { agencyToken } from '../service/subjects.js';
import type { StoreMetrics } from '../store/metrics.js';
import { dueAlerts, awaitingCount, claim, unclaim, windowBounds, type DueAlert } from './escalation-sql.js';
import { confirmationWindow, type WindowKind } from './windows.js';

/**
 * The event published on `<prefix>.escalations.<agency>` (docs/contracts.md). A field without a
 * value is absent, as in every JSON platesieve writes.
 */
export interface EscalationEvent {
  alertId: string;
  /** The read's agency; absent when it had none (published on `<prefix>.escalations.UNKNOWN`). */
  agency?: string;
  list?: string;
  priority?: number;
  plate?: string;
  hotlistPlate?: string;
  cameraId?: string;
  /** The alert's (the read's) time, epoch ms. */
  ts: number;
  /** `ts + windowMs`: when a disposition was due. */
  deadline: number;
  window: WindowKind;
  windowMs: number;
  escalatedAt: number;
}

/** What the sweep needs. */
export interface EscalationSweepOptions {
  nc: NatsConnection;
  pool: pg.Pool;
  audit: AuditSink;
  log: Logger;
  metrics: Pick<StoreMetrics, 'escalations' | 'escalationFailures' | 'awaitingDisposition'>;
  /** `subjects.prefix`. */
  prefix: string;
  settings: EscalationConfig;
  /** The store's identity, the audit actor. */
  actor: string;
  /** Clock, epoch ms; for tests. */
  now?: () => number;
  /** Alerts claimed per query (default 500); a sweep reads at most 20 pages. */
  pageSize?: number;
}

const MAX_PAGES = 20;

/** The subject of an alert's escalation. */
export function escalationSubject(prefix: string, agency: string | undefined): string {
  return `${prefix}.escalations.${agencyToken(agency)}`;
}

/** Sweeps for alerts past their confirmation window; {@link start} runs it on a timer. */
export class EscalationSweep {
  private readonly o: EscalationSweepOptions;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<EscalationEvent[]> | undefined;
  private stopped = false;

  constructor(options: EscalationSweepOptions) {
    this.o = options;
    this.now = options.now ?? Date.now;
  }

  /** Sweeps every `checkSeconds`, the first one `checkSeconds` after the call. */
  start(): void {
    if (this.stopped || this.timer !== undefined) return;
    const next = (): void => {
      this.timer = setTimeout(() => {
        void this.sweep().finally(() => {
          if (!this.stopped) next();
        });
      }, this.o.settings.checkSeconds * 1000);
    };
    next();
  }

  /**
   * One sweep: claims, publishes and audits every alert now due; returns the events published.
   * A sweep already running is joined rather than doubled. Never rejects: failures are logged
   * and counted, and what they left is swept again next time.
   */
  sweep(): Promise<EscalationEvent[]> {
    if (this.running !== undefined) return this.running;
    const run = this.sweepOnce().catch((err: unknown) => {
      this.o.metrics.escalationFailures.inc({ stage: 'sweep' });
      this.o.log.error({ err: (err as Error).message }, 'escalation sweep failed: retried at the next');
      return [];
    }).finally(() => {
      this.running = undefined;
    });
    this.running = run;
    return run;
  }

  /** Stops the timer and waits for a sweep in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async sweepOnce(): Promise<EscalationEvent[]> {
    const { pool, settings } = this.o;
    const pageSize = this.o.pageSize ?? 500;
    const bounds = windowBounds(settings);
    const published: EscalationEvent[] = [];
    for (let page = 0; page < MAX_PAGES && !this.stopped; page++) {
      const now = this.now();
      const due = await dueAlerts(pool, bounds, now, pageSize);
      if (due.length === 0) break;
      const r = await this.escalate(due, now);
      published.push(...r.sent);
      // A failed publish is the next sweep's (NATS is away now); a full page none of which
      // could be taken would be read again as it is.
      if (due.length < pageSize || r.failed > 0 || !r.progress) break;
    }
    const awaiting = await awaitingCount(pool, bounds, this.now());
    this.o.metrics.awaitingDisposition.set(awaiting);
    return published;
  }

  /**
   * Claims `due`, publishes what this process claimed, audits what it published. `progress`:
   * some alert of `due` is now escalated, by this process or another.
   */
  private async escalate(due: readonly DueAlert[], now: number): Promise<{ sent: EscalationEvent[]; failed: number; progress: boolean }> {
    const { nc, log, metrics, prefix, settings } = this.o;
    const events: EscalationEvent[] = [];
    for (const a of due) {
      const w = confirmationWindow(a.list ?? undefined, a.priority ?? undefined, settings);
      const deadline = a.ts + w.ms;
      // The query and windows.ts agree; should they ever not, windows.ts (the one rule) wins.
      if (deadline > now) continue;
      events.push({
        alertId: a.alertId, agency: a.agency ?? undefined, list: a.list ?? undefined, priority: a.priority ?? undefined, plate: a.plate ?? undefined,
        hotlistPlate: a.hotlistPlate ?? undefined, cameraId: a.cameraId ?? undefined, ts: a.ts, deadline, window: w.kind, windowMs: w.ms, escalatedAt: now,
      });
    }
    const mine = new Set(await claim(this.o.pool, events.map((e) => ({
      alertId: e.alertId, agency: e.agency ?? null, list: e.list ?? null, priority: e.priority ?? null, window: e.window, deadline: e.deadline, escalatedAt: e.escalatedAt,
    }))));
    const claimed = events.filter((e) => mine.has(e.alertId));
    // Claimed by another process: escalated all the same, the next page is not this one.
    if (claimed.length === 0) return { sent: [], failed: 0, progress: events.length > 0 };
    const failed: string[] = [];
    const sent: EscalationEvent[] = [];
    for (const e of claimed) {
      try {
        nc.publish(escalationSubject(prefix, e.agency), JSON.stringify(e));
        sent.push(e);
      } catch (err) {
        failed.push(e.alertId);
        log.warn({ err: (err as Error).message, alertId: e.alertId }, 'escalation not published: retried at the next sweep');
      }
    }
    if (sent.length > 0) {
      try {
        // The server's answer to a flush proves it received what was published before it.
        await nc.flush();
      } catch (err) {
        log.warn({ err: (err as Error).message, alerts: sent.length }, 'escalations not confirmed by the server: retried at the next sweep');
        failed.push(...sent.map((e) => e.alertId));
        sent.length = 0;
      }
    }
    if (failed.length > 0) {
      metrics.escalationFailures.inc({ stage: 'publish' }, failed.length);
      await unclaim(this.o.pool, failed, now);
    }
    for (const e of sent) {
      metrics.escalations.inc({ kind: e.window, list: e.list ?? 'none' });
      log.warn({ alertId: e.alertId, agency: e.agency, list: e.list, priority: e.priority, window: e.window, deadline: e.deadline, overdueMs: now - e.deadline }, 'alert escalated: no disposition within its confirmation window');
    }
    await this.auditAll(sent);
    return { sent, failed: failed.length, progress: sent.length > 0 || events.length > claimed.length };
  }

  private async auditAll(sent: readonly EscalationEvent[]): Promise<void> {
    const { audit, actor, log, metrics } = this.o;
    await Promise.all(sent.map((e) => audit.append({
      action: 'alert.escalate',
      actor,
      subject: { alertId: e.alertId, ...(e.plate !== undefined ? { plate: e.plate } : {}), ...(e.list !== undefined ? { list: e.list } : {}) },
      details: { agency: e.agency, window: e.window, windowMs: e.windowMs, deadline: e.deadline, priority: e.priority, ts: e.ts },
    }).catch((err: unknown) => {
      // Published already: the escalation stands, its row in `escalations` is the record.
      metrics.escalationFailures.inc({ stage: 'audit' });
      log.error({ err: (err as Error).message, alertId: e.alertId }, 'escalation not audited');
    })));
  }
}
