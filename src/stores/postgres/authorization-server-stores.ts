/**
 * The authorization-server stores in PostgreSQL: durable, and shared by every instance behind a
 * load balancer (with Redis for replay). Every check-and-set is atomic across instances — one
 * statement (`UPDATE … RETURNING`, `INSERT … ON CONFLICT`, `DELETE … RETURNING`) or a transaction
 * that locks the row or table its decision depends on — and the decisions themselves are the
 * shared rules of `authorization-server-store-rules.ts`, as in memory and SQLite.
 *
 * Outages fail closed: a lost connection, a timed-out statement or a closed store rejects with
 * `StoreUnavailableError`, never with an answer.
 *
 * @see https://www.postgresql.org/docs/current/sql-insert.html#SQL-ON-CONFLICT
 * @see https://www.postgresql.org/docs/current/explicit-locking.html
 */
import type {
  AuthorizationServerStores,
  ClientStore,
  ConsentStore,
  InteractionStore,
  KeyStore,
  SigningKeyRecord,
  ThrottleStore,
  UserStore,
} from '../authorization-server-contracts.js';
import { type ThrottleRow, checkKeyPut, checkThrottleInput, decideThrottle, liveThrottleState, parseInteraction, planKeyRotation, serializeInteraction, unionScopes } from '../authorization-server-store-rules.js';
import { serializeFederation } from '../sql/authorization-server-rows.js';
import { type ClientRow, type ConsentRow, type KeyRow, type ThrottleTableRow, type UserRow, CLIENT_COLUMNS, KEY_COLUMNS } from '../sql/authorization-server-rows.js';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_POOL_SIZE,
  DEFAULT_STATEMENT_TIMEOUT_MS,
  type PostgresDatabase,
  type Queryable,
  openPool,
  urlSecrets,
} from './authorization-server-database.js';
import { createPostgresCodeStore, createPostgresGrantStore } from './authorization-server-grant-store.js';
import { type PostgresColumns, codec, placeholders } from './authorization-server-rows.js';
import { createPostgresDeviceCodeStore } from './device-code-store.js';
import { MIGRATION_TIMEOUT_MS, migrate } from './authorization-server-schema.js';

/** Options of {@link openPostgresAuthorizationServerStores}. */
export interface PostgresAuthorizationServerStoresOptions {
  /** `postgres://` or `postgresql://` URL, credentials and TLS parameters included. Never logged or echoed. */
  url: string;
  /**
   * PostgreSQL schema the tables live in, created if missing; lets several deployments share
   * one database. Lower-case letters, digits and `_`, not starting with a digit. Default `warden`.
   */
  schema?: string;
  /** Connections per instance. Default 10. */
  poolSize?: number;
  /** Bound on one statement, waits for another instance's row locks included. Default 5000 ms. */
  statementTimeoutMs?: number;
  /** Bound on opening a connection and on waiting for a free pooled one. Default 5000 ms. */
  connectTimeoutMs?: number;
  /**
   * Told about connection errors outside a request (an idle connection dropped by a restart or
   * failover). Messages never contain the URL. Default: ignored (the pool reconnects on demand,
   * and operations meanwhile reject with `StoreUnavailableError`).
   */
  onError?: (error: Error) => void;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Connects to PostgreSQL, creates and migrates the schema if needed, and returns the stores.
 * Loads `pg` on this call, so only deployments that configure PostgreSQL load it. Resolves only
 * once a connection has worked, so a wrong URL or an unreachable server fails at start-up.
 *
 * @throws TypeError (as a rejection) for invalid options; the message never echoes the URL.
 * @throws StoreUnavailableError (as a rejection) when the server cannot be reached in time.
 * @throws Error (as a rejection) when the schema was written by a newer Warden.
 */
export async function openPostgresAuthorizationServerStores(
  options: PostgresAuthorizationServerStoresOptions,
): Promise<AuthorizationServerStores> {
  if (typeof options.url !== 'string' || options.url === '') throw new TypeError('PostgreSQL store url must be a non-empty string');
  const secrets = urlSecrets(options.url);
  const schema = options.schema ?? 'warden';
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema)) {
    throw new TypeError('PostgreSQL store schema must be 1-63 lower-case letters, digits or _, not starting with a digit');
  }
  const poolSize = positiveInteger(options.poolSize ?? DEFAULT_POOL_SIZE, 'poolSize');
  const statementTimeoutMs = positiveInteger(options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS, 'statementTimeoutMs');
  const connectTimeoutMs = positiveInteger(options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, 'connectTimeoutMs');

  const db = await openPool(
    { url: options.url, poolSize, statementTimeoutMs, connectTimeoutMs, ...(options.onError && { onError: options.onError }) },
    secrets,
  );
  // The name matched SCHEMA_NAME, so quoting only keeps it from being read as a keyword.
  const s = `"${schema}"`;
  try {
    await db.transaction((tx) => migrate(tx, schema, s), { timeoutMs: MIGRATION_TIMEOUT_MS });
  } catch (error) {
    await db.close();
    throw error;
  }
  return {
    codes: createPostgresCodeStore(db, s),
    grants: createPostgresGrantStore(db, s),
    clients: createClientStore(db, s),
    users: createUserStore(db, s),
    consents: createConsentStore(db, s),
    interactions: createInteractionStore(db, s),
    keys: createKeyStore(db, s),
    throttles: createThrottleStore(db, s),
    deviceCodes: createPostgresDeviceCodeStore(db, s),
    close: () => db.close(),
  };
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value <= 0) throw new TypeError(`PostgreSQL store ${name} must be a positive integer`);
  return value;
}

