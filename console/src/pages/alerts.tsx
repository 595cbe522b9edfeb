/**
 * Live alerts: a fixed-height list (newest on top) beside the selected alert's detail.
 * Keyboard: j/k or arrows move, c confirms (twice), r rejects then 1-5 picks the reason,
 * Esc cancels, m mutes. New alerts never move the selected row: when one is selected the list
 * scrolls by the height of what arrived above it, and a banner in reserved space says so.
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { PageProps } from '../app.js';
import { api, describeError } from '../api.js';
import { isMuted, setMuted } from '../beep.js';
import { AlertDetail, type DisposeRequest, type DispositionMode } from '../components/alert-detail.js';
import { AlertRow, ROW_HEIGHT } from '../components/alert-row.js';
import { DISPOSITION_ROLES, allows } from '../contracts.js';
import { useAlerts } from '../use-alerts.js';

function typing(e: KeyboardEvent): boolean {
  const t = e.target as HTMLElement | null;
  return t !== null && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable);
}

export function AlertsPage({ session }: PageProps) {
  const { items, feed, feedDetail, announcement, arrivals, markDisposed } = useAlerts();
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [mode, setMode] = useState<DispositionMode>('idle');
  const [error, setError] = useState('');
  const [note, setNote] = useState('');
  const [muted, setMutedState] = useState(isMuted);
  const [now, setNow] = useState(Date.now);
  const [above, setAbove] = useState(0);
  const [spacer, setSpacer] = useState(0);
  const listRef = useRef<HTMLUListElement>(null);
  const seenArrivals = useRef(0);
  const keyHandler = useRef<(e: KeyboardEvent) => void>(() => undefined);
  const canDispose = allows(session.roles, DISPOSITION_ROLES);

  const selected = items.find((i) => i.alert.alertId === selectedId) ?? null;

  // One clock for every countdown on the page.
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);

  // Room below the last row, so the list can always scroll by what arrived above: without it a
  // short list could not scroll and the selected row would be pushed down after all.
  useEffect(() => {
    const list = listRef.current;
    if (list === null) return;
    const ro = new ResizeObserver(() => setSpacer(Math.max(0, list.clientHeight - ROW_HEIGHT)));
    ro.observe(list);
    return () => ro.disconnect();
  }, []);

  // Scroll anchoring: rows that arrived above push the list down by exactly their height, so
  // the selected row stays where the operator's eyes are.
  useLayoutEffect(() => {
    const added = arrivals - seenArrivals.current;
    seenArrivals.current = arrivals;
    const list = listRef.current;
    // Anchored when a row is selected or the operator has scrolled down to look at older ones;
    // at the top with nothing selected, the newest simply appear first.
    if (added <= 0 || list === null || (selectedId === null && list.scrollTop === 0)) return;
    list.scrollTop += added * ROW_HEIGHT;
    setAbove((n) => n + added);
  }, [arrivals, selectedId]);

  const select = (id: string | null): void => {
    if (id === selectedId) return;
    setSelectedId(id);
    setMode('idle');
    setError('');
    setNote('');
  };

  const move = (delta: number): void => {
    if (items.length === 0) return;
    const i = items.findIndex((x) => x.alert.alertId === selectedId);
    const next = items[Math.max(0, Math.min(items.length - 1, i < 0 ? 0 : i + delta))];
    select(next.alert.alertId);
    document.getElementById(`alert-${next.alert.alertId}`)?.focus();
  };

  const dispose = async (r: DisposeRequest): Promise<void> => {
    if (selected === null) return;
    const id = selected.alert.alertId;
    setMode('busy');
    setError('');
    try {
      await api('POST', `/api/alerts/${encodeURIComponent(id)}/disposition`, { outcome: r.outcome, ...(r.reason !== undefined ? { reason: r.reason } : {}), ...(r.note !== undefined && r.note.trim() !== '' ? { note: r.note.trim() } : {}) });
      markDisposed(id, { outcome: r.outcome, ...(r.reason !== undefined ? { reason: r.reason } : {}), by: session.username, at: Date.now() });
      setMode('idle');
      // The buttons that had the focus are gone: back to the row, where j/k go on from.
      document.getElementById(`alert-${id}`)?.focus();
    } catch (err) {
      setError(describeError(err));
      setMode('idle');
    }
  };

  // The listener is added once and calls the latest render's handler: a listener re-added by
  // an effect would lag a render behind, and a quick `r 1` would meet the old state.
  keyHandler.current = (e: KeyboardEvent): void => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === 'Escape') {
      setMode('idle');
      return;
    }
    if (typing(e)) return;
    if (e.key === 'j' || e.key === 'ArrowDown') move(1);
    else if (e.key === 'k' || e.key === 'ArrowUp') move(-1);
    else if (e.key === 'm') toggleMute();
    else if (selected !== null && selected.disposition === null && canDispose) {
      if (e.key === 'c') {
        if (mode === 'confirming') void dispose({ outcome: 'confirmed' });
        else if (mode === 'idle') setMode('confirming');
      } else if (e.key === 'r' && mode === 'idle') setMode('rejecting');
      else if (mode === 'rejecting' && /^[1-5]$/.test(e.key)) {
        document.querySelectorAll<HTMLButtonElement>('button[data-reason]')[Number(e.key) - 1]?.click();
      } else return;
    } else return;
    e.preventDefault();
  };
  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => keyHandler.current(e);
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);

  const toggleMute = (): void => {
    setMuted(!muted);
    setMutedState(!muted);
  };

  const open = items.filter((i) => i.disposition === null).length;
  return (
    <section class="alerts-page" aria-labelledby="alerts-title">
      <div class="toolbar">
        <h1 id="alerts-title">Alerts</h1>
        <span class={`feed ${feed}`} data-testid="feed-state" title={feedDetail}>
          feed: {feed}
        </span>
        <span class="count">{open} open</span>
        <button type="button" class="secondary" aria-pressed={muted} onClick={toggleMute} data-testid="mute">
          {muted ? 'Sound off (m)' : 'Sound on (m)'}
        </button>
      </div>
      <div class="sr-only" aria-live="assertive" data-testid="announce">
        {announcement}
      </div>
      <div class="alerts-split">
        <div class="alerts-list-wrap">
          <button
            type="button"
            class={`new-above ${above > 0 ? '' : 'hidden'}`}
            onClick={() => {
              listRef.current?.scrollTo({ top: 0 });
              setAbove(0);
            }}
          >
            {above} new above ↑
          </button>
          <ul
            class="alerts-list"
            role="listbox"
            aria-label="Alerts, newest first"
            ref={listRef}
            onScroll={(e) => {
              if (e.currentTarget.scrollTop < ROW_HEIGHT) setAbove(0);
            }}
            data-testid="alerts-list"
          >
            {items.length === 0 ? <li class="empty">No alerts yet. New alerts appear here as they are made.</li> : null}
            {items.map((i) => (
              <AlertRow key={i.alert.alertId} item={i} now={now} selected={i.alert.alertId === selectedId} onSelect={() => select(i.alert.alertId)} />
            ))}
            {items.length > 0 ? <li class="spacer" aria-hidden="true" role="presentation" style={{ height: `${spacer}px` }} /> : null}
          </ul>
        </div>
        <div class="detail-wrap">
          {selected === null ? (
            <p class="muted placeholder">Select an alert (j/k or click) to see it and confirm or reject it.</p>
          ) : (
            <AlertDetail key={selected.alert.alertId} item={selected} now={now} canDispose={canDispose} mode={mode} error={error} note={note} setNote={setNote} setMode={setMode} dispose={(r) => void dispose(r)} />
          )}
        </div>
      </div>
    </section>
  );
}
