/** The fleet registry store in one process's memory: tests, and a stack on `storage: memory`. */
import { StoreUnavailableError } from '../contracts.js';
import { type RegistryChange, type RegistrySnapshot, type RegistryStore, type ServerRecord, byName, checkRegistryChange } from '../registry-contracts.js';
import { StoreConflictError } from '../store-conflict-error.js';

/** Creates an empty in-memory {@link RegistryStore}. Specs are copied in and out (JSON round trip). */
export function createMemoryRegistryStore(): RegistryStore {
  let revision = 0;
  const servers = new Map<string, string>();
  let closed = false;
  const open = () => {
    if (closed) throw new StoreUnavailableError('registry store is closed');
  };
  return {
    read: async () => {
      open();
      const list: ServerRecord[] = [...servers].map(([name, spec]) => ({ name, spec: JSON.parse(spec) as Record<string, unknown> }));
      return { revision, servers: list.sort(byName) } satisfies RegistrySnapshot;
    },
    revision: async () => {
      open();
      return revision;
    },
    write: async (change: RegistryChange, expectedRevision: number) => {
      open();
      checkRegistryChange(change, expectedRevision);
      if (expectedRevision !== revision) throw new StoreConflictError(`the registry is at revision ${revision}, not ${expectedRevision}`);
      if ('put' in change) servers.set(change.put.name, JSON.stringify(change.put.spec));
      else if (!servers.delete(change.remove)) return revision;
      return ++revision;
    },
    close: async () => {
      closed = true;
    },
  };
}
