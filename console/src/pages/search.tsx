/**
 * Retrospective search (POST /api/search): plate or pattern, tiers, window, camera, with the
 * purpose, case and reason the server requires, the results table, and CSV/NDJSON files of
 * exactly the rows returned (the role that may search may take its results). A sensitive-place
 * approval, with its purpose and case, can arrive in the address (`?approval=&purpose=&case=`).
 */
import { useState } from 'preact/hooks';
import type { PageProps } from '../app.js';
import { api, describeError } from '../api.js';
import { EMPTY_PURPOSE, PurposeFields, purposeProblem, type PurposeValue } from '../components/purpose-fields.js';
import { MATCH_TIERS, PURPOSES, YEAR_MS } from '../contracts.js';
import { download, toCsv, toNdjson } from '../export-file.js';
import { fromLocalInput, text, time, toLocalInput } from '../format.js';

interface Hit {
  id: string;
  match: string;
  score: number;
  distance: number;
  matchedPlate: string;
  ts: number;
  record: Record<string, unknown>;
}

interface SearchAnswer {
  hits: Hit[];
  scanned: number;
  truncated: boolean;
  ms: number;
  /** Present when reads of sensitive places matched and were withheld (a flag, never a count). */
  withheld?: { sensitive?: boolean };
}

const COLUMNS = ['id', 'ts', 'time', 'plate', 'matchedPlate', 'match', 'score', 'distance', 'state', 'cameraId', 'agency'];

function flat(h: Hit): Record<string, unknown> {
  const r = h.record;
  return { id: h.id, ts: h.ts, time: new Date(h.ts).toISOString(), plate: r.plate, matchedPlate: h.matchedPlate, match: h.match, score: h.score, distance: h.distance, state: r.state, cameraId: r.cameraId, agency: r.agency };
}

