/**
 * The alerts the page shows: the recent undispositioned ones (GET /api/alerts) merged with the
 * live feed, newest first, one entry per alertId whichever way it arrived first. Dispositions
 * made here or by a colleague (the feed's `disposition` event) mark the alert done in place
 * instead of removing it, so rows never move under the operator's pointer.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, query } from './api.js';
import type { Alert, AlertItem, DispositionInfo, LiveEvent } from './alert-types.js';
import { beep } from './beep.js';
import { LiveFeed, type FeedState } from './live-feed.js';

/** Alerts kept on the page; older ones drop off the end. */
const KEEP = 500;
/** Priorities that sound (1 highest). */
const LOUD_PRIORITY = 2;

/** An alert of GET /api/alerts: nested under `alert`, or its fields at the top level. */
interface ListedAlert extends Partial<Alert> {
  alert?: Alert;
  deadline?: number | null;
  windowKind?: string | null;
  escalatedAt?: number | null;
  disposition?: DispositionInfo | null;
}

export interface AlertsState {
  items: AlertItem[];
  feed: FeedState;
  feedDetail: string;
  /** Announcement for the aria-live region (the newest alert). */
  announcement: string;
  /** How many alerts arrived since the page was opened (scroll anchoring reads it). */
  arrivals: number;
  markDisposed: (alertId: string, d: DispositionInfo) => void;
}

export function useAlerts(): AlertsState {
  const [items, setItems] = useState<AlertItem[]>([]);
  const [feed, setFeed] = useState<FeedState>('connecting');
  const [feedDetail, setFeedDetail] = useState('');
  const [announcement, setAnnouncement] = useState('');
  const [arrivals, setArrivals] = useState(0);
  const ref = useRef<AlertItem[]>([]);

  const update = (f: (list: AlertItem[]) => AlertItem[]): void => {
    ref.current = f(ref.current);
    setItems(ref.current);
  };
  const patch = (alertId: string, f: (i: AlertItem) => AlertItem): void => update((list) => list.map((i) => (i.alert.alertId === alertId ? f(i) : i)));

  useEffect(() => {
    const onEvent = (e: LiveEvent): void => {
      if (e.kind === 'alert') {
        if (ref.current.some((i) => i.alert.alertId === e.alert.alertId)) return;
        const item: AlertItem = { alert: e.alert, deadline: e.deadline, windowKind: e.windowKind, receivedAt: e.receivedAt, shownAt: performance.now(), disposition: null };
        update((list) => [item, ...list].slice(0, KEEP));
        setArrivals((n) => n + 1);
        setAnnouncement(`New alert: plate ${e.alert.plate}, list ${e.alert.list}, priority ${e.alert.priority}, camera ${e.alert.cameraId ?? 'unknown'}`);
        if (e.alert.priority <= LOUD_PRIORITY) beep();
      } else if (e.kind === 'escalation') {
        patch(e.alertId, (i) => ({ ...i, escalatedAt: e.at }));
      } else {
        patch(e.alertId, (i) => ({ ...i, disposition: e.disposition }));
      }
    };
    const live = new LiveFeed(onEvent, (s, detail) => {
      setFeed(s);
      setFeedDetail(detail ?? '');
    });
    // The backlog after the feed is open, so nothing published in between is missed; the
    // alertId check above and below drops whichever copy comes second.
    const abort = new AbortController();
    api<{ alerts: ListedAlert[] }>('GET', `/api/alerts${query({ undispositioned: true, limit: 200 })}`, undefined, abort.signal)
      .then((r) => {
        const known = new Set(ref.current.map((i) => i.alert.alertId));
        const backlog: AlertItem[] = r.alerts
          .map((x) => ({ x, alert: x.alert !== undefined ? { ...x.alert, alertId: x.alert.alertId ?? x.alertId } : (x as Alert) }))
          .filter(({ alert }) => typeof alert.alertId === 'string' && !known.has(alert.alertId))
          .map(({ x, alert }) => ({ alert, deadline: x.deadline ?? null, windowKind: x.windowKind ?? null, receivedAt: alert.ts ?? 0, shownAt: performance.now(), ...(typeof x.escalatedAt === 'number' ? { escalatedAt: x.escalatedAt } : {}), disposition: x.disposition ?? null }));
        update((list) => [...list, ...backlog].sort((a, b) => (b.alert.ts ?? b.receivedAt) - (a.alert.ts ?? a.receivedAt)).slice(0, KEEP));
      })
      .catch(() => undefined); // No backlog (older server, refused): the live feed still works.
    return () => {
      live.close();
      abort.abort();
    };
  }, []);

  return { items, feed, feedDetail, announcement, arrivals, markDisposed: (id, d) => patch(id, (i) => ({ ...i, disposition: d })) };
}
