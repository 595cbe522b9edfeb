/**
 * Migration 7: sharing with other agencies (matcher/sharing/, docs/sharing.md).
 *
 * - `share_requests`: who asked (agency, the person there), why (purpose, case, reason), what
 *   (a search query, jsonb), whether the agency is federal (Clear Creek 424.4), and the state.
 * - `share_approvals`: every decision, one row each: who, their role, when, the kind of step,
 *   the decision and a note. Rows are never updated: the request's state follows from them.
 * - `share_exports`: the one export of an approved request, its NDJSON bytes kept so a later
 *   download is byte-identical to the manifest's hash.
 */
import type { Migration } from '../schema.js';

// schema.ts's SCHEMA, spelled out: schema.ts imports this module (see v4-audit.ts).
const S = 'platesieve';

/** Schema version 7: sharing requests, approvals and exports. */
export const v7Sharing: Migration = {
  version: 7,
  name: 'sharing: requests, approvals, exports',
  sql: `
CREATE TABLE ${S}.share_requests (
  id         text    PRIMARY KEY,
  agency     text    NOT NULL,
  federal    boolean NOT NULL,
  requester  text    NOT NULL,
  purpose    text    NOT NULL,
  case_no    text    NOT NULL,
  reason     text,
  query      jsonb   NOT NULL,
  status     text    NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'exported')),
  created_by text    NOT NULL,
  created_at bigint  NOT NULL
);
CREATE INDEX share_requests_created ON ${S}.share_requests (created_at);
CREATE TABLE ${S}.share_approvals (
  seq        bigserial PRIMARY KEY,
  request_id text   NOT NULL REFERENCES ${S}.share_requests (id),
  kind       text   NOT NULL CHECK (kind IN ('supervisor', 'county-attorney-notice')),
  decision   text   NOT NULL CHECK (decision IN ('approve', 'deny')),
  actor      text   NOT NULL,
  role       text   NOT NULL,
  at         bigint NOT NULL,
  note       text   NOT NULL
);
CREATE INDEX share_approvals_request ON ${S}.share_approvals (request_id, seq);
CREATE TABLE ${S}.share_exports (
  request_id text   PRIMARY KEY REFERENCES ${S}.share_requests (id),
  created_by text   NOT NULL,
  created_at bigint NOT NULL,
  sha256     text   NOT NULL,
  manifest   jsonb  NOT NULL,
  ndjson     text   NOT NULL
);
GRANT SELECT, INSERT, UPDATE ON ${S}.share_requests, ${S}.share_exports TO platesieve_service;
GRANT SELECT, INSERT ON ${S}.share_approvals TO platesieve_service;
GRANT USAGE, SELECT ON SEQUENCE ${S}.share_approvals_seq_seq TO platesieve_service;
`,
};
