/**
 * Migration 4: the audit log of the services, in PostgreSQL (matcher/audit/pg-log.ts;
 * docs/audit.md "The PostgreSQL log").
 *
 * - `audit` holds the same hash-chained records as the file log: `line` is the record's
 *   canonical JSON, what the chain hashes, so verification is byte-exact; the other columns
 *   are copies for queries, and verification checks them against `line`.
 * - Append-only for everyone: a statement trigger refuses UPDATE, DELETE and TRUNCATE, the
 *   owner's and a superuser's included. Only disabling the trigger (the owner, or a superuser)
 *   gets round it, and the chain and a head kept elsewhere catch what is changed that way.
 * - `platesieve_service`: the role the services' login roles are members of (NOLOGIN; created
 *   when missing, never dropped: roles are cluster-wide). It may INSERT and SELECT on `audit`,
 *   nothing more there, and read and write the store's other tables except the accounts and
 *   sessions. `platesieve_ops` (the operations API) has all of that plus `users` and
 *   `sessions`. Creating or dropping partitions and migrating stay with the owner.
 */
import type { Migration } from '../schema.js';

// schema.ts's SCHEMA, spelled out: schema.ts imports this module to list it, so reading the
// constant here at load time would hit it before it is initialized (an import cycle).
const S = 'platesieve';

/** The role the services' database logins are granted (docs/audit.md "Roles and grants"). */
export const SERVICE_ROLE = 'platesieve_service';
/** The operations API's role: the services' grants plus the accounts and sessions. */
export const OPS_ROLE = 'platesieve_ops';

/** Schema version 4: the audit table, its append-only trigger, the services' role and grants. */
export const v4Audit: Migration = {
  version: 4,
  name: 'audit log: append-only hash chain, services role',
  sql: `
CREATE TABLE ${S}.audit (
  seq     bigint PRIMARY KEY CHECK (seq >= 0),
  at      bigint NOT NULL,
  actor   text   NOT NULL,
  action  text   NOT NULL,
  outcome text   NOT NULL,
  purpose text,
  case_no text,
  subject jsonb,
  reason  text,
  details jsonb,
  prev    text   NOT NULL,
  hash    text   NOT NULL,
  line    text   NOT NULL
);
CREATE INDEX audit_at ON ${S}.audit (at);
CREATE INDEX audit_actor_at ON ${S}.audit (actor, at);

-- Statement-level, so that a DELETE or UPDATE matching no row is refused too.
CREATE FUNCTION ${S}.audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '${S}.audit is append-only: % refused', TG_OP
    USING HINT = 'the audit log is never changed or deleted; see docs/audit.md';
END
$$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ${S}.audit
  FOR EACH STATEMENT EXECUTE FUNCTION ${S}.audit_append_only();

-- Two databases of one cluster may migrate at once: the second CREATE ROLE then fails with a
-- duplicate; the role exists either way, which is all that is needed.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${SERVICE_ROLE}') THEN
    BEGIN
      CREATE ROLE ${SERVICE_ROLE} NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL;
    END;
  END IF;
END
$$;
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${OPS_ROLE}') THEN
    BEGIN
      CREATE ROLE ${OPS_ROLE} NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL;
    END;
  END IF;
END
$$;

REVOKE ALL ON ${S}.audit FROM PUBLIC;
GRANT USAGE ON SCHEMA ${S} TO ${SERVICE_ROLE};
GRANT SELECT, INSERT ON ${S}.audit TO ${SERVICE_ROLE};
GRANT SELECT ON ${S}.migrations TO ${SERVICE_ROLE};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${S} TO ${SERVICE_ROLE};
-- The store's other tables as they are at this version (partitions inherit the parent's
-- check); later migrations grant on their own tables.
DO $$
DECLARE t record;
BEGIN
  FOR t IN
    SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = '${S}' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
      AND c.relname NOT IN ('audit', 'migrations', 'users', 'sessions')
  LOOP
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ${S}.%I TO ${SERVICE_ROLE}', t.relname);
  END LOOP;
END
$$;
-- Accounts and sessions (password hashes, TOTP secrets) are the operations API's alone: the
-- store and the matching service never read them. platesieve_ops has everything the services
-- have besides.
GRANT ${SERVICE_ROLE} TO ${OPS_ROLE};
GRANT SELECT, INSERT, UPDATE, DELETE ON ${S}.users, ${S}.sessions TO ${OPS_ROLE};
`,
};
