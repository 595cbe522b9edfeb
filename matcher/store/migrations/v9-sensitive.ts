/**
 * Migration 9: sensitive places (matcher/sensitive/, docs/sensitive-places.md).
 *
 * - `sensitive_approvals`: a request to see reads of tagged cameras (healthcare facility, place
 *   of worship, protest site, local tags) for one purpose and case, with the articulated nexus
 *   to criminal activity that Englewood PD 425.5 (g)-(i) ask for, and a supervisor's decision:
 *   who decided, when, why, and until when an approval holds. The CHECKs keep a decided row
 *   consistent whatever code writes it.
 * - `share_requests.sensitive_approval`: the approval a sharing request's export relies on.
 */
import type { Migration } from '../schema.js';

// schema.ts's SCHEMA, spelled out: schema.ts imports this module (see v4-audit.ts).
const S = 'platesieve';

/** Schema version 9: sensitive-place approvals. */
export const v9Sensitive: Migration = {
  version: 9,
  name: 'sensitive-place approvals',
  sql: `
CREATE TABLE ${S}.sensitive_approvals (
  id           text   PRIMARY KEY,
  requested_by text   NOT NULL,
  tags         text[] NOT NULL CHECK (cardinality(tags) > 0),
  purpose      text   NOT NULL,
  case_no      text   NOT NULL,
  nexus        text   NOT NULL CHECK (nexus ~ '\\S'),
  status       text   NOT NULL CHECK (status IN ('pending', 'approved', 'denied')),
  decided_by   text,
  decided_at   bigint,
  note         text,
  expires_at   bigint,
  created_at   bigint NOT NULL,
  CHECK ((status = 'pending') = (decided_by IS NULL)),
  CHECK (status <> 'approved' OR expires_at IS NOT NULL),
  CHECK (decided_by IS NULL OR decided_by <> requested_by)
);
CREATE INDEX sensitive_approvals_created ON ${S}.sensitive_approvals (created_at);
ALTER TABLE ${S}.share_requests ADD COLUMN sensitive_approval text REFERENCES ${S}.sensitive_approvals (id);
GRANT SELECT, INSERT, UPDATE ON ${S}.sensitive_approvals TO platesieve_service;
`,
};
