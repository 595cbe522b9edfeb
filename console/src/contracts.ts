/**
 * The server's lists the console must agree with: roles per page, purposes, tiers, rejection
 * reasons. Copied rather than imported because the server's route files pull in fastify, pg
 * and node modules the browser bundle must not contain; test/unit/console-contracts.test.ts
 * asserts each copy equals the server's constant, so a change there fails the tests here.
 * This file imports nothing, so both the console build and the root typecheck can read it.
 */

export const ROLES = ['operator', 'analyst', 'supervisor', 'auditor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** matcher/ops/routes/search.ts SEARCH_ROLES */
export const SEARCH_ROLES: readonly Role[] = ['analyst', 'supervisor'];
/** matcher/ops/routes/holds.ts HOLD_ROLES, HOLD_RELEASE_ROLES */
export const HOLD_ROLES: readonly Role[] = ['analyst', 'supervisor'];
export const HOLD_RELEASE_ROLES: readonly Role[] = ['supervisor'];
/** matcher/ops/routes/sharing.ts SHARE_ROLES, SHARE_DECIDE_ROLES */
export const SHARE_ROLES: readonly Role[] = ['analyst', 'supervisor'];
export const SHARE_DECIDE_ROLES: readonly Role[] = ['supervisor'];
/** matcher/ops/routes/sensitive.ts SENSITIVE_ROLES (request, list), SENSITIVE_DECIDE_ROLES (approve, deny; never one's own) */
export const SENSITIVE_ROLES: readonly Role[] = ['analyst', 'supervisor'];
export const SENSITIVE_DECIDE_ROLES: readonly Role[] = ['supervisor'];
/** matcher/ops/routes/audit.ts AUDIT_ROLES */
export const AUDIT_ROLES: readonly Role[] = ['auditor', 'supervisor'];
/** GET /api/alerts/live and GET /api/alerts (matcher/ops/routes/live.ts, alerts.ts ALERT_READ_ROLES) */
export const LIVE_ROLES: readonly Role[] = ['operator', 'analyst', 'supervisor'];
/** POST /api/alerts/:id/disposition (matcher/ops/routes/alerts.ts DISPOSITION_ROLES) */
export const DISPOSITION_ROLES: readonly Role[] = ['operator', 'supervisor'];
/** GET /api/alerts/stats (matcher/ops/routes/alerts.ts ALERT_STATS_ROLES) */
export const STATS_ROLES: readonly Role[] = ['analyst', 'supervisor', 'auditor'];
/** GET /api/dashboard (matcher/ops/routes/live.ts): every logged-in role. */
export const DASHBOARD_ROLES: readonly Role[] = ROLES;

/** matcher/types.ts MATCH_TIERS, plus the partial tier alerts can carry. */
export const MATCH_TIERS = ['exact', 'ocr', 'fuzzy'] as const;
export type MatchTier = (typeof MATCH_TIERS)[number];

/** matcher/dispositions/validate.ts REJECT_REASONS */
export const REJECT_REASONS = ['misread', 'wrong_state', 'vehicle_mismatch', 'entry_inactive', 'other'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** matcher/policy/purpose.ts ALLOWED_PURPOSES (code, description, needs a case). */
export const PURPOSES: ReadonlyArray<{ code: string; description: string; investigative: boolean }> = [
  { code: 'STOLEN_VEHICLE', description: 'recovery of a stolen vehicle', investigative: false },
  { code: 'STOLEN_PLATE', description: 'recovery of a stolen license plate', investigative: false },
  { code: 'WANTED_PERSON', description: 'a person with an active warrant', investigative: false },
  { code: 'MISSING_PERSON', description: 'a missing person', investigative: false },
  { code: 'AMBER_ALERT', description: 'an AMBER alert (abducted child)', investigative: false },
  { code: 'SILVER_ALERT', description: 'a SILVER alert (missing endangered adult)', investigative: false },
  { code: 'PROTECTION_ORDER', description: 'enforcement of a protection order', investigative: false },
  { code: 'SUPERVISED_RELEASE', description: 'a person on supervised release', investigative: false },
  { code: 'BOLO', description: 'a be-on-the-lookout issued for a criminal matter', investigative: true },
  { code: 'FELONY_INVESTIGATION', description: 'a felony investigation', investigative: true },
  { code: 'HOMICIDE', description: 'a homicide investigation', investigative: true },
  { code: 'SHOOTING', description: 'a shooting investigation', investigative: true },
  { code: 'ROBBERY', description: 'a robbery investigation', investigative: true },
  { code: 'ASSAULT', description: 'an assault investigation', investigative: true },
  { code: 'SEXUAL_ASSAULT', description: 'a sexual assault investigation', investigative: true },
  { code: 'KIDNAPPING', description: 'a kidnapping or abduction investigation', investigative: true },
  { code: 'BURGLARY', description: 'a burglary investigation', investigative: true },
  { code: 'VEHICLE_THEFT', description: 'a vehicle theft investigation', investigative: true },
  { code: 'HIT_AND_RUN', description: 'a hit-and-run investigation', investigative: true },
  { code: 'HUMAN_TRAFFICKING', description: 'a human trafficking investigation', investigative: true },
  { code: 'NARCOTICS', description: 'a narcotics investigation', investigative: true },
  { code: 'FRAUD', description: 'a fraud investigation', investigative: true },
  { code: 'TERRORISM', description: 'a terrorism or homeland security investigation', investigative: true },
  { code: 'OTHER_CRIMINAL_INVESTIGATION', description: 'another criminal investigation', investigative: true },
  { code: 'INTERNAL_AFFAIRS', description: 'an internal affairs or personnel matter (Lakewood C.4.c)', investigative: true },
  { code: 'CIVIL_LITIGATION', description: 'a civil suit or lawful action to produce records', investigative: true },
  { code: 'SYSTEM_AUDIT', description: 'an audit of the ALPR system by its administrator', investigative: false },
];

/** matcher/policy/sensitive.ts DEFAULT_SENSITIVE_TAGS (names): the tags every installation has. */
export const SENSITIVE_DEFAULT_TAGS = ['healthcare', 'place_of_worship', 'protest_site'] as const;

/**
 * matcher/policy/sensitive.ts CRIMINAL_INVESTIGATIVE_PURPOSES: the purposes the default tags
 * allow (investigative, less internal affairs and civil litigation, which are not criminal).
 */
export const SENSITIVE_PURPOSES: readonly string[] = PURPOSES.filter((p) => p.investigative && p.code !== 'INTERNAL_AFFAIRS' && p.code !== 'CIVIL_LITIGATION').map((p) => p.code);

/** The console's pages, their paths and who may open them. */
export const PAGES = [
  { path: '/alerts', title: 'Alerts', roles: LIVE_ROLES },
  { path: '/search', title: 'Search', roles: SEARCH_ROLES },
  { path: '/holds', title: 'Holds', roles: HOLD_ROLES },
  { path: '/sharing', title: 'Sharing', roles: SHARE_ROLES },
  { path: '/sensitive', title: 'Sensitive places', roles: SENSITIVE_ROLES },
  { path: '/dashboard', title: 'Dashboard', roles: DASHBOARD_ROLES },
  { path: '/audit', title: 'Audit', roles: AUDIT_ROLES },
] as const;
export type PagePath = (typeof PAGES)[number]['path'];

/** Whether any of `roles` is in `allowed` (roles are additive, as on the server). */
export function allows(roles: readonly string[], allowed: readonly Role[]): boolean {
  return roles.some((r) => (allowed as readonly string[]).includes(r));
}

/** The pages a user with `roles` may open, in navigation order. */
export function pagesFor(roles: readonly string[]): Array<(typeof PAGES)[number]> {
  return PAGES.filter((p) => allows(roles, p.roles));
}

/** Milliseconds in a year: a search window reaching further back needs a reason. */
export const YEAR_MS = 365 * 86_400_000;

/** matcher/sharing/requests.ts APPROVAL_KINDS */
export const APPROVAL_KINDS = ['supervisor', 'county-attorney-notice'] as const;
