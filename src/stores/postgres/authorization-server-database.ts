/**
 * The connection pool the PostgreSQL authorization-server stores share, and the one place
 * driver errors become the store errors callers act on. `pg` is imported on first open, so
 * deployments that configure another backend never load it.
 *
 * Needs PostgreSQL 11 or later (`hashtextextended`).
 *
 * Fail closed: anything the driver reports other than an answer from the server (connection
 * refused or dropped, a timed-out query, a pool that was ended) rejects with
 * {@link StoreUnavailableError}; no operation resolves on a path where the database did not
 * answer. Messages never contain the connection URL, which may hold a password.
 */
import type { DatabaseError as PgDatabaseError, Pool, PoolClient, PoolConfig } from 'pg';
import { StoreUnavailableError } from '../contracts.js';
import { StoreConflictError } from '../store-conflict-error.js';

/** Default bound on one statement, lock waits included (server side). */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 5000;
/** Default bound on opening a connection, and on waiting for a free one in the pool. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
/** Default number of connections per instance. */
export const DEFAULT_POOL_SIZE = 10;
/**
 * The client-side read timeout exceeds the server's statement timeout by this much, so the
 * server's own cancellation (a clean SQLSTATE 57014) normally wins, and the client-side one only
 * fires when the server or the network is gone.
 */
const READ_TIMEOUT_MARGIN_MS = 1000;

/** Reads and writes on one connection (the pool, or a transaction's client). */
export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<{ rows: R[]; rowCount: number }>;
}

/** What {@link openPool} needs; validated by the caller. */
export interface PoolSettings {
  url: string;
  poolSize: number;
  statementTimeoutMs: number;
  connectTimeoutMs: number;
  onError?: (error: Error) => void;
}

type PgModule = typeof import('pg')['default'];

/**
 * The pool of one store instance: queries and transactions that reject with the store errors,
 * and `close()`.
 */
export class PostgresDatabase implements Queryable {
  readonly #pool: Pool;
  readonly #DatabaseError: typeof PgDatabaseError;
  readonly #secrets: readonly string[];
  readonly #onError: ((error: Error) => void) | undefined;
  #closing: Promise<void> | undefined;

  constructor(pool: Pool, DatabaseError: typeof PgDatabaseError, secrets: readonly string[], onError?: (error: Error) => void) {
    this.#pool = pool;
    this.#DatabaseError = DatabaseError;
    this.#secrets = secrets;
    this.#onError = onError;
    // An idle connection that drops (server restart, failover, network) is reported here; without
    // a listener the pool's 'error' event would crash the process. The pool replaces it on demand.
    pool.on('error', (error) => this.#report(error));
  }

  /** One statement on any pooled connection. */
  async query<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<{ rows: R[]; rowCount: number }> {
    this.#checkOpen();
    try {
      const result = await this.#pool.query(sql, params as unknown[]);
      return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
    } catch (error) {
      throw this.#translate(error);
    }
  }

  /**
   * Runs `work` in `BEGIN` … `COMMIT` on one pooled connection; any throw rolls back and
   * rejects with it. A connection that failed (or whose rollback failed) is destroyed, not
   * returned to the pool.
   *
   * A `COMMIT` that fails because the connection dropped rejects with
   * {@link StoreUnavailableError} although the transaction may have committed: callers treat it
   * as "no answer", never as a positive one.
   *
   * @param options.timeoutMs - Replaces the statement timeout (server and client side) for this
   *   transaction's statements, for work that may legitimately take longer (migrations).
   */
  async transaction<T>(work: (tx: Queryable) => Promise<T>, options: { timeoutMs?: number } = {}): Promise<T> {
    this.#checkOpen();
    let client: PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw this.#translate(error);
    }
    // While checked out, a connection's errors are no longer the pool's to catch: between two
    // statements an unhandled 'error' would crash the process.
    let broken: Error | undefined;
    const onClientError = (error: Error): void => {
      broken ??= error;
      this.#report(error);
    };
    client.on('error', onClientError);
    const readTimeout = options.timeoutMs === undefined ? undefined : options.timeoutMs + READ_TIMEOUT_MARGIN_MS;
    const tx: Queryable = {
      query: async (sql, params = []) => {
        try {
          const result = await client.query({ text: sql, values: params as unknown[], ...(readTimeout && { query_timeout: readTimeout }) });
          return { rows: result.rows, rowCount: result.rowCount ?? 0 };
        } catch (error) {
          throw this.#translate(error);
        }
      },
    };
    try {
      await tx.query('BEGIN');
      if (options.timeoutMs !== undefined) await tx.query(`SET LOCAL statement_timeout = ${Math.trunc(options.timeoutMs)}`);
      const result = await work(tx);
      await tx.query('COMMIT');
      return result;
    } catch (error) {
      if (!(error instanceof StoreUnavailableError) && broken === undefined) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          broken = rollbackError as Error;
        }
      } else {
        broken ??= error as Error;
      }
      throw error;
    } finally {
      client.off('error', onClientError);
      // With an error, pg-pool destroys the connection instead of reusing it.
      client.release(broken);
    }
  }

  /** Ends the pool (waits for checked-out connections). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#pool.end().catch(() => undefined);
    return this.#closing;
  }

  #checkOpen(): void {
    if (this.#closing !== undefined) throw new StoreUnavailableError('authorization-server store is closed');
  }

  #report(error: Error): void {
    if (this.#onError === undefined) return;
    const safe = new Error(`PostgreSQL store connection error: ${redact(error.message, this.#secrets)}`);
    try {
      this.#onError(safe);
    } catch {
      // A throwing listener must not turn a dropped connection into a crash.
    }
  }

  #translate(error: unknown): unknown {
    return translatePgError(error, this.#DatabaseError, this.#secrets);
  }
}

/**
 * SQLSTATE classes that mean "the database cannot answer now; retry later": connection (08),
 * credentials rejected (28) or database missing (3D) — e.g. after a password rotation —,
 * serialization failure and deadlock (40), resources (53), cancelled or shut down, statement
 * timeout included (57), system (58), internal (XX).
 */
