/**
 * Sharing with other agencies (docs/sharing.md): a request names the requesting agency, the
 * person there, the purpose, the case and the data asked for (a store search); supervisors
 * decide; only an approved request produces its one export. Every step, refused ones too, is
 * audited with the logged-in user and their roles.
 *
 * Federal agencies (Clear Creek 424.4): only for a criminal investigation, and only after the
 * County Attorney is notified, so a federal request needs two recorded steps: the notice
 * (`county-attorney-notice`, naming who was notified and when) and a supervisor's approval.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { AuditEvent, AuditSink } from '../audit/types.js';
import { PurposeRefusedError } from '../errors.js';
import { checkPurpose, normalizeCode, purposeError, type PurposeRefusal } from '../policy/purpose.js';
import type { Store, StoreActor } from '../store/open.js';
import { SCHEMA } from '../store/schema.js';
import type { SearchQuery } from '../store/search.js';
import { approvalRefusal, loadApproval } from '../sensitive/approvals.js';
import { SensitiveError } from '../sensitive/errors.js';
import { SharingError, type SharingRefusal } from './errors.js';
import { buildExport, type ShareExport } from './export.js';

const S = SCHEMA;

/** Clear Creek 424.4, the clause the federal rules follow. */
export const FEDERAL_CITATION = 'Clear Creek County SO 424.4: any release of data to any Federal Agency should be only for the purpose of a criminal investigation and only after notifying the County Attorney';

/** Purposes that are not a criminal investigation, refused for a federal agency (424.4). */
const NOT_CRIMINAL = new Set(['INTERNAL_AFFAIRS', 'CIVIL_LITIGATION', 'SYSTEM_AUDIT']);

/** The steps an approval records. */
export const APPROVAL_KINDS = ['supervisor', 'county-attorney-notice'] as const;
export type ApprovalKind = (typeof APPROVAL_KINDS)[number];

/** The data asked for: a store search (docs/store.md), its window in epoch ms. */
export type ShareQuery = SearchQuery;

/** What a requester records. */
export interface ShareRequestInput {
  agency: string;
  federal: boolean;
  /** The person of the requesting agency who asked. */
  requester: string;
  purpose: string;
  case: string;
  reason?: string;
  query: ShareQuery;
  /**
   * A sensitive-place approval of the requester's, for the same purpose and case
   * (docs/sensitive-places.md): the export then includes the reads it covers.
   */
  sensitiveApproval?: string;
}

/** One recorded decision. */
export interface ShareApproval {
  kind: ApprovalKind;
  decision: 'approve' | 'deny';
  actor: string;
  role: string;
  at: number;
  note: string;
}

/** A request as stored, with its decisions. */
export interface ShareRequest extends ShareRequestInput {
  id: string;
  status: 'pending' | 'approved' | 'denied' | 'exported';
  createdBy: string;
  createdAt: number;
  approvals: ShareApproval[];
  /** The approval steps still missing (empty once approved). */
  missing: ApprovalKind[];
}

/** What every call needs: the database, the audit sink, the store (for the export's search). */
export interface SharingDeps {
  pool: pg.Pool;
  audit: AuditSink;
  store: Store;
  now: () => number;
}

interface RequestRow {
  id: string; agency: string; federal: boolean; requester: string; purpose: string; case_no: string; reason: string | null;
  query: ShareQuery; status: ShareRequest['status']; created_by: string; created_at: string; sensitive_approval: string | null;
}
interface ApprovalRow { request_id: string; kind: ApprovalKind; decision: 'approve' | 'deny'; actor: string; role: string; at: string; note: string }

/** The steps a request needs before it may be exported. */
export function requiredKinds(federal: boolean): ApprovalKind[] {
  return federal ? ['county-attorney-notice', 'supervisor'] : ['supervisor'];
}

