/**
 * Sharing with other agencies (docs/sharing.md): record a request, list them, and for
 * supervisors approve, deny, export once and download the export (the NDJSON bytes the
 * manifest's sha256 describes).
 */
import { useState } from 'preact/hooks';
import type { PageProps } from '../app.js';
import { api, apiBlob, describeError, query } from '../api.js';
import { ShareForm } from '../components/share-form.js';
import { APPROVAL_KINDS, SHARE_DECIDE_ROLES, allows } from '../contracts.js';
import { download } from '../export-file.js';
import { text, time } from '../format.js';
import { useLoad } from '../use-load.js';
import { ListTable, StatusSelect } from '../components/list-table.js';

interface ShareRequest {
  id: string;
  agency: string;
  federal: boolean;
  requester: string;
  purpose: string;
  case: string;
  reason?: string;
  query: Record<string, unknown>;
  status: string;
  createdBy: string;
  createdAt: number;
  approvals: Array<Record<string, unknown>>;
  missing: string[];
}

const STATUSES = ['', 'pending', 'approved', 'denied', 'exported'] as const;

export function SharingPage({ session }: PageProps) {
  const [status, setStatus] = useState<(typeof STATUSES)[number]>('');
  const list = useLoad(() => api<{ requests: ShareRequest[] }>('GET', `/api/sharing/requests${query({ status })}`), [status]);
  const [message, setMessage] = useState('');
  const [deciding, setDeciding] = useState<string | null>(null);
  const [note, setNote] = useState('');
  const [kind, setKind] = useState<(typeof APPROVAL_KINDS)[number]>('supervisor');
  const canDecide = allows(session.roles, SHARE_DECIDE_ROLES);

  const act = async (id: string, what: 'approve' | 'deny' | 'export'): Promise<void> => {
    try {
      const path = `/api/sharing/requests/${encodeURIComponent(id)}/${what}`;
      if (what === 'export') {
        const out = await api<{ withheld?: { sensitive?: boolean } }>('POST', path);
        if (out.withheld?.sensitive === true) {
          setMessage(`Request ${id}: exported; reads of sensitive places matched and were left out (no approval covers them).`);
          setDeciding(null);
          list.reload();
          return;
        }
      }
      else await api('POST', path, what === 'approve' ? { note: note.trim(), kind } : { note: note.trim() });
      setMessage(`Request ${id}: ${what === 'export' ? 'exported' : what === 'approve' ? 'approval recorded' : 'denied'}.`);
      setDeciding(null);
      setNote('');
      list.reload();
    } catch (err) {
      setMessage(describeError(err));
    }
  };

  const fetchExport = async (id: string): Promise<void> => {
    try {
      const { blob, headers } = await apiBlob(`/api/sharing/requests/${encodeURIComponent(id)}/export?download=true`);
      download(`share-${id}.ndjson`, blob);
      setMessage(`Export of ${id} downloaded; sha256 ${headers.get('x-platesieve-sha256') ?? 'not given'}.`);
    } catch (err) {
      setMessage(describeError(err));
    }
  };

  return (
    <section aria-labelledby="sharing-title">
      <h1 id="sharing-title">Sharing requests</h1>
      <details class="card">
        <summary>New request</summary>
        <ShareForm onCreated={list.reload} />
      </details>
      <div class="toolbar">
        <StatusSelect statuses={STATUSES} value={status} onChange={setStatus} />
        <button type="button" class="secondary" onClick={list.reload}>
          Refresh
        </button>
        <p class="status" role="status" data-testid="sharing-status">
          {message}
        </p>
      </div>
      <p class="error" role="alert">
        {list.error}
      </p>
      <ListTable testId="sharing-table" columns={['Request', 'Agency / requester', 'Purpose / case', 'Query', 'Recorded', 'Status', 'Actions']} rows={list.data?.requests ?? null} empty={`No requests${status !== '' ? ` with status ${status}` : ''}.`}>
        {(list.data?.requests ?? []).map((r) => (
          <tr key={r.id}>
            <td class="mono">{r.id}</td>
            <td>
              {r.agency}
              {r.federal ? ' (federal)' : ''} / {r.requester}
            </td>
            <td>
              {r.purpose}
              <br />
              {r.case}
            </td>
            <td class="mono nowrap">{text(r.query.plate ?? r.query.pattern)}</td>
            <td>
              {r.createdBy}, {time(r.createdAt)}
            </td>
            <td>
              {r.status}
              {r.missing.length > 0 ? <small> (needs {r.missing.join(', ')})</small> : null}
            </td>
            <td>
              {!canDecide ? (
                '—'
              ) : deciding === r.id ? (
                <div class="inline-form">
                  <label>
                    Note
                    <input required value={note} onInput={(e) => setNote(e.currentTarget.value)} />
                  </label>
                  {r.federal ? (
                    <select aria-label="Approval kind" value={kind} onChange={(e) => setKind(e.currentTarget.value as (typeof APPROVAL_KINDS)[number])}>
                      {APPROVAL_KINDS.map((k) => (
                        <option key={k}>{k}</option>
                      ))}
                    </select>
                  ) : null}
                  <button type="button" class="confirm" disabled={note.trim() === ''} onClick={() => void act(r.id, 'approve')}>
                    Approve
                  </button>
                  <button type="button" class="reject" disabled={note.trim() === ''} onClick={() => void act(r.id, 'deny')}>
                    Deny
                  </button>
                  <button type="button" class="secondary" onClick={() => setDeciding(null)}>
                    Cancel
                  </button>
                </div>
              ) : (
                <div class="row-actions">
                  {r.status === 'pending' && r.createdBy !== session.username ? (
                    <button type="button" class="secondary" onClick={() => setDeciding(r.id)}>
                      Decide…
                    </button>
                  ) : null}
                  {r.status === 'approved' ? (
                    <button type="button" class="secondary" onClick={() => void act(r.id, 'export')}>
                      Export
                    </button>
                  ) : null}
                  {r.status === 'exported' ? (
                    <button type="button" class="secondary" onClick={() => void fetchExport(r.id)}>
                      Download export
                    </button>
                  ) : null}
                </div>
              )}
            </td>
          </tr>
        ))}
      </ListTable>
    </section>
  );
}
