/**
 * Sensitive places (docs/sensitive-places.md): ask a supervisor for access to the reads of
 * tagged cameras (healthcare, place of worship, protest site, local tags) for one purpose and
 * case, with the articulated nexus to criminal activity; list the requests; supervisors approve
 * or deny with a note (never their own request: the server refuses that too, and audits it).
 * An approved request's id is what a search names: "Use in search" opens the Search page with
 * the approval, its purpose and its case filled in.
 */
import { useState } from 'preact/hooks';
import type { PageProps } from '../app.js';
import { api, describeError, query } from '../api.js';
import { PURPOSES, SENSITIVE_DECIDE_ROLES, SENSITIVE_DEFAULT_TAGS, SENSITIVE_PURPOSES, allows } from '../contracts.js';
import { time } from '../format.js';
import { navigate } from '../router.js';
import { useLoad } from '../use-load.js';
import { ListTable, StatusSelect } from '../components/list-table.js';

/** matcher/sensitive/approvals.ts SensitiveApproval */
interface SensitiveApproval {
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
  expiresAt?: number;
  createdAt: number;
}

const STATUSES = ['', 'pending', 'approved', 'denied'] as const;
type StatusFilter = (typeof STATUSES)[number];

const TAG_LABELS: Record<(typeof SENSITIVE_DEFAULT_TAGS)[number], string> = {
  healthcare: 'healthcare facility',
  place_of_worship: 'place of worship',
  protest_site: 'protest site',
};

/** matcher/sensitive/approvals.ts MAX_NEXUS_LENGTH */
const MAX_NEXUS = 4000;

const sameUser = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** The Search page's address with an approval (and its purpose and case) filled in. */
export function searchWithApproval(a: Pick<SensitiveApproval, 'id' | 'purpose' | 'case'>): string {
  return `/search${query({ approval: a.id, purpose: a.purpose, case: a.case })}`;
}

