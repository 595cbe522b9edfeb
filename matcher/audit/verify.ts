/**
 * Reading an audit log back: the chain check shared by `verify`, `open` and `export`.
 *
 * Each line must be the canonical JSON of its record; its `hash` must be
 * sha256(prev + canonical JSON without `hash`); `seq` must count up from 0 and `prev` must be
 * the previous line's hash. The first line is the genesis record (`log.created`), whose
 * `prev` is derived from the format tag and its random log id. So an edited field fails its
 * own hash, a deleted, inserted or reordered line breaks `seq` or `prev`, a line cut short by
 * a crash fails to parse or lacks its newline. Removing whole lines from the end leaves a
 * valid shorter chain: compare `head` with a copy kept elsewhere to catch that.
 */
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { AuditError } from '../errors.js';
import { canonicalJson, chainHash, genesisPrev } from './canonical.js';
import { AUDIT_ACTIONS, AUDIT_FORMAT, GENESIS_ACTION, type AuditAction, type AuditRecord, type AuditVerifyResult, type JsonValue } from './types.js';

/** One line of a file, 1-based, with whether a newline ended it. */
export interface FileLine {
  text: string;
  line: number;
  terminated: boolean;
}

/** Streams the lines of a UTF-8 file without holding it whole. */
export async function* readFileLines(path: string): AsyncGenerator<FileLine> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let line = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    rest += decoder.write(chunk as Buffer);
    let nl = rest.indexOf('\n');
    let start = 0;
    while (nl !== -1) {
      yield { text: rest.slice(start, nl), line: ++line, terminated: true };
      start = nl + 1;
      nl = rest.indexOf('\n', start);
    }
    rest = rest.slice(start);
  }
  rest += decoder.end();
  if (rest !== '') yield { text: rest, line: ++line, terminated: false };
}

const HEX64 = /^[0-9a-f]{64}$/;
const ACTIONS: ReadonlySet<string> = new Set<string>(AUDIT_ACTIONS);

