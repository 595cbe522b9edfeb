/**
 * The periodic audit report (El Centro 464.8 quarterly audits, Englewood 425.6, Lakewood
 * PP-9126 C.5, Parsons, Clear Creek): counts by user, action, purpose and role over a period;
 * the searches, exports, holds, refusals and logins; the anomalies an auditor should look at;
 * and the chain head to keep elsewhere. Every rule is in docs/audit.md "The periodic report".
 *
 * One pass over the log in seq order: records before the baseline only go through the chain
 * check, the baseline's give each actor's usual daily volume, the period's are counted.
 */
import { FORBIDDEN_CATEGORIES } from '../policy/purpose.js';
import { canonicalJson } from './canonical.js';
import { ANOMALY_KINDS, type AuditAnomaly, type AuditReport, type AuditReportOptions, type AuditUserRow } from './report-types.js';
import { GENESIS_ACTION, type AuditRecord, type JsonValue } from './types.js';
import { ChainChecker } from './verify.js';

export { ANOMALY_KINDS, type AnomalyKind, type AuditAnomaly, type AuditReport, type AuditReportOptions, type AuditUserRow } from './report-types.js';
export { formatAuditReport } from './report-text.js';

const DAY = 86_400_000;
const YEAR = 365 * DAY;
const FORBIDDEN: ReadonlySet<string> = new Set<string>(FORBIDDEN_CATEGORIES);

/** The roles a record names (`details.roles`, a list or one name), or `['unknown']`. */
export function recordRoles(r: AuditRecord): string[] {
  const roles = r.details?.roles;
  if (typeof roles === 'string' && roles.trim() !== '') return [roles];
  if (Array.isArray(roles)) {
    const names = roles.filter((x): x is string => typeof x === 'string' && x.trim() !== '');
    if (names.length > 0) return [...new Set(names)];
  }
  return ['unknown'];
}

/** A search window bound as epoch ms (`subject.from` is epoch ms or ISO 8601), or undefined. */
function timeOf(v: JsonValue | undefined): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    const ms = /^\d+$/.test(v.trim()) ? Number(v) : Date.parse(v);
    return Number.isFinite(ms) ? ms : undefined;
  }
  return undefined;
}

/** Median of a list of numbers (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

class Counter {
  readonly map = new Map<string, number>();
  add(key: string, n = 1): void {
    this.map.set(key, (this.map.get(key) ?? 0) + n);
  }
  sorted(): Array<[string, number]> {
    return [...this.map].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }
  object(): { [key: string]: number } {
    return Object.fromEntries(this.sorted());
  }
}

/** Seqs per actor of one kind of anomaly. */
class PerActor {
  readonly map = new Map<string, number[]>();
  add(actor: string, seq: number): void {
    const l = this.map.get(actor);
    if (l === undefined) this.map.set(actor, [seq]);
    else l.push(seq);
  }
}

interface UserAcc {
  roles: Set<string>;
  total: number;
  refused: number;
  byAction: Counter;
  byPurpose: Counter;
}

function positive(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isFinite(v) || v <= 0) throw new TypeError(`options.${name} must be a positive number`);
  return v;
}

/**
 * Builds the report of `[from, to)` from records in seq order. Pass the log from its genesis
 * record: the chain is then verified (`chain.verified`) and each actor's usual volume is known.
 * Reading stops at the first record at or after `to`.
 */
