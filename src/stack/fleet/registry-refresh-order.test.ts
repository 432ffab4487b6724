/**
 * Registry refreshes overlap — the poller, the admin API after a write, and now every view of the
 * console's servers page (which refreshes first) — and a store read may answer late. A late
 * answer must not roll the instance back: a server removed (say, because its upstream was
 * compromised) came back until the next poll when an older snapshot landed after a newer one.
 */
import { describe, expect, it } from 'vitest';
import type { ResourceConfig } from '../../config/defaults.js';
import { resolveConfig } from '../../config/load.js';
import { createLogger } from '../../observability/logger.js';
import type { RegistryStore } from '../../stores/registry-contracts.js';
import { createMemoryRegistryStore } from '../../stores/registry/memory-registry-store.js';
import type { MountedResource } from '../mount-resource.js';
import { ServerRegistry } from './server-registry.js';

const config = resolveConfig({ storage: { kind: 'memory' }, resources: [{ name: 'demo', path: '/mcp', upstream: 'builtin:demo' }] }, { env: {} });
const mount = (server: ResourceConfig): MountedResource => ({
  name: server.name,
  routePath: server.routePath,
  metadataPaths: [],
  metadata: () => {},
  handle: async () => {},
  rs: {} as MountedResource['rs'],
  close: async () => {},
});

describe('ServerRegistry refresh order', () => {
  it('an older snapshot read late does not undo a newer one (a removed server stays removed)', async () => {
    const inner = createMemoryRegistryStore();
    let hold: Promise<void> | undefined;
    const store: RegistryStore = {
      read: async () => {
        const gate = hold;
        const snapshot = await inner.read();
        if (gate !== undefined) await gate;
        return snapshot;
      },
      revision: () => inner.revision(),
      write: (change, expected) => inner.write(change, expected),
      close: () => inner.close(),
    };
    const registry = await ServerRegistry.open({ config, reservedPaths: [], mount, store, pollMs: 0, logger: createLogger({ write: () => {} }) });
    await inner.write({ put: { name: 'files', spec: { name: 'files', path: '/files', upstream: 'builtin:demo' } } }, 0);

    let release!: () => void;
    hold = new Promise<void>((resolve) => (release = resolve));
    const slow = registry.refresh(); // reads revision 1, its snapshot answers late
    await new Promise((resolve) => setImmediate(resolve));
    hold = undefined;
    await inner.write({ remove: 'files' }, 1);
    await registry.refresh(); // revision 2 applied: files removed
    expect(registry.table().routes.map((r) => r.name)).toEqual(['demo']);
    release();
    await slow;
    expect(registry.current().revision).toBe(2);
    expect(registry.table().routes.map((r) => r.name)).toEqual(['demo']);
  });
});
