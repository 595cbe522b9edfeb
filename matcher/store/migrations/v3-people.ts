/**
 * Schema version 3: people (matcher/people/, docs/people.md). `users` holds accounts: names
 * unique case-insensitively (two spellings of one name would be two audit actors for one
 * person), scrypt hashes with their parameters, the sealed TOTP secret and the last time step
 * accepted (to refuse a replayed code), and the failure count and lockout. `sessions` holds only
 * the SHA-256 of each session token: a copy of the table opens no session.
 */
import type { Migration } from '../schema.js';

// schema.ts's SCHEMA, spelled out: schema.ts imports this module to list it, so reading the
// constant at load time would hit it before it is initialized (an import cycle).
const S = 'platesieve';

export const v3People: Migration = {
  version: 3,
  name: 'people: users and sessions',
  sql: `
CREATE TABLE ${S}.users (
  user_id         bigserial PRIMARY KEY,
  username        text NOT NULL,
  password_hash   text NOT NULL,
  roles           text[] NOT NULL CHECK (cardinality(roles) > 0 AND roles <@ ARRAY['operator','analyst','supervisor','auditor','admin']::text[]),
  disabled        boolean NOT NULL DEFAULT false,
  disabled_reason text,
  totp_secret     text,
  totp_last_step  bigint,
  failures        integer NOT NULL DEFAULT 0,
  locked_until    timestamptz,
  created_at      timestamptz NOT NULL,
  created_by      text NOT NULL,
  updated_at      timestamptz NOT NULL,
  last_login_at   timestamptz
);
CREATE UNIQUE INDEX users_username ON ${S}.users (lower(username));

CREATE TABLE ${S}.sessions (
  token_hash     bytea PRIMARY KEY,
  session_id     text NOT NULL UNIQUE,
  user_id        bigint NOT NULL REFERENCES ${S}.users (user_id) ON DELETE CASCADE,
  created_at     timestamptz NOT NULL,
  absolute_until timestamptz NOT NULL,
  idle_until     timestamptz NOT NULL,
  client_ip      text,
  user_agent     text
);
CREATE INDEX sessions_user ON ${S}.sessions (user_id);
CREATE INDEX sessions_idle ON ${S}.sessions (idle_until);
`,
};
