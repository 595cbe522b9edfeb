/**
 * Reading the audit log the API writes to, for the audit routes: the PostgreSQL log every
 * instance shares (the default), or a file (embedded use, one instance). Both read the same
 * records; the file is read (and its chain checked) from its start on every request.
 */
import type pg from 'pg';
import { exportAudit, verifyAuditFile } from '../audit/index.js';
import { readPgAudit, streamPgAudit, verifyPgAudit } from '../audit/pg-log.js';
import type { AuditRecord, AuditVerifyResult } from '../audit/types.js';

/** Which records a read returns; times in epoch ms, `to` exclusive. */
export interface AuditQuery {
  from?: number;
  to?: number;
  actor?: string;
  /** An action or a prefix (`hold` for every `hold.*`). */
  action?: string;
  /** Most records, the first ones in order. */
  limit: number;
}

/** A readable audit log. */
export interface AuditSource {
  /** `postgres` or the file's path. */
  readonly label: string;
  read(query: AuditQuery): Promise<AuditRecord[]>;
  /** Every record from the genesis record, in order, up to `to` (exclusive): the report's input. */
  records(to?: number): AsyncIterable<AuditRecord>;
  verify(): Promise<AuditVerifyResult>;
}

/** The PostgreSQL log in the database of `pool`. */
export function pgAuditSource(pool: pg.Pool): AuditSource {
  return {
    label: 'postgres',
    read: (q) => readPgAudit(pool, q),
    records: (to) => streamPgAudit(pool, to === undefined ? {} : { to }),
    verify: () => verifyPgAudit(pool),
  };
}

/** An audit log file. */
export function fileAuditSource(path: string): AuditSource {
  return {
    label: path,
    async read(q) {
      const out: AuditRecord[] = [];
      for await (const r of exportAudit(path, { from: q.from, to: q.to, action: q.action })) {
        if (q.actor !== undefined && r.actor !== q.actor) continue;
        out.push(r);
        if (out.length >= q.limit) break;
      }
      return out;
    },
    async *records(to) {
      for await (const r of exportAudit(path)) {
        if (to !== undefined && r.at >= to) return;
        yield r;
      }
    },
    verify: () => verifyAuditFile(path),
  };
}
