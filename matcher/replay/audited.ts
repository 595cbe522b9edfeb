/**
 * A replay on a person's behalf: the purpose rules first (a replay reads every stored read of
 * its window, so it is an access to stored data like a search), then the replay, then one
 * `replay` audit record with the window and the totals. The API route and the CLI's `--db`
 * path both come through here, so a replay is never unaudited.
 */
import type pg from 'pg';
import type { AuditSink } from '../audit/types.js';
import { PurposeRefusedError } from '../errors.js';
import { checkPurpose, purposeError, type PurposeRefusal } from '../policy/purpose.js';
import { replay, type ReplayCandidate, type ReplayReport } from './replay.js';

/** The purpose code a replay is done under: an evaluation of the system by those who run it. */
export const REPLAY_PURPOSE = 'SYSTEM_AUDIT';

const YEAR_MS = 365 * 86_400_000;
// The same rule as search (store/open.ts): a replay reaching reads over a year old is such an access.
const C5 = 'Lakewood PD PP-9126 C.5: data accessed beyond one year after its creation needs the person and the reason documented';

/** A replay as a person asks it. */
export interface ReplayRequest {
  candidate: ReplayCandidate;
  from: number;
  to: number;
  purpose: string;
  case?: string;
  /** Why; required when the window reaches reads older than one year. */
  reason?: string;
  /** A label for the candidate in the audit record (its file name), never its contents. */
  label?: string;
  onProgress?: (reads: number) => void;
}

/** Who asks, and how. */
export interface ReplayActor {
  actor: string;
  details?: { [key: string]: string | number | boolean | string[] | null | undefined };
  /** True for a direct database connection (the CLI's `--db`): recorded as `access.direct` first. */
  direct?: boolean;
}

/**
 * Checks the purpose, replays and audits.
 * @throws PurposeRefusedError (audited as refused) for a purpose other than SYSTEM_AUDIT or one
 *   the purpose rules refuse; whatever {@link replay} throws.
 */
export async function auditedReplay(pool: pg.Pool, audit: AuditSink, who: ReplayActor, req: ReplayRequest, now: number = Date.now()): Promise<ReplayReport> {
  const event = {
    action: 'replay' as const,
    actor: who.actor,
    purpose: req.purpose,
    case: req.case,
    reason: req.reason,
    subject: { from: req.from, to: req.to },
    details: { ...who.details, candidate: req.label ?? null, entries: req.candidate.entries.length },
  };
  if (who.direct === true) await audit.append({ action: 'access.direct', actor: who.actor, details: { via: 'database', for: 'replay' } });
  let verdict = checkPurpose({ purpose: req.purpose, case: req.case });
  if (verdict.ok && verdict.purpose !== REPLAY_PURPOSE) {
    const refusal: PurposeRefusal = { ok: false, category: 'UNAUTHORIZED_PURPOSE', code: 'UNKNOWN_PURPOSE', reason: `a replay is an evaluation of the system: its purpose is ${REPLAY_PURPOSE}`, citation: 'docs/replay.md' };
    verdict = refusal;
  }
  if (verdict.ok && req.from < now - YEAR_MS && (req.reason ?? '').trim() === '') {
    // 'MISSING_REASON' is the code search refuses with; RefusalCode does not list it yet.
    verdict = { ok: false, category: 'UNDOCUMENTED', code: 'MISSING_REASON' as PurposeRefusal['code'], reason: 'the window reaches reads older than one year: give a reason', citation: C5 };
  }
  if (!verdict.ok) {
    await audit.refused(event, verdict);
    throw verdict.code === ('MISSING_REASON' as PurposeRefusal['code'])
      ? new PurposeRefusedError({ category: verdict.category, refusal: 'MISSING_REASON', reason: verdict.reason, citation: verdict.citation })
      : purposeError(verdict);
  }
  const report = await replay(pool, req.candidate, { from: req.from, to: req.to, now, onProgress: req.onProgress });
  const t = report.totals;
  await audit.append({
    ...event,
    subject: { from: req.from, to: req.to, count: report.reads },
    details: { ...event.details, raised: t.raised, stored: t.stored, confirmedKept: t.confirmedKept, confirmedLost: t.confirmedLost, rejectedAvoided: t.rejectedAvoided, rejectedRaised: t.rejectedRaised, new: t.new },
  });
  return report;
}
