import { describe, expect, it } from 'vitest';
import { describeRateLimitStoreConformance } from '../conformance/rate-limit-store.conformance.js';
import { MemoryRateLimitStore } from './rate-limit-store.js';

describeRateLimitStoreConformance('memory', async () => new MemoryRateLimitStore());

describe('MemoryRateLimitStore refill (injected clock)', () => {
  it('refills at `rate` tokens per second, never beyond `burst`', async () => {
    let now = 1_000_000;
    const store = new MemoryRateLimitStore({ now: () => now });
    const bucket = { rate: 2, burst: 2 };
    expect((await store.take('k', bucket)).allowed).toBe(true);
    expect((await store.take('k', bucket)).allowed).toBe(true);
    const refused = await store.take('k', bucket);
    expect(refused).toEqual({ allowed: false, remaining: 0, retryAfterSeconds: 0.5, resetSeconds: 1 });
    now += 500; // one token back
    expect(await store.take('k', bucket)).toMatchObject({ allowed: true, remaining: 0 });
    now += 60_000; // long idle: full, not more
    expect(await store.take('k', bucket)).toMatchObject({ allowed: true, remaining: 1 });
  });

  it('past its capacity drops the least recently used bucket (which restarts full)', async () => {
    const store = new MemoryRateLimitStore({ capacity: 2, now: () => 0 });
    const bucket = { rate: 0.001, burst: 1 };
    await store.take('a', bucket);
    await store.take('b', bucket);
    await store.take('c', bucket);
    expect((await store.take('b', bucket)).allowed).toBe(false);
    expect((await store.take('a', bucket)).allowed).toBe(true);
  });
});
