/**
 * Migration 8: escalations of alerts not dispositioned within their confirmation window
 * (matcher/dispositions/escalation.ts). One row per escalated alert, inserted by the sweep that
 * claims it (ON CONFLICT DO NOTHING), so any number of store processes escalate an alert once.
 * The index on `alerts.ts` serves the sweep and the alert lists, which both read recent alerts.
 */
import type { Migration } from '../schema.js';

// schema.ts's SCHEMA, spelled out: schema.ts imports this module (see v4-audit.ts).
const S = 'platesieve';

/** Schema version 8: escalations, and alerts indexed by time. */
export const v8Escalations: Migration = {
  version: 8,
  name: 'alert escalations',
  sql: `
CREATE TABLE ${S}.escalations (
  alert_id     text   PRIMARY KEY,
  agency       text,
  list         text,
  priority     integer,
  kind         text   NOT NULL CHECK (kind IN ('urgent', 'routine', 'list')),
  deadline     bigint NOT NULL,
  escalated_at bigint NOT NULL
);
CREATE INDEX escalations_at ON ${S}.escalations (escalated_at);
CREATE INDEX alerts_ts ON ${S}.alerts (ts);
GRANT SELECT, INSERT, UPDATE, DELETE ON ${S}.escalations TO platesieve_service;
`,
};