export function SensitivePage({ session }: PageProps) {
  const [status, setStatus] = useState<StatusFilter>('');
  const list = useLoad(() => api<{ requests: SensitiveApproval[] }>('GET', `/api/sensitive/requests${query({ status })}`), [status]);
  const [tags, setTags] = useState<string[]>([]);
  const [localTags, setLocalTags] = useState('');
  const [purpose, setPurpose] = useState('');
  const [caseNo, setCaseNo] = useState('');
  const [nexus, setNexus] = useState('');
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState('');
  const [message, setMessage] = useState('');
  const [deciding, setDeciding] = useState<string | null>(null);
  const [note, setNote] = useState('');
  const canDecide = allows(session.roles, SENSITIVE_DECIDE_ROLES);
  const now = Date.now();

  const create = async (e: Event): Promise<void> => {
    e.preventDefault();
    const all = [...new Set([...tags, ...localTags.split(/[\s,]+/).filter((t) => t !== '')])];
    const problem =
      all.length === 0 ? 'Choose at least one sensitive-place tag.'
      : purpose === '' ? 'Choose the purpose of the investigation.'
      : caseNo.trim() === '' ? 'Give the case number.'
      : nexus.trim() === '' ? 'Articulate the nexus to criminal activity (Englewood PD 425.5 (h), (i)).'
      : nexus.trim().length > MAX_NEXUS ? `The nexus is limited to ${MAX_NEXUS} characters.`
      : '';
    if (problem !== '') {
      setFormError(problem);
      return;
    }
    setBusy(true);
    setFormError('');
    try {
      const a = await api<SensitiveApproval>('POST', '/api/sensitive/requests', { tags: all, purpose, case: caseNo.trim(), nexus: nexus.trim() });
      setMessage(`Request ${a.id} recorded: a supervisor other than you decides it.`);
      setTags([]);
      setLocalTags('');
      setNexus('');
      list.reload();
    } catch (err) {
      setFormError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  const decide = async (id: string, what: 'approve' | 'deny'): Promise<void> => {
    try {
      const a = await api<SensitiveApproval>('POST', `/api/sensitive/requests/${encodeURIComponent(id)}/${what}`, { note: note.trim() });
      setMessage(what === 'approve' ? `Request ${id} approved until ${time(a.expiresAt)}.` : `Request ${id} denied.`);
      setDeciding(null);
      setNote('');
      list.reload();
    } catch (err) {
      setMessage(describeError(err));
    }
  };

  return (
    <section aria-labelledby="sensitive-title">
      <h1 id="sensitive-title">Sensitive places</h1>
      <p class="muted intro">
        Reads of cameras tagged as a sensitive place are withheld from searches until a supervisor approves access for one purpose and case, with the nexus to criminal activity written down.
      </p>
      <form class="form-grid" onSubmit={(e) => void create(e)} noValidate data-testid="sensitive-form">
        <fieldset>
          <legend>Places</legend>
          <div class="checks column" role="group" aria-label="Sensitive-place tags">
            {SENSITIVE_DEFAULT_TAGS.map((t) => (
              <label key={t} title={t}>
                <input type="checkbox" name={`tag-${t}`} checked={tags.includes(t)} onChange={(e) => setTags(e.currentTarget.checked ? [...tags, t] : tags.filter((x) => x !== t))} /> {TAG_LABELS[t]}
              </label>
            ))}
          </div>
          <label>
            Local tags (optional, comma separated)
            <input name="local-tags" value={localTags} onInput={(e) => setLocalTags(e.currentTarget.value)} placeholder="as configured, e.g. school" />
          </label>
        </fieldset>
        <fieldset>
          <legend>Investigation</legend>
          <label for="sensitive-purpose">Purpose *</label>
          <select id="sensitive-purpose" name="purpose" required value={purpose} onChange={(e) => setPurpose(e.currentTarget.value)}>
            <option value="">— choose —</option>
            {SENSITIVE_PURPOSES.map((code) => (
              <option key={code} value={code}>
                {code} — {PURPOSES.find((p) => p.code === code)?.description ?? ''}
              </option>
            ))}
          </select>
          <label for="sensitive-case">Case number *</label>
          <input id="sensitive-case" name="case" required value={caseNo} onInput={(e) => setCaseNo(e.currentTarget.value)} />
        </fieldset>
        <fieldset>
          <legend>Nexus (logged)</legend>
          <label for="sensitive-nexus">Nexus to criminal activity *</label>
          <textarea id="sensitive-nexus" name="nexus" rows={4} required maxLength={MAX_NEXUS} value={nexus} onInput={(e) => setNexus(e.currentTarget.value)} placeholder="what ties this place to the crime: facts, report numbers" />
        </fieldset>
        <div class="form-actions">
          <button type="submit" disabled={busy} data-testid="sensitive-submit">
            {busy ? 'Sending…' : 'Request approval'}
          </button>
          <p class="error" role="alert" data-testid="sensitive-error">
            {formError}
          </p>
        </div>
      </form>
      <div class="toolbar">
        <h2>Requests</h2>
        <StatusSelect statuses={STATUSES} value={status} onChange={setStatus} />
        <button type="button" class="secondary" onClick={list.reload}>
          Refresh
        </button>
        <p class="status" role="status" data-testid="sensitive-status">
          {message}
        </p>
      </div>
      <p class="error" role="alert">
        {list.error}
      </p>
      <ListTable testId="sensitive-table" class="sensitive-table" columns={['Approval id', 'Places / purpose / case', 'Nexus', 'Requested', 'Status', 'Actions']} rows={list.data?.requests ?? null} empty={`No requests${status !== '' ? ` with status ${status}` : ''}.`}>
        {(list.data?.requests ?? []).map((r) => {
          const own = sameUser(r.requestedBy, session.username);
          const usable = r.status === 'approved' && (r.expiresAt ?? 0) > now;
          return (
            <tr key={r.id} data-approval-id={r.id} class={`status-${r.status}`}>
              <td>
                <code class="approval-id" data-testid="approval-id">
                  {r.id}
                </code>
              </td>
              <td>
                <strong>{r.tags.join(', ')}</strong>
                <br />
                {r.purpose}
                <br />
                {r.case}
              </td>
              <td class="nexus">{r.nexus}</td>
              <td>
                {r.requestedBy}
                {own ? ' (you)' : ''}
                <br />
                <small class="muted">{time(r.createdAt)}</small>
              </td>
              <td data-testid="approval-status">
                <span class={`badge ${r.status}`}>{r.status === 'approved' && !usable ? 'expired' : r.status}</span>
                {r.decidedBy !== undefined ? (
                  <small class="block">
                    by {r.decidedBy}
                    {r.note !== undefined ? `: ${r.note}` : ''}
                  </small>
                ) : null}
                {r.status === 'approved' && r.expiresAt !== undefined ? <small class="block muted">until {time(r.expiresAt)}</small> : null}
              </td>
              <td class={deciding === r.id ? 'deciding' : undefined}>
                {deciding === r.id ? (
                  <div class="inline-form">
                    <label>
                      Note
                      <input name="note" required value={note} onInput={(e) => setNote(e.currentTarget.value)} />
                    </label>
                    <button type="button" class="confirm" disabled={note.trim() === ''} onClick={() => void decide(r.id, 'approve')}>
                      Approve
                    </button>
                    <button type="button" class="reject" disabled={note.trim() === ''} onClick={() => void decide(r.id, 'deny')}>
                      Deny
                    </button>
                    <button type="button" class="secondary" onClick={() => setDeciding(null)}>
                      Cancel
                    </button>
                  </div>
                ) : (
                  <div class="row-actions">
                    {canDecide && r.status === 'pending' && !own ? (
                      <button
                        type="button"
                        class="secondary"
                        onClick={() => {
                          setNote('');
                          setDeciding(r.id);
                        }}
                      >
                        Decide…
                      </button>
                    ) : null}
                    {r.status === 'pending' && own ? <small class="muted">awaiting another supervisor</small> : null}
                    {usable && own ? (
                      <a
                        class="button-link"
                        href={searchWithApproval(r)}
                        data-testid="use-in-search"
                        onClick={(e) => {
                          e.preventDefault();
                          navigate(searchWithApproval(r));
                        }}
                      >
                        Use in search →
                      </a>
                    ) : null}
                    {usable && !own ? <small class="muted">serves {r.requestedBy}'s searches only</small> : null}
                  </div>
                )}
              </td>
            </tr>
          );
        })}
      </ListTable>
    </section>
  );
}
