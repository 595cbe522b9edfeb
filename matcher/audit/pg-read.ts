/**
 * Reading the PostgreSQL audit log back: verification (the same chain check as a file,
 * verify.ts, fed each row's canonical text in seq order), verified export, and plain reads.
 * Rows are read in keyset pages of seq, never the whole table at once.
 */
import type pg from 'pg';
import { AuditError } from '../errors.js';
import { canonicalJson } from './canonical.js';
import type { AuditRecord, AuditVerifyResult, JsonValue } from './types.js';
import { ChainChecker, parseTimeBound, type ExportFilter } from './verify.js';

/** The table (schema `platesieve`, migration 4). */
export const AUDIT_TABLE = 'platesieve.audit';

/** How errors of the PostgreSQL log name it (AuditError's `file`). */
export const PG_AUDIT_LABEL = 'postgresql:platesieve.audit';

const PAGE = 1000;

interface AuditRow {
  seq: string;
  at: string;
  actor: string;
  action: string;
  outcome: string;
  purpose: string | null;
  case_no: string | null;
  subject: JsonValue | null;
  reason: string | null;
  details: JsonValue | null;
  prev: string;
  hash: string;
  line: string;
}

const COLUMNS = 'seq, at, actor, action, outcome, purpose, case_no, subject, reason, details, prev, hash, line';

/** Rows with seq > `after`, in seq order, a page at a time. */
async function* rowsAfter(pool: pg.Pool, after: number, untilAt?: number): AsyncGenerator<AuditRow> {
  let last = after;
  for (;;) {
    let rows: AuditRow[];
    try {
      const params: Array<number> = [last, PAGE];
      const until = untilAt === undefined ? '' : ` AND at < $3`;
      if (untilAt !== undefined) params.push(untilAt);
      ({ rows } = await pool.query<AuditRow>(`SELECT ${COLUMNS} FROM ${AUDIT_TABLE} WHERE seq > $1${until} ORDER BY seq LIMIT $2`, params));
    } catch (err) {
      throw new AuditError(PG_AUDIT_LABEL, `cannot read: ${(err as Error).message}`, { cause: err });
    }
    for (const r of rows) yield r;
    if (rows.length < PAGE) return;
    last = Number(rows[rows.length - 1].seq);
  }
}

/** The first column that differs from the record in `line`, or undefined. */
function columnMismatch(row: AuditRow, r: AuditRecord): string | undefined {
  const same = (a: JsonValue | null | undefined, b: JsonValue | null | undefined): boolean => canonicalJson(a ?? null) === canonicalJson(b ?? null);
  if (Number(row.seq) !== r.seq) return 'seq';
  if (Number(row.at) !== r.at) return 'at';
  const pairs: Array<[string, JsonValue | null, JsonValue | undefined]> = [
    ['actor', row.actor, r.actor],
    ['action', row.action, r.action],
    ['outcome', row.outcome, r.outcome],
    ['purpose', row.purpose, r.purpose],
    ['case_no', row.case_no, r.case],
    ['reason', row.reason, r.reason],
    ['subject', row.subject, r.subject],
    ['details', row.details, r.details],
    ['prev', row.prev, r.prev],
    ['hash', row.hash, r.hash],
  ];
  for (const [name, a, b] of pairs) if (!same(a, b)) return name;
  return undefined;
}

/** Checks rows in order: the chain (as a file's lines) and that the columns copy `line`. */
class RowChecker {
  readonly chain = new ChainChecker();
  private place = 0;

  check(row: AuditRow): { ok: true; record: AuditRecord } | { ok: false; badLine: number; badSeq: number; reason: string } {
    this.place++;
    const { records, head, logId, firstAt, lastAt } = this.chain;
    const c = this.chain.check({ text: row.line, line: this.place, terminated: true });
    if (!c.ok) return { ok: false, badLine: this.place, badSeq: Number(row.seq), reason: c.reason };
    const col = columnMismatch(row, c.record);
    if (col !== undefined) {
      // The chain itself holds; undo its step so that the result describes verified rows only.
      Object.assign(this.chain, { records, head, logId, firstAt, lastAt });
      return { ok: false, badLine: this.place, badSeq: Number(row.seq), reason: `column ${col} differs from the record's canonical text: the row was altered` };
    }
    return c;
  }
}

/** Options of {@link verifyPgAudit}. */
export interface PgVerifyOptions {
  /** A head hash kept elsewhere: the log must contain it (else records after it were removed, or it is another log). */
  head?: string;
}

/**
 * Verifies the whole PostgreSQL log, streaming rows in seq order through the same checks as a
 * file (verify.ts), plus the columns against each row's canonical text. Resolves with the
 * result (`badSeq`: the first row that fails); rejects with {@link AuditError} when the
 * table cannot be read.
 */