export async function auditReport(records: Iterable<AuditRecord> | AsyncIterable<AuditRecord>, options: AuditReportOptions): Promise<AuditReport> {
  const { from, to } = options;
  if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to) throw new TypeError('options.from must be a time before options.to');
  const baselineDays = positive('baselineDays', options.baselineDays, 30);
  if (!Number.isSafeInteger(baselineDays)) throw new TypeError('options.baselineDays must be a whole number of days');
  const spikeFactor = positive('spikeFactor', options.spikeFactor, 3);
  const spikeFloor = positive('spikeFloor', options.spikeFloor, 5);
  const emptyThreshold = positive('emptySearchThreshold', options.emptySearchThreshold, 5);
  const failedThreshold = positive('failedLoginThreshold', options.failedLoginThreshold, 3);
  const baselineStart = from - baselineDays * DAY;

  const checker = new ChainChecker();
  let problem: string | undefined;
  let last: AuditRecord | undefined;
  let count = 0;
  const users = new Map<string, UserAcc>();
  const userSeqs = new PerActor();
  const baseline = new Map<string, number[]>();
  const byAction = new Counter();
  const refusedByAction = new Counter();
  const byPurpose = new Counter();
  const byRole = new Counter();
  const roleActors = new Map<string, Set<string>>();
  const searches = { total: 0, ok: 0, refused: 0, withCase: 0, withoutCase: 0, empty: 0, olderThanOneYear: 0, olderThanOneYearWithReason: 0, results: 0 };
  const exports = { total: 0, refused: 0, records: 0 };
  const holds = { added: 0, released: 0, listed: 0, refused: 0 };
  const refusalCodes = new Counter();
  let refusals = 0;
  const logins = { ok: 0, failed: 0, logouts: 0, sessionRefused: 0 };
  const loginOk = new Counter();
  const loginFailed = new Counter();
  const noCase = new PerActor();
  const old = new PerActor();
  const oldWithoutReason = new PerActor();
  const empty = new PerActor();
  const searchCount = new Counter();
  const failed = new PerActor();
  const forbidden = new PerActor();
  const direct = new PerActor();

  for await (const r of records) {
    if (r.at >= to) break;
    if (problem === undefined) {
      const c = checker.check({ text: canonicalJson(r as unknown as JsonValue), line: checker.records + 1, terminated: true });
      if (!c.ok) problem = `seq ${r.seq}: ${c.reason}`;
    }
    last = r;
    if (r.at < baselineStart) continue;
    if (r.at < from) {
      if (r.action === GENESIS_ACTION) continue;
      const days = baseline.get(r.actor) ?? new Array<number>(baselineDays).fill(0);
      days[Math.floor((r.at - baselineStart) / DAY)]++;
      baseline.set(r.actor, days);
      continue;
    }
    count++;
    if (r.action === GENESIS_ACTION) continue;
    const refused = r.outcome === 'refused';
    const roles = recordRoles(r);
    let u = users.get(r.actor);
    if (u === undefined) {
      u = { roles: new Set(), total: 0, refused: 0, byAction: new Counter(), byPurpose: new Counter() };
      users.set(r.actor, u);
    }
    for (const role of roles) {
      u.roles.add(role);
      byRole.add(role);
      const set = roleActors.get(role) ?? new Set<string>();
      set.add(r.actor);
      roleActors.set(role, set);
    }
    u.total++;
    userSeqs.add(r.actor, r.seq);
    const purpose = r.purpose ?? '(none)';
    u.byAction.add(r.action);
    u.byPurpose.add(purpose);
    byAction.add(r.action);
    byPurpose.add(purpose);
    if (refused) {
      u.refused++;
      refusedByAction.add(r.action);
      refusals++;
      const code = r.details?.code;
      refusalCodes.add(typeof code === 'string' ? code : 'unknown');
      const category = r.details?.category;
      if (typeof category === 'string' && FORBIDDEN.has(category)) forbidden.add(r.actor, r.seq);
    }
    const n = typeof r.subject?.count === 'number' ? r.subject.count : undefined;
    switch (r.action) {
      case 'search': {
        searches.total++;
        if (refused) {
          searches.refused++;
          break;
        }
        searches.ok++;
        searchCount.add(r.actor);
        if ((r.case ?? '').trim() === '') {
          searches.withoutCase++;
          noCase.add(r.actor, r.seq);
        } else searches.withCase++;
        if (n !== undefined) searches.results += n;
        if (n === 0) {
          searches.empty++;
          empty.add(r.actor, r.seq);
        }
        const start = timeOf(r.subject?.from);
        if (start !== undefined && r.at - start > YEAR) {
          searches.olderThanOneYear++;
          old.add(r.actor, r.seq);
          if ((r.reason ?? '').trim() !== '') searches.olderThanOneYearWithReason++;
          else oldWithoutReason.add(r.actor, r.seq);
        }
        break;
      }
      case 'export':
        exports.total++;
        if (refused) exports.refused++;
        else if (n !== undefined) exports.records += n;
        break;
      case 'hold.add':
      case 'hold.release':
      case 'hold.list':
        if (refused) holds.refused++;
        else if (r.action === 'hold.add') holds.added++;
        else if (r.action === 'hold.release') holds.released++;
        else holds.listed++;
        break;
      case 'login':
        if (refused) {
          logins.failed++;
          loginFailed.add(r.actor);
          failed.add(r.actor, r.seq);
        } else {
          logins.ok++;
          loginOk.add(r.actor);
        }
        break;
      case 'logout':
        logins.logouts++;
        break;
      case 'session.refused':
        logins.sessionRefused++;
        break;
      case 'access.direct':
        direct.add(r.actor, r.seq);
        break;
      default:
        break;
    }
  }

  const anomalies: AuditAnomaly[] = [];
  const push = (kind: AuditAnomaly['kind'], actor: string, seqs: number[], detail: string, n = seqs.length): void => {
    anomalies.push({ kind, actor, count: n, detail, seqs });
  };
  for (const [actor, seqs] of noCase.map) push('search-without-case', actor, seqs, `${seqs.length} search${seqs.length === 1 ? '' : 'es'} without a case number`);
  for (const [actor, seqs] of old.map) {
    const without = oldWithoutReason.map.get(actor) ?? [];
    const why = without.length === 0 ? 'all with a reason' : `${without.length} without a reason (seq ${without.join(', ')})`;
    push('older-than-one-year', actor, seqs, `${seqs.length} search${seqs.length === 1 ? '' : 'es'} reaching data more than 365 days old: ${why}`);
  }
  const periodDays = Math.max(1, (to - from) / DAY);
  for (const [actor, u] of users) {
    const usual = median(baseline.get(actor) ?? new Array<number>(baselineDays).fill(0));
    const rate = u.total / periodDays;
    const threshold = spikeFactor * Math.max(usual, spikeFloor);
    if (rate > threshold) {
      push('volume-spike', actor, userSeqs.map.get(actor) ?? [], `${round(rate)} actions a day in the period, usually ${round(usual)} (median of the ${baselineDays} days before); flagged above ${round(threshold)} (${spikeFactor} x max(usual, ${spikeFloor}))`, u.total);
    }
  }
  for (const [actor, seqs] of empty.map) {
    if (seqs.length >= emptyThreshold) push('empty-searches', actor, seqs, `${seqs.length} of ${searchCount.map.get(actor) ?? 0} searches found nothing (threshold ${emptyThreshold})`);
  }
  for (const [actor, seqs] of failed.map) {
    if (seqs.length >= failedThreshold) push('failed-logins', actor, seqs, `${seqs.length} failed logins (threshold ${failedThreshold})`);
  }
  for (const [actor, seqs] of forbidden.map) push('forbidden-purpose', actor, seqs, `${seqs.length} action${seqs.length === 1 ? '' : 's'} refused for a forbidden purpose (civil immigration, healthcare, First Amendment, protected class, personal use)`);
  for (const [actor, seqs] of direct.map) push('direct-access', actor, seqs, `${seqs.length} direct connection${seqs.length === 1 ? '' : 's'} to the database or the bucket`);
  anomalies.sort((a, b) => ANOMALY_KINDS.indexOf(a.kind) - ANOMALY_KINDS.indexOf(b.kind) || (a.actor < b.actor ? -1 : a.actor > b.actor ? 1 : 0));

  const byUser: AuditUserRow[] = [...users]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([actor, u]) => ({ actor, roles: [...u.roles].sort(), total: u.total, refused: u.refused, byAction: u.byAction.object(), byPurpose: u.byPurpose.object() }));
  const loginUsers = [...new Set([...loginOk.map.keys(), ...loginFailed.map.keys()])].sort();
  if (last === undefined) problem ??= 'no record before the end of the period';
  else if (problem === undefined && checker.records === 0) problem = 'no record verified';
  const chain: AuditReport['chain'] = { head: last?.hash ?? '', lastSeq: last?.seq ?? -1, verified: problem === undefined };
  if (checker.logId !== undefined) chain.logId = checker.logId;
  if (problem !== undefined) chain.problem = problem;
  return {
    from,
    to,
    records: count,
    byUser,
    byAction: byAction.sorted().map(([action, c]) => ({ action, count: c, refused: refusedByAction.map.get(action) ?? 0 })),
    byPurpose: byPurpose.sorted().map(([purpose, c]) => ({ purpose, count: c })),
    byRole: byRole.sorted().map(([role, c]) => ({ role, count: c, actors: roleActors.get(role)?.size ?? 0 })),
    searches,
    exports,
    holds,
    refusals: { total: refusals, byCode: refusalCodes.sorted().map(([code, c]) => ({ code, count: c })), byAction: refusedByAction.sorted().map(([action, c]) => ({ action, count: c })) },
    logins: { ...logins, byUser: loginUsers.map((actor) => ({ actor, ok: loginOk.map.get(actor) ?? 0, failed: loginFailed.map.get(actor) ?? 0 })) },
    anomalies,
    chain,
  };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
