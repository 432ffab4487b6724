/**
 * Which schema migrations a SQL database still needs, decided the same way for SQLite and
 * PostgreSQL. Each backend applies them its own way (one `BEGIN IMMEDIATE` transaction; one
 * transaction under an advisory lock) and records each in its `schema_version` table.
 */

/** One numbered schema step; `sql` is the backend's own. */
export interface NumberedMigration {
  version: number;
}

/** The schema version `migrations` bring a database to: the highest they number. */
export function schemaVersion(migrations: readonly NumberedMigration[]): number {
  return migrations.reduce((latest, migration) => Math.max(latest, migration.version), 0);
}

/**
 * The migrations a database recorded at version `current` (0: none) still needs, in order.
 * Refuses a database written by a newer Warden rather than guess at columns it does not know.
 *
 * @param store - Names the store in the error (`SQLite store`, `PostgreSQL store`).
 * @throws Error when `current` is newer than `migrations` reach.
 */
export function pendingMigrations<M extends NumberedMigration>(migrations: readonly M[], current: number, store: string): M[] {
  const latest = schemaVersion(migrations);
  if (current > latest) {
    throw new Error(`${store} schema version ${current} is newer than this Warden understands (${latest}); upgrade Warden`);
  }
  return migrations.filter((migration) => migration.version > current);
}
