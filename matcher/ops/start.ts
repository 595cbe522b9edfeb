/**
 * `startOps`: the operations API from the service configuration (docs/ops.md): its database
 * (`store.db`), its audit log (`ops.audit`: the shared PostgreSQL log, or a file), NATS and the
 * live bucket (`nats`, `liveUpdates.bucket`), TLS, then listening.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import pg from 'pg';
import type { Logger } from 'pino';
import { AuditLog } from '../audit/log.js';
import { PgAuditLog } from '../audit/pg-log.js';
import type { AuditSink } from '../audit/types.js';
import { ConfigError } from '../errors.js';
import type { ServiceConfig } from '../service/config.js';
import { natsConnectionOptions } from '../service/connection.js';
import { redactUrl } from '../service/redact.js';
import { schemaVersion, SCHEMA_VERSION } from '../store/schema.js';
import { fileAuditSource, pgAuditSource, type AuditSource } from './audit-source.js';
import { createOpsServer, type OpsServer } from './server.js';

const MINUTE = 60_000;

/** A running API instance. */
export interface RunningOps {
  /** Base URL it listens on. */
  url: string;
  server: OpsServer;
  /** Stops listening, then closes NATS, the audit log and the pool. */
  stop(): Promise<void>;
}

function tlsFiles(config: ServiceConfig): { cert: Buffer; key: Buffer } | undefined {
  const tls = config.ops.tls;
  if (tls === undefined) return undefined;
  const base = config.configFile === undefined ? process.cwd() : dirname(config.configFile);
  const read = (key: 'certFile' | 'keyFile'): Buffer => {
    const file = isAbsolute(tls[key]) ? tls[key] : resolve(base, tls[key]);
    try {
      return readFileSync(file);
    } catch (err) {
      throw new ConfigError(`ops.tls.${key}`, `config: ops.tls.${key}: cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
  };
  return { cert: read('certFile'), key: read('keyFile') };
}

async function openAudit(config: ServiceConfig, pool: pg.Pool): Promise<{ sink: AuditSink; source: AuditSource }> {
  if (config.ops.audit === 'postgres') return { sink: await PgAuditLog.open(pool, { actor: 'platesieve-ops' }), source: pgAuditSource(pool) };
  const base = config.configFile === undefined ? process.cwd() : dirname(config.configFile);
  const file = isAbsolute(config.ops.audit) ? config.ops.audit : resolve(base, config.ops.audit);
  return { sink: await AuditLog.open(file, { actor: 'platesieve-ops' }), source: fileAuditSource(file) };
}

/** Opens everything the API needs and starts listening. */
export async function startOps(config: ServiceConfig, logger: Logger, options: { dbUrl: string; now?: () => number }): Promise<RunningOps> {
  const log = logger.child({ component: 'ops' });
  const https = tlsFiles(config);
  const pool = new pg.Pool({ connectionString: options.dbUrl, max: config.ops.poolSize, application_name: 'platesieve-ops' });
  // A dropped idle connection: the next query reconnects; unhandled, the event would end the process.
  pool.on('error', (err) => log.warn({ err }, 'database connection lost'));
  let nc: NatsConnection | undefined;
  let audit: AuditSink | undefined;
  try {
    const client = await pool.connect().catch((err: unknown) => {
      throw new Error(`cannot connect to PostgreSQL at ${redactUrl(options.dbUrl)}: ${(err as Error).message}`, { cause: err });
    });
    try {
      const v = await schemaVersion(client);
      if (v !== SCHEMA_VERSION) throw new Error(`the store database is at schema version ${v}, this platesieve needs ${SCHEMA_VERSION}: run \`platesieve store migrate\``);
    } finally {
      client.release();
    }
    const opened = await openAudit(config, pool);
    audit = opened.sink;
    try {
      nc = await connect({ ...natsConnectionOptions(config.nats), name: 'platesieve-ops' });
    } catch (err) {
      // The API is still useful without NATS: only live hotlist changes and the console's live
      // alerts need it (health says degraded).
      log.warn({ err: (err as Error).message }, 'NATS unavailable: live hotlist changes and live alerts are off until restart');
    }
    const server = await createOpsServer({
      pool, audit, auditSource: opened.source, nats: nc, bucket: config.liveUpdates.bucket,
      matching: { partialOcr: config.matching.partialOcr, stateMismatch: config.matching.stateMismatch },
      sensitivePlaces: config.sensitivePlaces,
      session: { ttlMs: config.ops.sessionTtlMinutes * MINUTE, idleTimeoutMs: config.ops.idleTimeoutMinutes * MINUTE, maxFailures: config.ops.maxFailures, lockoutMs: config.ops.lockoutMinutes * MINUTE },
      loginsPerMinute: config.ops.loginsPerMinute, trustProxy: config.ops.trustProxy, https, logger: log, now: options.now,
      escalation: config.escalation,
      console: config.ops.console ? {} : false,
      subjectPrefix: config.subjects.prefix,
      dashboard: { sources: config.ops.dashboardSources, intervalSeconds: config.ops.dashboardSeconds },
    });
    const url = await server.listen({ host: config.ops.host, port: config.ops.port });
    log.info({ url, audit: opened.source.label, nats: nc !== undefined }, 'operations API listening');
    const sink = audit;
    return {
      url,
      server,
      async stop() {
        await server.close();
        await nc?.drain().catch(() => undefined);
        await sink.close();
        await pool.end();
      },
    };
  } catch (err) {
    await nc?.close().catch(() => undefined);
    await audit?.close().catch(() => undefined);
    await pool.end().catch(() => undefined);
    throw err;
  }
}
