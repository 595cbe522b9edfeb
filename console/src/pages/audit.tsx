/**
 * The audit log for auditors and supervisors: filter by user, action (or prefix), purpose and
 * time; verify the hash chain. The server filters user, action and time; purpose is filtered
 * here on what came back. Reading the log is itself audited by the server.
 */
import { useEffect, useState } from 'preact/hooks';
import type { PageProps } from '../app.js';
import { api, describeError, query } from '../api.js';
import { PURPOSES } from '../contracts.js';
import { fromLocalInput, time, toLocalInput } from '../format.js';

interface AuditRecord {
  seq: number;
  at: number;
  actor: string;
  action: string;
  outcome: 'ok' | 'refused';
  purpose?: string;
  case?: string;
  subject?: Record<string, unknown>;
  reason?: string;
  details?: Record<string, unknown>;
  hash: string;
}

interface Verify {
  ok: boolean;
  records: number;
  badSeq?: number;
  reason?: string;
  head?: string;
}

export function AuditPage(_: PageProps) {
  const [actor, setActor] = useState('');
  const [action, setAction] = useState('');
  const [purpose, setPurpose] = useState('');
  const [from, setFrom] = useState(() => toLocalInput(Date.now() - 86_400_000));
  const [to, setTo] = useState('');
  const [records, setRecords] = useState<AuditRecord[] | null>(null);
  const [error, setError] = useState('');
  const [verify, setVerify] = useState<Verify | null>(null);
  const [busy, setBusy] = useState(false);

  const load = async (e?: Event): Promise<void> => {
    e?.preventDefault();
    setBusy(true);
    setError('');
    try {
      const r = await api<{ records: AuditRecord[] }>('GET', `/api/audit${query({ actor: actor.trim(), action: action.trim(), from: fromLocalInput(from), to: fromLocalInput(to), limit: 2000 })}`);
      setRecords(r.records.filter((x) => purpose === '' || x.purpose === purpose).reverse());
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  // The last day at once: an auditor opens the page to look, not to fill a form first.
  useEffect(() => {
    void load();
  }, []);

  const runVerify = async (): Promise<void> => {
    setVerify(null);
    setError('');
    try {
      setVerify(await api<Verify>('POST', '/api/audit/verify'));
    } catch (err) {
      setError(describeError(err));
    }
  };

  return (
    <section aria-labelledby="audit-title">
      <div class="toolbar">
        <h1 id="audit-title">Audit log</h1>
        <button type="button" onClick={() => void runVerify()} data-testid="verify-chain">
          Verify chain
        </button>
        <span role="status" data-testid="verify-result" class={verify === null ? '' : verify.ok ? 'ok' : 'bad'}>
          {verify === null ? '' : verify.ok ? `Chain intact: ${verify.records} records${verify.head !== undefined ? `, head ${verify.head.slice(0, 12)}…` : ''}` : `Chain BROKEN at seq ${verify.badSeq ?? '?'}: ${verify.reason ?? ''}`}
        </span>
      </div>
      <form class="filters" onSubmit={(e) => void load(e)}>
        <label>
          User
          <input name="actor" value={actor} onInput={(e) => setActor(e.currentTarget.value)} />
        </label>
        <label>
          Action (or prefix)
          <input name="action" value={action} placeholder="search, hold., session." onInput={(e) => setAction(e.currentTarget.value)} />
        </label>
        <label>
          Purpose
          <select value={purpose} onChange={(e) => setPurpose(e.currentTarget.value)}>
            <option value="">any</option>
            {PURPOSES.map((p) => (
              <option key={p.code}>{p.code}</option>
            ))}
          </select>
        </label>
        <label>
          From
          <input type="datetime-local" value={from} onInput={(e) => setFrom(e.currentTarget.value)} />
        </label>
        <label>
          To
          <input type="datetime-local" value={to} onInput={(e) => setTo(e.currentTarget.value)} />
        </label>
        <button type="submit" disabled={busy}>
          {busy ? 'Loading…' : 'Show'}
        </button>
      </form>
      <p class="error" role="alert">
        {error}
      </p>
      {records !== null ? (
        <div class="table-wrap">
          <table data-testid="audit-table">
            <caption class="sr-only">Audit records, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Seq</th>
                <th scope="col">Time</th>
                <th scope="col">User</th>
                <th scope="col">Action</th>
                <th scope="col">Outcome</th>
                <th scope="col">Purpose / case</th>
                <th scope="col">Subject</th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {records.map((r) => (
                <tr key={r.seq} class={r.outcome === 'refused' ? 'refused-row' : undefined}>
                  <td>{r.seq}</td>
                  <td class="nowrap">{time(r.at)}</td>
                  <td>{r.actor}</td>
                  <td class="mono">{r.action}</td>
                  <td>{r.outcome}</td>
                  <td>
                    {r.purpose ?? ''}
                    {r.case !== undefined ? ` / ${r.case}` : ''}
                  </td>
                  <td class="mono wrap small">{r.subject !== undefined ? JSON.stringify(r.subject) : ''}</td>
                  <td class="wrap">{r.reason ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {records.length === 0 ? <p class="muted">No records match.</p> : null}
        </div>
      ) : null}
    </section>
  );
}
