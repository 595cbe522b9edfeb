/**
 * JSON schemas shared by the routes: they validate requests, shape responses and make the
 * OpenAPI document (GET /openapi.json). The schema is the contract: a field not listed in a
 * response schema is not sent.
 */
import { ROLES } from '../people/index.js';
import { MATCH_TIERS } from '../types.js';

/** Every error response: the stable code and one line for a person. */
export const errorSchema = {
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string', description: 'stable error code (ERR_...)' },
    message: { type: 'string' },
    /** Purpose refusals: the rule's category, code and citation. */
    category: { type: 'string' },
    refusal: { type: 'string' },
    citation: { type: 'string' },
  },
} as const;

/** The error responses every authenticated route may give. */
export const authErrors = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 500: errorSchema } as const;

export const roleSchema = { type: 'string', enum: [...ROLES] } as const;

/** Epoch milliseconds, or an ISO 8601 string (the wire contract accepts both on input). */
export const timeInput = { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', minLength: 1 }] } as const;

/** Any JSON object, kept whole (a stored record, a hotlist entry, a report). */
/**
 * The store search's query fields (docs/store.md), shared by `POST /api/search` and a sharing
 * request's `query`, so both accept the same searches; `maxLimit` is each route's own cap.
 */
export function searchQueryProperties(maxLimit: number) {
  return {
    plate: { type: 'string', minLength: 1, maxLength: 32 },
    pattern: { type: 'string', minLength: 1, maxLength: 64 },
    tiers: { type: 'array', items: { type: 'string', enum: [...MATCH_TIERS] }, minItems: 1 },
    maxDistance: { type: 'integer', minimum: 0, maximum: 2 },
    state: { type: 'string', minLength: 1, maxLength: 8 },
    cameraId: { type: 'string', minLength: 1 },
    from: timeInput,
    to: timeInput,
    limit: { type: 'integer', minimum: 1, maximum: maxLimit },
  } as const;
}

export const freeObject = { type: 'object', additionalProperties: true } as const;

export const okSchema = { type: 'object', required: ['ok'], properties: { ok: { type: 'boolean' } } } as const;

export const accountSchema = {
  type: 'object',
  required: ['username', 'roles', 'disabled', 'mfa', 'createdAt', 'createdBy', 'failures'],
  properties: {
    username: { type: 'string' },
    roles: { type: 'array', items: roleSchema },
    disabled: { type: 'boolean' },
    mfa: { type: 'boolean' },
    createdAt: { type: 'string' },
    createdBy: { type: 'string' },
    lastLoginAt: { type: 'string' },
    lockedUntil: { type: 'string' },
    failures: { type: 'integer' },
  },
} as const;

/** A freshly issued TOTP secret, shown once. */
export const totpSchema = { type: 'object', required: ['secret', 'uri'], properties: { secret: { type: 'string' }, uri: { type: 'string' } } } as const;

export const holdSchema = {
  type: 'object',
  required: ['holdId', 'case', 'purpose', 'reason', 'createdBy', 'createdAt', 'records'],
  properties: {
    holdId: { type: 'string' },
    case: { type: 'string' },
    purpose: { type: 'string' },
    reason: { type: 'string' },
    plate: { type: 'string' },
    from: { type: 'number' },
    to: { type: 'number' },
    readIds: { type: 'array', items: { type: 'string' } },
    createdBy: { type: 'string' },
    createdAt: { type: 'string' },
    releasedBy: { type: 'string' },
    releasedAt: { type: 'string' },
    releaseReason: { type: 'string' },
    records: { type: 'integer' },
  },
} as const;

export const auditRecordSchema = {
  type: 'object',
  required: ['seq', 'at', 'actor', 'action', 'outcome', 'prev', 'hash'],
  properties: {
    seq: { type: 'integer' },
    at: { type: 'number' },
    actor: { type: 'string' },
    action: { type: 'string' },
    outcome: { type: 'string', enum: ['ok', 'refused'] },
    purpose: { type: 'string' },
    case: { type: 'string' },
    subject: freeObject,
    reason: { type: 'string' },
    details: freeObject,
    prev: { type: 'string' },
    hash: { type: 'string' },
  },
} as const;
