/**
 * The fleet registry store: the MCP servers added at run time (admin API, `warden servers`),
 * shared by every instance. One revision number counts every change; writes are
 * compare-and-swap on it, so two administrators (or two instances) never overwrite each other's
 * change unseen, and a reader can tell whether anything changed by reading one number.
 */
import type { StoreUnavailableError } from './contracts.js';

/** One server as the registry holds it: its name and its entry as written (a JSON object). */
export interface ServerRecord {
  /** Unique key of the server (the entry's `name`). */
  readonly name: string;
  /** The server's configuration entry as given (validated by the caller before it is written). */
  readonly spec: Readonly<Record<string, unknown>>;
}

/** Everything the registry holds at one revision. */
export interface RegistrySnapshot {
  /** 0 for a registry that was never written; +1 for every change. */
  readonly revision: number;
  /** Sorted by name (byte order). */
  readonly servers: readonly ServerRecord[];
}

/** One change: put (add or replace) a server, or remove one. */
export type RegistryChange = { readonly put: ServerRecord } | { readonly remove: string };

/**
 * Contract every backend passes (see `conformance/registry-store.conformance.ts`).
 *
 * Rejects with {@link StoreUnavailableError} when the backend cannot answer (callers fail closed
 * and keep the registry they run); with `TypeError` for a malformed argument (a caller bug).
 */
export interface RegistryStore {
  /** The revision and every server, read together (one consistent snapshot). */
  read(): Promise<RegistrySnapshot>;
  /** The current revision only: what instances poll to notice a change. */
  revision(): Promise<number>;
  /**
   * Applies `change` if the registry is still at `expectedRevision`, atomically across every
   * caller sharing the store, and resolves the new revision. Rejects with `StoreConflictError`
   * (nothing written) when another change came first: read again, re-validate, retry. Removing
   * a name that is not there changes nothing and resolves `expectedRevision`.
   */
  write(change: RegistryChange, expectedRevision: number): Promise<number>;
  /** Releases connections. Idempotent; later calls reject with {@link StoreUnavailableError}. */
  close(): Promise<void>;
}

/** Checks the arguments of {@link RegistryStore.write} the same way in every backend. */
export function checkRegistryChange(change: RegistryChange, expectedRevision: number): void {
  if (!Number.isSafeInteger(expectedRevision) || expectedRevision < 0) throw new TypeError('expectedRevision must be a non-negative integer');
  if ('put' in change) {
    const { name, spec } = change.put;
    if (typeof name !== 'string' || name === '' || name.length > 255) throw new TypeError('server name must be a non-empty string of at most 255 characters');
    if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw new TypeError('server spec must be a JSON object');
    if (spec['name'] !== name) throw new TypeError('server spec must carry the same name as the record');
  } else if (typeof change.remove !== 'string' || change.remove === '') {
    throw new TypeError('the name to remove must be a non-empty string');
  }
}

/** Byte-order comparison of names (the same order in every backend). */
export function byName(a: ServerRecord, b: ServerRecord): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