function toRequest(r: RequestRow, approvals: ApprovalRow[]): ShareRequest {
  const list = approvals.filter((a) => a.request_id === r.id).map((a) => ({ kind: a.kind, decision: a.decision, actor: a.actor, role: a.role, at: Number(a.at), note: a.note }));
  const approved = new Set(list.filter((a) => a.decision === 'approve').map((a) => a.kind));
  return {
    id: r.id, agency: r.agency, federal: r.federal, requester: r.requester, purpose: r.purpose, case: r.case_no,
    ...(r.reason !== null ? { reason: r.reason } : {}), ...(r.sensitive_approval !== null ? { sensitiveApproval: r.sensitive_approval } : {}), query: r.query, status: r.status, createdBy: r.created_by, createdAt: Number(r.created_at),
    approvals: list, missing: r.status === 'denied' ? [] : requiredKinds(r.federal).filter((k) => !approved.has(k)),
  };
}

/** Sharing steps acting for one logged-in user. */
export class Sharing {
  constructor(private readonly deps: SharingDeps, private readonly who: StoreActor) {}

  private stamp(e: AuditEvent): AuditEvent {
    return { ...e, actor: this.who.actor, details: { ...e.details, ...this.who.details, roles: [...(this.who.roles ?? [])] } };
  }

  private async refuseStep(e: AuditEvent, refusal: SharingRefusal, message: string): Promise<never> {
    await this.deps.audit.append(this.stamp({ ...e, outcome: 'refused', reason: message, details: { ...e.details, refusal } }));
    throw new SharingError(refusal, message);
  }

