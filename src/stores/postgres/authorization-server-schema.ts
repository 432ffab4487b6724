/**
 * Schema of the PostgreSQL authorization-server store, as numbered migrations inside one
 * PostgreSQL schema (default `warden`). `schema_version` records which migrations a database
 * has; opening the store applies the missing ones in one transaction that first takes a
 * transaction-scoped advisory lock keyed by the schema name, so several instances starting
 * together migrate once and the others wait, then see the result.
 *
 * Lists (scopes, resources, redirect URIs) are `text[]`; JWKs are `jsonb`; interaction data is
 * `text` holding the exact JSON written (jsonb would reorder keys and refuse `\u0000`). Times
 * are `bigint` seconds since the epoch. Secrets exist only as the hashes callers pass in.
 *
 * @see https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS
 */
import { pendingMigrations, schemaVersion } from '../sql/migrations.js';
import type { Queryable } from './authorization-server-database.js';

/** One schema step. Never edit a released migration: add the next one. */
export interface Migration {
  version: number;
  /** The DDL, for the schema `s` (already quoted). */
  sql: (s: string) => string;
}

/** All migrations, in order. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: (s) => `
      CREATE TABLE ${s}.authorization_codes (
        code_hash      text PRIMARY KEY,
        client_id      text NOT NULL,
        redirect_uri   text NOT NULL,
        resource       text NOT NULL,
        scopes         text[] NOT NULL,
        subject        text NOT NULL,
        code_challenge text NOT NULL,
        dpop_jkt       text,
        grant_id       text NOT NULL,
        auth_time      bigint NOT NULL,
        expires_at     bigint NOT NULL,
        used_at        bigint
      );
      CREATE INDEX authorization_codes_expiry ON ${s}.authorization_codes (expires_at);

      CREATE TABLE ${s}.grants (
        grant_id   text PRIMARY KEY,
        client_id  text NOT NULL,
        subject    text NOT NULL,
        scopes     text[] NOT NULL,
        resources  text[] NOT NULL,
        jkt        text,
        created_at bigint NOT NULL,
        expires_at bigint,
        revoked_at bigint
      );

      CREATE TABLE ${s}.refresh_tokens (
        token_hash           text PRIMARY KEY,
        grant_id             text NOT NULL REFERENCES ${s}.grants (grant_id) ON DELETE CASCADE,
        generation           integer NOT NULL,
        scopes               text[] NOT NULL,
        resources            text[] NOT NULL,
        jkt                  text,
        issued_at            bigint NOT NULL,
        expires_at           bigint NOT NULL,
        rotated_at           bigint,
        successor_hash       text,
        rotation_fingerprint text
      );
      CREATE INDEX refresh_tokens_family ON ${s}.refresh_tokens (grant_id, generation);
      CREATE INDEX refresh_tokens_expiry ON ${s}.refresh_tokens (expires_at);

      CREATE TABLE ${s}.access_tokens (
        grant_id   text NOT NULL REFERENCES ${s}.grants (grant_id) ON DELETE CASCADE,
        jti        text NOT NULL,
        expires_at bigint NOT NULL,
        PRIMARY KEY (grant_id, jti)
      );
      CREATE INDEX access_tokens_expiry ON ${s}.access_tokens (expires_at);

      CREATE TABLE ${s}.denied_access_tokens (
        jti        text PRIMARY KEY,
        expires_at bigint NOT NULL
      );
      CREATE INDEX denied_access_tokens_expiry ON ${s}.denied_access_tokens (expires_at);

      CREATE TABLE ${s}.clients (
        client_id                  text PRIMARY KEY,
        secret_hash                text,
        token_endpoint_auth_method text NOT NULL,
        redirect_uris              text[] NOT NULL,
        grant_types                text[] NOT NULL,
        response_types             text[] NOT NULL,
        client_name                text,
        client_uri                 text,
        logo_uri                   text,
        scope                      text,
        source                     text NOT NULL,
        created_at                 bigint NOT NULL,
        expires_at                 bigint
      );

      CREATE TABLE ${s}.users (
        username      text PRIMARY KEY,
        password_hash text NOT NULL,
        created_at    bigint NOT NULL
      );

      CREATE TABLE ${s}.consents (
        subject    text NOT NULL,
        client_id  text NOT NULL,
        resource   text NOT NULL,
        scopes     text[] NOT NULL,
        granted_at bigint NOT NULL,
        PRIMARY KEY (subject, client_id, resource)
      );

      CREATE TABLE ${s}.interactions (
        id         text PRIMARY KEY,
        data       text NOT NULL,
        expires_at bigint NOT NULL
      );
      CREATE INDEX interactions_expiry ON ${s}.interactions (expires_at);

      CREATE TABLE ${s}.signing_keys (
        kid          text PRIMARY KEY,
        alg          text NOT NULL,
        private_jwk  jsonb NOT NULL,
        public_jwk   jsonb NOT NULL,
        state        text NOT NULL CHECK (state IN ('next', 'current', 'retired')),
        created_at   bigint NOT NULL,
        retire_after bigint
      );
      -- At most one signing key and one published successor, whichever instance writes.
      CREATE UNIQUE INDEX signing_keys_one_current ON ${s}.signing_keys (state) WHERE state = 'current';
      CREATE UNIQUE INDEX signing_keys_one_next ON ${s}.signing_keys (state) WHERE state = 'next';
    `,
  },
  {
    // RFC 8693: which access tokens a token was exchanged from, so revoking one revokes the rest;
    // and the grant of a jti, which the exchange looks up for its subject token.
    version: 2,
    sql: (s) => `
      CREATE TABLE ${s}.exchanged_access_tokens (
        jti            text NOT NULL,
        exchanged_from text NOT NULL,
        expires_at     bigint NOT NULL,
        PRIMARY KEY (jti, exchanged_from)
      );
      CREATE INDEX exchanged_access_tokens_expiry ON ${s}.exchanged_access_tokens (expires_at);
      CREATE INDEX access_tokens_jti ON ${s}.access_tokens (jti);
    `,
  },
  {
    // Withdrawn consent revokes every grant (and pending code) of one user and client.
    version: 3,
    sql: (s) => `
      CREATE INDEX grants_subject_client ON ${s}.grants (subject, client_id);
      CREATE INDEX authorization_codes_subject_client ON ${s}.authorization_codes (subject, client_id);
    `,
  },
  {
    // Throttles: sign-in attempts per account and source, registrations per source.
    version: 4,
    sql: (s) => `
      CREATE TABLE ${s}.throttles (
        key        text PRIMARY KEY,
        count      bigint NOT NULL,
        last_at    bigint NOT NULL,
        expires_at bigint NOT NULL
      );
      CREATE INDEX throttles_expiry ON ${s}.throttles (expires_at);
    `,
  },
  {
    // First use of a client: registered clients never used expire. Clients registered before
    // this version count as used (when is not known), so none of them is swept.
    version: 5,
    sql: (s) => `
      ALTER TABLE ${s}.clients ADD COLUMN used_at bigint;
      UPDATE ${s}.clients SET used_at = created_at;
      CREATE INDEX clients_unused ON ${s}.clients (created_at) WHERE source = 'registered' AND used_at IS NULL;
    `,
  },
  {
    // private_key_jwt client authentication (RFC 7523 §2.2): the client's registered keys.
    version: 6,
    sql: (s) => `
      ALTER TABLE ${s}.clients ADD COLUMN jwks text;
      ALTER TABLE ${s}.clients ADD COLUMN jwks_uri text;
    `,
  },
  {
    // Device authorization grant (RFC 8628): the record as JSON, looked up by either code's digest.
    version: 7,
    sql: (s) => `
      CREATE TABLE ${s}.device_codes (
        device_code_hash text PRIMARY KEY,
        user_code_hash   text NOT NULL UNIQUE,
        data             text NOT NULL,
        expires_at       bigint NOT NULL
      );
      CREATE INDEX device_codes_expiry ON ${s}.device_codes (expires_at);
    `,
  },
  {
    // Users signing in at an upstream OpenID provider: the link (issuer, subject) and their latest claims, as JSON.
    version: 8,
    sql: (s) => `
      ALTER TABLE ${s}.users ADD COLUMN federation text;
    `,
  },
  {
    // Roles of a user (the console's `admin`, from `warden users add --admin`), and clients an
    // operator disabled from the console.
    version: 9,
    sql: (s) => `
      ALTER TABLE ${s}.users ADD COLUMN roles text[];
      ALTER TABLE ${s}.clients ADD COLUMN disabled_at bigint;
    `,
  },
];

/** The schema version this code reads and writes. */
export const SCHEMA_VERSION = schemaVersion(MIGRATIONS);

