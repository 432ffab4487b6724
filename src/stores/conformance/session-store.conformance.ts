/**
 * The {@link SessionStore} contract as a vitest suite, run against every backend.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SessionStore, StoreUnavailableError } from '../contracts.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Declares the session-store conformance suite for one backend; `factory` may be called more than once. */
export function describeSessionStoreConformance(name: string, factory: () => Promise<SessionStore>): void {
  const run = randomUUID();
  let counter = 0;
  const freshKey = (): string => `${run}:${++counter}`;

  describe(`SessionStore conformance: ${name}`, () => {
    let store: SessionStore;
    beforeAll(async () => {
      store = await factory();
    });
    afterAll(async () => {
      await store?.close();
    });

    it('a bound session answers its owner; an unbound one undefined', async () => {
      const key = freshKey();
      expect(await store.owner(key, 60)).toBeUndefined();
      expect(await store.bind(key, 'alice', 60)).toBe(true);
      expect(await store.owner(key, 60)).toBe('alice');
    });

    it('another owner cannot take a bound session; the owner can bind it again', async () => {
      const key = freshKey();
      expect(await store.bind(key, 'alice', 60)).toBe(true);
      expect(await store.bind(key, 'mallory', 60)).toBe(false);
      expect(await store.bind(key, 'alice', 60)).toBe(true);
      expect(await store.owner(key, 60)).toBe('alice');
    });

    it('of concurrent binds by different owners exactly one wins', async () => {
      const key = freshKey();
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.bind(key, `owner-${i}`, 60)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('forget removes the binding; forgetting twice is fine', async () => {
      const key = freshKey();
      await store.bind(key, 'alice', 60);
      await store.forget(key);
      await store.forget(key);
      expect(await store.owner(key, 60)).toBeUndefined();
      expect(await store.bind(key, 'bob', 60)).toBe(true);
    });

    it('a binding expires after its TTL without use, and use extends it', async () => {
      const idle = freshKey();
      const used = freshKey();
      await store.bind(idle, 'alice', 0.3);
      await store.bind(used, 'alice', 0.3);
      await sleep(200);
      expect(await store.owner(used, 0.3)).toBe('alice');
      await sleep(200);
      expect(await store.owner(idle, 0.3)).toBeUndefined();
      expect(await store.owner(used, 0.3)).toBe('alice');
    });

    it('a closed store rejects with StoreUnavailableError', async () => {
      const closed = await factory();
      await closed.close();
      await closed.close();
      await expect(closed.owner(freshKey(), 60)).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(closed.bind(freshKey(), 'a', 60)).rejects.toBeInstanceOf(StoreUnavailableError);
    });
  });
}
