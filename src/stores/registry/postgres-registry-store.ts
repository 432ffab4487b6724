/**
 * The fleet registry store in PostgreSQL: shared by every instance. A write locks the revision
 * row (`SELECT … FOR UPDATE`), compares, applies and bumps in one transaction, so concurrent
 * writers from any instance are serialised and a stale one gets `StoreConflictError`. Instances
 * notice a change by polling {@link RegistryStore.revision} (one indexed single-row read).
 *
 * Fail closed: a lost connection or a timed-out statement rejects with `StoreUnavailableError`.
 */
import { type RegistryChange, type RegistryStore, type ServerRecord, checkRegistryChange } from '../registry-contracts.js';
import { StoreConflictError } from '../store-conflict-error.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_STATEMENT_TIMEOUT_MS, openPool, urlSecrets } from '../postgres/authorization-server-database.js';

/** Options of {@link openPostgresRegistryStore}. */
export interface PostgresRegistryStoreOptions {
  /** `postgres://` URL; never logged or echoed. */
  url: string;
  /** Schema the tables live in (created if missing). Default `warden`. */
  schema?: string;
  /** Connections per instance. Default 2 (one poller, one writer). */
  poolSize?: number;
  /** Told about connection errors outside a call (messages never contain the URL). */
  onError?: (error: Error) => void;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Connects, creates the registry tables if needed, and returns the store. */
export async function openPostgresRegistryStore(options: PostgresRegistryStoreOptions): Promise<RegistryStore> {
  if (typeof options.url !== 'string' || options.url === '') throw new TypeError('PostgreSQL registry store url must be a non-empty string');
  const schema = options.schema ?? 'warden';
  if (!SCHEMA_NAME.test(schema)) throw new TypeError('PostgreSQL registry store schema must be 1-63 lower-case letters, digits or _, not starting with a digit');
  const db = await openPool(
    {
      url: options.url,
      poolSize: options.poolSize ?? 2,
      statementTimeoutMs: DEFAULT_STATEMENT_TIMEOUT_MS,
      connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
      ...(options.onError && { onError: options.onError }),
    },
    urlSecrets(options.url),
  );
  const s = `"${schema}"`;
  try {
    await db.transaction(async (tx) => {
      // Concurrent CREATE … IF NOT EXISTS can still collide: instances starting together queue here.
      await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`warden:registry-schema:${schema}`]);
      await tx.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await tx.query(`CREATE TABLE IF NOT EXISTS ${s}.registry_revision (id smallint PRIMARY KEY CHECK (id = 1), revision bigint NOT NULL)`);
      await tx.query(`INSERT INTO ${s}.registry_revision (id, revision) VALUES (1, 0) ON CONFLICT (id) DO NOTHING`);
      await tx.query(`CREATE TABLE IF NOT EXISTS ${s}.registry_servers (name text PRIMARY KEY, spec text NOT NULL)`);
    });
  } catch (error) {
    await db.close();
    throw error;
  }
  return {
    read: () =>
      // REPEATABLE READ: the revision and the rows come from one snapshot.
      db.transaction(async (tx) => {
        await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
        const revision = (await tx.query<{ revision: number }>(`SELECT revision FROM ${s}.registry_revision WHERE id = 1`)).rows[0]?.revision ?? 0;
        const { rows } = await tx.query<{ name: string; spec: string }>(`SELECT name, spec FROM ${s}.registry_servers ORDER BY name COLLATE "C"`);
        return { revision, servers: rows.map((row): ServerRecord => ({ name: row.name, spec: JSON.parse(row.spec) as Record<string, unknown> })) };
      }),
    revision: async () => (await db.query<{ revision: number }>(`SELECT revision FROM ${s}.registry_revision WHERE id = 1`)).rows[0]?.revision ?? 0,
    write: async (change: RegistryChange, expectedRevision: number) => {
      checkRegistryChange(change, expectedRevision);
      return db.transaction(async (tx) => {
        const revision = (await tx.query<{ revision: number }>(`SELECT revision FROM ${s}.registry_revision WHERE id = 1 FOR UPDATE`)).rows[0]?.revision ?? 0;
        if (revision !== expectedRevision) throw new StoreConflictError(`the registry is at revision ${revision}, not ${expectedRevision}`);
        if ('put' in change) {
          await tx.query(`INSERT INTO ${s}.registry_servers (name, spec) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET spec = excluded.spec`, [
            change.put.name,
            JSON.stringify(change.put.spec),
          ]);
        } else if ((await tx.query(`DELETE FROM ${s}.registry_servers WHERE name = $1`, [change.remove])).rowCount === 0) {
          return revision;
        }
        await tx.query(`UPDATE ${s}.registry_revision SET revision = revision + 1 WHERE id = 1`);
        return revision + 1;
      });
    },
    close: () => db.close(),
  };
}
