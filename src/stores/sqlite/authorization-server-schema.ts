/**
 * Schema of the SQLite authorization-server store, as numbered migrations. `schema_version`
 * records which ones a database has; opening a database applies the missing ones in one
 * `BEGIN IMMEDIATE` transaction, so two processes opening a new file at once migrate it once.
 *
 * Arrays and JWKs are JSON text. Times are seconds since the epoch. Secrets exist only as the
 * hashes callers pass in (code, refresh-token and client-secret hashes).
 */
import type BetterSqlite3 from 'better-sqlite3';
import { pendingMigrations, schemaVersion } from '../sql/migrations.js';

/** One schema step. Never edit a released migration: add the next one. */
export interface Migration {
  version: number;
  sql: string;
}

/** All migrations, in order. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE authorization_codes (
        code_hash      TEXT PRIMARY KEY,
        client_id      TEXT NOT NULL,
        redirect_uri   TEXT NOT NULL,
        resource       TEXT NOT NULL,
        scopes         TEXT NOT NULL,
        subject        TEXT NOT NULL,
        code_challenge TEXT NOT NULL,
        dpop_jkt       TEXT,
        grant_id       TEXT NOT NULL,
        auth_time      INTEGER NOT NULL,
        expires_at     INTEGER NOT NULL,
        used_at        INTEGER
      );
      CREATE INDEX authorization_codes_expiry ON authorization_codes (expires_at);

      CREATE TABLE grants (
        grant_id   TEXT PRIMARY KEY,
        client_id  TEXT NOT NULL,
        subject    TEXT NOT NULL,
        scopes     TEXT NOT NULL,
        resources  TEXT NOT NULL,
        jkt        TEXT,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        revoked_at INTEGER
      );

      CREATE TABLE refresh_tokens (
        token_hash           TEXT PRIMARY KEY,
        grant_id             TEXT NOT NULL REFERENCES grants (grant_id) ON DELETE CASCADE,
        generation           INTEGER NOT NULL,
        scopes               TEXT NOT NULL,
        resources            TEXT NOT NULL,
        jkt                  TEXT,
        issued_at            INTEGER NOT NULL,
        expires_at           INTEGER NOT NULL,
        rotated_at           INTEGER,
        successor_hash       TEXT,
        rotation_fingerprint TEXT
      );
      CREATE INDEX refresh_tokens_family ON refresh_tokens (grant_id, generation);
      CREATE INDEX refresh_tokens_expiry ON refresh_tokens (expires_at);

      CREATE TABLE access_tokens (
        grant_id   TEXT NOT NULL REFERENCES grants (grant_id) ON DELETE CASCADE,
        jti        TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (grant_id, jti)
      );
      CREATE INDEX access_tokens_expiry ON access_tokens (expires_at);

      CREATE TABLE denied_access_tokens (
        jti        TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX denied_access_tokens_expiry ON denied_access_tokens (expires_at);

      CREATE TABLE clients (
        client_id                  TEXT PRIMARY KEY,
        secret_hash                TEXT,
        token_endpoint_auth_method TEXT NOT NULL,
        redirect_uris              TEXT NOT NULL,
        grant_types                TEXT NOT NULL,
        response_types             TEXT NOT NULL,
        client_name                TEXT,
        client_uri                 TEXT,
        logo_uri                   TEXT,
        scope                      TEXT,
        source                     TEXT NOT NULL,
        created_at                 INTEGER NOT NULL,
        expires_at                 INTEGER
      );

      CREATE TABLE users (
        username      TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        created_at    INTEGER NOT NULL
      );

      CREATE TABLE consents (
        subject    TEXT NOT NULL,
        client_id  TEXT NOT NULL,
        resource   TEXT NOT NULL,
        scopes     TEXT NOT NULL,
        granted_at INTEGER NOT NULL,
        PRIMARY KEY (subject, client_id, resource)
      );

      CREATE TABLE interactions (
        id         TEXT PRIMARY KEY,
        data       TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX interactions_expiry ON interactions (expires_at);

      CREATE TABLE signing_keys (
        kid          TEXT PRIMARY KEY,
        alg          TEXT NOT NULL,
        private_jwk  TEXT NOT NULL,
        public_jwk   TEXT NOT NULL,
        state        TEXT NOT NULL CHECK (state IN ('next', 'current', 'retired')),
        created_at   INTEGER NOT NULL,
        retire_after INTEGER
      );
      -- At most one signing key and one published successor, whoever writes (another process too).
      CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys (state) WHERE state = 'current';
      CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (state) WHERE state = 'next';
    `,
  },
  {
    // RFC 8693: which access tokens a token was exchanged from, so revoking one revokes the rest;
    // and the grant of a jti, which the exchange looks up for its subject token.
    version: 2,
    sql: `
      CREATE TABLE exchanged_access_tokens (
        jti            TEXT NOT NULL,
        exchanged_from TEXT NOT NULL,
        expires_at     INTEGER NOT NULL,
        PRIMARY KEY (jti, exchanged_from)
      );
      CREATE INDEX exchanged_access_tokens_expiry ON exchanged_access_tokens (expires_at);
      CREATE INDEX access_tokens_jti ON access_tokens (jti);
    `,
  },
  {
    // Withdrawn consent revokes every grant (and pending code) of one user and client.
    version: 3,
    sql: `
      CREATE INDEX grants_subject_client ON grants (subject, client_id);
      CREATE INDEX authorization_codes_subject_client ON authorization_codes (subject, client_id);
    `,
  },
  {
    // Throttles: sign-in attempts per account and source, registrations per source.
    version: 4,
    sql: `
      CREATE TABLE throttles (
        key        TEXT PRIMARY KEY,
        count      INTEGER NOT NULL,
        last_at    INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX throttles_expiry ON throttles (expires_at);
    `,
  },
  {
    // First use of a client: registered clients never used expire. Clients registered before
    // this version count as used (when is not known), so none of them is swept.
    version: 5,
    sql: `
      ALTER TABLE clients ADD COLUMN used_at INTEGER;
      UPDATE clients SET used_at = created_at;
      CREATE INDEX clients_unused ON clients (created_at) WHERE source = 'registered' AND used_at IS NULL;
    `,
  },
  {
    // private_key_jwt client authentication (RFC 7523 §2.2): the client's registered keys.
    version: 6,
    sql: `
      ALTER TABLE clients ADD COLUMN jwks TEXT;
      ALTER TABLE clients ADD COLUMN jwks_uri TEXT;
    `,
  },
  {
    // Device authorization grant (RFC 8628): the record as JSON, looked up by either code's digest.
    version: 7,
    sql: `
      CREATE TABLE device_codes (
        device_code_hash TEXT PRIMARY KEY,
        user_code_hash   TEXT NOT NULL UNIQUE,
        data             TEXT NOT NULL,
        expires_at       INTEGER NOT NULL
      );
      CREATE INDEX device_codes_expiry ON device_codes (expires_at);
    `,
  },
  {
    // Users signing in at an upstream OpenID provider: the link (issuer, subject) and their latest claims, as JSON.
    version: 8,
    sql: `
      ALTER TABLE users ADD COLUMN federation TEXT;
    `,
  },
  {
    // Roles of a user (the console's `admin`, from `warden users add --admin`) as a JSON list, and
    // clients an operator disabled from the console.
    version: 9,
    sql: `
      ALTER TABLE users ADD COLUMN roles TEXT;
      ALTER TABLE clients ADD COLUMN disabled_at INTEGER;
    `,
  },
];

/** The schema version this code reads and writes. */
export const SCHEMA_VERSION = schemaVersion(MIGRATIONS);

/**
 * Brings `db` to {@link SCHEMA_VERSION}. Refuses a database written by a newer Warden rather
 * than guess at columns it does not know.
 *
 * @throws Error when the database's schema is newer than {@link SCHEMA_VERSION}.
 */
export function migrate(db: BetterSqlite3.Database, now: number = Math.floor(Date.now() / 1000)): void {
  const apply = db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const current = (db.prepare('SELECT MAX(version) FROM schema_version').pluck().get() as number | null) ?? 0;
    const pending = pendingMigrations(MIGRATIONS, current, 'SQLite store');
    const record = db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)');
    for (const migration of pending) {
      db.exec(migration.sql);
      record.run(migration.version, now);
    }
  });
  apply.immediate();
}
