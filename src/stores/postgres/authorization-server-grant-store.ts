/**
 * Codes and grants in PostgreSQL, atomic across every instance sharing the database. A
 * check-and-set is either one statement (the server serialises concurrent writers of a row) or
 * a transaction that first locks the row its decision depends on (`SELECT … FOR UPDATE`): in
 * READ COMMITTED each later statement then sees everything committed before the lock was
 * granted, so the read and the write it decides cannot be split by another instance.
 *
 * Lock order, to rule out deadlocks: a family's grant row first, then its tokens.
 *
 * @see https://www.postgresql.org/docs/current/transaction-iso.html#XACT-READ-COMMITTED
 */
import type { CodeStore, ConsumeResult, GrantRecord, GrantStore, RefreshTokenRecord, RotateResult } from '../authorization-server-contracts.js';
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
import type { PostgresDatabase, Queryable } from './authorization-server-database.js';
import { type PostgresColumns, codec, placeholders } from './authorization-server-rows.js';

/** Creates the {@link CodeStore} in schema `s` (quoted). */
export function createPostgresCodeStore(db: PostgresDatabase, s: string): CodeStore {
  const insert = `INSERT INTO ${s}.authorization_codes (${CODE_COLUMNS.join(', ')}) VALUES (${placeholders(CODE_COLUMNS.length)})`;
  // One statement: the UPDATE claims the code (of concurrent claimers the server lets exactly one
  // match `used_at IS NULL`); the fallback SELECT tells a redeemed code from an unknown one. The
  // SELECT reads the statement's snapshot, which may predate a concurrent claim, so `fresh` comes
  // only from the UPDATE's RETURNING, never from what the SELECT saw.
  const consume = `
    WITH claimed AS (
      UPDATE ${s}.authorization_codes SET used_at = $2
      WHERE code_hash = $1 AND expires_at > $2 AND used_at IS NULL
      RETURNING *
    )
    SELECT *, true AS fresh FROM claimed
    UNION ALL
    SELECT *, false AS fresh FROM ${s}.authorization_codes
    WHERE code_hash = $1 AND expires_at > $2 AND NOT EXISTS (SELECT 1 FROM claimed)`;
  return {
    save: async (code) => void (await db.query(insert, codec.codeParams(code))),
    consume: async (codeHash, now): Promise<ConsumeResult> => {
      const { rows } = await db.query<CodeRow<PostgresColumns> & { fresh: boolean }>(consume, [codeHash, now]);
      const row = rows[0];
      if (row === undefined) return { state: 'unknown' };
      // Kept, marked, until it expires: a second redemption must be detected, not look unknown.
      return { state: row.fresh ? 'fresh' : 'reused', code: codec.codeFromRow(row) };
    },
  };
}

