/**
 * Codes and grants in SQLite. Every check-and-set is one `BEGIN IMMEDIATE` transaction: it takes
 * the database's write lock before reading, so the read and the write it decides are atomic
 * across connections and processes sharing the file — exactly one `fresh` per code, exactly one
 * `rotated` per refresh token.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { CodeStore, ConsumeResult, GrantStore } from '../authorization-server-contracts.js';
import {
  type FamilyOperations,
  type RotateInput,
  IDLE_GRANT_PURGE_SECONDS,
  checkExchangedFrom,
  checkRotateInput,
  rotateRefreshTokenWith,
} from '../authorization-server-store-rules.js';
import {
  type CodeRow,
  type GrantRow,
  type RefreshTokenRow,
  CODE_COLUMNS,
  GRANT_COLUMNS,
  REFRESH_TOKEN_COLUMNS,
} from '../sql/authorization-server-rows.js';
import { purgeExpiredStatements } from '../sql/purge-expired.js';
import type { Guard } from './authorization-server-database.js';
import { type Params, type SqliteColumns, codec, namedPlaceholders } from './authorization-server-rows.js';

/** Creates the {@link CodeStore} on `db`. */
export function createSqliteCodeStore(db: BetterSqlite3.Database, call: Guard): CodeStore {
  const insert = db.prepare<Params>(`INSERT INTO authorization_codes (${CODE_COLUMNS.join(', ')}) VALUES (${namedPlaceholders(CODE_COLUMNS)})`);
  const select = db.prepare<[string], CodeRow<SqliteColumns>>('SELECT * FROM authorization_codes WHERE code_hash = ?');
  const markUsed = db.prepare<[number, string]>('UPDATE authorization_codes SET used_at = ? WHERE code_hash = ?');
  const consume = db.transaction((codeHash: string, now: number): ConsumeResult => {
    const row = select.get(codeHash);
    if (row === undefined || row.expires_at <= now) return { state: 'unknown' };
    if (row.used_at !== null) return { state: 'reused', code: codec.codeFromRow(row) };
    // Kept, marked, until it expires: a second redemption must be detected, not look unknown.
    markUsed.run(now, codeHash);
    return { state: 'fresh', code: codec.codeFromRow(row) };
  });
  return {
    save: (code) => call(() => void insert.run(codec.codeParams(code))),
    consume: (codeHash, now) => call(() => consume.immediate(codeHash, now)),
  };
}

/** Named parameters of the statements about one user's grants to one client. */
type PairParams = { subject: string; clientId: string; now: number };

