/**
 * The {@link RateLimitStore} contract, run against every backend: a fresh bucket holds `burst`
 * tokens, each take spends one, the take past the burst is refused with the wait until the next
 * token, buckets are independent, and concurrent takes never spend more than the bucket holds.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { RateLimitStore } from '../rate-limit.js';

export function describeRateLimitStoreConformance(name: string, open: () => Promise<RateLimitStore>): void {
  describe(`RateLimitStore conformance: ${name}`, () => {
    const opened: RateLimitStore[] = [];
    const store = async () => {
      const s = await open();
      opened.push(s);
      return s;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });

    it('a fresh bucket allows `burst` takes back to back, then refuses with the wait for one token (token bucket)', async () => {
      const s = await store();
      const key = randomUUID();
      const bucket = { rate: 0.01, burst: 3 }; // one token per 100 s: no refill during the test
      const states = [];
      for (let i = 0; i < 4; i++) states.push(await s.take(key, bucket));
      expect(states.map((st) => st.allowed)).toEqual([true, true, true, false]);
      expect(states.map((st) => st.remaining)).toEqual([2, 1, 0, 0]);
      expect(states[0]?.retryAfterSeconds).toBe(0);
      // Refused with (almost) no token: about 1 / rate = 100 s to wait, never more.
      expect(states[3]?.retryAfterSeconds).toBeGreaterThan(90);
      expect(states[3]?.retryAfterSeconds).toBeLessThanOrEqual(100);
      expect(states[3]?.resetSeconds).toBeGreaterThan(290);
      expect(states[3]?.resetSeconds).toBeLessThanOrEqual(300);
    });

    it('buckets of different keys are independent', async () => {
      const s = await store();
      const bucket = { rate: 0.01, burst: 1 };
      const [a, b] = [randomUUID(), randomUUID()];
      expect((await s.take(a, bucket)).allowed).toBe(true);
      expect((await s.take(a, bucket)).allowed).toBe(false);
      expect((await s.take(b, bucket)).allowed).toBe(true);
    });

    it('concurrent takes are atomic: exactly `burst` of 50 succeed', async () => {
      const s = await store();
      const key = randomUUID();
      const results = await Promise.all(Array.from({ length: 50 }, () => s.take(key, { rate: 0.01, burst: 7 })));
      expect(results.filter((r) => r.allowed)).toHaveLength(7);
    });

    it('refuses a bucket that is not { rate > 0, burst ≥ 1 }', async () => {
      const s = await store();
      await expect(s.take('k', { rate: 0, burst: 1 })).rejects.toThrow(TypeError);
      await expect(s.take('k', { rate: 1, burst: 0.5 })).rejects.toThrow(TypeError);
    });
  });
}
