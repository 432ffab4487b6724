/**
 * The fleet registry store in the stack's SQLite file (its own two tables beside the
 * authorization server's). Every write is one `BEGIN IMMEDIATE` transaction that checks the
 * revision and bumps it, so several processes sharing the file see one order of changes.
 *
 * @see https://www.sqlite.org/lang_transaction.html
 */
import { StoreUnavailableError } from '../contracts.js';
import { type RegistryChange, type RegistryStore, type ServerRecord, checkRegistryChange } from '../registry-contracts.js';
import { StoreConflictError } from '../store-conflict-error.js';
import { DEFAULT_BUSY_TIMEOUT_MS, guard, openDatabase } from '../sqlite/authorization-server-database.js';

/** Options of {@link openSqliteRegistryStore}. */
export interface SqliteRegistryStoreOptions {
  /** Database file (created if missing; may be the authorization server's), or `':memory:'`. */
  path: string;
  /** How long a write waits for another process's write lock. Default 5000 ms. */
  busyTimeoutMs?: number;
}

/** Opens (creating its tables if needed) the SQLite {@link RegistryStore}. */
export function openSqliteRegistryStore(options: SqliteRegistryStoreOptions): RegistryStore {
  if (typeof options.path !== 'string' || options.path === '') throw new TypeError('SQLite registry store path must be a non-empty string');
  const db = openDatabase(options.path, options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
  db.exec(`
    CREATE TABLE IF NOT EXISTS registry_revision (id INTEGER PRIMARY KEY CHECK (id = 1), revision INTEGER NOT NULL);
    INSERT OR IGNORE INTO registry_revision (id, revision) VALUES (1, 0);
    CREATE TABLE IF NOT EXISTS registry_servers (name TEXT PRIMARY KEY, spec TEXT NOT NULL);
  `);
  const run = guard(db);
  const currentRevision = db.prepare<[], { revision: number }>('SELECT revision FROM registry_revision WHERE id = 1');
  const all = db.prepare<[], { name: string; spec: string }>('SELECT name, spec FROM registry_servers ORDER BY name');
  const upsert = db.prepare('INSERT INTO registry_servers (name, spec) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET spec = excluded.spec');
  const remove = db.prepare('DELETE FROM registry_servers WHERE name = ?');
  const bump = db.prepare('UPDATE registry_revision SET revision = revision + 1 WHERE id = 1');
  const revisionNow = () => currentRevision.get()?.revision ?? 0;
  const snapshot = db.transaction(() => ({
    revision: revisionNow(),
    servers: all.all().map((row): ServerRecord => ({ name: row.name, spec: JSON.parse(row.spec) as Record<string, unknown> })),
  }));
  const write = db.transaction((change: RegistryChange, expected: number): number => {
    const revision = revisionNow();
    if (revision !== expected) throw new StoreConflictError(`the registry is at revision ${revision}, not ${expected}`);
    if ('put' in change) upsert.run(change.put.name, JSON.stringify(change.put.spec));
    else if (remove.run(change.remove).changes === 0) return revision;
    bump.run();
    return revision + 1;
  });
  let closed = false;
  const open = () => {
    if (closed) throw new StoreUnavailableError('registry store is closed');
  };
  return {
    read: () => run(() => (open(), snapshot.immediate())),
    revision: () => run(() => (open(), revisionNow())),
    write: (change, expectedRevision) =>
      run(() => {
        open();
        checkRegistryChange(change, expectedRevision);
        return write.immediate(change, expectedRevision);
      }),
    close: async () => {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
