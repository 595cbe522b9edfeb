/**
 * Supervisor approvals of access to sensitive places (docs/sensitive-places.md). An analyst or
 * supervisor asks to see the reads of cameras with some tags for one purpose and case, and
 * writes down the nexus to criminal activity that Englewood PD 425.5 (g)-(i) require to be
 * "clearly articulated"; a supervisor other than the requester approves or denies, and an
 * approval holds for `approvalHours`. A search (or a sharing request) then names the approval.
 * Every step, refused ones too, is audited with the logged-in user and their roles.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { AuditEvent, AuditSink } from '../audit/types.js';
import { checkPurpose, normalizeCode, purposeError, type PurposeRefusal } from '../policy/purpose.js';
import type { SensitivePlaces } from '../policy/sensitive.js';
import type { StoreActor } from '../store/open.js';
import { SCHEMA } from '../store/schema.js';
import { SensitiveError, type SensitiveRefusal } from './errors.js';

const S = SCHEMA;

/** Longest nexus text kept. */
export const MAX_NEXUS_LENGTH = 4000;

/** What a requester records. */
export interface SensitiveRequestInput {
  /** The tags whose cameras' reads the search needs. */
  tags: string[];
  purpose: string;
  case: string;
  /** The articulated nexus to activity that is or would be criminal. */
  nexus: string;
}

/** A request as stored, with its decision. */
export interface SensitiveApproval {
  id: string;
  requestedBy: string;
  tags: string[];
  purpose: string;
  case: string;
  nexus: string;
  status: 'pending' | 'approved' | 'denied';
  decidedBy?: string;
  decidedAt?: number;
  note?: string;
  /** Epoch ms; only an approved request has one. */
  expiresAt?: number;
  createdAt: number;
}

/** What every call needs. */
export interface ApprovalDeps {
  pool: pg.Pool;
  audit: AuditSink;
  places: SensitivePlaces;
  now: () => number;
}

interface Row {
  id: string; requested_by: string; tags: string[]; purpose: string; case_no: string; nexus: string; status: SensitiveApproval['status'];
  decided_by: string | null; decided_at: string | null; note: string | null; expires_at: string | null; created_at: string;
}

function toApproval(r: Row): SensitiveApproval {
  return {
    id: r.id, requestedBy: r.requested_by, tags: r.tags, purpose: r.purpose, case: r.case_no, nexus: r.nexus, status: r.status,
    ...(r.decided_by !== null ? { decidedBy: r.decided_by } : {}), ...(r.decided_at !== null ? { decidedAt: Number(r.decided_at) } : {}),
    ...(r.note !== null ? { note: r.note } : {}), ...(r.expires_at !== null ? { expiresAt: Number(r.expires_at) } : {}), createdAt: Number(r.created_at),
  };
}

