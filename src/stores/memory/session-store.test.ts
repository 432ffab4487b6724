import { describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../contracts.js';
import { describeSessionStoreConformance } from '../conformance/session-store.conformance.js';
import { MemorySessionStore } from './session-store.js';

describeSessionStoreConformance('memory', async () => new MemorySessionStore());

describe('MemorySessionStore capacity', () => {
  it('at capacity it drops expired bindings first, then refuses (503) rather than evict a live one', async () => {
    let now = 0;
    const store = new MemorySessionStore({ capacity: 2, now: () => now });
    await store.bind('a', 'x', 1);
    await store.bind('b', 'x', 10);
    now = 2000;
    expect(await store.bind('c', 'x', 10)).toBe(true); // 'a' expired and was swept
    await expect(store.bind('d', 'x', 10)).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(await store.owner('b', 10)).toBe('x');
  });
});