const UNAVAILABLE_CLASSES = ['08', '28', '3D', '40', '53', '57', '58', 'XX'];
/** Single SQLSTATEs of the same kind outside those classes. */
const UNAVAILABLE_CODES = ['55P03', '25P03'];

/**
 * - A uniqueness violation (23505) is a {@link StoreConflictError}.
 * - A foreign-key violation (23503) or a data exception (class 22: a value that does not fit its
 *   column, e.g. a fractional time) is a `TypeError`: a caller bug.
 * - Connection, resource, timeout/cancel, serialization and deadlock errors, and any error that is
 *   not an answer from the server at all, are {@link StoreUnavailableError}.
 * - Anything else the server answered (a bug, a schema changed under us) passes through.
 *
 * @param secrets - Strings that must never appear in a message (URL, password).
 */
export function translatePgError(error: unknown, DatabaseError: typeof PgDatabaseError, secrets: readonly string[]): unknown {
  if (error instanceof StoreUnavailableError || error instanceof StoreConflictError || error instanceof TypeError) return error;
  if (error instanceof DatabaseError) {
    const code = error.code ?? '';
    if (code === '23505') return new StoreConflictError('a record with that key is already stored', { cause: error });
    if (code === '23503') return new TypeError('a record refers to one that is not stored', { cause: error });
    if (code.startsWith('22')) {
      return new TypeError(`a value does not fit its column (${code}); times are whole seconds since the epoch`, { cause: error });
    }
    if (UNAVAILABLE_CLASSES.includes(code.slice(0, 2)) || UNAVAILABLE_CODES.includes(code)) {
      return new StoreUnavailableError(`PostgreSQL store cannot answer (${code}: ${redact(error.message, secrets)})`, { cause: error });
    }
    return error;
  }
  const reason = error instanceof Error ? redact(errorCode(error) ?? error.message, secrets) : 'unknown error';
  return new StoreUnavailableError(`PostgreSQL store cannot answer: ${reason}`, { cause: error });
}

function errorCode(error: Error): string | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code !== '' ? code : undefined;
}

/** Removes every secret from `text` (belt and braces: driver messages do not normally echo them). */
export function redact(text: string, secrets: readonly string[]): string {
  let safe = text;
  for (const secret of secrets) if (secret.length >= 3) safe = safe.split(secret).join('[redacted]');
  return safe;
}

/**
 * The URL and its password, raw and decoded: what {@link redact} removes.
 *
 * @throws TypeError (without the URL in the message) when `url` is not a `postgres:` or
 *   `postgresql:` URL.
 */
export function urlSecrets(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not `{ cause }`: URL errors carry the input.
    throw new TypeError('PostgreSQL store url is not a valid URL');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new TypeError('PostgreSQL store url must start with postgres:// or postgresql://');
  }
  const secrets = [url];
  if (parsed.password !== '') {
    secrets.push(parsed.password);
    try {
      secrets.push(decodeURIComponent(parsed.password));
    } catch {
      // Malformed escapes: the raw form is already listed.
    }
  }
  return secrets;
}

/**
 * Imports `pg`, creates the pool and checks that a connection can be made (by the caller's
 * first transaction). `bigint` columns are parsed to numbers for this pool only (times and
 * counts fit in 2^53), leaving the process-wide `pg` parsers alone.
 */
export async function openPool(settings: PoolSettings, secrets: readonly string[]): Promise<PostgresDatabase> {
  let pg: PgModule;
  try {
    pg = (await import('pg')).default;
  } catch (error) {
    throw new TypeError('the PostgreSQL store needs the "pg" package: npm install pg', { cause: error });
  }
  const types = new pg.TypeOverrides();
  types.setTypeParser(pg.types.builtins.INT8, (text: string) => Number(text));
  const config: PoolConfig = {
    connectionString: settings.url,
    max: settings.poolSize,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    statement_timeout: settings.statementTimeoutMs,
    query_timeout: settings.statementTimeoutMs + READ_TIMEOUT_MARGIN_MS,
    // An instance that stalls inside a transaction (paused VM, partition) would hold its row
    // locks: the server ends such sessions, so other instances get 503s for a while, not forever.
    idle_in_transaction_session_timeout: Math.max(2 * settings.statementTimeoutMs, 10_000),
    application_name: 'warden',
    keepAlive: true,
    types,
  };
  return new PostgresDatabase(new pg.Pool(config), pg.DatabaseError, secrets, settings.onError);
}
