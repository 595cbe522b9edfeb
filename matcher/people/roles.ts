/**
 * Roles of the operations API and what each may do (docs/people.md). Roles are additive: an
 * account holds one or more, and an action is allowed when any of them allows it.
 */

/**
 * `operator`: live alerts and dispositions. `analyst`: search, holds. `supervisor`: approvals,
 * hold release, reports. `auditor`: the audit log and reports only. `admin`: accounts and
 * configuration.
 */
export const ROLES = ['operator', 'analyst', 'supervisor', 'auditor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Whether a string is one of {@link ROLES}. */
export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/**
 * Roles that see stored data and therefore must have TOTP: every role except a plain operator.
 * An operator only sees live alerts as they happen; anyone who can read the store, the audit log
 * or change accounts is a higher-value target and needs a second factor.
 */
export function requiresMfa(roles: readonly Role[]): boolean {
  return roles.some((r) => r !== 'operator');
}

/** Whether any of `roles` is in `allowed`. */
export function hasRole(roles: readonly Role[], allowed: readonly Role[]): boolean {
  return roles.some((r) => allowed.includes(r));
}
