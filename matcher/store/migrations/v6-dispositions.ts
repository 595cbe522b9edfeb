/**
 * Migration 6: alert dispositions (issue 13, alert verification). One row per alert: a second
 * disposition of the same alert is refused by the primary key, so the record a person made is
 * never overwritten; corrections are a later feature. Column names are read by the replay
 * module, so they stay as they are.
 */
import type { Migration } from '../schema.js';

// schema.ts imports this module to list it, so its SCHEMA constant is not read here (cycle).
const S = 'platesieve';

/** Schema version 6: the dispositions table and its grant to the services' role. */
export const v6Dispositions: Migration = {
  version: 6,
  name: 'alert dispositions',
  sql: `
CREATE TABLE ${S}.dispositions (
  alert_id      text PRIMARY KEY,
  agency        text,
  outcome       text NOT NULL CHECK (outcome IN ('confirmed','rejected','no_action')),
  reason        text CHECK (reason IN ('misread','wrong_state','vehicle_mismatch','entry_inactive','other')),
  note          text,
  by            text NOT NULL,
  at            bigint NOT NULL,
  verified_with text,
  source        text NOT NULL CHECK (source IN ('api','nats')),
  recorded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dispositions_at ON ${S}.dispositions (at);
GRANT SELECT, INSERT, UPDATE, DELETE ON ${S}.dispositions TO platesieve_service;
`,
};
