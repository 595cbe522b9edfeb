/**
 * Where the store commands find the database and the audit log: --db or PLATESIEVE_DB_URL,
 * --audit or PLATESIEVE_AUDIT_FILE. Until the operations API exists these commands connect to
 * the database directly, with the operating-system user as the audit actor.
 */
import { UsageError } from './errors.js';

export interface DbCliOptions {
  db?: string;
  audit?: string;
}

/** The database URL: the flag, else PLATESIEVE_DB_URL, else the config's. */
export function dbUrlOf(opts: DbCliOptions, fromConfig?: string, env: NodeJS.ProcessEnv = process.env): string {
  const url = opts.db ?? env.PLATESIEVE_DB_URL ?? fromConfig;
  if (url === undefined || url.trim() === '') throw new UsageError('no database: pass --db postgres://USER@HOST:5432/DB or set PLATESIEVE_DB_URL');
  if (!/^postgres(ql)?:\/\//.test(url)) throw new UsageError('--db must be a postgres:// URL');
  return url;
}

/** The audit log file (required: every store command that reads or changes data is audited). */
export function auditFileOf(opts: DbCliOptions, env: NodeJS.ProcessEnv = process.env): string {
  const file = opts.audit ?? env.PLATESIEVE_AUDIT_FILE;
  if (file === undefined || file.trim() === '') throw new UsageError('--audit FILE (or PLATESIEVE_AUDIT_FILE) is required: every call is audited');
  return file;
}