function createThrottleStore(db: PostgresDatabase, s: string): ThrottleStore {
  const read = (row: ThrottleTableRow | undefined): ThrottleRow | undefined => row && codec.throttleFromRow(row);
  return {
    // The first statement inserts the key (forgotten: expires_at 0) or locks its row, in one step;
    // the shared rule decides on what it returns, and the write lands before COMMIT releases the lock.
    attempt: async (key, policy, now) => {
      checkThrottleInput(key, policy, now);
      return db.transaction(async (tx) => {
        const { rows } = await tx.query<ThrottleTableRow>(
          `INSERT INTO ${s}.throttles (key, count, last_at, expires_at) VALUES ($1, 0, 0, 0)
           ON CONFLICT (key) DO UPDATE SET key = excluded.key
           RETURNING count, last_at, expires_at`,
          [key],
        );
        const { result, write } = decideThrottle(read(rows[0]), policy, now);
        if (write !== undefined) {
          await tx.query(`UPDATE ${s}.throttles SET count = $2, last_at = $3, expires_at = $4 WHERE key = $1`, [key, write.count, write.lastAt, write.expiresAt]);
        }
        return result;
      });
    },
    release: async (key, now) =>
      void (await db.query(`UPDATE ${s}.throttles SET count = GREATEST(count - 1, 0) WHERE key = $1 AND expires_at > $2`, [key, now])),
    get: async (key, now) =>
      liveThrottleState(read((await db.query<ThrottleTableRow>(`SELECT count, last_at, expires_at FROM ${s}.throttles WHERE key = $1`, [key])).rows[0]), now),
    delete: async (key) => void (await db.query(`DELETE FROM ${s}.throttles WHERE key = $1`, [key])),
  };
}

function createClientStore(db: PostgresDatabase, s: string): ClientStore {
  const updates = CLIENT_COLUMNS.filter((column) => column !== 'client_id')
    .map((column) => `${column} = excluded.${column}`)
    .join(', ');
  const upsert = `INSERT INTO ${s}.clients (${CLIENT_COLUMNS.join(', ')}) VALUES (${placeholders(CLIENT_COLUMNS.length)})
    ON CONFLICT (client_id) DO UPDATE SET ${updates}`;
  return {
    get: async (clientId) => {
      const row = (await db.query<ClientRow<PostgresColumns>>(`SELECT * FROM ${s}.clients WHERE client_id = $1`, [clientId])).rows[0];
      return row && codec.clientFromRow(row);
    },
    put: async (client) => void (await db.query(upsert, codec.clientParams(client))),
    delete: async (clientId) => void (await db.query(`DELETE FROM ${s}.clients WHERE client_id = $1`, [clientId])),
    markUsed: async (clientId, now) => void (await db.query(`UPDATE ${s}.clients SET used_at = $2 WHERE client_id = $1 AND used_at IS NULL`, [clientId, now])),
    deleteUnused: async (createdAtOrBefore) =>
      (await db.query(`DELETE FROM ${s}.clients WHERE source = 'registered' AND used_at IS NULL AND created_at <= $1`, [createdAtOrBefore])).rowCount,
  };
}

function createUserStore(db: PostgresDatabase, s: string): UserStore {
  return {
    get: async (username) => {
      const row = (await db.query<UserRow>(`SELECT * FROM ${s}.users WHERE username = $1`, [username])).rows[0];
      return row && codec.userFromRow(row);
    },
    put: async (user) =>
      void (await db.query(
        `INSERT INTO ${s}.users (username, password_hash, created_at, federation, roles) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash, created_at = excluded.created_at, federation = excluded.federation, roles = excluded.roles`,
        [user.username, user.passwordHash, user.createdAt, serializeFederation(user.federation), codec.userRoles(user.roles)],
      )),
    delete: async (username) => (await db.query(`DELETE FROM ${s}.users WHERE username = $1`, [username])).rowCount > 0,
    // Byte order ("C"), as the other backends sort, whatever the database's collation.
    list: async () =>
      (await db.query<{ username: string }>(`SELECT username FROM ${s}.users ORDER BY username COLLATE "C"`)).rows.map((row) => row.username),
  };
}

