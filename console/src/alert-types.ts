/** Alerts as the live feed (GET /api/alerts/live) and the list (GET /api/alerts) send them. */

export interface Alert {
  alertId: string;
  readId: string;
  plate: string;
  matchedPlate: string;
  hotlistPlate?: string;
  pattern?: string;
  state?: string;
  hotlistState?: string;
  ts?: number;
  cameraId?: string;
  agency?: string;
  entryId: string;
  list: string;
  priority: number;
  match: string;
  distance: number;
  score: number;
  imageRef?: string;
  verify: string;
  stale?: boolean;
  historical?: boolean;
  stateMismatch?: boolean;
  case?: string;
  sightings?: number;
}

export interface DispositionInfo {
  outcome: 'confirmed' | 'rejected' | 'no_action';
  reason?: string;
  note?: string;
  by?: string;
  at?: number;
}

/** One alert on the page: the alert, its confirmation window and what happened to it. */
export interface AlertItem {
  alert: Alert;
  deadline: number | null;
  windowKind: string | null;
  receivedAt: number;
  /** performance.now() when the page received it: the latency test reads it. */
  shownAt: number;
  escalatedAt?: number;
  disposition: DispositionInfo | null;
}

export type LiveEvent =
  | { kind: 'alert'; alert: Alert; deadline: number | null; windowKind: string | null; receivedAt: number }
  | { kind: 'escalation'; alertId: string; at: number }
  | { kind: 'disposition'; alertId: string; disposition: DispositionInfo };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** The events of one SSE message: a message may carry an array (several dispositions at once). */
export function liveEvents(event: string, data: string): LiveEvent[] {
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    return [];
  }
  const out: LiveEvent[] = [];
  for (const item of Array.isArray(v) ? (v as unknown[]) : [v]) {
    const e = liveEvent(event, item);
    if (e !== null) out.push(e);
  }
  return out;
}

/** A feed event, or null when its data is not what the contract says (skipped, not fatal). */
export function liveEvent(event: string, v: unknown): LiveEvent | null {
  if (!isObject(v)) return null;
  if (event === 'alert') {
    const a = v.alert;
    if (!isObject(a) || typeof a.alertId !== 'string') return null;
    return {
      kind: 'alert',
      alert: a as unknown as Alert,
      deadline: typeof v.deadline === 'number' ? v.deadline : null,
      windowKind: typeof v.windowKind === 'string' ? v.windowKind : null,
      receivedAt: typeof v.receivedAt === 'number' ? v.receivedAt : Date.now(),
    };
  }
  if (typeof v.alertId !== 'string') return null;
  if (event === 'escalation') return { kind: 'escalation', alertId: v.alertId, at: typeof v.at === 'number' ? v.at : Date.now() };
  if (event === 'disposition' && typeof v.outcome === 'string') {
    return { kind: 'disposition', alertId: v.alertId, disposition: v as unknown as DispositionInfo };
  }
  return null;
}
