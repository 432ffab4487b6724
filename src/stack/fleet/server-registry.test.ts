/**
 * ServerRegistry swaps: a request keeps the table (and mount) it started with, a retired mount
 * closes only after its last in-flight response, unchanged servers keep their mount, and a store
 * change another writer made is picked up by refresh (what the poller runs).
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { ResourceConfig } from '../../config/defaults.js';
import { resolveConfig } from '../../config/load.js';
import { createLogger } from '../../observability/logger.js';
import { createMemoryRegistryStore } from '../../stores/registry/memory-registry-store.js';
import type { MountedResource } from '../mount-resource.js';
import { ServerRegistry } from './server-registry.js';

const config = resolveConfig({ storage: { kind: 'memory' }, resources: [{ name: 'demo', path: '/mcp', upstream: 'builtin:demo' }] }, { env: {} });

function fakeMounts() {
  const made: Array<{ name: string; closed: boolean; handled: number }> = [];
  const mount = (server: ResourceConfig): MountedResource => {
    const state = { name: server.name, closed: false, handled: 0 };
    made.push(state);
    return {
      name: server.name,
      routePath: server.routePath,
      metadataPaths: [],
      metadata: () => {},
      handle: async () => {
        state.handled++;
      },
      rs: {} as MountedResource['rs'],
      close: async () => {
        state.closed = true;
      },
    };
  };
  return { made, mount };
}

const response = () => Object.assign(new EventEmitter(), {}) as unknown as ServerResponse;
const request = {} as IncomingMessage;
const logger = createLogger({ write: () => {} });

describe('ServerRegistry', () => {
  it('a swap is atomic: an in-flight response keeps its retired mount open until it closes', async () => {
    const store = createMemoryRegistryStore();
    const { made, mount } = fakeMounts();
    const registry = await ServerRegistry.open({ config, reservedPaths: [], mount, store, pollMs: 0, logger });
    await store.write({ put: { name: 'files', spec: { name: 'files', path: '/files', upstream: 'builtin:demo' } } }, 0);
    await registry.refresh();
    const before = registry.table();
    const files = before.routes.find((r) => r.name === 'files')!;
    const streaming = response();
    await files.handle(request, streaming); // e.g. an SSE stream: the response is still open

    await store.write({ remove: 'files' }, 1);
    await registry.refresh();
    expect(registry.table().routes.map((r) => r.name)).toEqual(['demo']);
    expect(before.routes.map((r) => r.name)).toEqual(['demo', 'files']); // the old table is unchanged
    const filesMount = made.find((m) => m.name === 'files')!;
    expect(filesMount.closed).toBe(false);
    streaming.emit('close');
    await Promise.resolve();
    expect(filesMount.closed).toBe(true);
    // The unchanged config server kept its one mount throughout.
    expect(made.filter((m) => m.name === 'demo')).toHaveLength(1);
    await registry.close();
  });

  it('a store state that fails the checks is not applied (logged once); the running table stays', async () => {
    const store = createMemoryRegistryStore();
    const lines: string[] = [];
    const { mount } = fakeMounts();
    const registry = await ServerRegistry.open({ config, reservedPaths: [], mount, store, pollMs: 0, logger: createLogger({ write: (l) => lines.push(l) }) });
    // Another writer (an older Warden, a hand edit) stored a server that shadows a config one.
    await store.write({ put: { name: 'bad', spec: { name: 'bad', path: '/mcp/x', upstream: 'builtin:demo' } } }, 0);
    await registry.refresh();
    await registry.refresh();
    expect(registry.table().routes.map((r) => r.name)).toEqual(['demo']);
    expect(lines.filter((l) => l.includes('registry change refused'))).toHaveLength(1);
    expect(lines.find((l) => l.includes('registry change refused'))).toContain('overlaps server');
    await registry.close();
  });

  it('a proposed server that cannot be mounted here is refused before it is written (400 at the admin API), never stored for every instance to refuse', async () => {
    const store = createMemoryRegistryStore();
    const { mount } = fakeMounts();
    const picky = (server: ResourceConfig): MountedResource => {
      if (server.name === 'boom') throw new Error('resource "boom" needs something this stack lacks');
      return mount(server);
    };
    const registry = await ServerRegistry.open({ config, reservedPaths: [], mount: picky, store, pollMs: 0, logger });
    const result = await registry.propose({ put: { name: 'boom', spec: { name: 'boom', path: '/boom', upstream: 'builtin:demo' } } });
    expect(result).toEqual({ ok: false, reason: 'invalid', name: 'boom', problems: [{ path: '(top level)', message: 'cannot be mounted: resource "boom" needs something this stack lacks' }] });
    expect(await store.revision()).toBe(0);
    expect(registry.table().routes.map((r) => r.name)).toEqual(['demo']);
    expect(await registry.propose({ put: { name: 'fine', spec: { name: 'fine', path: '/fine', upstream: 'builtin:demo' } } })).toMatchObject({ ok: true, created: true });
    expect(registry.table().routes.map((r) => r.name)).toEqual(['demo', 'fine']);
    await registry.close();
  });

  it('a store that cannot answer keeps the running servers (fail closed for changes, not for traffic)', async () => {
    const store = createMemoryRegistryStore();
    const { mount } = fakeMounts();
    const registry = await ServerRegistry.open({ config, reservedPaths: [], mount, store, pollMs: 0, logger });
    await store.close();
    await registry.refresh();
    expect(registry.table().routes.map((r) => r.name)).toEqual(['demo']);
    await expect(registry.propose({ remove: 'x' })).rejects.toThrow(/closed/);
    await registry.close();
  });
});