/**
 * Migrations may take longer than one store operation (future ones may rewrite tables), and
 * the advisory-lock wait covers another instance's migration; bounded all the same, so a stuck
 * peer fails start-up instead of hanging it.
 */
export const MIGRATION_TIMEOUT_MS = 60_000;

/**
 * Brings the schema `schemaName` to {@link SCHEMA_VERSION}, creating it if needed. Runs inside
 * the caller's transaction (`tx`, opened with {@link MIGRATION_TIMEOUT_MS}), which this takes the
 * advisory lock in: the lock is released
 * by that transaction's commit or rollback, never left behind by a crashed instance.
 *
 * @param quoted - `schemaName` quoted as an identifier.
 * @throws Error when the schema is newer than {@link SCHEMA_VERSION}.
 */
export async function migrate(tx: Queryable, schemaName: string, quoted: string, now: number = Math.floor(Date.now() / 1000)): Promise<void> {
  // Keyed by schema, so deployments sharing a database in separate schemas do not wait on each other.
  // The key keeps the module's old name: instances of every version must take the same lock.
  await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`warden:as-schema:${schemaName}`]);
  // IF NOT EXISTS alone is not race-free (concurrent CREATEs can still collide): the lock is.
  await tx.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
  await tx.query(`CREATE TABLE IF NOT EXISTS ${quoted}.schema_version (version integer PRIMARY KEY, applied_at bigint NOT NULL)`);
  const { rows } = await tx.query<{ version: number | null }>(`SELECT MAX(version) AS version FROM ${quoted}.schema_version`);
  const current = rows[0]?.version ?? 0;
  for (const migration of pendingMigrations(MIGRATIONS, current, 'PostgreSQL store')) {
    await tx.query(migration.sql(quoted));
    await tx.query(`INSERT INTO ${quoted}.schema_version (version, applied_at) VALUES ($1, $2)`, [migration.version, now]);
  }
}
