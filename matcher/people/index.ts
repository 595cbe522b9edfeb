/**
 * People: accounts, passwords, TOTP, sessions, lockout and roles over PostgreSQL
 * (docs/people.md). The operations API and the `platesieve users` command build on it.
 */
export { ANONYMOUS_ACTOR, People } from './people.js';
export { AuthError, AUTH_ERROR_CODES, type AuthErrorCode } from './errors.js';
export { ROLES, hasRole, isRole, requiresMfa, type Role } from './roles.js';
export type { Account, AddUserRequest, LoginRequest, PeopleOptions, Session, TotpEnrolment } from './types.js';
