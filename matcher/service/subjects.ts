/**
 * NATS subjects (docs/contracts.md "NATS"): reads in on `<prefix>.reads.>`, alerts out on
 * `<prefix>.alerts.<agency>`, records on `<prefix>.records.<class>.<policy>`, rejects on
 * `<prefix>.deadletter`.
 *
 * Records carry the retention policy as a last token (docs/contracts.md "NATS"):
 * retention is enforced by JetStream streams whose max_age is the policy's, and a stream can
 * only select by subject, so agencies with different periods need different subjects. A
 * consumer of every record of a class subscribes to `<prefix>.records.<class>.>`.
 */
import type { RetentionClass } from '../types.js';

export interface Subjects {
  readonly prefix: string;
  /** Wildcard the service consumes. */
  readonly reads: string;
  readonly deadletter: string;
  alerts(agency: string | undefined): string;
  /** Records of one retention class under one agency policy: `<prefix>.records.<class>.<policy>`. */
  records(cls: RetentionClass, policy: string): string;
}

/** Agency used in the alert subject of a read that names none. */
export const UNKNOWN_AGENCY = 'UNKNOWN';

// Characters NATS gives meaning to in a subject (separator, wildcards, the white space that
// ends the subject on the protocol line) and control characters.
// eslint-disable-next-line no-control-regex -- control characters are what is replaced
const NOT_IN_TOKEN = /[\s.*>\x00-\x1f\x7f]/g;

/**
 * A subject token from an agency ORI: characters NATS gives meaning to become `_`. Reads are
 * checked at decode (bounds.ts: at most 64 printable ASCII bytes), so the alert subject stays
 * far below the server's control line (4 KiB), whose overrun closes the connection.
 */
export function agencyToken(agency: string | undefined): string {
  if (typeof agency !== 'string' || agency === '') return UNKNOWN_AGENCY;
  return agency.replace(NOT_IN_TOKEN, '_');
}

/** A subject token from a name (a retention policy, at most 64 characters by configuration): characters NATS gives meaning to become `_`. */
export function subjectToken(name: string): string {
  return name.replace(NOT_IN_TOKEN, '_');
}

export function subjectsFor(prefix: string): Subjects {
  const alertCache = new Map<string, string>();
  return {
    prefix,
    reads: `${prefix}.reads.>`,
    deadletter: `${prefix}.deadletter`,
    alerts(agency) {
      const token = agencyToken(agency);
      let s = alertCache.get(token);
      if (s === undefined) {
        s = `${prefix}.alerts.${token}`;
        if (alertCache.size < 10_000) alertCache.set(token, s);
      }
      return s;
    },
    records(cls, policy) {
      return `${prefix}.records.${cls}.${subjectToken(policy)}`;
    },
  };
}
