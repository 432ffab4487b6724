/**
 * The authorization-server stores in one SQLite file: the embedded default for one machine,
 * durable across restarts. Several processes may share the file; every check-and-set runs in a
 * `BEGIN IMMEDIATE` transaction, so the contract's atomicity holds across them too (within
 * `busy_timeout`; beyond it an operation rejects with `StoreUnavailableError`).
 *
 * @see https://www.sqlite.org/lang_transaction.html
 * @see https://www.sqlite.org/wal.html
 */
import type BetterSqlite3 from 'better-sqlite3';
import type {
  AuthorizationServerStores,
  ClientStore,
  ConsentStore,
  InteractionStore,
  KeyStore,
  SigningKeyRecord,
  ThrottlePolicy,
  ThrottleStore,
  UserStore,
} from '../authorization-server-contracts.js';
import { type ThrottleRow, checkKeyPut, checkThrottleInput, decideThrottle, liveThrottleState, parseInteraction, planKeyRotation, serializeInteraction, unionScopes } from '../authorization-server-store-rules.js';
import { serializeFederation } from '../sql/authorization-server-rows.js';
import { type ClientRow, type ConsentRow, type KeyRow, type ThrottleTableRow, type UserRow, CLIENT_COLUMNS, KEY_COLUMNS } from '../sql/authorization-server-rows.js';
import { DEFAULT_BUSY_TIMEOUT_MS, type Guard, guard, openDatabase } from './authorization-server-database.js';
import { createSqliteCodeStore, createSqliteGrantStore } from './authorization-server-grant-store.js';
import { createSqliteDeviceCodeStore } from './device-code-store.js';
import { type Params, type SqliteColumns, codec, namedPlaceholders } from './authorization-server-rows.js';

/** Options of {@link openSqliteAuthorizationServerStores}. */
export interface SqliteAuthorizationServerStoresOptions {
  /** Database file (created, with its directory, if missing), or `':memory:'` (tests). */
  path: string;
  /** How long a write waits for another process's write lock before failing. Default 5000 ms. */
  busyTimeoutMs?: number;
}

/**
 * Opens (creating and migrating if needed) the SQLite authorization-server stores. Loads
 * better-sqlite3 on this call, so only deployments that configure SQLite load it.
 *
 * @throws TypeError for invalid options.
 * @throws Error when the file cannot be opened, or was written by a newer schema version.
 */
export function openSqliteAuthorizationServerStores(
  options: SqliteAuthorizationServerStoresOptions,
): AuthorizationServerStores {
  if (typeof options.path !== 'string' || options.path === '') {
    throw new TypeError('SQLite store path must be a non-empty string');
  }
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new TypeError('SQLite store busyTimeoutMs must be an integer >= 0');
  }
  const db = openDatabase(options.path, busyTimeoutMs);
  const call = guard(db);
  return {
    codes: createSqliteCodeStore(db, call),
    grants: createSqliteGrantStore(db, call),
    clients: createClientStore(db, call),
    users: createUserStore(db, call),
    consents: createConsentStore(db, call),
    interactions: createInteractionStore(db, call),
    keys: createKeyStore(db, call),
    throttles: createThrottleStore(db, call),
    deviceCodes: createSqliteDeviceCodeStore(db, call),
    close: async () => {
      if (db.open) db.close();
    },
  };
}

