/**
 * The selected alert: what was read against what is listed, the facts an officer needs, the
 * verify checklist, the NCIC confirmation countdown and the disposition. Confirming takes two
 * clicks (Confirm, then Yes, confirm); rejecting takes two (Reject, then the reason), or a
 * note first for "other". The keyboard does the same (c c, r 1-5), driven by the page.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { AlertItem } from '../alert-types.js';
import { REJECT_REASONS, type RejectReason } from '../contracts.js';
import { time } from '../format.js';
import { deadlineText } from './alert-row.js';
import { PlateCompare } from './plate-compare.js';

export type DispositionMode = 'idle' | 'confirming' | 'rejecting' | 'busy';

export interface DisposeRequest {
  outcome: 'confirmed' | 'rejected';
  reason?: RejectReason;
  note?: string;
}

const REASON_LABELS: Record<RejectReason, string> = {
  misread: 'Misread',
  wrong_state: 'Wrong state',
  vehicle_mismatch: 'Vehicle mismatch',
  entry_inactive: 'Entry inactive',
  other: 'Other…',
};

/** The verify text as separate checks (it is written as sentences). */
export function checklist(verify: string): string[] {
  return verify
    .split(/(?<=\.)\s+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

interface Props {
  item: AlertItem;
  now: number;
  canDispose: boolean;
  mode: DispositionMode;
  error: string;
  note: string;
  setNote: (n: string) => void;
  setMode: (m: DispositionMode) => void;
  dispose: (r: DisposeRequest) => void;
}

export function AlertDetail({ item, now, canDispose, mode, error, note, setNote, setMode, dispose }: Props) {
  const a = item.alert;
  const d = deadlineText(item, now);
  const [otherOpen, setOtherOpen] = useState(false);
  const [checked, setChecked] = useState<Record<string, boolean>>({});
  const checks = checklist(a.verify);
  // The next step takes the focus, so Enter (or Space) completes what c or r began.
  const nextStep = useRef<HTMLButtonElement>(null);
  const noteField = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (mode === 'confirming' || mode === 'rejecting') nextStep.current?.focus();
  }, [mode]);
  useEffect(() => {
    if (otherOpen) noteField.current?.focus();
  }, [otherOpen]);
  return (
    <article class="detail" aria-labelledby="detail-title" data-testid="alert-detail">
      <header class="detail-head">
        <h2 id="detail-title">
          P{a.priority} {a.list}
        </h2>
        <div class={`countdown ${d.overdue ? 'overdue' : ''}`} data-testid="detail-timer">
          <span class="label">{item.disposition !== null ? 'Disposition' : `Confirm by (${item.windowKind ?? 'window'})`}</span>
          <span class="mono big">{d.text}</span>
        </div>
      </header>
      <PlateCompare alert={a} />
      <dl class="facts">
        <dt>Tier / score</dt>
        <dd>
          {a.match}, score {a.score.toFixed(3)}, distance {a.distance}
          {a.stale === true ? <strong class="warn"> · source stale</strong> : null}
          {a.historical === true ? <strong class="warn"> · historical</strong> : null}
        </dd>
        <dt>List / priority</dt>
        <dd>
          {a.list} · P{a.priority} · entry {a.entryId}
          {a.case !== undefined ? ` · case ${a.case}` : ''}
        </dd>
        <dt>Camera / time</dt>
        <dd>
          {a.cameraId ?? '—'} · {a.agency ?? '—'} · {time(a.ts)}
        </dd>
        <dt>Image</dt>
        <dd class="mono wrap">{a.imageRef ?? 'none'}</dd>
        <dt>Alert</dt>
        <dd class="mono wrap">{a.alertId}</dd>
      </dl>
      <fieldset class="checklist">
        <legend>Verify before acting</legend>
        {checks.map((c, i) => (
          <label key={i} class="check">
            <input type="checkbox" checked={checked[i] === true} onChange={(e) => setChecked({ ...checked, [i]: e.currentTarget.checked })} />
            {c}
          </label>
        ))}
      </fieldset>
      <div class="dispose" aria-live="polite">
        {item.disposition !== null ? (
          <p class="done" data-testid="disposition-done">
            {item.disposition.outcome.replace('_', ' ')}
            {item.disposition.reason !== undefined ? ` (${item.disposition.reason})` : ''}
            {item.disposition.by !== undefined ? ` by ${item.disposition.by}` : ''}
          </p>
        ) : !canDispose ? (
          <p class="muted">Your role sees alerts; an operator or supervisor dispositions them.</p>
        ) : mode === 'confirming' ? (
          <div class="actions">
            <button type="button" class="confirm" data-testid="confirm-yes" ref={nextStep} onClick={() => dispose({ outcome: 'confirmed' })}>
              Yes, confirm (c)
            </button>
            <button type="button" class="secondary" onClick={() => setMode('idle')}>
              Cancel (Esc)
            </button>
          </div>
        ) : mode === 'rejecting' ? (
          <div class="actions reasons" role="group" aria-label="Reason for rejecting">
            {REJECT_REASONS.map((r, i) => (
              <button
                type="button"
                key={r}
                ref={i === 0 ? nextStep : undefined}
                class="reject"
                data-reason={r}
                onClick={() => (r === 'other' ? setOtherOpen(true) : dispose({ outcome: 'rejected', reason: r }))}
              >
                {i + 1} {REASON_LABELS[r]}
              </button>
            ))}
            <button type="button" class="secondary" onClick={() => setMode('idle')}>
              Cancel
            </button>
            {otherOpen ? (
              <form
                class="other"
                onSubmit={(e) => {
                  e.preventDefault();
                  dispose({ outcome: 'rejected', reason: 'other', note });
                }}
              >
                <label>
                  Note (required for other)
                  <input required ref={noteField} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
                </label>
                <button type="submit" class="reject">
                  Reject
                </button>
              </form>
            ) : null}
          </div>
        ) : (
          <div class="actions">
            <button type="button" class="confirm" data-testid="confirm" disabled={mode === 'busy'} onClick={() => setMode('confirming')}>
              Confirm (c)
            </button>
            <button type="button" class="reject" data-testid="reject" disabled={mode === 'busy'} onClick={() => setMode('rejecting')}>
              Reject (r)
            </button>
          </div>
        )}
        <p class="error" role="alert">
          {error}
        </p>
      </div>
    </article>
  );
}
