/**
 * The {@link RegistryStore} contract as a vitest suite, run against every backend: revisions
 * count changes, writes are compare-and-swap on the revision (one winner among racing writers,
 * across instances when `second` opens another connection to the same place), snapshots are
 * consistent, and a closed store fails closed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../contracts.js';
import type { RegistryStore } from '../registry-contracts.js';
import { StoreConflictError } from '../store-conflict-error.js';

const spec = (name: string, extra: Record<string, unknown> = {}) => ({ name, path: `/${name}`, upstream: `http://127.0.0.1:9/${name}`, ...extra });

/**
 * @param factory - Opens a store on a fresh, empty place; with `second`, also a second instance
 *   (another connection) on the same place, as another Warden instance would.
 */
export function describeRegistryStoreConformance(
  name: string,
  factory: () => Promise<{ store: RegistryStore; second?: () => Promise<RegistryStore> }>,
): void {
  describe(`registry store conformance: ${name}`, () => {
    const opened: RegistryStore[] = [];
    const open = async () => {
      const made = await factory();
      opened.push(made.store);
      const second = made.second;
      return {
        store: made.store,
        second: second && (async () => {
          const other = await second();
          opened.push(other);
          return other;
        }),
      };
    };
    afterEach(async () => {
      await Promise.allSettled(opened.splice(0).map((s) => s.close()));
    });

    it('starts empty at revision 0', async () => {
      const { store } = await open();
      expect(await store.read()).toEqual({ revision: 0, servers: [] });
      expect(await store.revision()).toBe(0);
    });

    it('put adds or replaces, remove deletes; each change bumps the revision by one', async () => {
      const { store } = await open();
      expect(await store.write({ put: { name: 'files', spec: spec('files') } }, 0)).toBe(1);
      expect(await store.write({ put: { name: 'billing', spec: spec('billing') } }, 1)).toBe(2);
      expect(await store.write({ put: { name: 'files', spec: spec('files', { dpop: 'required' }) } }, 2)).toBe(3);
      const snapshot = await store.read();
      expect(snapshot.revision).toBe(3);
      // Sorted by name, byte order; specs as written (JSON values round-trip exactly).
      expect(snapshot.servers).toEqual([
        { name: 'billing', spec: spec('billing') },
        { name: 'files', spec: spec('files', { dpop: 'required' }) },
      ]);
      expect(await store.write({ remove: 'billing' }, 3)).toBe(4);
      expect((await store.read()).servers.map((s) => s.name)).toEqual(['files']);
    });

    it('removing an absent name changes nothing and keeps the revision', async () => {
      const { store } = await open();
      await store.write({ put: { name: 'files', spec: spec('files') } }, 0);
      expect(await store.write({ remove: 'nope' }, 1)).toBe(1);
      expect(await store.revision()).toBe(1);
    });

    it('a write at a stale revision is refused with StoreConflictError and writes nothing', async () => {
      const { store } = await open();
      await store.write({ put: { name: 'files', spec: spec('files') } }, 0);
      await expect(store.write({ put: { name: 'other', spec: spec('other') } }, 0)).rejects.toBeInstanceOf(StoreConflictError);
      await expect(store.write({ remove: 'files' }, 5)).rejects.toBeInstanceOf(StoreConflictError);
      expect(await store.read()).toEqual({ revision: 1, servers: [{ name: 'files', spec: spec('files') }] });
    });

    it('of writers racing at one revision exactly one wins (compare-and-swap), across instances too', async () => {
      const { store, second } = await open();
      const other = second ? await second() : store;
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? store : other).write({ put: { name: `s${i}`, spec: spec(`s${i}`) } }, 0)),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(StoreConflictError);
      expect((await other.read()).servers).toHaveLength(1);
      expect(await other.revision()).toBe(1);
    });

    it('another instance on the same place sees every change', async () => {
      const { store, second } = await open();
      if (second === undefined) return;
      const other = await second();
      await store.write({ put: { name: 'files', spec: spec('files') } }, 0);
      expect(await other.revision()).toBe(1);
      expect((await other.read()).servers).toEqual([{ name: 'files', spec: spec('files') }]);
      expect(await other.write({ remove: 'files' }, 1)).toBe(2);
      expect(await store.read()).toEqual({ revision: 2, servers: [] });
    });

    it('refuses malformed changes with TypeError (a caller bug, not a conflict)', async () => {
      const { store } = await open();
      await expect(store.write({ put: { name: '', spec: spec('') } }, 0)).rejects.toBeInstanceOf(TypeError);
      await expect(store.write({ put: { name: 'a', spec: spec('b') } }, 0)).rejects.toBeInstanceOf(TypeError);
      await expect(store.write({ put: { name: 'a', spec: [] as unknown as Record<string, unknown> } }, 0)).rejects.toBeInstanceOf(TypeError);
      await expect(store.write({ remove: 'a' }, -1)).rejects.toBeInstanceOf(TypeError);
      await expect(store.write({ remove: 'a' }, 0.5)).rejects.toBeInstanceOf(TypeError);
      expect(await store.revision()).toBe(0);
    });

    it('a closed store fails closed with StoreUnavailableError', async () => {
      const { store } = await open();
      await store.close();
      await store.close();
      await expect(store.read()).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.revision()).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.write({ remove: 'a' }, 0)).rejects.toBeInstanceOf(StoreUnavailableError);
    });
  });
}