/** Creates the {@link GrantStore} on `db`. */
export function createSqliteGrantStore(db: BetterSqlite3.Database, call: Guard): GrantStore {
  const insertGrant = db.prepare<Params>(`INSERT INTO grants (${GRANT_COLUMNS.join(', ')}) VALUES (${namedPlaceholders(GRANT_COLUMNS)})`);
  const selectGrant = db.prepare<[string], GrantRow<SqliteColumns>>('SELECT * FROM grants WHERE grant_id = ?');
  const insertToken = db.prepare<Params>(
    `INSERT INTO refresh_tokens (${REFRESH_TOKEN_COLUMNS.join(', ')}) VALUES (${namedPlaceholders(REFRESH_TOKEN_COLUMNS)})`,
  );
  const selectToken = db.prepare<[string], RefreshTokenRow<SqliteColumns>>('SELECT * FROM refresh_tokens WHERE token_hash = ?');
  const latestGeneration = db
    .prepare<[string], number | null>('SELECT MAX(generation) FROM refresh_tokens WHERE grant_id = ?')
    .pluck();
  const markRotated = db.prepare<[number, string, string, string]>(
    `UPDATE refresh_tokens SET rotated_at = ?, successor_hash = ?, rotation_fingerprint = ? WHERE token_hash = ?`,
  );
  const setRevoked = db.prepare<[number, string]>(
    'UPDATE grants SET revoked_at = ? WHERE grant_id = ? AND revoked_at IS NULL',
  );
  const denyFamily = db.prepare<[string, number]>(
    `INSERT INTO denied_access_tokens (jti, expires_at)
     SELECT jti, expires_at FROM access_tokens WHERE grant_id = ? AND expires_at > ?
     ON CONFLICT (jti) DO UPDATE SET expires_at = MAX(expires_at, excluded.expires_at)`,
  );
  const recordAccess = db.prepare<[string, string, number]>(
    `INSERT INTO access_tokens (grant_id, jti, expires_at) VALUES (?, ?, ?)
     ON CONFLICT (grant_id, jti) DO UPDATE SET expires_at = MAX(expires_at, excluded.expires_at)`,
  );
  const deny = db.prepare<[string, number]>(
    `INSERT INTO denied_access_tokens (jti, expires_at) VALUES (?, ?)
     ON CONFLICT (jti) DO UPDATE SET expires_at = MAX(expires_at, excluded.expires_at)`,
  );
  // The token itself or any token it was exchanged from: each an index lookup.
  const isDenied = db
    .prepare<{ jti: string; now: number }, number>(
      `SELECT 1 FROM denied_access_tokens
       WHERE jti IN (SELECT @jti UNION ALL SELECT exchanged_from FROM exchanged_access_tokens WHERE jti = @jti)
         AND expires_at > @now
       LIMIT 1`,
    )
    .pluck();
  const recordExchange = db.prepare<[string, string, number]>(
    `INSERT INTO exchanged_access_tokens (jti, exchanged_from, expires_at) VALUES (?, ?, ?)
     ON CONFLICT (jti, exchanged_from) DO UPDATE SET expires_at = MAX(expires_at, excluded.expires_at)`,
  );
  const grantOfToken = db
    .prepare<[string], string>('SELECT grant_id FROM access_tokens WHERE jti = ? ORDER BY grant_id LIMIT 1')
    .pluck();
  const exchangedFrom = db
    .prepare<[string], string>('SELECT exchanged_from FROM exchanged_access_tokens WHERE jti = ? ORDER BY exchanged_from')
    .pluck();

  const revokeFamily = (grantId: string, now: number): void => {
    setRevoked.run(now, grantId);
    denyFamily.run(grantId, now);
  };
  const family: FamilyOperations = {
    getToken: (tokenHash) => {
      const row = selectToken.get(tokenHash);
      return row && codec.refreshTokenFromRow(row);
    },
    getGrant: (grantId) => {
      const row = selectGrant.get(grantId);
      return row && codec.grantFromRow(row);
    },
    latestGeneration: (grantId) => latestGeneration.get(grantId) ?? -1,
    markRotated: (tokenHash, rotatedAt, successorHash, fingerprint) =>
      void markRotated.run(rotatedAt, successorHash, fingerprint, tokenHash),
    insertToken: (token) => void insertToken.run(codec.refreshTokenParams(token)),
    recordAccessToken: (grantId, jti, expiresAt) => void recordAccess.run(grantId, jti, expiresAt),
    revokeFamily,
  };

  const pair = 'subject = @subject AND client_id = @clientId';
  const dropUnredeemedCodes = db.prepare<PairParams>(`DELETE FROM authorization_codes WHERE ${pair} AND used_at IS NULL`);
  // A redeemed code whose grant is not there yet: its redemption is in flight; leave the grant revoked in its place.
  const revokedPlaceholders = db.prepare<PairParams>(
    `INSERT INTO grants (grant_id, client_id, subject, scopes, resources, jkt, created_at, expires_at, revoked_at)
     SELECT grant_id, client_id, subject, scopes, json_array(resource), NULL, @now, NULL, @now FROM authorization_codes
     WHERE ${pair} AND grant_id NOT IN (SELECT grant_id FROM grants)
     ON CONFLICT (grant_id) DO NOTHING`,
  );
  const revokePair = db.prepare<PairParams>(`UPDATE grants SET revoked_at = @now WHERE ${pair} AND revoked_at IS NULL`);
  const denyPair = db.prepare<PairParams>(
    `INSERT INTO denied_access_tokens (jti, expires_at)
     SELECT jti, expires_at FROM access_tokens WHERE grant_id IN (SELECT grant_id FROM grants WHERE ${pair}) AND expires_at > @now
     ON CONFLICT (jti) DO UPDATE SET expires_at = MAX(expires_at, excluded.expires_at)`,
  );
  const revokeAllOf = db.transaction((params: PairParams): number => {
    dropUnredeemedCodes.run(params);
    const revoked = revokedPlaceholders.run(params).changes + revokePair.run(params).changes;
    denyPair.run(params);
    return revoked;
  });

  const rotate = db.transaction((input: RotateInput) => rotateRefreshTokenWith(family, input));
  const revoke = db.transaction(revokeFamily);
  const saveToken = db.transaction((params: Params, grantId: string) => {
    if (selectGrant.get(grantId) === undefined) throw new TypeError('GrantStore.saveRefreshToken: unknown grant');
    insertToken.run(params);
  });
  const record = db.transaction((grantId: string, jti: string, expiresAt: number) => {
    const grant = selectGrant.get(grantId);
    if (grant === undefined) throw new TypeError('GrantStore.recordAccessToken: unknown grant');
    recordAccess.run(grantId, jti, expiresAt);
    // Issued while (or after) the grant was revoked: deny it now, or it would escape.
    if (grant.revoked_at !== null) deny.run(jti, expiresAt);
  });
  const recordChain = db.transaction((jti: string, from: readonly string[], expiresAt: number) => {
    for (const ancestor of from) recordExchange.run(jti, ancestor, expiresAt);
  });
  const purge = createPurge(db);

  return {
    createGrant: (grant) => call(() => void insertGrant.run(codec.grantParams(grant))),
    getGrant: (grantId) => call(() => family.getGrant(grantId)),
    saveRefreshToken: (token) => call(() => saveToken.immediate(codec.refreshTokenParams(token), token.grantId)),
    getRefreshToken: (tokenHash) => call(() => family.getToken(tokenHash)),
    rotateRefreshToken: (input) =>
      call(() => {
        checkRotateInput(input);
        return rotate.immediate(input);
      }),
    revokeGrant: (grantId, now) => call(() => revoke.immediate(grantId, now)),
    revokeGrantsFor: (subject, clientId, now) => call(() => revokeAllOf.immediate({ subject, clientId, now })),
    recordAccessToken: (grantId, jti, expiresAt) => call(() => record.immediate(grantId, jti, expiresAt)),
    recordExchangedAccessToken: (jti, from, expiresAt) =>
      call(() => recordChain.immediate(jti, checkExchangedFrom(from), expiresAt)),
    getAccessTokenLineage: (jti) =>
      call(() => {
        const grantId = grantOfToken.get(jti);
        const chain = exchangedFrom.all(jti);
        return grantId === undefined ? { exchangedFrom: chain } : { grantId, exchangedFrom: chain };
      }),
    denyAccessToken: (jti, expiresAt) => call(() => void deny.run(jti, expiresAt)),
    isAccessTokenDenied: (jti, now) => call(() => isDenied.get({ jti, now }) !== undefined),
    purgeExpired: (now) => call(() => purge.immediate(now)),
  };
}

/** `purgeExpired` (the shared statements) as one transaction. */
function createPurge(db: BetterSqlite3.Database): BetterSqlite3.Transaction<(now: number) => number> {
  // Named parameters: a statement ignores the ones it does not use.
  const statements = purgeExpiredStatements({ table: (name) => name, now: '@now', idle: '@idle' }).map(({ sql }) =>
    db.prepare<{ now: number; idle: number }>(sql),
  );
  return db.transaction((now: number) => {
    const params = { now, idle: IDLE_GRANT_PURGE_SECONDS };
    return statements.reduce((removed, statement) => removed + statement.run(params).changes, 0);
  });
}
