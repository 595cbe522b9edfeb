/** A new sharing request: the requesting agency, who asked, why, and the search it wants run. */
import { useState } from 'preact/hooks';
import { api, describeError } from '../api.js';
import { MATCH_TIERS, YEAR_MS } from '../contracts.js';
import { fromLocalInput, toLocalInput } from '../format.js';
import { EMPTY_PURPOSE, PurposeFields, purposeProblem, type PurposeValue } from './purpose-fields.js';

export function ShareForm({ onCreated }: { onCreated: (id: string) => void }) {
  const [agency, setAgency] = useState('');
  const [requester, setRequester] = useState('');
  const [federal, setFederal] = useState(false);
  const [plate, setPlate] = useState('');
  const [kind, setKind] = useState<'plate' | 'pattern'>('plate');
  const [from, setFrom] = useState(() => toLocalInput(Date.now() - 30 * 86_400_000));
  const [to, setTo] = useState(() => toLocalInput(Date.now()));
  const [why, setWhy] = useState<PurposeValue>(EMPTY_PURPOSE);
  const [approval, setApproval] = useState('');
  const [message, setMessage] = useState('');
  const fromMs = fromLocalInput(from);

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const toMs = fromLocalInput(to);
    const problem = agency.trim() === '' || requester.trim() === '' ? 'Give the agency and the requester.' : plate.trim() === '' ? 'Give a plate or a pattern.' : fromMs === undefined || toMs === undefined ? 'Give the window.' : purposeProblem(why, fromMs, Date.now()) || (why.case.trim() === '' ? 'A sharing request needs a case number.' : '');
    if (problem !== '') {
      setMessage(problem);
      return;
    }
    try {
      const r = await api<{ id: string }>('POST', '/api/sharing/requests', {
        agency: agency.trim(),
        federal,
        requester: requester.trim(),
        purpose: why.purpose,
        case: why.case.trim(),
        ...(why.reason.trim() !== '' ? { reason: why.reason.trim() } : {}),
        ...(approval.trim() !== '' ? { sensitiveApproval: approval.trim() } : {}),
        query: { [kind]: plate.trim(), ...(kind === 'plate' ? { tiers: [...MATCH_TIERS] } : {}), from: fromMs, to: toMs },
      });
      setMessage(`Request ${r.id} recorded; a supervisor other than you decides it.`);
      onCreated(r.id);
    } catch (err) {
      setMessage(describeError(err));
    }
  };

  return (
    <form class="form-grid" onSubmit={(e) => void submit(e)} noValidate>
      <fieldset>
        <legend>Requesting agency</legend>
        <label>
          Agency
          <input name="agency" value={agency} onInput={(e) => setAgency(e.currentTarget.value)} />
        </label>
        <label>
          Requester (name, badge)
          <input name="requester" value={requester} onInput={(e) => setRequester(e.currentTarget.value)} />
        </label>
        <label class="inline">
          <input type="checkbox" checked={federal} onChange={(e) => setFederal(e.currentTarget.checked)} /> Federal agency (needs the county attorney notice too)
        </label>
      </fieldset>
      <fieldset>
        <legend>Search requested</legend>
        <div class="radios" role="radiogroup" aria-label="Plate or pattern">
          <label>
            <input type="radio" name="share-kind" checked={kind === 'plate'} onChange={() => setKind('plate')} /> Plate
          </label>
          <label>
            <input type="radio" name="share-kind" checked={kind === 'pattern'} onChange={() => setKind('pattern')} /> Pattern
          </label>
        </div>
        <label>
          {kind === 'plate' ? 'Plate' : 'Pattern'}
          <input name="share-plate" class="mono" value={plate} onInput={(e) => setPlate(e.currentTarget.value.toUpperCase())} />
        </label>
        <label>
          From
          <input type="datetime-local" value={from} onInput={(e) => setFrom(e.currentTarget.value)} />
        </label>
        <label>
          To
          <input type="datetime-local" value={to} onInput={(e) => setTo(e.currentTarget.value)} />
        </label>
        <label>
          Sensitive-place approval (optional)
          <input name="share-approval" value={approval} onInput={(e) => setApproval(e.currentTarget.value)} />
        </label>
      </fieldset>
      <PurposeFields idPrefix="share" value={why} onChange={setWhy} reasonNeeded={fromMs !== undefined && fromMs < Date.now() - YEAR_MS} />
      <div class="form-actions">
        <button type="submit">Record request</button>
        <p class="status" role="status">
          {message}
        </p>
      </div>
    </form>
  );
}