function createThrottleStore(db: BetterSqlite3.Database, call: Guard): ThrottleStore {
  const select = db.prepare<[string], ThrottleTableRow>('SELECT count, last_at, expires_at FROM throttles WHERE key = ?');
  const upsert = db.prepare<[string, number, number, number]>(
    `INSERT INTO throttles (key, count, last_at, expires_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET count = excluded.count, last_at = excluded.last_at, expires_at = excluded.expires_at`,
  );
  const release = db.prepare<[string, number]>('UPDATE throttles SET count = MAX(count - 1, 0) WHERE key = ? AND expires_at > ?');
  const remove = db.prepare<[string]>('DELETE FROM throttles WHERE key = ?');
  const read = (key: string): ThrottleRow | undefined => {
    const row = select.get(key);
    return row && codec.throttleFromRow(row);
  };
  // Read, decide, write under the write lock: concurrent attempts are counted one at a time.
  const attempt = db.transaction((key: string, policy: ThrottlePolicy, now: number) => {
    const { result, write } = decideThrottle(read(key), policy, now);
    if (write !== undefined) upsert.run(key, write.count, write.lastAt, write.expiresAt);
    return result;
  });
  return {
    attempt: (key, policy, now) =>
      call(() => {
        checkThrottleInput(key, policy, now);
        return attempt.immediate(key, policy, now);
      }),
    release: (key, now) => call(() => void release.run(key, now)),
    get: (key, now) => call(() => liveThrottleState(read(key), now)),
    delete: (key) => call(() => void remove.run(key)),
  };
}

function createClientStore(db: BetterSqlite3.Database, call: Guard): ClientStore {
  const select = db.prepare<[string], ClientRow<SqliteColumns>>('SELECT * FROM clients WHERE client_id = ?');
  const upsert = db.prepare<Params>(`INSERT OR REPLACE INTO clients (${CLIENT_COLUMNS.join(', ')}) VALUES (${namedPlaceholders(CLIENT_COLUMNS)})`);
  const remove = db.prepare<[string]>('DELETE FROM clients WHERE client_id = ?');
  const markUsed = db.prepare<[number, string]>('UPDATE clients SET used_at = ? WHERE client_id = ? AND used_at IS NULL');
  const deleteUnused = db.prepare<[number]>("DELETE FROM clients WHERE source = 'registered' AND used_at IS NULL AND created_at <= ?");
  return {
    get: (clientId) =>
      call(() => {
        const row = select.get(clientId);
        return row && codec.clientFromRow(row);
      }),
    put: (client) => call(() => void upsert.run(codec.clientParams(client))),
    delete: (clientId) => call(() => void remove.run(clientId)),
    markUsed: (clientId, now) => call(() => void markUsed.run(now, clientId)),
    deleteUnused: (createdAtOrBefore) => call(() => deleteUnused.run(createdAtOrBefore).changes),
  };
}

function createUserStore(db: BetterSqlite3.Database, call: Guard): UserStore {
  const select = db.prepare<[string], UserRow>('SELECT * FROM users WHERE username = ?');
  const upsert = db.prepare<[string, string, number, string | null, string | null]>(
    'INSERT OR REPLACE INTO users (username, password_hash, created_at, federation, roles) VALUES (?, ?, ?, ?, ?)',
  );
  const remove = db.prepare<[string]>('DELETE FROM users WHERE username = ?');
  const names = db.prepare<[], string>('SELECT username FROM users ORDER BY username').pluck();
  return {
    get: (username) =>
      call(() => {
        const row = select.get(username);
        return row && codec.userFromRow(row);
      }),
    put: (user) => call(() => void upsert.run(user.username, user.passwordHash, user.createdAt, serializeFederation(user.federation), codec.userRoles(user.roles))),
    delete: (username) => call(() => remove.run(username).changes > 0),
    list: () => call(() => names.all()),
  };
}

function createConsentStore(db: BetterSqlite3.Database, call: Guard): ConsentStore {
  const select = db.prepare<[string, string, string], ConsentRow<SqliteColumns>>(
    'SELECT * FROM consents WHERE subject = ? AND client_id = ? AND resource = ?',
  );
  const upsert = db.prepare<[string, string, string, string, number]>(
    `INSERT INTO consents (subject, client_id, resource, scopes, granted_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (subject, client_id, resource) DO UPDATE SET scopes = excluded.scopes, granted_at = excluded.granted_at`,
  );
  const remove = db.prepare<[string, string]>('DELETE FROM consents WHERE subject = ? AND client_id = ?');
  const bySubject = db.prepare<[string], ConsentRow<SqliteColumns>>(
    'SELECT * FROM consents WHERE subject = ? ORDER BY client_id, resource',
  );
  // Read, union, write under the write lock: two concurrent widenings both survive.
  const widen = db.transaction((subject: string, clientId: string, resource: string, scopes: string[], at: number) => {
    const existing = select.get(subject, clientId, resource);
    const union = unionScopes(existing === undefined ? [] : codec.consentFromRow(existing).scopes, scopes);
    upsert.run(subject, clientId, resource, codec.consentScopes(union), at);
  });
  return {
    get: (subject, clientId, resource) =>
      call(() => {
        const row = select.get(subject, clientId, resource);
        return row && codec.consentFromRow(row);
      }),
    put: (consent) =>
      call(() =>
        widen.immediate(consent.subject, consent.clientId, consent.resource, consent.scopes, consent.grantedAt),
      ),
    revoke: (subject, clientId) => call(() => remove.run(subject, clientId).changes),
    list: (subject) => call(() => bySubject.all(subject).map(codec.consentFromRow)),
  };
}

