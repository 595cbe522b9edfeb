/**
 * Validation of alert dispositions, shared by the operations API and the NATS consumer so
 * that both refuse the same inputs with the same reasons.
 */
import { PlatesieveError } from '../errors.js';

/** Outcomes an alert can be dispositioned with. */
export const OUTCOMES = ['confirmed', 'rejected', 'no_action'] as const;
/** The outcome of a disposition. */
export type DispositionOutcome = (typeof OUTCOMES)[number];

/** Reasons a rejected alert must carry; `other` needs a note. */
export const REJECT_REASONS = ['misread', 'wrong_state', 'vehicle_mismatch', 'entry_inactive', 'other'] as const;
/** The reason of a rejection. */
export type RejectReason = (typeof REJECT_REASONS)[number];

/** A validated disposition (fields as published in docs/contracts.md). */
export interface Disposition {
  alertId: string;
  outcome: DispositionOutcome;
  reason?: RejectReason;
  note?: string;
  by: string;
  at: number;
  verifiedWith?: string;
}

/** Stable problems of an invalid disposition. */
export type DispositionProblem =
  | 'NOT_OBJECT'
  | 'BAD_ALERT_ID'
  | 'BAD_OUTCOME'
  | 'REASON_REQUIRED'
  | 'BAD_REASON'
  | 'REASON_NOT_ALLOWED'
  | 'NOTE_REQUIRED'
  | 'BAD_NOTE'
  | 'BAD_BY'
  | 'BAD_AT'
  | 'BAD_VERIFIED_WITH';

/** A disposition was refused; `problem` says why. */
export class InvalidDispositionError extends PlatesieveError {
  readonly problem: DispositionProblem;
  constructor(problem: DispositionProblem, message: string) {
    super('ERR_INVALID_DISPOSITION', message);
    this.problem = problem;
  }
}

const MAX_TEXT = 2000;

function optionalText(value: unknown, problem: DispositionProblem, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > MAX_TEXT) {
    throw new InvalidDispositionError(problem, `${field} must be a string of at most ${MAX_TEXT} characters`);
  }
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/**
 * Checks an untrusted disposition and returns it typed.
 * @throws InvalidDispositionError with a stable `problem`.
 */
export function validateDisposition(input: unknown): Disposition {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidDispositionError('NOT_OBJECT', 'a disposition must be an object');
  }
  const o = input as Record<string, unknown>;
  if (typeof o.alertId !== 'string' || o.alertId.trim() === '' || o.alertId.length > 200) {
    throw new InvalidDispositionError('BAD_ALERT_ID', 'alertId must be a non-empty string');
  }
  if (typeof o.outcome !== 'string' || !(OUTCOMES as readonly string[]).includes(o.outcome)) {
    throw new InvalidDispositionError('BAD_OUTCOME', `outcome must be one of ${OUTCOMES.join(', ')}`);
  }
  const outcome = o.outcome as DispositionOutcome;
  const note = optionalText(o.note, 'BAD_NOTE', 'note');
  let reason: RejectReason | undefined;
  if (outcome === 'rejected') {
    if (o.reason === undefined || o.reason === null) {
      throw new InvalidDispositionError('REASON_REQUIRED', 'a rejected alert needs a reason');
    }
    if (typeof o.reason !== 'string' || !(REJECT_REASONS as readonly string[]).includes(o.reason)) {
      throw new InvalidDispositionError('BAD_REASON', `reason must be one of ${REJECT_REASONS.join(', ')}`);
    }
    reason = o.reason as RejectReason;
    if (reason === 'other' && note === undefined) {
      throw new InvalidDispositionError('NOTE_REQUIRED', 'reason "other" needs a note');
    }
  } else if (o.reason !== undefined && o.reason !== null) {
    throw new InvalidDispositionError('REASON_NOT_ALLOWED', 'only a rejected alert carries a reason');
  }
  if (typeof o.by !== 'string' || o.by.trim() === '' || o.by.length > 200) {
    throw new InvalidDispositionError('BAD_BY', 'by must be a non-empty string');
  }
  if (typeof o.at !== 'number' || !Number.isSafeInteger(o.at) || o.at <= 0) {
    throw new InvalidDispositionError('BAD_AT', 'at must be epoch milliseconds');
  }
  const verifiedWith = optionalText(o.verifiedWith, 'BAD_VERIFIED_WITH', 'verifiedWith');
  const d: Disposition = { alertId: o.alertId, outcome, by: o.by, at: o.at };
  if (reason !== undefined) d.reason = reason;
  if (note !== undefined) d.note = note;
  if (verifiedWith !== undefined) d.verifiedWith = verifiedWith;
  return d;
}
