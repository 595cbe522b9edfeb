/**
 * The shape of the periodic audit report (report.ts builds it; docs/audit.md "The periodic
 * report" defines every count and anomaly rule). Plain JSON: the API returns it as is.
 */

/** Kinds of anomaly the report flags; docs/audit.md gives the rule of each. */
export const ANOMALY_KINDS = [
  'search-without-case',
  'older-than-one-year',
  'volume-spike',
  'empty-searches',
  'failed-logins',
  'forbidden-purpose',
  'direct-access',
] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

/** One flagged pattern of one actor in the period. */
export interface AuditAnomaly {
  kind: AnomalyKind;
  actor: string;
  /** How many records (for `volume-spike`: the actor's actions in the period). */
  count: number;
  /** One line for a person: what was seen, against which threshold. */
  detail: string;
  /** The records concerned, in order. */
  seqs: number[];
}

/** One actor's actions in the period. */
export interface AuditUserRow {
  actor: string;
  /** Roles seen in the actor's records (`details.roles`); `['unknown']` when none named any. */
  roles: string[];
  total: number;
  refused: number;
  byAction: { [action: string]: number };
  byPurpose: { [purpose: string]: number };
}

/** The periodic audit of one period `[from, to)`. */
export interface AuditReport {
  /** Start of the period, epoch ms (inclusive). */
  from: number;
  /** End of the period, epoch ms (exclusive). */
  to: number;
  /** Records in the period (the genesis record included when it falls in it). */
  records: number;
  /** Sorted by actor. */
  byUser: AuditUserRow[];
  /** Sorted by action. */
  byAction: Array<{ action: string; count: number; refused: number }>;
  /** Records by purpose code; `(none)` for records without one. Sorted by purpose. */
  byPurpose: Array<{ purpose: string; count: number }>;
  /** Records by the actor's role (`details.roles`; a record with two roles counts under both; `unknown` when none). Sorted by role. */
  byRole: Array<{ role: string; count: number; actors: number }>;
  searches: {
    total: number;
    ok: number;
    refused: number;
    /** Searches done (ok) with a case number, and without. */
    withCase: number;
    withoutCase: number;
    /** Searches done that found nothing (`subject.count` 0). */
    empty: number;
    /** Searches done whose window starts more than 365 days before the search, and of those, with a reason. */
    olderThanOneYear: number;
    olderThanOneYearWithReason: number;
    /** Sum of `subject.count` of the searches done. */
    results: number;
  };
  exports: { total: number; refused: number; records: number };
  holds: { added: number; released: number; listed: number; refused: number };
  /** Records with outcome `refused`, by the rule's code (`details.code`, `unknown` without one). */
  refusals: { total: number; byCode: Array<{ code: string; count: number }>; byAction: Array<{ action: string; count: number }> };
  logins: { ok: number; failed: number; logouts: number; sessionRefused: number; byUser: Array<{ actor: string; ok: number; failed: number }> };
  anomalies: AuditAnomaly[];
  /**
   * The chain as read: `head` and `lastSeq` of the last record read (at or before the end of the
   * period); `verified` when the records read started at the genesis record and every one
   * verified (hash, seq, prev, time order). Keep `head` elsewhere (see docs/audit.md).
   */
  chain: { head: string; lastSeq: number; verified: boolean; logId?: string; problem?: string };
}

/** Options of auditReport. */
export interface AuditReportOptions {
  /** Start of the period, epoch ms (inclusive). */
  from: number;
  /** End of the period, epoch ms (exclusive). */
  to: number;
  /** Days before `from` whose activity gives each actor's usual volume (default 30). */
  baselineDays?: number;
  /** A period rate above this many times the usual daily volume is a spike (default 3). */
  spikeFactor?: number;
  /** Usual daily volume assumed at least this (default 5): a user usually idle is not flagged for a handful of actions. */
  spikeFloor?: number;
  /** Searches with no result, per actor, from which it is an anomaly (default 5). */
  emptySearchThreshold?: number;
  /** Failed logins, per actor, from which it is an anomaly (default 3). */
  failedLoginThreshold?: number;
}
