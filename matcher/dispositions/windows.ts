/**
 * NCIC-style confirmation windows: how long an alert may wait for a disposition before it is
 * escalated. NCIC asks the entering agency to answer a hit confirmation within 10 minutes when
 * the hit may be the only ground for holding a person or vehicle (urgent), within an hour
 * otherwise (routine); an agency maps its lists to these with `escalation` in the config.
 * One owner for the rule, read by the store's escalation sweep, the API's alert lists and the
 * console's countdown, so the three never disagree.
 */
import type { EscalationConfig } from '../service/config-schema.js';

/** Whether an alert's window is the urgent or the routine one, or a per-list setting. */
export type WindowKind = 'urgent' | 'routine' | 'list';

/** The confirmation window of one alert. */
export interface ConfirmationWindow {
  kind: WindowKind;
  /** Milliseconds from the alert to its deadline. */
  ms: number;
}

/** The settings the window rule reads (the `escalation` section, defaults filled in). */
export type WindowSettings = Pick<EscalationConfig, 'urgentMinutes' | 'routineMinutes' | 'urgentPriority' | 'lists'>;

/** The defaults of the `escalation` section, for callers without a configuration file. */
export const DEFAULT_WINDOWS: WindowSettings = { urgentMinutes: 10, routineMinutes: 60, urgentPriority: 2, lists: {} };

/**
 * The window of an alert on list `list` with priority `priority` (1 highest .. 5): the list's
 * own setting when there is one, else urgent for priorities 1..urgentPriority, else routine.
 */
export function confirmationWindow(list: string | undefined, priority: number | undefined, settings: WindowSettings = DEFAULT_WINDOWS): ConfirmationWindow {
  const perList = list === undefined ? undefined : settings.lists[list];
  if (perList !== undefined) return { kind: 'list', ms: Math.round(perList * 60_000) };
  const p = typeof priority === 'number' && Number.isFinite(priority) ? priority : 3;
  return p <= settings.urgentPriority
    ? { kind: 'urgent', ms: Math.round(settings.urgentMinutes * 60_000) }
    : { kind: 'routine', ms: Math.round(settings.routineMinutes * 60_000) };
}

/** Epoch ms by which an alert made at `alertAt` must be dispositioned. */
export function confirmationDeadline(alertAt: number, list: string | undefined, priority: number | undefined, settings?: WindowSettings): number {
  return alertAt + confirmationWindow(list, priority, settings).ms;
}
