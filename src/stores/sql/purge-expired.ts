/**
 * `GrantStore.purgeExpired` in SQL, the same statements for SQLite and PostgreSQL: run in this
 * order in one transaction, the rows they delete add up to the result. Children of purged grants
 * are deleted explicitly before the grants (not left to `ON DELETE CASCADE`) so that they count
 * in the result, as in memory. The grant condition mirrors `isGrantPurgeable` in
 * `authorization-server-store-rules.ts`.
 */

/** How one backend names tables and binds the two parameters. */
export interface PurgeNames {
  /** A table as statements name it (schema-qualified in PostgreSQL). */
  table(name: string): string;
  /** The placeholder of `now`. */
  now: string;
  /** The placeholder of `IDLE_GRANT_PURGE_SECONDS`. */
  idle: string;
}

/** One statement, and whether it binds `idle` besides `now` (positional binding must say exactly). */
export interface PurgeStatement {
  sql: string;
  bindsIdle: boolean;
}

/** Tables whose rows go at their own `expires_at`. */
const EXPIRING_TABLES = ['authorization_codes', 'refresh_tokens', 'access_tokens', 'exchanged_access_tokens', 'denied_access_tokens', 'interactions', 'throttles', 'device_codes'];

/** The statements of `purgeExpired`, in the order they run. */
export function purgeExpiredStatements({ table, now, idle }: PurgeNames): PurgeStatement[] {
  const purgeableGrant = `(g.expires_at IS NOT NULL AND g.expires_at <= ${now}) OR (
    NOT EXISTS (SELECT 1 FROM ${table('refresh_tokens')} r WHERE r.grant_id = g.grant_id)
    AND NOT EXISTS (SELECT 1 FROM ${table('access_tokens')} a WHERE a.grant_id = g.grant_id)
    AND (g.revoked_at IS NOT NULL OR g.created_at + ${idle} <= ${now}))`;
  const childrenOfPurgeableGrants = ['refresh_tokens', 'access_tokens'].map((name) => ({
    sql: `DELETE FROM ${table(name)} WHERE grant_id IN (SELECT g.grant_id FROM ${table('grants')} g WHERE ${purgeableGrant})`,
    bindsIdle: true,
  }));
  return [
    ...EXPIRING_TABLES.map((name) => ({ sql: `DELETE FROM ${table(name)} WHERE expires_at <= ${now}`, bindsIdle: false })),
    ...childrenOfPurgeableGrants,
    { sql: `DELETE FROM ${table('grants')} AS g WHERE ${purgeableGrant}`, bindsIdle: true },
  ];
}