export async function verifyPgAudit(pool: pg.Pool, options: PgVerifyOptions = {}): Promise<AuditVerifyResult> {
  const checker = new RowChecker();
  let sawHead = options.head === undefined;
  for await (const row of rowsAfter(pool, -1)) {
    const c = checker.check(row);
    if (!c.ok) return { ...checker.chain.result({ badLine: c.badLine, reason: c.reason }), badSeq: c.badSeq };
    if (!sawHead && c.record.hash === options.head) sawHead = true;
  }
  if (checker.chain.records === 0) return checker.chain.result({ badLine: 1, reason: 'the audit table is empty: no genesis record' });
  if (!sawHead) {
    return checker.chain.result({ badLine: checker.chain.records + 1, reason: `head ${options.head} is not in the log: records were removed from its end, or it is another log` });
  }
  return checker.chain.result();
}

/**
 * The records of the PostgreSQL log in seq order from the genesis record, verified while
 * reading, filtered like {@link exportAudit}: a record that fails rejects with
 * {@link AuditError} (its `line` is the row's place in seq order), after the records before it.
 * With `verify: false`, rows are read as stored (forensics).
 */
export async function* exportPgAudit(pool: pg.Pool, filter: ExportFilter = {}): AsyncGenerator<AuditRecord> {
  const from = filter.from === undefined ? -Infinity : parseTimeBound('from', filter.from);
  const to = filter.to === undefined ? Infinity : parseTimeBound('to', filter.to);
  const wanted = filter.action === undefined ? undefined : (typeof filter.action === 'string' ? [filter.action] : filter.action).flatMap((a) => a.split(',')).map((a) => a.trim()).filter((a) => a !== '');
  const matches = (a: string): boolean => wanted === undefined || wanted.length === 0 || wanted.some((w) => a === w || a.startsWith(`${w}.`));
  const checker = new RowChecker();
  for await (const row of rowsAfter(pool, -1)) {
    let record: AuditRecord;
    if (filter.verify === false) {
      record = JSON.parse(row.line) as AuditRecord;
    } else {
      const c = checker.check(row);
      if (!c.ok) throw new AuditError(PG_AUDIT_LABEL, `seq ${c.badSeq} (row ${c.badLine}): ${c.reason}`, { line: c.badLine });
      record = c.record;
    }
    if (record.at < from || record.at >= to) continue;
    if (!matches(record.action)) continue;
    yield record;
  }
}

/** What {@link readPgAudit} returns. Times are epoch ms; `to` is exclusive. */
export interface PgAuditFilter {
  from?: number;
  to?: number;
  actor?: string;
  /** An action, or a prefix (`hold` for `hold.add`, `hold.release`, `hold.list`). */
  action?: string;
  /** Most records returned (the first ones in seq order). */
  limit?: number;
}

/**
 * Records of the PostgreSQL log matching `filter`, in seq order, as stored (parsed from each
 * row's canonical text; not verified: use {@link verifyPgAudit} for that).
 */
export async function readPgAudit(pool: pg.Pool, filter: PgAuditFilter = {}): Promise<AuditRecord[]> {
  const where: string[] = [];
  const params: Array<string | number> = [];
  const add = (sql: string, v: string | number): void => {
    params.push(v);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (filter.from !== undefined) add('at >= ?', filter.from);
  if (filter.to !== undefined) add('at < ?', filter.to);
  if (filter.actor !== undefined) add('actor = ?', filter.actor);
  if (filter.action !== undefined) {
    params.push(filter.action);
    // The prefix is escaped, so that `_` and `%` in it match only themselves.
    params.push(`${filter.action.replace(/[\\%_]/g, (c) => `\\${c}`)}.%`);
    where.push(`(action = $${params.length - 1} OR action LIKE $${params.length})`);
  }
  if (filter.limit !== undefined) {
    if (!Number.isSafeInteger(filter.limit) || filter.limit < 0) throw new TypeError('filter.limit must be a non-negative integer');
    params.push(filter.limit);
  }
  const sql = `SELECT line FROM ${AUDIT_TABLE}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq${filter.limit !== undefined ? ` LIMIT $${params.length}` : ''}`;
  try {
    const { rows } = await pool.query<{ line: string }>(sql, params);
    return rows.map((r) => JSON.parse(r.line) as AuditRecord);
  } catch (err) {
    throw new AuditError(PG_AUDIT_LABEL, `cannot read: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * The records of the PostgreSQL log in seq order, from the genesis record up to (not
 * including) time `to`, as stored, a page at a time: what {@link auditReport} reads (it
 * verifies the chain itself).
 */
export async function* streamPgAudit(pool: pg.Pool, options: { to?: number } = {}): AsyncGenerator<AuditRecord> {
  for await (const row of rowsAfter(pool, -1, options.to)) yield JSON.parse(row.line) as AuditRecord;
}