export function SearchPage(_: PageProps) {
  const [plate, setPlate] = useState('');
  const [kind, setKind] = useState<'plate' | 'pattern'>('plate');
  const [tiers, setTiers] = useState<string[]>([...MATCH_TIERS]);
  const [from, setFrom] = useState(() => toLocalInput(Date.now() - 7 * 86_400_000));
  const [to, setTo] = useState(() => toLocalInput(Date.now() + 60_000));
  const [camera, setCamera] = useState('');
  // "Use in search" on the Sensitive places page opens /search?approval=&purpose=&case=.
  const [linked] = useState(() => new URLSearchParams(location.search));
  const [approval, setApproval] = useState(() => linked.get('approval') ?? '');
  const [why, setWhy] = useState<PurposeValue>(() => ({ ...EMPTY_PURPOSE, purpose: PURPOSES.some((p) => p.code === linked.get('purpose')) ? (linked.get('purpose') ?? '') : '', case: linked.get('case') ?? '' }));
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [answer, setAnswer] = useState<SearchAnswer | null>(null);

  const fromMs = fromLocalInput(from);
  const reasonNeeded = fromMs !== undefined && fromMs < Date.now() - YEAR_MS;

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const toMs = fromLocalInput(to);
    const problem = plate.trim() === '' ? 'Give a plate or a pattern.' : fromMs === undefined || toMs === undefined ? 'Give the window (from and to).' : tiers.length === 0 && kind === 'plate' ? 'Choose at least one tier.' : purposeProblem(why, fromMs, Date.now());
    if (problem !== '') {
      setError(problem);
      return;
    }
    setBusy(true);
    setError('');
    try {
      const body = {
        [kind]: plate.trim(),
        ...(kind === 'plate' ? { tiers } : {}),
        from: fromMs,
        to: toMs,
        ...(camera.trim() !== '' ? { cameraId: camera.trim() } : {}),
        purpose: why.purpose,
        ...(why.case.trim() !== '' ? { case: why.case.trim() } : {}),
        ...(why.reason.trim() !== '' ? { reason: why.reason.trim() } : {}),
        ...(approval.trim() !== '' ? { sensitiveApproval: approval.trim() } : {}),
      };
      setAnswer(await api<SearchAnswer>('POST', '/api/search', body));
    } catch (err) {
      setError(describeError(err));
      setAnswer(null);
    } finally {
      setBusy(false);
    }
  };

  const rows = answer?.hits.map(flat) ?? [];
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return (
    <section aria-labelledby="search-title">
      <h1 id="search-title">Search stored reads</h1>
      <form class="form-grid" onSubmit={(e) => void submit(e)} noValidate data-testid="search-form">
        <fieldset>
          <legend>What</legend>
          <div class="radios" role="radiogroup" aria-label="Plate or pattern">
            <label>
              <input type="radio" name="kind" checked={kind === 'plate'} onChange={() => setKind('plate')} /> Plate
            </label>
            <label>
              <input type="radio" name="kind" checked={kind === 'pattern'} onChange={() => setKind('pattern')} /> Pattern (partial plate, ? and *)
            </label>
          </div>
          <label>
            {kind === 'plate' ? 'Plate' : 'Pattern'}
            <input name="plate" class="mono" value={plate} onInput={(e) => setPlate(e.currentTarget.value.toUpperCase())} />
          </label>
          <div class="checks" role="group" aria-label="Tiers">
            {MATCH_TIERS.map((t) => (
              <label key={t}>
                <input type="checkbox" name={`tier-${t}`} disabled={kind === 'pattern'} checked={tiers.includes(t)} onChange={(e) => setTiers(e.currentTarget.checked ? [...tiers, t] : tiers.filter((x) => x !== t))} /> {t}
              </label>
            ))}
          </div>
          <label>
            Camera (optional)
            <input name="camera" value={camera} onInput={(e) => setCamera(e.currentTarget.value)} />
          </label>
        </fieldset>
        <fieldset>
          <legend>When</legend>
          <label>
            From
            <input type="datetime-local" name="from" value={from} onInput={(e) => setFrom(e.currentTarget.value)} />
          </label>
          <label>
            To
            <input type="datetime-local" name="to" value={to} onInput={(e) => setTo(e.currentTarget.value)} />
          </label>
          <label>
            Sensitive-place approval (optional)
            <input name="sensitiveApproval" class={`mono${approval !== '' ? ' filled' : ''}`} value={approval} onInput={(e) => setApproval(e.currentTarget.value)} placeholder="approval id, when one was granted" />
          </label>
        </fieldset>
        <PurposeFields idPrefix="search" value={why} onChange={setWhy} reasonNeeded={reasonNeeded} />
        <div class="form-actions">
          <button type="submit" disabled={busy} data-testid="search-submit">
            {busy ? 'Searching…' : 'Search'}
          </button>
          <p class="error" role="alert" data-testid="search-error">
            {error}
          </p>
        </div>
      </form>
      {answer !== null ? (
        <div class="results" data-testid="search-results">
          <div class="toolbar">
            <p role="status">
              {answer.hits.length} hit{answer.hits.length === 1 ? '' : 's'} of {answer.scanned} reads scanned in {answer.ms.toFixed(0)} ms
              {answer.truncated ? ' (truncated: narrow the search)' : ''}
              {answer.withheld?.sensitive === true ? (
                <strong class="warn" data-testid="withheld">
                  {' '}
                  · reads of sensitive places matched and were withheld: they need a supervisor-approved sensitive-place approval for this purpose and case
                </strong>
              ) : null}
            </p>
            <button type="button" class="secondary" disabled={rows.length === 0} onClick={() => download(`search-${stamp}.csv`, toCsv(rows, COLUMNS), 'text/csv')}>
              Download CSV
            </button>
            <button type="button" class="secondary" disabled={rows.length === 0} onClick={() => download(`search-${stamp}.ndjson`, toNdjson(answer.hits), 'application/x-ndjson')}>
              Download NDJSON
            </button>
          </div>
          <div class="table-wrap">
            <table>
              <caption class="sr-only">Search results</caption>
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Plate read</th>
                  <th scope="col">Matched</th>
                  <th scope="col">Tier</th>
                  <th scope="col">Score</th>
                  <th scope="col">State</th>
                  <th scope="col">Camera</th>
                  <th scope="col">Agency</th>
                  <th scope="col">Read id</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={String(r.id)}>
                    <td>{time(r.ts as number)}</td>
                    <td class="mono">{text(r.plate)}</td>
                    <td class="mono">{text(r.matchedPlate)}</td>
                    <td>{String(r.match)}</td>
                    <td>{(r.score as number).toFixed(2)}</td>
                    <td>{text(r.state)}</td>
                    <td>{text(r.cameraId)}</td>
                    <td>{text(r.agency)}</td>
                    <td class="mono">{String(r.id)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      ) : null}
    </section>
  );
}
