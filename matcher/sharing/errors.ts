/** Errors of sharing (docs/sharing.md). Their `code`s are the API's, so responses map directly. */
import { PlatesieveError } from '../errors.js';

/** Why a sharing step was refused; stable, callers switch on these. */
export type SharingRefusal =
  | 'NOT_FOUND' // no such request
  | 'SELF_APPROVAL' // the requester may not approve (or record a step of) their own request
  | 'NOT_PENDING' // the request is already decided
  | 'DUPLICATE_STEP' // this approval step is already recorded
  | 'NOT_APPROVED' // export of a request that is not (fully) approved
  | 'ALREADY_EXPORTED' // the one export exists: fetch it with GET
  | 'NOT_EXPORTED' // GET of an export not made yet
  | 'NOT_FEDERAL'; // the county-attorney step is for federal requests only

const CODES: Readonly<Record<SharingRefusal, 'ERR_NOT_FOUND' | 'ERR_BAD_REQUEST' | 'ERR_FORBIDDEN_ROLE'>> = {
  NOT_FOUND: 'ERR_NOT_FOUND',
  SELF_APPROVAL: 'ERR_FORBIDDEN_ROLE',
  NOT_PENDING: 'ERR_BAD_REQUEST',
  DUPLICATE_STEP: 'ERR_BAD_REQUEST',
  NOT_APPROVED: 'ERR_BAD_REQUEST',
  ALREADY_EXPORTED: 'ERR_BAD_REQUEST',
  NOT_EXPORTED: 'ERR_NOT_FOUND',
  NOT_FEDERAL: 'ERR_BAD_REQUEST',
};

/** A sharing step refused; `refusal` says which rule. */
export class SharingError extends PlatesieveError {
  readonly refusal: SharingRefusal;
  constructor(refusal: SharingRefusal, message: string) {
    super(CODES[refusal], message);
    this.refusal = refusal;
  }
}
