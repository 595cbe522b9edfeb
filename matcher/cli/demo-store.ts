/**
 * The records store's part of `platesieve demo`: when PostgreSQL answers (PLATESIEVE_DB_URL, else
 * postgres://postgres@127.0.0.1:5432/postgres), the demo runs `store` in-process on a database of
 * its own, then shows what landed, a retrospective search, an evidence hold, a few alerts
 * dispositioned and the false-alert statistics they give, a retention dry run, and drops the
 * database. When it does not answer, the demo says so and goes on without it.
 */
import { join } from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import type { ServiceConfig } from '../service/config.js';
import { startStore, type RunningStore } from '../store/service.js';
import { openStore } from '../store/open.js';
import { redactUrl } from '../service/redact.js';
import { AuditLog } from '../audit/index.js';
import { recordDisposition } from '../dispositions/record.js';
import { statsRows } from '../dispositions/query.js';
import { computeAlertStats } from '../dispositions/stats.js';

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** The demo's store, while it runs. */
export interface DemoStore {
  url: string;
  running: RunningStore;
  /** Rows stored so far. */
  count(): Promise<{ reads: number; alerts: number }>;
  /** Search, hold and retention dry run, as lines to print; then everything is removed. */
  finish(alertPlate: string | undefined, write: (line: string) => void): Promise<void>;
}

function withDb(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

/** Starts the store on a database of its own, or returns why it could not (one line). */
export async function startDemoStore(config: ServiceConfig, logger: Logger, dir: string): Promise<DemoStore | string> {
  const admin = process.env.PLATESIEVE_DB_URL ?? DEFAULT_URL;
  const name = `platesieve_demo_${process.pid}_${Date.now().toString(36)}`;
  const client = new pg.Client({ connectionString: admin, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query(`CREATE DATABASE ${name}`);
  } catch (err) {
    await client.end().catch(() => undefined);
    return `PostgreSQL not reachable at ${redactUrl(admin)} (${(err as Error).message}): the records store part of the demo is skipped (set PLATESIEVE_DB_URL to a server where the demo may create a database)`;
  }
  await client.end();
  const url = withDb(admin, name);
  const drop = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(() => c.end());
  };
  let running: RunningStore;
  try {
    running = await startStore({ ...config, metrics: null, store: { ...config.store, retentionEveryMinutes: 0, batchWaitMs: 50 } }, logger, { dbUrl: url });
  } catch (err) {
    await drop().catch(() => undefined);
    return `the records store could not start: ${(err as Error).message}`;
  }
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  return {
    url,
    running,
    async count() {
      const r = await pool.query<{ r: string; a: string }>('SELECT (SELECT count(*) FROM platesieve.reads) r, (SELECT count(*) FROM platesieve.alerts) a');
      return { reads: Number(r.rows[0].r), alerts: Number(r.rows[0].a) };
    },
    async finish(alertPlate, write) {
      try {
        await running.stop();
        const store = await openStore({ url, audit: join(dir, 'audit.log') });
        try {
          if (alertPlate !== undefined) {
            const now = Date.now();
            const found = await store.search({ plate: alertPlate, tiers: ['exact', 'ocr', 'fuzzy'], maxDistance: 1, from: now - 86_400_000, to: now + 60_000, purpose: 'STOLEN_VEHICLE' });
            write(`store: search --plate ${alertPlate} --tiers exact,ocr,fuzzy --purpose STOLEN_VEHICLE: ${found.hits.length} stored reads in ${found.ms.toFixed(1)} ms` +
              (found.hits.length > 0 ? ` (best: ${found.hits[0].match} ${found.hits[0].matchedPlate} score ${found.hits[0].score.toFixed(2)})` : ''));
            const hold = await store.holds.add({ plate: alertPlate, case: 'DEMO-1', purpose: 'VEHICLE_THEFT', reason: 'demo: reads of a stolen vehicle kept as evidence' });
            write(`store: hold add --plate ${alertPlate} --case DEMO-1: ${hold.records} records copied into evidence (${hold.holdId})`);
          }
          await dispositionDemo(pool, join(dir, 'audit.log'), write);
          const r = await store.retention.run({ dryRun: true });
          write(`store: retention --dry-run: ${r.totalRows} rows due today (the demo's reads are kept ${config.retention.default.nonhitDays} days, hits ${config.retention.default.hitDays})`);
          write(`store: every search, hold, disposition and retention run above is in the audit log (platesieve audit verify)`);
        } finally {
          await store.close();
        }
      } finally {
        await pool.end();
        await drop().catch(() => undefined);
      }
    },
  };
}

/**
 * Verification, shown on the demo's own alerts: a person would check each against the image
 * and the NCIC record; the demo stands in with a rule (exact hits confirmed, the rest rejected
 * as misreads) and says so, then prints what `platesieve alerts stats` would.
 */
async function dispositionDemo(pool: pg.Pool, auditFile: string, write: (line: string) => void): Promise<void> {
  const { rows } = await pool.query<{ alert_id: string; match: string }>('SELECT alert_id, match FROM platesieve.alerts ORDER BY ts DESC LIMIT 40');
  if (rows.length === 0) return;
  const audit = await AuditLog.open(auditFile, { actor: 'demo-operator' });
  try {
    const at = Date.now();
    for (const r of rows) {
      const d = r.match === 'exact' ? { outcome: 'confirmed', verifiedWith: 'NCIC (demo)' } : { outcome: 'rejected', reason: 'misread', note: 'demo rule: non-exact tiers rejected' };
      await recordDisposition({ pool, audit }, { alertId: r.alert_id, by: 'demo-operator', at, ...d }, { source: 'api', actor: 'demo-operator' });
    }
  } finally {
    await audit.close();
  }
  const stats = computeAlertStats(await statsRows(pool, { from: Date.now() - 86_400_000, to: Date.now() + 60_000 }), 0.95);
  const tiers = Object.entries(stats.byTier).filter(([, g]) => g.dispositioned > 0).map(([t, g]) => `${t} ${g.confirmed}/${g.dispositioned} confirmed`).join(', ');
  write(`store: alerts disposition: ${rows.length} alerts dispositioned by a demo rule standing in for an operator (exact confirmed, others rejected as misreads)`);
  write(`store: alerts stats: ${stats.total.alerts} alerts, ${stats.total.dispositioned} dispositioned; by tier: ${tiers}`);
}
