/** What every route of the operations API works with; built once per server (server.ts). */
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import type { AuditSink } from '../audit/types.js';
import type { People } from '../people/index.js';
import type { Store } from '../store/open.js';
import type { AuditSource } from './audit-source.js';
import type { OpsMetrics } from './metrics.js';
import type { LoginLimiter } from './rate-limit.js';

export interface OpsContext {
  people: People;
  /** The store; each request acts through `store.as(actorOf(request))`. */
  store: Store;
  /** Where the routes' own records go (the same sink People writes to). */
  audit: AuditSink;
  /** Reading and verifying that log (audit routes). */
  auditSource: AuditSource;
  /** The live hotlist bucket's connection; hotlist routes answer 503 without it. */
  nats?: NatsConnection;
  /** Subject prefix of the services (`subjects.prefix`): events of recorded dispositions. */
  prefix: string;
  /** null: live hotlist changes are off (`liveUpdates.bucket: null`). */
  bucket: string | null;
  logger: Logger;
  metrics: OpsMetrics;
  limiter: LoginLimiter;
  now: () => number;
}
