/** Opens the authorization server's stores the configuration names. */
import type { StorageConfig } from '../config/defaults.js';
import {
  createMemoryAuthorizationServerStores,
  openPostgresAuthorizationServerStores,
  openSqliteAuthorizationServerStores,
} from '../stores/index.js';
import type { AuthorizationServerStores } from '../stores/authorization-server-contracts.js';
import { StackStartError } from './errors.js';

/**
 * Opens the stores `storage` names: SQLite at its path (relative to the working directory, as
 * written), PostgreSQL at its URL (schema `warden`, created and migrated on first open), or memory.
 *
 * @throws {StackStartError} when the SQLite file cannot be opened, or PostgreSQL cannot be
 *   reached or migrated; the message never contains the PostgreSQL URL (it may hold a password).
 */
export async function openAuthorizationServerStores(storage: StorageConfig): Promise<AuthorizationServerStores> {
  switch (storage.kind) {
    case 'memory':
      return createMemoryAuthorizationServerStores();
    case 'sqlite':
      try {
        return openSqliteAuthorizationServerStores({ path: storage.path });
      } catch (error) {
        throw new StackStartError(`cannot open the SQLite store at ${storage.path}: ${(error as Error).message}`, { cause: error });
      }
    case 'postgres':
      try {
        return await openPostgresAuthorizationServerStores({ url: storage.url, ...(storage.schema === undefined ? {} : { schema: storage.schema }) });
      } catch (error) {
        // The store's messages never echo the URL; this one does not either.
        throw new StackStartError(`cannot open the PostgreSQL store (storage.url): ${(error as Error).message}`, { cause: error });
      }
  }
}

