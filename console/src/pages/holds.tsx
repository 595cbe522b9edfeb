/**
 * Evidence holds: the list (active, or all), a new hold for a plate in a window or for read
 * ids, and release (supervisors: releasing evidence is an approval, with a reason).
 */
import { useState } from 'preact/hooks';
import type { PageProps } from '../app.js';
import { api, describeError, query } from '../api.js';
import { EMPTY_PURPOSE, PurposeFields, purposeProblem, type PurposeValue } from '../components/purpose-fields.js';
import { HOLD_RELEASE_ROLES, allows } from '../contracts.js';
import { fromLocalInput, time } from '../format.js';
import { useLoad } from '../use-load.js';
import { ListTable } from '../components/list-table.js';

interface Hold {
  holdId: string;
  case: string;
  purpose: string;
  reason: string;
  plate?: string;
  from?: number;
  to?: number;
  readIds?: string[];
  createdBy: string;
  createdAt: string;
  releasedBy?: string;
  releasedAt?: string;
  releaseReason?: string;
  records: number;
}

export function HoldsPage({ session }: PageProps) {
  const [all, setAll] = useState(false);
  const holds = useLoad(() => api<{ holds: Hold[] }>('GET', `/api/holds${query({ all: all ? true : undefined })}`), [all]);
  const [plate, setPlate] = useState('');
  const [readIds, setReadIds] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [why, setWhy] = useState<PurposeValue>(EMPTY_PURPOSE);
  const [message, setMessage] = useState('');
  const [releasing, setReleasing] = useState<string | null>(null);
  const [releaseReason, setReleaseReason] = useState('');
  const canRelease = allows(session.roles, HOLD_RELEASE_ROLES);

  const create = async (e: Event): Promise<void> => {
    e.preventDefault();
    const ids = readIds.split(/[\s,]+/).filter((x) => x !== '');
    const problem = plate.trim() === '' && ids.length === 0 ? 'Give a plate or read ids.' : plate.trim() !== '' && ids.length > 0 ? 'Give a plate or read ids, not both.' : purposeProblem(why, undefined, Date.now(), true) || (why.case.trim() === '' ? 'A hold needs a case number.' : '');
    if (problem !== '') {
      setMessage(problem);
      return;
    }
    try {
      const body = ids.length > 0 ? { readIds: ids } : { plate: plate.trim(), ...(fromLocalInput(from) !== undefined ? { from: fromLocalInput(from) } : {}), ...(fromLocalInput(to) !== undefined ? { to: fromLocalInput(to) } : {}) };
      const h = await api<Hold>('POST', '/api/holds', { ...body, case: why.case.trim(), purpose: why.purpose, reason: why.reason.trim() });
      setMessage(`Hold ${h.holdId} created: ${h.records} records held.`);
      holds.reload();
    } catch (err) {
      setMessage(describeError(err));
    }
  };

  const release = async (id: string): Promise<void> => {
    try {
      await api('POST', `/api/holds/${encodeURIComponent(id)}/release`, { reason: releaseReason.trim() });
      setReleasing(null);
      setReleaseReason('');
      setMessage(`Hold ${id} released.`);
      holds.reload();
    } catch (err) {
      setMessage(describeError(err));
    }
  };

  return (
    <section aria-labelledby="holds-title">
      <h1 id="holds-title">Evidence holds</h1>
      <form class="form-grid" onSubmit={(e) => void create(e)} noValidate>
        <fieldset>
          <legend>Hold what</legend>
          <label>
            Plate
            <input name="plate" class="mono" value={plate} onInput={(e) => setPlate(e.currentTarget.value.toUpperCase())} />
          </label>
          <label>
            From (optional)
            <input type="datetime-local" value={from} onInput={(e) => setFrom(e.currentTarget.value)} />
          </label>
          <label>
            To (optional)
            <input type="datetime-local" value={to} onInput={(e) => setTo(e.currentTarget.value)} />
          </label>
          <label>
            Or read ids (space or comma separated)
            <textarea rows={2} value={readIds} onInput={(e) => setReadIds(e.currentTarget.value)} />
          </label>
        </fieldset>
        <PurposeFields idPrefix="hold" value={why} onChange={setWhy} reasonNeeded reasonWhy="" />
        <div class="form-actions">
          <button type="submit">Create hold</button>
          <p class="status" role="status">
            {message}
          </p>
        </div>
      </form>
      <div class="toolbar">
        <h2>Holds</h2>
        <label class="inline">
          <input type="checkbox" checked={all} onChange={(e) => setAll(e.currentTarget.checked)} /> include released
        </label>
        <button type="button" class="secondary" onClick={holds.reload}>
          Refresh
        </button>
      </div>
      <p class="error" role="alert">
        {holds.error}
      </p>
      <ListTable testId="holds-table" columns={['Hold', 'Case', 'Purpose', 'What', 'Records', 'Created', 'Status']} rows={holds.data?.holds ?? null} empty={`No ${all ? '' : 'active '}holds.`}>
        {(holds.data?.holds ?? []).map((h) => (
          <tr key={h.holdId}>
            <td class="mono">{h.holdId}</td>
            <td>{h.case}</td>
            <td>{h.purpose}</td>
            <td class="mono">{h.plate !== undefined ? `${h.plate}${h.from !== undefined ? ` from ${time(h.from)}` : ''}${h.to !== undefined ? ` to ${time(h.to)}` : ''}` : `${h.readIds?.length ?? 0} read ids`}</td>
            <td>{h.records}</td>
            <td>
              {h.createdBy}, {h.createdAt.slice(0, 19).replace('T', ' ')}
            </td>
            <td>
              {h.releasedAt !== undefined ? (
                `released by ${h.releasedBy ?? '?'}: ${h.releaseReason ?? ''}`
              ) : !canRelease ? (
                'active'
              ) : releasing === h.holdId ? (
                <form
                  class="inline-form"
                  onSubmit={(e) => {
                    e.preventDefault();
                    void release(h.holdId);
                  }}
                >
                  <label>
                    Reason
                    <input required value={releaseReason} onInput={(e) => setReleaseReason(e.currentTarget.value)} />
                  </label>
                  <button type="submit" class="reject">
                    Release
                  </button>
                  <button type="button" class="secondary" onClick={() => setReleasing(null)}>
                    Cancel
                  </button>
                </form>
              ) : (
                <button type="button" class="secondary" onClick={() => setReleasing(h.holdId)}>
                  Release…
                </button>
              )}
            </td>
          </tr>
        ))}
      </ListTable>
    </section>
  );
}