function isObject(v: unknown): v is { [key: string]: JsonValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks records one line at a time, in order. */
export class ChainChecker {
  records = 0;
  head: string | undefined;
  logId: string | undefined;
  firstAt: number | undefined;
  lastAt: number | undefined;

  /** Returns the record, or the reason the line breaks the chain. */
  check(l: FileLine): { ok: true; record: AuditRecord } | { ok: false; reason: string } {
    if (!l.terminated) return { ok: false, reason: 'the last line is truncated (no newline at its end): an interrupted write or a cut file' };
    if (l.text === '') return { ok: false, reason: 'empty line' };
    let parsed: unknown;
    try {
      parsed = JSON.parse(l.text);
    } catch {
      return { ok: false, reason: 'not valid JSON' };
    }
    if (!isObject(parsed)) return { ok: false, reason: 'not a JSON object' };
    const r = parsed;
    const seq = this.records;
    if (typeof r.seq !== 'number' || !Number.isSafeInteger(r.seq)) return { ok: false, reason: 'seq is missing or not an integer' };
    if (typeof r.at !== 'number' || !Number.isFinite(r.at)) return { ok: false, reason: 'at is missing or not a number' };
    if (typeof r.actor !== 'string' || r.actor === '') return { ok: false, reason: 'actor is missing' };
    if (typeof r.action !== 'string') return { ok: false, reason: 'action is missing' };
    if (r.outcome !== 'ok' && r.outcome !== 'refused') return { ok: false, reason: 'outcome must be ok or refused' };
    if (typeof r.prev !== 'string' || !HEX64.test(r.prev)) return { ok: false, reason: 'prev is missing or not a sha256 hex digest' };
    if (typeof r.hash !== 'string' || !HEX64.test(r.hash)) return { ok: false, reason: 'hash is missing or not a sha256 hex digest' };
    if (canonicalJson(r) !== l.text) return { ok: false, reason: 'the line is not in canonical form: it was edited' };
    const { hash, ...body } = r;
    if (chainHash(r.prev, body) !== hash) return { ok: false, reason: 'hash does not match the record: the line was edited' };
    if (r.seq !== seq) {
      return { ok: false, reason: `seq ${r.seq} where ${seq} was expected: a line was deleted, inserted or moved` };
    }
    if (seq === 0) {
      const d = r.details;
      if (r.action !== GENESIS_ACTION || !isObject(d) || typeof d.logId !== 'string' || d.format !== AUDIT_FORMAT) {
        return { ok: false, reason: `the first line is not a ${GENESIS_ACTION} record of ${AUDIT_FORMAT}: lines were removed from the start` };
      }
      if (r.prev !== genesisPrev(AUDIT_FORMAT, d.logId)) return { ok: false, reason: 'prev of the first record does not match its log id' };
      this.logId = d.logId;
      this.firstAt = r.at;
    } else {
      if (!ACTIONS.has(r.action)) return { ok: false, reason: `unknown action ${JSON.stringify(r.action)}` };
      if (r.prev !== this.head) return { ok: false, reason: 'prev does not match the previous line\'s hash: a line was deleted, inserted or moved' };
      if (this.lastAt !== undefined && r.at < this.lastAt) return { ok: false, reason: 'at goes back in time' };
    }
    this.records++;
    this.head = hash;
    this.lastAt = r.at;
    return { ok: true, record: r as unknown as AuditRecord };
  }

  result(extra?: { badLine: number; reason: string }): AuditVerifyResult {
    const out: AuditVerifyResult = { ok: extra === undefined, records: this.records };
    if (extra !== undefined) {
      out.badLine = extra.badLine;
      out.reason = extra.reason;
    }
    if (this.logId !== undefined) out.logId = this.logId;
    if (this.head !== undefined) out.head = this.head;
    if (this.firstAt !== undefined) out.firstAt = this.firstAt;
    if (this.lastAt !== undefined) out.lastAt = this.lastAt;
    return out;
  }
}

/** Options of {@link verifyAuditFile}. */
export interface VerifyOptions {
  /** A head hash kept elsewhere: the log must contain it (else lines after it were removed, or it is another log). */
  head?: string;
}

/**
 * Verifies the whole chain of a log file. Resolves with the result (never rejects for a bad
 * chain); rejects with {@link AuditError} when the file cannot be read.
 */
export async function verifyAuditFile(path: string, options: VerifyOptions = {}): Promise<AuditVerifyResult> {
  const checker = new ChainChecker();
  let sawHead = options.head === undefined;
  try {
    for await (const l of readFileLines(path)) {
      const c = checker.check(l);
      if (!c.ok) return checker.result({ badLine: l.line, reason: c.reason });
      if (!sawHead && c.record.hash === options.head) sawHead = true;
    }
  } catch (err) {
    throw new AuditError(path, `cannot read: ${(err as Error).message}`, { cause: err });
  }
  if (checker.records === 0) return checker.result({ badLine: 1, reason: 'the file is empty: not an audit log' });
  if (!sawHead) {
    return checker.result({ badLine: checker.records + 1, reason: `head ${options.head} is not in the log: records were removed from its end, or it is another log` });
  }
  return checker.result();
}

/** Alias of {@link verifyAuditFile}. */
export const verify = verifyAuditFile;

/** Which records {@link exportAudit} yields. Times are epoch ms or ISO 8601; `to` is exclusive. */
export interface ExportFilter {
  from?: number | string | Date;
  to?: number | string | Date;
  /** Actions to keep: an exact action (`hold.add`) or a prefix (`hold` keeps `hold.add` and `hold.release`). */
  action?: string | readonly string[];
  /** Verify the chain while reading (default true): a break rejects with {@link AuditError}. */
  verify?: boolean;
}

/** Parses a time bound; throws TypeError naming the key. */
export function parseTimeBound(key: string, value: number | string | Date): number {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : /^\d+$/.test(value.trim()) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw new TypeError(`${key} must be epoch milliseconds or an ISO 8601 time, got ${JSON.stringify(value)}`);
  return ms;
}

function actionMatcher(action: string | readonly string[] | undefined): ((a: string) => boolean) | undefined {
  if (action === undefined) return undefined;
  const wanted = (typeof action === 'string' ? [action] : action).flatMap((a) => a.split(',')).map((a) => a.trim()).filter((a) => a !== '');
  if (wanted.length === 0) return undefined;
  return (a) => wanted.some((w) => a === w || a.startsWith(`${w}.`));
}

/**
 * The records of a log in order, filtered: the agency's own export. The genesis record is
 * included when no action filter is set. With `verify` (the default), a record that breaks
 * the chain rejects with {@link AuditError} naming its line, after the records before it.
 */
export async function* exportAudit(path: string, filter: ExportFilter = {}): AsyncGenerator<AuditRecord> {
  const from = filter.from === undefined ? -Infinity : parseTimeBound('from', filter.from);
  const to = filter.to === undefined ? Infinity : parseTimeBound('to', filter.to);
  const matches = actionMatcher(filter.action);
  const checker = new ChainChecker();
  const lines = readFileLines(path);
  try {
    for (;;) {
      let next: IteratorResult<FileLine>;
      try {
        next = await lines.next();
      } catch (err) {
        throw new AuditError(path, `cannot read: ${(err as Error).message}`, { cause: err });
      }
      if (next.done === true) return;
      const l = next.value;
      let record: AuditRecord;
      if (filter.verify === false) {
        if (l.text === '') continue;
        try {
          record = JSON.parse(l.text) as AuditRecord;
        } catch (err) {
          throw new AuditError(path, `line ${l.line}: not valid JSON`, { cause: err, line: l.line });
        }
      } else {
        const c = checker.check(l);
        if (!c.ok) throw new AuditError(path, `line ${l.line}: ${c.reason}`, { line: l.line });
        record = c.record;
      }
      if (record.at < from || record.at >= to) continue;
      if (matches === undefined ? false : !matches(record.action)) continue;
      yield record;
    }
  } finally {
    await lines.return(undefined);
  }
}

/** {@link exportAudit} collected into an array. */
export async function exportAuditArray(path: string, filter: ExportFilter = {}): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  for await (const r of exportAudit(path, filter)) out.push(r);
  return out;
}

/** Whether `a` is an audited action (not the genesis record). */
export function isAuditAction(a: string): a is AuditAction {
  return ACTIONS.has(a);
}
