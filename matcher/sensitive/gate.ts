/**
 * The gate a search's hits pass (docs/sensitive-places.md): a read from a tagged camera is
 * returned only when the search's purpose is allowed by every tag of that camera and, for tags
 * that need one, the search names an approval that covers those tags for the same purpose and
 * case. The store (store/open.ts) builds one gate per search after checking the named approval
 * (approvals.ts `approvalRefusal`), hands `admit` to the search so a withheld read never counts
 * toward the limit, and writes the gate's audit events after the search's own record.
 *
 * Withholding is per read, silent as to which: the caller is told only that something was
 * withheld (see {@link SensitiveGate.anyWithheld}); the counts and reasons go to the audit log.
 */
import type { AuditEvent, AuditSubject, JsonValue } from '../audit/types.js';
import { normalizeCode } from '../policy/purpose.js';
import type { SensitivePlaces } from '../policy/sensitive.js';
import type { ReadRecord } from '../types.js';
import type { SensitiveApproval } from './approvals.js';

/** Why a read was withheld (audit `details.reasons`). */
export type WithholdReason =
  | 'purpose' // some tag of the camera does not allow the search's purpose
  | 'no-approval' // the camera needs an approval and the search named none
  | 'approval-scope' // the named approval is for another purpose or case
  | 'approval-tags'; // the named approval does not cover every tag of the camera

/** What the gate needs of the search. */
export interface GateSearch {
  purpose: string;
  case?: string;
}

/** Decides, read by read, whether a search may return reads of tagged cameras, and counts. */
export class SensitiveGate {
  private readonly purpose: string;
  private readonly caseNo: string;
  /** Decision per camera id: undefined (admit) or why not. */
  private readonly decided = new Map<string, WithholdReason | undefined>();
  private returned = 0;
  private readonly returnedTags = new Set<string>();
  private readonly withheld: Partial<Record<WithholdReason, number>> = {};

  constructor(private readonly places: SensitivePlaces, search: GateSearch, private readonly approval?: SensitiveApproval) {
    this.purpose = normalizeCode(search.purpose);
    this.caseNo = (search.case ?? '').trim();
  }

  /** True when the read may be returned; counts it either way when its camera is tagged. */
  admit(record: ReadRecord): boolean {
    const tags = this.places.tagsOf(record.cameraId);
    if (tags.length === 0) return true;
    const camera = record.cameraId as string;
    let reason: WithholdReason | undefined;
    if (this.decided.has(camera)) reason = this.decided.get(camera);
    else {
      reason = this.reasonFor(tags);
      this.decided.set(camera, reason);
    }
    if (reason === undefined) {
      this.returned++;
      for (const t of tags) this.returnedTags.add(t);
      return true;
    }
    this.withheld[reason] = (this.withheld[reason] ?? 0) + 1;
    return false;
  }

  private reasonFor(tags: readonly string[]): WithholdReason | undefined {
    const rule = this.places.ruleCheck(tags, this.purpose);
    if (!rule.ok) return 'purpose';
    if (rule.needsApproval.length === 0) return undefined;
    const a = this.approval;
    if (a === undefined) return 'no-approval';
    if (a.purpose !== this.purpose || a.case !== this.caseNo) return 'approval-scope';
    return rule.needsApproval.every((t) => a.tags.includes(t)) ? undefined : 'approval-tags';
  }

  /** Reads withheld by this search. */
  get withheldCount(): number {
    return Object.values(this.withheld).reduce((a, b) => a + b, 0);
  }

  /** Whether any read was withheld: all the caller is told. */
  get anyWithheld(): boolean {
    return this.withheldCount > 0;
  }

  /**
   * The audit events of this search, to write after its own record: `sensitive.access` when it
   * returned reads of tagged cameras (tags, count, the approval relied on), `sensitive.withheld`
   * when it withheld some (count and reasons). `subject` is the search's (plate or pattern, window).
   */
  events(subject: AuditSubject, context: { [key: string]: JsonValue } = {}): AuditEvent[] {
    const out: AuditEvent[] = [];
    const who = this.approval !== undefined ? { approvalId: this.approval.id } : {};
    const base = { purpose: this.purpose, ...(this.caseNo !== '' ? { case: this.caseNo } : {}) };
    if (this.returned > 0) {
      out.push({
        action: 'sensitive.access', ...base, ...(this.approval !== undefined ? { reason: this.approval.nexus } : {}),
        subject: { ...subject, ...who, count: this.returned },
        details: { ...context, tags: [...this.returnedTags].sort(), ...(this.approval !== undefined ? { requestedBy: this.approval.requestedBy, approvedBy: this.approval.decidedBy ?? null } : {}) },
      });
    }
    if (this.anyWithheld) {
      const reasons: { [key: string]: JsonValue } = { ...this.withheld };
      out.push({ action: 'sensitive.withheld', ...base, subject: { ...subject, ...who, count: this.withheldCount }, details: { ...context, reasons } });
    }
    return out;
  }
}