  private async load(client: pg.PoolClient | pg.Pool, id: string, lock = false): Promise<ShareRequest | undefined> {
    const { rows } = await client.query<RequestRow>(`SELECT * FROM ${S}.share_requests WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
    if (rows[0] === undefined) return undefined;
    const a = await client.query<ApprovalRow>(`SELECT * FROM ${S}.share_approvals WHERE request_id = $1 ORDER BY seq`, [id]);
    return toRequest(rows[0], a.rows);
  }

  /** Records a request (audited `share.request`); purpose refusals are audited and thrown. */
  async request(input: ShareRequestInput): Promise<ShareRequest> {
    const event: AuditEvent = { action: 'share.request', purpose: input.purpose, case: input.case, reason: input.reason, subject: { agency: input.agency, requester: input.requester, query: JSON.stringify(input.query) }, details: { federal: input.federal } };
    const check = checkPurpose({ purpose: input.purpose, case: input.case, reason: input.reason }, { requireCase: true });
    if (!check.ok) return this.refusePurpose(event, check);
    if (input.federal && NOT_CRIMINAL.has(normalizeCode(input.purpose))) {
      return this.refusePurpose(event, { ok: false, category: 'UNAUTHORIZED_PURPOSE', code: 'FORBIDDEN_PURPOSE', reason: `a federal agency may be given data only for a criminal investigation, not ${input.purpose}`, citation: FEDERAL_CITATION });
    }
    if (input.sensitiveApproval !== undefined) await this.checkSensitive(event, input);
    const id = `share-${randomUUID()}`;
    const at = this.deps.now();
    await this.deps.pool.query(
      `INSERT INTO ${S}.share_requests (id, agency, federal, requester, purpose, case_no, reason, query, status, created_by, created_at, sensitive_approval) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10, $11)`,
      [id, input.agency, input.federal, input.requester, normalizeCode(input.purpose), input.case, input.reason ?? null, JSON.stringify(input.query), this.who.actor, at, input.sensitiveApproval ?? null],
    );
    await this.deps.audit.append(this.stamp({ ...event, subject: { ...event.subject, requestId: id } }));
    return (await this.load(this.deps.pool, id)) as ShareRequest;
  }

  /**
   * The named sensitive-place approval must be the requester's own, usable now, and for the
   * request's purpose and case: the supervisor deciding the request sees which one it is, and
   * the export (made by that supervisor) relies on it (checked again then: it may have expired).
   */
  private async checkSensitive(event: AuditEvent, input: ShareRequestInput): Promise<void> {
    const id = input.sensitiveApproval as string;
    const a = await loadApproval(this.deps.pool, id);
    let refusal = approvalRefusal(id, a, { now: this.deps.now(), holder: this.who.actor });
    if (refusal === undefined && a !== undefined && (a.purpose !== normalizeCode(input.purpose) || a.case !== input.case.trim())) {
      refusal = new SensitiveError('APPROVAL_SCOPE', `sensitive-place approval ${id} is for ${a.purpose} case ${a.case}, not this request's purpose and case`);
    }
    if (refusal === undefined) return;
    await this.deps.audit.append(this.stamp({ ...event, outcome: 'refused', reason: refusal.message, details: { ...event.details, refusal: refusal.refusal, sensitiveApproval: id } }));
    throw refusal;
  }

  private async refusePurpose(event: AuditEvent, refusal: PurposeRefusal): Promise<never> {
    await this.deps.audit.refused(this.stamp(event), refusal);
    throw purposeError(refusal) satisfies PurposeRefusedError;
  }

  /** Requests, newest first (audited `share.list`). */
  async list(options: { status?: ShareRequest['status'] } = {}): Promise<ShareRequest[]> {
    const { rows } = await this.deps.pool.query<RequestRow>(`SELECT * FROM ${S}.share_requests WHERE $1::text IS NULL OR status = $1 ORDER BY created_at DESC, id LIMIT 1000`, [options.status ?? null]);
    const a = await this.deps.pool.query<ApprovalRow>(`SELECT * FROM ${S}.share_approvals WHERE request_id = ANY($1) ORDER BY seq`, [rows.map((r) => r.id)]);
    await this.deps.audit.append(this.stamp({ action: 'share.list', subject: { count: rows.length }, details: { status: options.status ?? null } }));
    return rows.map((r) => toRequest(r, a.rows));
  }

  /** Records an approval step (audited `share.approve`); the request is approved once none is missing. */
  approve(id: string, kind: ApprovalKind, note: string): Promise<ShareRequest> {
    return this.decide(id, kind, 'approve', note);
  }

  /** Denies a pending request (audited `share.deny`): it can never be exported. */
  deny(id: string, note: string): Promise<ShareRequest> {
    return this.decide(id, 'supervisor', 'deny', note);
  }

  private async decide(id: string, kind: ApprovalKind, decision: 'approve' | 'deny', note: string): Promise<ShareRequest> {
    const base: AuditEvent = { action: decision === 'approve' ? 'share.approve' : 'share.deny', reason: note, subject: { requestId: id }, details: { kind } };
    const client = await this.deps.pool.connect();
    try {
      await client.query('BEGIN');
      const req = await this.load(client, id, true);
      let refusal: [SharingRefusal, string] | undefined;
      if (req === undefined) refusal = ['NOT_FOUND', `no sharing request ${id}`];
      else if (req.createdBy === this.who.actor) refusal = ['SELF_APPROVAL', 'the person who recorded a sharing request cannot decide it (separation of duties)'];
      else if (req.status !== 'pending') refusal = ['NOT_PENDING', `the request is already ${req.status}`];
      else if (decision === 'approve' && kind === 'county-attorney-notice' && !req.federal) refusal = ['NOT_FEDERAL', 'the County Attorney notice is for federal requests only (424.4)'];
      else if (decision === 'approve' && !req.missing.includes(kind)) refusal = ['DUPLICATE_STEP', `the ${kind} step is already recorded`];
      if (refusal !== undefined || req === undefined) {
        await client.query('ROLLBACK');
        const [code, message] = refusal ?? ['NOT_FOUND', `no sharing request ${id}`];
        return await this.refuseStep({ ...base, ...(req !== undefined ? { purpose: req.purpose, case: req.case } : {}) }, code, message);
      }
      const role = (this.who.roles ?? []).includes('supervisor') ? 'supervisor' : (this.who.roles ?? []).join(',');
      await client.query(`INSERT INTO ${S}.share_approvals (request_id, kind, decision, actor, role, at, note) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [id, kind, decision, this.who.actor, role, this.deps.now(), note]);
      const after = decision === 'deny' ? 'denied' : req.missing.length === 1 ? 'approved' : 'pending';
      await client.query(`UPDATE ${S}.share_requests SET status = $2 WHERE id = $1`, [id, after]);
      await client.query('COMMIT');
      await this.deps.audit.append(this.stamp({ ...base, purpose: req.purpose, case: req.case, subject: { requestId: id, agency: req.agency }, details: { kind, status: after } }));
      return (await this.load(this.deps.pool, id)) as ShareRequest;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /**
   * Makes the one export of an approved request: the search runs now, as this user (audited
   * `search` by the store, with its purpose rules), and the export is kept and audited `export`.
   */
  async export(id: string): Promise<ShareExport> {
    const base: AuditEvent = { action: 'export', subject: { requestId: id } };
    const req = await this.load(this.deps.pool, id);
    if (req === undefined) return this.refuseStep(base, 'NOT_FOUND', `no sharing request ${id}`);
    const ev = { ...base, purpose: req.purpose, case: req.case };
    if (req.status === 'exported') return this.refuseStep(ev, 'ALREADY_EXPORTED', 'the request was exported already: GET its export');
    if (req.status !== 'approved') return this.refuseStep(ev, 'NOT_APPROVED', `only an approved request is exported; this one is ${req.status}${req.missing.length > 0 ? ` (missing: ${req.missing.join(', ')})` : ''}`);
    const result = await this.deps.store.as(this.who).search(
      { ...req.query, purpose: req.purpose, case: req.case, reason: req.reason, ...(req.sensitiveApproval !== undefined ? { sensitiveApproval: req.sensitiveApproval } : {}) },
      { approvalHolder: req.createdBy, context: { via: 'export', requestId: id } },
    );
    const at = this.deps.now();
    const out = buildExport(req, result.hits, { createdAt: at, createdBy: this.who.actor, truncated: result.truncated });
    // The status guard makes a concurrent second export fail here rather than write twice.
    const client = await this.deps.pool.connect();
    try {
      await client.query('BEGIN');
      const u = await client.query(`UPDATE ${S}.share_requests SET status = 'exported' WHERE id = $1 AND status = 'approved'`, [id]);
      if (u.rowCount !== 1) {
        await client.query('ROLLBACK');
        return await this.refuseStep(ev, 'ALREADY_EXPORTED', 'the request was exported already: GET its export');
      }
      await client.query(`INSERT INTO ${S}.share_exports (request_id, created_by, created_at, sha256, manifest, ndjson) VALUES ($1, $2, $3, $4, $5, $6)`, [id, this.who.actor, at, out.manifest.sha256, JSON.stringify(out.manifest), out.ndjson]);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
    await this.deps.audit.append(this.stamp({ ...ev, subject: { requestId: id, agency: req.agency, count: out.manifest.counts.total }, details: { sha256: out.manifest.sha256, federal: req.federal } }));
    // Told to the exporting supervisor only: the manifest goes to the other agency.
    return result.withheld !== undefined ? { ...out, withheld: result.withheld } : out;
  }

  /** The export made earlier, byte-identical (audited `export` with `details.copy`). */
  async getExport(id: string): Promise<ShareExport> {
    const { rows } = await this.deps.pool.query<{ manifest: ShareExport['manifest']; ndjson: string; purpose: string; case_no: string }>(
      `SELECT e.manifest, e.ndjson, r.purpose, r.case_no FROM ${S}.share_exports e JOIN ${S}.share_requests r ON r.id = e.request_id WHERE e.request_id = $1`, [id]);
    const row = rows[0];
    if (row === undefined) return this.refuseStep({ action: 'export', subject: { requestId: id }, details: { copy: true } }, 'NOT_EXPORTED', `no export of ${id}`);
    await this.deps.audit.append(this.stamp({ action: 'export', purpose: row.purpose, case: row.case_no, subject: { requestId: id, count: row.manifest.counts.total }, details: { sha256: row.manifest.sha256, copy: true } }));
    return { manifest: row.manifest, ndjson: row.ndjson };
  }
}
