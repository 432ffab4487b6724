/** Opens the fleet registry store beside the authorization server's, in the storage the configuration names. */
import type { StorageConfig } from '../../config/defaults.js';
import { createMemoryRegistryStore, openPostgresRegistryStore, openSqliteRegistryStore, type RegistryStore } from '../../stores/index.js';
import { StackStartError } from '../errors.js';

/**
 * The registry store for `storage`: the same SQLite file, the same PostgreSQL schema (shared by
 * every instance), or memory (this process only).
 *
 * @throws {StackStartError} when it cannot be opened; never with the PostgreSQL URL in the message.
 */
export async function openRegistryStore(storage: StorageConfig): Promise<RegistryStore> {
  try {
    switch (storage.kind) {
      case 'memory':
        return createMemoryRegistryStore();
      case 'sqlite':
        return openSqliteRegistryStore({ path: storage.path });
      case 'postgres':
        return await openPostgresRegistryStore({ url: storage.url, ...(storage.schema === undefined ? {} : { schema: storage.schema }) });
    }
  } catch (error) {
    throw new StackStartError(`cannot open the ${storage.kind} registry store: ${(error as Error).message}`, { cause: error });
  }
}
