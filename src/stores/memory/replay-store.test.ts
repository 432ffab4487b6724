import { describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../contracts.js';
import { describeReplayStoreConformance } from '../conformance/replay-store.conformance.js';
import { MemoryReplayStore } from './replay-store.js';

let clock = 0;
describeReplayStoreConformance('memory', async () => new MemoryReplayStore({ now: () => clock }), {
  advanceTime: (ms) => {
    clock += ms;
  },
});

/** A store on a hand-driven clock. */
function storeAt(capacity: number): { store: MemoryReplayStore; advance: (ms: number) => void } {
  let now = 1_000_000;
  const store = new MemoryReplayStore({ capacity, now: () => now });
  return { store, advance: (ms) => void (now += ms) };
}

describe('MemoryReplayStore capacity (fail closed, never forget a live key)', () => {
  it('RFC 9449 §11.1: at capacity with live keys, a new key rejects with StoreUnavailableError', async () => {
    const { store } = storeAt(3);
    for (const key of ['a', 'b', 'c']) expect(await store.claim(key, 10)).toBe(true);
    const rejection = store.claim('d', 10);
    await expect(rejection).rejects.toBeInstanceOf(StoreUnavailableError);
    // Retry-After points at the earliest expiry, so clients come back when a slot frees up.
    await expect(rejection).rejects.toMatchObject({ retryAfterSeconds: 10 });
    expect(store.size).toBe(3);
  });

  it('RFC 9449 §11.1: at capacity, a replayed key still resolves false (replays stay detected)', async () => {
    const { store } = storeAt(2);
    expect(await store.claim('a', 10)).toBe(true);
    expect(await store.claim('b', 10)).toBe(true);
    expect(await store.claim('a', 10)).toBe(false);
    expect(await store.claim('b', 10)).toBe(false);
  });

  it('contract: once entries expire, claims succeed again (expired entries are purged when full)', async () => {
    const { store, advance } = storeAt(3);
    for (const key of ['a', 'b', 'c']) expect(await store.claim(key, 10)).toBe(true);
    await expect(store.claim('d', 10)).rejects.toBeInstanceOf(StoreUnavailableError);
    advance(10_000);
    expect(await store.claim('d', 10)).toBe(true);
    expect(await store.claim('e', 10)).toBe(true);
    expect(store.size).toBe(2);
  });

  it('contract: never evicts a live key, with mixed TTLs out of insertion order', async () => {
    const { store, advance } = storeAt(3);
    expect(await store.claim('long-1', 60)).toBe(true);
    expect(await store.claim('short', 1)).toBe(true);
    expect(await store.claim('long-2', 60)).toBe(true);
    await expect(store.claim('x', 60)).rejects.toMatchObject({ retryAfterSeconds: 1 });
    advance(1000);
    // Only the expired entry — behind a live one — makes room.
    expect(await store.claim('x', 60)).toBe(true);
    await expect(store.claim('y', 60)).rejects.toBeInstanceOf(StoreUnavailableError);
    for (const key of ['long-1', 'long-2', 'x']) expect(await store.claim(key, 60)).toBe(false);
    await expect(store.claim('short', 60)).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('contract: a store at capacity rejects without consuming the refused key', async () => {
    const { store, advance } = storeAt(1);
    expect(await store.claim('a', 1)).toBe(true);
    await expect(store.claim('b', 60)).rejects.toBeInstanceOf(StoreUnavailableError);
    advance(1000);
    expect(await store.claim('b', 60)).toBe(true);
  });

  it('contract: agrees with a naive reference model over random claims, TTLs and clock steps', async () => {
    const capacity = 16;
    const { store, advance } = storeAt(capacity);
    const model = new Map<string, number>();
    let now = 1_000_000;
    let seed = 42;
    const random = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31; // deterministic, so failures reproduce
      return seed % n;
    };
    for (let step = 0; step < 20_000; step += 1) {
      if (random(4) === 0) {
        const ms = random(700);
        now += ms;
        advance(ms);
      }
      const key = `k${random(40)}`;
      const ttl = [0.05, 0.2, 0.5, 1, 2.5][random(5)] as number;
      for (const [k, expiresAt] of model) if (expiresAt <= now) model.delete(k);
      const expected = model.has(key) ? false : model.size >= capacity ? 'unavailable' : true;
      if (expected === true) model.set(key, now + Math.ceil(ttl * 1000));
      const actual = await store.claim(key, ttl).catch((error: unknown) => {
        if (error instanceof StoreUnavailableError) return 'unavailable' as const;
        throw error;
      });
      expect(actual, `step ${step}`).toBe(expected);
      expect(store.size).toBe(model.size);
    }
  });

  it('contract: steady state with one TTL stays bounded and exact across queue compaction', async () => {
    const { store, advance } = storeAt(2_000);
    for (let i = 0; i < 50_000; i += 1) {
      if (i % 10 === 0) advance(1); // 10 claims per ms with a 0.1 s TTL: ~1 000 live keys
      expect(await store.claim(`k${i}`, 0.1)).toBe(true);
      // Keys from the last 100 ticks are live (and only those): the oldest still answers false.
      const oldestLive = Math.max(0, (Math.floor(i / 10) - 99) * 10);
      expect(await store.claim(`k${oldestLive}`, 0.1)).toBe(false);
      expect(store.size).toBe(i + 1 - oldestLive);
    }
    advance(100);
    expect(await store.claim('k49999', 0.1)).toBe(true);
    expect(store.size).toBe(1);
  });

  it('options: capacity must be an integer in [1, 2^24 - 1] (fails at construction)', () => {
    for (const capacity of [0, -1, 1.5, Number.NaN, Infinity, 2 ** 24]) {
      expect(() => new MemoryReplayStore({ capacity })).toThrow(TypeError);
    }
    expect(new MemoryReplayStore({ capacity: 1 }).size).toBe(0);
  });

  it('defaults: 1 000 000 keys (above one core sustained DPoP rate × the 120 s TTL), on a monotonic clock', async () => {
    const store = new MemoryReplayStore();
    let won = 0;
    for (let i = 0; i < 1_000_000; i++) if (await store.claim(`k${i}`, 60)) won++;
    expect(won).toBe(1_000_000);
    await expect(store.claim('one-more', 60)).rejects.toBeInstanceOf(StoreUnavailableError);
    await store.close();
    expect(store.size).toBe(0);
  });
});