/** Creates the {@link GrantStore} in schema `s` (quoted). */
export function createPostgresGrantStore(db: PostgresDatabase, s: string): GrantStore {
  const insertGrant = `INSERT INTO ${s}.grants (${GRANT_COLUMNS.join(', ')}) VALUES (${placeholders(GRANT_COLUMNS.length)})`;
  const selectGrant = `SELECT * FROM ${s}.grants WHERE grant_id = $1`;
  const insertToken = `INSERT INTO ${s}.refresh_tokens (${REFRESH_TOKEN_COLUMNS.join(', ')}) VALUES (${placeholders(REFRESH_TOKEN_COLUMNS.length)})`;
  const selectToken = `SELECT * FROM ${s}.refresh_tokens WHERE token_hash = $1`;
  const deny = `
    INSERT INTO ${s}.denied_access_tokens (jti, expires_at) VALUES ($1, $2)
    ON CONFLICT (jti) DO UPDATE SET expires_at = GREATEST(${s}.denied_access_tokens.expires_at, excluded.expires_at)`;
  // One statement. FOR SHARE on the grant row orders this against a revocation (which updates
  // that row first): if the revocation holds the row, this waits and then reads the revoked
  // row (READ COMMITTED re-reads a row it had to wait for) and denies the token itself; if this
  // holds it, the revocation waits, and its deny-list copy (a later statement) sees this token.
  const recordAccess = `
    WITH g AS (SELECT grant_id, revoked_at FROM ${s}.grants WHERE grant_id = $1 FOR SHARE),
    recorded AS (
      INSERT INTO ${s}.access_tokens (grant_id, jti, expires_at) SELECT g.grant_id, $2::text, $3::bigint FROM g
      ON CONFLICT (grant_id, jti) DO UPDATE SET expires_at = GREATEST(${s}.access_tokens.expires_at, excluded.expires_at)
    ),
    denied AS (
      INSERT INTO ${s}.denied_access_tokens (jti, expires_at) SELECT $2::text, $3::bigint FROM g WHERE g.revoked_at IS NOT NULL
      ON CONFLICT (jti) DO UPDATE SET expires_at = GREATEST(${s}.denied_access_tokens.expires_at, excluded.expires_at)
    )
    SELECT count(*) AS found FROM g`;
  // The token itself or any token it was exchanged from: each an index lookup.
  const isDenied = `
    SELECT 1 FROM ${s}.denied_access_tokens
    WHERE jti IN (SELECT $1::text UNION ALL SELECT exchanged_from FROM ${s}.exchanged_access_tokens WHERE jti = $1)
      AND expires_at > $2
    LIMIT 1`;
  const recordExchange = `
    INSERT INTO ${s}.exchanged_access_tokens (jti, exchanged_from, expires_at)
    SELECT $1::text, ancestor, $3::bigint FROM unnest($2::text[]) AS ancestor
    ON CONFLICT (jti, exchanged_from) DO UPDATE SET expires_at = GREATEST(${s}.exchanged_access_tokens.expires_at, excluded.expires_at)`;
  const lineage = `
    SELECT (SELECT grant_id FROM ${s}.access_tokens WHERE jti = $1 ORDER BY grant_id COLLATE "C" LIMIT 1) AS grant_id,
           COALESCE((SELECT array_agg(exchanged_from ORDER BY exchanged_from COLLATE "C")
                     FROM ${s}.exchanged_access_tokens WHERE jti = $1), '{}') AS exchanged_from`;

  /**
   * `GrantStore.revokeGrant` inside `tx`. The UPDATE locks the grant row before the deny-list
   * copy reads the family's access tokens, so a token recorded concurrently is either seen
   * here or sees the revocation (see `recordAccess`). The first revocation time stands.
   */
  const revokeFamily = async (tx: Queryable, grantId: string, now: number): Promise<void> => {
    await tx.query(`UPDATE ${s}.grants SET revoked_at = $2 WHERE grant_id = $1 AND revoked_at IS NULL`, [grantId, now]);
    await tx.query(
      `INSERT INTO ${s}.denied_access_tokens (jti, expires_at)
       SELECT jti, expires_at FROM ${s}.access_tokens WHERE grant_id = $1 AND expires_at > $2
       ON CONFLICT (jti) DO UPDATE SET expires_at = GREATEST(${s}.denied_access_tokens.expires_at, excluded.expires_at)`,
      [grantId, now],
    );
  };

  /**
   * `GrantStore.revokeGrantsFor` as one transaction. Unredeemed codes go first: a concurrent
   * redemption either marked its code used before the DELETE reached it (the DELETE then skips
   * it, and the next statement, a later snapshot, sees it redeemed and leaves its grant revoked
   * in its place) or finds it gone. A grant the redemption inserts concurrently is either seen
   * by the UPDATE or collides with the placeholder (the redemption then records into a revoked
   * grant). The UPDATE locks the grants it revokes before their access tokens are copied to the
   * deny-list, as in {@link revokeFamily}.
   */
  const revokeAllOf = (subject: string, clientId: string, now: number): Promise<number> =>
    db.transaction(async (tx) => {
      const params = [subject, clientId, now];
      await tx.query(`DELETE FROM ${s}.authorization_codes WHERE subject = $1 AND client_id = $2 AND used_at IS NULL`, [subject, clientId]);
      const placeholders = await tx.query(
        `INSERT INTO ${s}.grants (${GRANT_COLUMNS.join(', ')})
         SELECT grant_id, client_id, subject, scopes, ARRAY[resource], NULL::text, $3::bigint, NULL::bigint, $3::bigint
         FROM ${s}.authorization_codes WHERE subject = $1 AND client_id = $2
         ON CONFLICT (grant_id) DO NOTHING`,
        params,
      );
      const revoked = await tx.query(`UPDATE ${s}.grants SET revoked_at = $3 WHERE subject = $1 AND client_id = $2 AND revoked_at IS NULL`, params);
      await tx.query(
        `INSERT INTO ${s}.denied_access_tokens (jti, expires_at)
         SELECT a.jti, a.expires_at FROM ${s}.access_tokens a JOIN ${s}.grants g ON g.grant_id = a.grant_id
         WHERE g.subject = $1 AND g.client_id = $2 AND a.expires_at > $3
         ON CONFLICT (jti) DO UPDATE SET expires_at = GREATEST(${s}.denied_access_tokens.expires_at, excluded.expires_at)`,
        params,
      );
      return placeholders.rowCount + revoked.rowCount;
    });

  /**
   * The compare-and-swap. The family's grant row is locked first, so rotations, revocations
   * and access-token records of one family run one at a time across instances. Everything
   * `rotateRefreshTokenWith` may read is then loaded in two statements, the shared rules decide
   * on that snapshot, and the writes they asked for are applied in order before COMMIT.
   */
  const rotate = (input: RotateInput): Promise<RotateResult> =>
    db.transaction(async (tx) => {
      const locked = await tx.query<GrantRow<PostgresColumns>>(
        `SELECT * FROM ${s}.grants
         WHERE grant_id = (SELECT grant_id FROM ${s}.refresh_tokens WHERE token_hash = $1) FOR UPDATE`,
        [input.tokenHash],
      );
      const grantRow = locked.rows[0];
      const tokenRows = await tx.query<RefreshTokenRow<PostgresColumns>>(
        `SELECT * FROM ${s}.refresh_tokens
         WHERE token_hash = ANY($1::text[])
            OR token_hash = (SELECT successor_hash FROM ${s}.refresh_tokens WHERE token_hash = $2)`,
        [[input.tokenHash, input.successor.tokenHash], input.tokenHash],
      );
      const latest =
        grantRow === undefined
          ? -1
          : ((await tx.query<{ latest: number | null }>(
              `SELECT MAX(generation) AS latest FROM ${s}.refresh_tokens WHERE grant_id = $1`,
              [grantRow.grant_id],
            )).rows[0]?.latest ?? -1);
      const snapshot = familySnapshot(
        grantRow === undefined ? undefined : codec.grantFromRow(grantRow),
        tokenRows.rows.map(codec.refreshTokenFromRow),
        latest,
        [input.tokenHash, input.successor.tokenHash],
      );
      const result = rotateRefreshTokenWith(snapshot.operations, input);
      for (const write of snapshot.writes) {
        switch (write.kind) {
          case 'markRotated':
            await tx.query(
              `UPDATE ${s}.refresh_tokens SET rotated_at = $2, successor_hash = $3, rotation_fingerprint = $4 WHERE token_hash = $1`,
              [write.tokenHash, write.rotatedAt, write.successorHash, write.fingerprint],
            );
            break;
          case 'insertToken':
            await tx.query(insertToken, codec.refreshTokenParams(write.token));
            break;
          case 'revokeFamily':
            await revokeFamily(tx, write.grantId, write.now);
            break;
          case 'recordAccessToken':
            // The grant row is locked FOR UPDATE above and not revoked: a plain insert suffices.
            await tx.query(
              `INSERT INTO ${s}.access_tokens (grant_id, jti, expires_at) VALUES ($1, $2, $3)
               ON CONFLICT (grant_id, jti) DO UPDATE SET expires_at = GREATEST(${s}.access_tokens.expires_at, excluded.expires_at)`,
              [write.grantId, write.jti, write.expiresAt],
            );
            break;
        }
      }
      return result;
    });

  return {
    createGrant: async (grant) => void (await db.query(insertGrant, codec.grantParams(grant))),
    getGrant: async (grantId) => {
      const row = (await db.query<GrantRow<PostgresColumns>>(selectGrant, [grantId])).rows[0];
      return row && codec.grantFromRow(row);
    },
    saveRefreshToken: async (token) => {
      try {
        await db.query(insertToken, codec.refreshTokenParams(token));
      } catch (error) {
        // The foreign key is the existence check: atomic with the insert, and no extra read.
        if (error instanceof TypeError && (error.cause as { code?: unknown } | undefined)?.code === '23503') {
          throw new TypeError('GrantStore.saveRefreshToken: unknown grant', { cause: error.cause });
        }
        throw error;
      }
    },
    getRefreshToken: async (tokenHash) => {
      const row = (await db.query<RefreshTokenRow<PostgresColumns>>(selectToken, [tokenHash])).rows[0];
      return row && codec.refreshTokenFromRow(row);
    },
    rotateRefreshToken: async (input) => {
      checkRotateInput(input);
      return rotate(input);
    },
    revokeGrant: (grantId, now) => db.transaction((tx) => revokeFamily(tx, grantId, now)),
    revokeGrantsFor: (subject, clientId, now) => revokeAllOf(subject, clientId, now),
    recordAccessToken: async (grantId, jti, expiresAt) => {
      const { rows } = await db.query<{ found: number }>(recordAccess, [grantId, jti, expiresAt]);
      if (Number(rows[0]?.found ?? 0) === 0) throw new TypeError('GrantStore.recordAccessToken: unknown grant');
    },
    recordExchangedAccessToken: async (jti, from, expiresAt) =>
      void (await db.query(recordExchange, [jti, checkExchangedFrom(from), expiresAt])),
    getAccessTokenLineage: async (jti) => {
      const row = (await db.query<{ grant_id: string | null; exchanged_from: string[] }>(lineage, [jti])).rows[0];
      const exchangedFrom = row?.exchanged_from ?? [];
      return row?.grant_id == null ? { exchangedFrom } : { grantId: row.grant_id, exchangedFrom };
    },
    denyAccessToken: async (jti, expiresAt) => void (await db.query(deny, [jti, expiresAt])),
    isAccessTokenDenied: async (jti, now) => (await db.query(isDenied, [jti, now])).rowCount > 0,
    purgeExpired: (now) => purge(db, s, now),
  };
}