/** One approval request, or undefined. */
export async function loadApproval(db: pg.Pool | pg.PoolClient, id: string, lock = false): Promise<SensitiveApproval | undefined> {
  const { rows } = await db.query<Row>(`SELECT * FROM ${S}.sensitive_approvals WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0] === undefined ? undefined : toApproval(rows[0]);
}

const sameUser = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/**
 * Why a named approval cannot be used now, or undefined when it can: it must exist, be
 * approved and unexpired, and (when `holder` is given) have been requested by that user.
 * Whether it covers a given read (tags, purpose, case) is the gate's question (gate.ts).
 */
export function approvalRefusal(id: string, a: SensitiveApproval | undefined, at: { now: number; holder?: string }): SensitiveError | undefined {
  if (a === undefined) return new SensitiveError('APPROVAL_UNKNOWN', `no sensitive-place approval ${id}`);
  if (a.status === 'pending') return new SensitiveError('APPROVAL_PENDING', `sensitive-place approval ${id} is not decided yet`);
  if (a.status === 'denied') return new SensitiveError('APPROVAL_DENIED', `sensitive-place approval ${id} was denied`);
  if (a.expiresAt === undefined || a.expiresAt <= at.now) return new SensitiveError('APPROVAL_EXPIRED', `sensitive-place approval ${id} expired at ${new Date(a.expiresAt ?? 0).toISOString()}: request a new one`);
  if (at.holder !== undefined && !sameUser(a.requestedBy, at.holder)) return new SensitiveError('APPROVAL_NOT_YOURS', `sensitive-place approval ${id} was requested by another user: it serves only their searches`);
  return undefined;
}

/** Approval steps acting for one logged-in user. */
export class SensitiveApprovals {
  constructor(private readonly deps: ApprovalDeps, private readonly who: StoreActor) {}

  private stamp(e: AuditEvent): AuditEvent {
    return { ...e, actor: this.who.actor, details: { ...e.details, ...this.who.details, roles: [...(this.who.roles ?? [])] } };
  }

  private async refuse(e: AuditEvent, refusal: SensitiveRefusal, message: string, citation?: string): Promise<never> {
    await this.deps.audit.append(this.stamp({ ...e, outcome: 'refused', reason: message, details: { ...e.details, refusal, ...(citation !== undefined ? { citation } : {}) } }));
    throw new SensitiveError(refusal, message, citation);
  }

  private async refusePurpose(e: AuditEvent, refusal: PurposeRefusal): Promise<never> {
    await this.deps.audit.refused(this.stamp(e), refusal);
    throw purposeError(refusal);
  }

  /**
   * Records a request (audited `sensitive.request`). Refused, and audited as refused: a purpose
   * off the allow-list or without a case, an unknown tag, a purpose some tag's rule never
   * allows (no approval could make it so), an empty nexus.
   */
  async request(input: SensitiveRequestInput): Promise<SensitiveApproval> {
    const tags = [...new Set(input.tags)].sort();
    // The nexus is not screened by the keyword rules (checkText): describing the criminal
    // activity at a clinic or a protest names the clinic or the protest, which those rules refuse.
    const event: AuditEvent = { action: 'sensitive.request', purpose: input.purpose, case: input.case, reason: input.nexus, subject: { tags } };
    const check = checkPurpose({ purpose: input.purpose, case: input.case }, { requireCase: true });
    if (!check.ok) return this.refusePurpose(event, check);
    const purpose = normalizeCode(input.purpose);
    if (tags.length === 0) return this.refuse(event, 'UNKNOWN_TAG', 'name at least one sensitive-place tag');
    const unknown = tags.filter((t) => !this.deps.places.tags.has(t));
    if (unknown.length > 0) return this.refuse(event, 'UNKNOWN_TAG', `no sensitive-place tag ${unknown.join(', ')}; known: ${[...this.deps.places.tags.keys()].join(', ')}`);
    const rule = this.deps.places.ruleCheck(tags, purpose);
    if (!rule.ok) return this.refuse(event, 'PURPOSE', rule.reason, rule.citation);
    const nexus = input.nexus.trim();
    if (nexus === '' || nexus.length > MAX_NEXUS_LENGTH) return this.refuse(event, 'NEXUS', `articulate the nexus to criminal activity (1 to ${MAX_NEXUS_LENGTH} characters)`, this.deps.places.tags.get(tags[0])?.citation);
    const id = `sens-${randomUUID()}`;
    await this.deps.pool.query(
      `INSERT INTO ${S}.sensitive_approvals (id, requested_by, tags, purpose, case_no, nexus, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7)`,
      [id, this.who.actor, tags, purpose, input.case.trim(), nexus, this.deps.now()],
    );
    await this.deps.audit.append(this.stamp({ ...event, purpose, subject: { tags, approvalId: id } }));
    return (await loadApproval(this.deps.pool, id)) as SensitiveApproval;
  }

  /** Requests, newest first (at most 1000). */
  async list(options: { status?: SensitiveApproval['status'] } = {}): Promise<SensitiveApproval[]> {
    const { rows } = await this.deps.pool.query<Row>(`SELECT * FROM ${S}.sensitive_approvals WHERE $1::text IS NULL OR status = $1 ORDER BY created_at DESC, id LIMIT 1000`, [options.status ?? null]);
    return rows.map(toApproval);
  }

  /** Approves a pending request (audited `sensitive.approve`): valid for the configured hours from now. */
  approve(id: string, note: string): Promise<SensitiveApproval> {
    return this.decide(id, 'approved', note);
  }

  /** Denies a pending request (audited `sensitive.deny`): it can never be used. */
  deny(id: string, note: string): Promise<SensitiveApproval> {
    return this.decide(id, 'denied', note);
  }

  private async decide(id: string, status: 'approved' | 'denied', note: string): Promise<SensitiveApproval> {
    const base: AuditEvent = { action: status === 'approved' ? 'sensitive.approve' : 'sensitive.deny', reason: note, subject: { approvalId: id } };
    const client = await this.deps.pool.connect();
    try {
      await client.query('BEGIN');
      const a = await loadApproval(client, id, true);
      let refusal: [SensitiveRefusal, string] | undefined;
      if (a === undefined) refusal = ['NOT_FOUND', `no sensitive-place request ${id}`];
      else if (sameUser(a.requestedBy, this.who.actor)) refusal = ['SELF_APPROVAL', 'the requester cannot decide their own sensitive-place request (separation of duties)'];
      else if (a.status !== 'pending') refusal = ['NOT_PENDING', `the request is already ${a.status}`];
      if (refusal !== undefined || a === undefined) {
        await client.query('ROLLBACK');
        const [code, message] = refusal ?? ['NOT_FOUND', `no sensitive-place request ${id}`];
        return await this.refuse({ ...base, ...(a !== undefined ? { purpose: a.purpose, case: a.case, subject: { approvalId: id, tags: a.tags } } : {}) }, code, message);
      }
      const at = this.deps.now();
      const expiresAt = status === 'approved' ? at + this.deps.places.approvalMs : null;
      await client.query(`UPDATE ${S}.sensitive_approvals SET status = $2, decided_by = $3, decided_at = $4, note = $5, expires_at = $6 WHERE id = $1`, [id, status, this.who.actor, at, note, expiresAt]);
      await client.query('COMMIT');
      await this.deps.audit.append(this.stamp({
        ...base, purpose: a.purpose, case: a.case, subject: { approvalId: id, tags: a.tags, requestedBy: a.requestedBy },
        details: { status, ...(expiresAt !== null ? { expiresAt } : {}) },
      }));
      return (await loadApproval(this.deps.pool, id)) as SensitiveApproval;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}
