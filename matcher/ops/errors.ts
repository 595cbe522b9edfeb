/**
 * Errors of the operations API and how every typed error maps to an HTTP status. Responses
 * carry `{ error: code, message }` with the same stable `code` the library throws, so a client
 * switches on `error` exactly as a library caller switches on `err.code`.
 */
import { PlatesieveError } from '../errors.js';

/** Stable codes of {@link OpsError}. */
export const OPS_ERROR_CODES = [
  'ERR_UNAUTHENTICATED',
  'ERR_FORBIDDEN_ROLE',
  'ERR_RATE_LIMITED',
  'ERR_BAD_REQUEST',
  'ERR_NOT_FOUND',
  'ERR_NATS_UNAVAILABLE',
  'ERR_AUDIT_UNAVAILABLE',
  // GET /api/alerts/live: the instance serves its maximum of streams.
  'ERR_LIVE_FULL',
  'ERR_INTERNAL',
] as const;
export type OpsErrorCode = (typeof OPS_ERROR_CODES)[number];

const STATUS: Readonly<Record<string, number>> = {
  ERR_UNAUTHENTICATED: 401,
  ERR_FORBIDDEN_ROLE: 403,
  ERR_RATE_LIMITED: 429,
  ERR_BAD_REQUEST: 400,
  ERR_NOT_FOUND: 404,
  ERR_NATS_UNAVAILABLE: 503,
  ERR_AUDIT_UNAVAILABLE: 503,
  ERR_LIVE_FULL: 503,
  ERR_INTERNAL: 500,
  // People (matcher/people/errors.ts)
  ERR_AUTH_INVALID: 401,
  ERR_AUTH_TOTP_REQUIRED: 401,
  ERR_AUTH_TOTP_INVALID: 401,
  ERR_AUTH_LOCKED: 423,
  ERR_AUTH_DISABLED: 403,
  ERR_SESSION_INVALID: 401,
  ERR_SESSION_EXPIRED: 401,
  ERR_USER_EXISTS: 409,
  ERR_USER_NOT_FOUND: 404,
  ERR_WEAK_PASSWORD: 400,
  ERR_BAD_USERNAME: 400,
  ERR_MFA_REQUIRED: 400,
  ERR_BAD_ROLE: 400,
  // Purpose rules: the request is understood and refused by policy.
  ERR_PURPOSE_REFUSED: 403,
  // Store and matcher input
  ERR_SEARCH_QUERY: 400,
  ERR_SEARCH_PLATE: 400,
  ERR_SEARCH_PATTERN: 400,
  ERR_SEARCH_WINDOW: 400,
  ERR_SEARCH_DISTANCE: 400,
  ERR_SEARCH_TIERS: 400,
  ERR_SEARCH_LIMIT: 400,
  ERR_INVALID_ENTRY: 400,
  ERR_PATTERN: 400,
  ERR_OPTIONS: 400,
  HOLD_NOT_FOUND: 404,
  // Sensitive places (matcher/sensitive/errors.ts): the body carries `refusal` (and `citation`).
  ERR_SENSITIVE_NOT_FOUND: 404,
  ERR_SENSITIVE_SELF_APPROVAL: 403,
  ERR_SENSITIVE_NOT_PENDING: 409,
  ERR_SENSITIVE_TAG: 400,
  ERR_SENSITIVE_PURPOSE: 403,
  ERR_SENSITIVE_NEXUS: 400,
  ERR_SENSITIVE_APPROVAL: 403,
  // Alert verification (matcher/dispositions/): the body carries the refusal's `problem`.
  ERR_INVALID_DISPOSITION: 400,
  ERR_ALERT_NOT_FOUND: 404,
  ERR_ALREADY_DISPOSITIONED: 409,
  ERR_AGENCY_MISMATCH: 403,
  ERR_ALERT_QUERY: 400,
};

/** Codes whose errors carry a `problem` the response repeats (disposition refusals). */
export const PROBLEM_CODES: ReadonlySet<string> = new Set(['ERR_INVALID_DISPOSITION', 'ERR_ALERT_NOT_FOUND', 'ERR_ALREADY_DISPOSITIONED', 'ERR_AGENCY_MISMATCH']);

/** A request the API refuses for a reason of its own (not the library's). */
export class OpsError extends PlatesieveError {
  declare readonly code: OpsErrorCode;
  constructor(code: OpsErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** The HTTP status of an error with a stable code; 500 for anything unknown. */
export function statusOf(code: string): number {
  return STATUS[code] ?? 500;
}

/** The code of any thrown value: its own `code` when it is a string the table knows. */
export function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code in STATUS ? code : 'ERR_INTERNAL';
}
