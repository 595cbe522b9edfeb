/**
 * One alert in the list. Every row has the same fixed height and every field a reserved
 * width, so an arriving alert, a ticking countdown or a disposition never moves anything.
 * An escalated alert (its window passed, supervisors told) is tinted red rather than given
 * a column of its own.
 */
import type { AlertItem } from '../alert-types.js';
import { countdown, time } from '../format.js';

export const ROW_HEIGHT = 64;

export function deadlineText(item: AlertItem, now: number): { text: string; overdue: boolean } {
  if (item.disposition !== null) return { text: item.disposition.outcome.replace('_', ' '), overdue: false };
  if (item.deadline === null) return { text: '—', overdue: false };
  const left = item.deadline - now;
  return { text: countdown(left), overdue: left < 0 };
}

export function AlertRow({ item, now, selected, onSelect }: { item: AlertItem; now: number; selected: boolean; onSelect: () => void }) {
  const a = item.alert;
  const d = deadlineText(item, now);
  const state = item.disposition !== null ? `done ${item.disposition.outcome}` : item.escalatedAt !== undefined ? 'escalated' : '';
  return (
    <li
      role="option"
      aria-selected={selected}
      id={`alert-${a.alertId}`}
      data-alert-id={a.alertId}
      data-shown-at={item.shownAt}
      tabIndex={selected ? 0 : -1}
      class={`alert-row p${Math.min(5, Math.max(1, a.priority))} ${selected ? 'selected' : ''} ${state}`}
      style={{ height: `${ROW_HEIGHT}px` }}
      onClick={onSelect}
      onFocus={onSelect}
    >
      <span class="prio" title={`priority ${a.priority}`}>P{a.priority}</span>
      <span class="plate mono">{a.plate}</span>
      <span class="list">{a.list}</span>
      <span class="tier">
        {a.match} {a.score.toFixed(2)}
      </span>
      <span class="cam">{a.cameraId ?? '—'}</span>
      <span class="ts">{time(a.ts ?? item.receivedAt).slice(11)}</span>
      <span class={`timer mono ${d.overdue ? 'overdue' : ''}`} data-testid="timer" aria-label={d.overdue ? `overdue by ${d.text.slice(1)}` : `time left ${d.text}`}>
        {d.text}
        {state === 'escalated' ? <span class="sr-only"> escalated</span> : null}
      </span>
    </li>
  );
}
