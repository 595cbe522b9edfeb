/** Errors of sensitive places (docs/sensitive-places.md). Their `code`s are the API's too. */
import { PlatesieveError } from '../errors.js';

/** Why a sensitive-place step was refused; stable, callers switch on these. */
export type SensitiveRefusal =
  | 'NOT_FOUND' // no such approval request (approve, deny)
  | 'SELF_APPROVAL' // the requester may not decide their own request
  | 'NOT_PENDING' // the request is already decided
  | 'UNKNOWN_TAG' // a request names a tag no rule defines
  | 'PURPOSE' // a tag's rule does not allow the purpose at all
  | 'NEXUS' // a request without the articulated nexus (or one too long)
  | 'APPROVAL_UNKNOWN' // a search or sharing request names an approval that does not exist
  | 'APPROVAL_PENDING' // ... one not decided yet
  | 'APPROVAL_DENIED' // ... one a supervisor denied
  | 'APPROVAL_EXPIRED' // ... one past its expiry
  | 'APPROVAL_NOT_YOURS' // ... one another user requested
  | 'APPROVAL_SCOPE'; // a sharing request names an approval for another purpose or case

/** Stable codes of {@link SensitiveError}. */
export type SensitiveErrorCode =
  | 'ERR_SENSITIVE_NOT_FOUND'
  | 'ERR_SENSITIVE_SELF_APPROVAL'
  | 'ERR_SENSITIVE_NOT_PENDING'
  | 'ERR_SENSITIVE_TAG'
  | 'ERR_SENSITIVE_PURPOSE'
  | 'ERR_SENSITIVE_NEXUS'
  | 'ERR_SENSITIVE_APPROVAL';

const CODES: Readonly<Record<SensitiveRefusal, SensitiveErrorCode>> = {
  NOT_FOUND: 'ERR_SENSITIVE_NOT_FOUND',
  SELF_APPROVAL: 'ERR_SENSITIVE_SELF_APPROVAL',
  NOT_PENDING: 'ERR_SENSITIVE_NOT_PENDING',
  UNKNOWN_TAG: 'ERR_SENSITIVE_TAG',
  PURPOSE: 'ERR_SENSITIVE_PURPOSE',
  NEXUS: 'ERR_SENSITIVE_NEXUS',
  APPROVAL_UNKNOWN: 'ERR_SENSITIVE_APPROVAL',
  APPROVAL_PENDING: 'ERR_SENSITIVE_APPROVAL',
  APPROVAL_DENIED: 'ERR_SENSITIVE_APPROVAL',
  APPROVAL_EXPIRED: 'ERR_SENSITIVE_APPROVAL',
  APPROVAL_NOT_YOURS: 'ERR_SENSITIVE_APPROVAL',
  APPROVAL_SCOPE: 'ERR_SENSITIVE_APPROVAL',
};

/** A sensitive-place step refused; `refusal` says which rule, `citation` the policy clause when one applies. */
export class SensitiveError extends PlatesieveError {
  declare readonly code: SensitiveErrorCode;
  readonly refusal: SensitiveRefusal;
  readonly citation?: string;
  constructor(refusal: SensitiveRefusal, message: string, citation?: string) {
    super(CODES[refusal], message);
    this.refusal = refusal;
    if (citation !== undefined) this.citation = citation;
  }
}
