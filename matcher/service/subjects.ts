/**
 * NATS subjects (DESIGN.md "NATS"): reads in on `<prefix>.reads.>`, alerts out on
 * `<prefix>.alerts.<agency>`, records on `<prefix>.records.<class>`, rejects on
 * `<prefix>.deadletter`.
 */
import type { RetentionClass } from '../types.js';

export interface Subjects {
  readonly prefix: string;
  /** Wildcard the service consumes. */
  readonly reads: string;
  readonly deadletter: string;
  alerts(agency: string | undefined): string;
  records(cls: RetentionClass): string;
}

/** Agency used in the alert subject of a read that names none. */
export const UNKNOWN_AGENCY = 'UNKNOWN';

/** A subject token from an agency ORI: characters NATS gives meaning to become `_`. */
export function agencyToken(agency: string | undefined): string {
  if (typeof agency !== 'string' || agency === '') return UNKNOWN_AGENCY;
  return agency.replace(/[\s.*>]/g, '_');
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
    records(cls) {
      return `${prefix}.records.${cls}`;
    },
  };
}