/** A write `rotateRefreshTokenWith` asked for, applied after it returns. */
type FamilyWrite =
  | { kind: 'markRotated'; tokenHash: string; rotatedAt: number; successorHash: string; fingerprint: string }
  | { kind: 'insertToken'; token: RefreshTokenRecord }
  | { kind: 'revokeFamily'; grantId: string; now: number }
  | { kind: 'recordAccessToken'; grantId: string; jti: string; expiresAt: number };

/**
 * {@link FamilyOperations} over rows loaded under the family lock. Reads answer from the
 * snapshot (updated by the snapshot's own writes); writes are recorded for the caller to apply.
 * The shared rules decide; this only feeds them. A read of a token that was not loaded is a bug
 * here (the rules' reads changed), and fails loudly rather than answering "unknown".
 */
function familySnapshot(
  grant: GrantRecord | undefined,
  tokens: readonly RefreshTokenRecord[],
  latestGeneration: number,
  requested: readonly string[],
): { operations: FamilyOperations; writes: FamilyWrite[] } {
  const byHash = new Map(tokens.map((token) => [token.tokenHash, token]));
  // Loaded: what was asked for, plus the successor of the presented token (if rotated).
  const loaded = new Set([...requested, ...tokens.map((token) => token.tokenHash)]);
  const writes: FamilyWrite[] = [];
  const operations: FamilyOperations = {
    getToken: (tokenHash) => {
      if (!loaded.has(tokenHash)) throw new Error('rotateRefreshToken: the rules read a token that was not loaded');
      const token = byHash.get(tokenHash);
      return token && structuredClone(token);
    },
    getGrant: (grantId) => (grant !== undefined && grant.grantId === grantId ? structuredClone(grant) : undefined),
    latestGeneration: (grantId) => (grant !== undefined && grant.grantId === grantId ? latestGeneration : -1),
    markRotated: (tokenHash, rotatedAt, successorHash, fingerprint) => {
      writes.push({ kind: 'markRotated', tokenHash, rotatedAt, successorHash, fingerprint });
      const token = byHash.get(tokenHash);
      if (token) Object.assign(token, { rotatedAt, successorHash, rotationFingerprint: fingerprint });
    },
    insertToken: (token) => {
      writes.push({ kind: 'insertToken', token: structuredClone(token) });
      byHash.set(token.tokenHash, structuredClone(token));
      loaded.add(token.tokenHash);
    },
    revokeFamily: (grantId, now) => void writes.push({ kind: 'revokeFamily', grantId, now }),
    recordAccessToken: (grantId, jti, expiresAt) => void writes.push({ kind: 'recordAccessToken', grantId, jti, expiresAt }),
  };
  return { operations, writes };
}

/** `purgeExpired` (the shared statements) as one transaction. */
function purge(db: PostgresDatabase, s: string, now: number): Promise<number> {
  const statements = purgeExpiredStatements({ table: (name) => `${s}.${name}`, now: '$1', idle: '$2' });
  return db.transaction(async (tx) => {
    let removed = 0;
    // Positional parameters: a statement must be sent exactly the ones it uses.
    for (const { sql, bindsIdle } of statements) removed += (await tx.query(sql, bindsIdle ? [now, IDLE_GRANT_PURGE_SECONDS] : [now])).rowCount;
    return removed;
  });
}