function createInteractionStore(db: BetterSqlite3.Database, call: Guard): InteractionStore {
  const upsert = db.prepare<[string, string, number]>(
    'INSERT OR REPLACE INTO interactions (id, data, expires_at) VALUES (?, ?, ?)',
  );
  const select = db
    .prepare<[string, number], string>('SELECT data FROM interactions WHERE id = ? AND expires_at > ?')
    .pluck();
  // One statement reads and deletes: of concurrent takers, exactly one gets the row.
  const take = db.prepare<[string], { data: string; expires_at: number }>(
    'DELETE FROM interactions WHERE id = ? RETURNING data, expires_at',
  );
  return {
    put: (id, data, expiresAt) => call(() => void upsert.run(id, serializeInteraction(data), expiresAt)),
    get: (id, now) => call(() => parseInteraction(select.get(id, now))),
    take: (id, now) =>
      call(() => {
        const row = take.get(id);
        return row !== undefined && row.expires_at > now ? parseInteraction(row.data) : undefined;
      }),
  };
}

function createKeyStore(db: BetterSqlite3.Database, call: Guard): KeyStore {
  const all = db.prepare<[], KeyRow<SqliteColumns>>('SELECT * FROM signing_keys ORDER BY created_at, kid');
  // Upsert on kid only: a second current/next key trips the partial unique indexes instead of
  // silently replacing the other key, as INSERT OR REPLACE would.
  const upsert = db.prepare<Params>(
    `INSERT INTO signing_keys (${KEY_COLUMNS.join(', ')}) VALUES (${namedPlaceholders(KEY_COLUMNS)})
     ON CONFLICT (kid) DO UPDATE SET alg = excluded.alg, private_jwk = excluded.private_jwk,
       public_jwk = excluded.public_jwk, state = excluded.state, created_at = excluded.created_at,
       retire_after = excluded.retire_after`,
  );
  const remove = db.prepare<[string]>('DELETE FROM signing_keys WHERE kid = ?');
  const retire = db.prepare<[number, string]>(
    "UPDATE signing_keys SET state = 'retired', retire_after = ? WHERE kid = ?",
  );
  const promote = db.prepare<[string]>("UPDATE signing_keys SET state = 'current' WHERE kid = ?");
  const list = (): SigningKeyRecord[] => all.all().map(codec.keyFromRow);
  const put = db.transaction((key: SigningKeyRecord) => {
    checkKeyPut(list(), key);
    upsert.run(codec.keyParams(key));
  });
  const rotate = db.transaction((newNext: SigningKeyRecord, retireAfter: number) => {
    const plan = planKeyRotation(list(), newNext);
    // Retire before promoting, so at no point inside the transaction are two keys current.
    if (plan.retire !== undefined) retire.run(retireAfter, plan.retire);
    if (plan.promote !== undefined) promote.run(plan.promote);
    upsert.run(codec.keyParams(plan.insert));
  });
  return {
    list: () => call(list),
    put: (key) => call(() => put.immediate(key)),
    delete: (kid) => call(() => void remove.run(kid)),
    rotate: ({ newNext, retireAfter }) => call(() => rotate.immediate(newNext, retireAfter)),
  };
}
