/**
 * Opening the SQLite file the authorization-server stores live in, and turning driver errors
 * into the store errors callers act on. better-sqlite3 is loaded here, on first open, so
 * deployments that configure another backend never load the native module.
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { StoreUnavailableError } from '../contracts.js';
import { StoreConflictError } from '../store-conflict-error.js';
import { migrate } from './authorization-server-schema.js';

/** How long a write waits for another connection's write lock before giving up (503). */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/** Runs one store operation: rejects once closed, maps driver errors. */
export type Guard = <T>(operation: () => T) => Promise<T>;

/**
 * Opens (creating if needed) the database at `path` and migrates it. A file is created with
 * mode 0600 and its directory with 0700: the store holds private signing keys. An existing file
 * keeps its mode (an operator may have chosen it). WAL lets readers proceed during a write;
 * `synchronous = FULL` makes every committed rotation and revocation survive a power cut.
 */
export function openDatabase(path: string, busyTimeoutMs: number): BetterSqlite3.Database {
  const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
  if (path !== ':memory:') {
    const file = resolve(path);
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    closeSync(openSync(file, 'a', 0o600));
  }
  const db = new Database(path);
  try {
    // Set first: switching to WAL and migrating may themselves wait for another process.
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/** A {@link Guard} for `db`. Operations are synchronous; the promise only carries the outcome. */
export function guard(db: BetterSqlite3.Database): Guard {
  return async (operation) => {
    if (!db.open) throw new StoreUnavailableError('authorization-server store is closed');
    try {
      return operation();
    } catch (error) {
      throw translateError(error);
    }
  };
}

const UNAVAILABLE = ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR', 'SQLITE_FULL', 'SQLITE_CANTOPEN', 'SQLITE_READONLY', 'SQLITE_PROTOCOL'];
const CONFLICT = ['SQLITE_CONSTRAINT_PRIMARYKEY', 'SQLITE_CONSTRAINT_UNIQUE'];

/**
 * Lock contention beyond `busy_timeout` and I/O failures are outages (the caller answers 503
 * and the client retries); a uniqueness violation is a {@link StoreConflictError}. Anything
 * else — our own `TypeError`s and conflicts, bugs — passes through unchanged.
 */
function translateError(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return error;
  if (CONFLICT.some((prefix) => code.startsWith(prefix))) {
    return new StoreConflictError('a record with that key is already stored', { cause: error });
  }
  if (UNAVAILABLE.some((prefix) => code.startsWith(prefix))) {
    return new StoreUnavailableError('SQLite store cannot answer', { cause: error });
  }
  return error;
}