function createConsentStore(db: PostgresDatabase, s: string): ConsentStore {
  const key = 'subject = $1 AND client_id = $2 AND resource = $3';
  return {
    get: async (subject, clientId, resource) => {
      const row = (await db.query<ConsentRow<PostgresColumns>>(`SELECT * FROM ${s}.consents WHERE ${key}`, [subject, clientId, resource])).rows[0];
      return row && codec.consentFromRow(row);
    },
    // Read, union (the shared rule), write — with the row locked, so concurrent widenings from
    // any instance all survive. The no-op DO UPDATE makes the first statement insert-or-lock in
    // one step: a row that did not exist is created (empty) and locked by this transaction.
    put: (consent) =>
      db.transaction(async (tx: Queryable) => {
        const params = [consent.subject, consent.clientId, consent.resource];
        const { rows } = await tx.query<Pick<ConsentRow<PostgresColumns>, 'scopes'>>(
          `INSERT INTO ${s}.consents (subject, client_id, resource, scopes, granted_at) VALUES ($1, $2, $3, '{}', $4)
           ON CONFLICT (subject, client_id, resource) DO UPDATE SET scopes = ${s}.consents.scopes
           RETURNING scopes`,
          [...params, consent.grantedAt],
        );
        const scopes = unionScopes(rows[0]?.scopes ?? [], consent.scopes);
        await tx.query(`UPDATE ${s}.consents SET scopes = $4, granted_at = $5 WHERE ${key}`, [...params, codec.consentScopes(scopes), consent.grantedAt]);
      }),
    revoke: async (subject, clientId) =>
      (await db.query(`DELETE FROM ${s}.consents WHERE subject = $1 AND client_id = $2`, [subject, clientId])).rowCount,
    list: async (subject) =>
      (
        await db.query<ConsentRow<PostgresColumns>>(`SELECT * FROM ${s}.consents WHERE subject = $1 ORDER BY client_id COLLATE "C", resource COLLATE "C"`, [
          subject,
        ])
      ).rows.map(codec.consentFromRow),
  };
}

function createInteractionStore(db: PostgresDatabase, s: string): InteractionStore {
  return {
    put: async (id, data, expiresAt) => {
      const json = serializeInteraction(data);
      await db.query(
        `INSERT INTO ${s}.interactions (id, data, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at`,
        [id, json, expiresAt],
      );
    },
    get: async (id, now) =>
      parseInteraction((await db.query<{ data: string }>(`SELECT data FROM ${s}.interactions WHERE id = $1 AND expires_at > $2`, [id, now])).rows[0]?.data),
    // One statement reads and deletes: of concurrent takers on any instance, exactly one gets the row.
    take: async (id, now) => {
      const row = (await db.query<{ data: string; expires_at: number }>(`DELETE FROM ${s}.interactions WHERE id = $1 RETURNING data, expires_at`, [id]))
        .rows[0];
      return row !== undefined && row.expires_at > now ? parseInteraction(row.data) : undefined;
    },
  };
}

function createKeyStore(db: PostgresDatabase, s: string): KeyStore {
  const list = async (q: Queryable): Promise<SigningKeyRecord[]> =>
    (await q.query<KeyRow<PostgresColumns>>(`SELECT * FROM ${s}.signing_keys ORDER BY created_at, kid COLLATE "C"`)).rows.map(codec.keyFromRow);
  // Upsert on kid only: a second current/next key trips the partial unique indexes instead of
  // silently replacing the other key.
  const upsert = `INSERT INTO ${s}.signing_keys (${KEY_COLUMNS.join(', ')}) VALUES (${placeholders(KEY_COLUMNS.length)})
    ON CONFLICT (kid) DO UPDATE SET alg = excluded.alg, private_jwk = excluded.private_jwk, public_jwk = excluded.public_jwk,
      state = excluded.state, created_at = excluded.created_at, retire_after = excluded.retire_after`;
  /**
   * Decisions over the whole key set take a table lock that excludes other writers (not
   * readers): row locks would not cover a key another instance inserts meanwhile, and a rotation
   * that missed it would plan a second `next`. Key writes are rare; JWKS reads never wait.
   */
  const lockKeys = (tx: Queryable) => tx.query(`LOCK TABLE ${s}.signing_keys IN SHARE ROW EXCLUSIVE MODE`);
  return {
    list: () => list(db),
    put: (key) =>
      db.transaction(async (tx) => {
        await lockKeys(tx);
        checkKeyPut(await list(tx), key);
        await tx.query(upsert, codec.keyParams(key));
      }),
    delete: async (kid) => void (await db.query(`DELETE FROM ${s}.signing_keys WHERE kid = $1`, [kid])),
    rotate: ({ newNext, retireAfter }) =>
      db.transaction(async (tx) => {
        await lockKeys(tx);
        const plan = planKeyRotation(await list(tx), newNext);
        // Retire before promoting: the unique index on 'current' is checked per statement.
        if (plan.retire !== undefined) {
          await tx.query(`UPDATE ${s}.signing_keys SET state = 'retired', retire_after = $2 WHERE kid = $1`, [plan.retire, retireAfter]);
        }
        if (plan.promote !== undefined) await tx.query(`UPDATE ${s}.signing_keys SET state = 'current' WHERE kid = $1`, [plan.promote]);
        await tx.query(upsert, codec.keyParams(plan.insert));
      }),
  };
}
