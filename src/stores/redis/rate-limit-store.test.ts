import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireService, testService } from '../../../test/helpers/services.js';
import { StoreUnavailableError } from '../contracts.js';
import { describeRateLimitStoreConformance } from '../conformance/rate-limit-store.conformance.js';
import { createRedisRateLimitStore } from './rate-limit-store.js';

const redis = await testService('redis');
const keyPrefix = `warden:test:ratelimit:${randomUUID()}:`;

describe.skipIf(redis.skip)(`Redis rate-limit store (WARDEN_TEST_REDIS_URL)${redis.note}`, () => {
  let url = '';
  let inspector: Redis | undefined;
  beforeAll(async () => {
    url = await requireService(redis);
    inspector = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    await inspector.connect();
  });
  afterAll(async () => {
    if (inspector === undefined) return;
    const keys = await inspector.keys(`${keyPrefix}*`);
    if (keys.length > 0) await inspector.del(...keys);
    await inspector.quit();
  });

  describeRateLimitStoreConformance('redis', () => createRedisRateLimitStore({ url, keyPrefix }));

  it('a bucket is shared by every instance, kept under a hash-tagged key that expires once full again', async () => {
    // A prefix of its own: the conformance suite's buckets (other rates) share keyPrefix.
    const prefix = `${keyPrefix}shared:`;
    const [a, b] = await Promise.all([createRedisRateLimitStore({ url, keyPrefix: prefix }), createRedisRateLimitStore({ url, keyPrefix: prefix })]);
    try {
      const key = `client:${randomUUID()}`;
      const bucket = { rate: 0.1, burst: 2 };
      expect((await a.take(key, bucket)).allowed).toBe(true);
      expect((await b.take(key, bucket)).allowed).toBe(true);
      expect((await a.take(key, bucket)).allowed).toBe(false);
      const keys = await inspector!.keys(`${prefix}*`);
      const mine = keys.filter((k) => /^.*\{[A-Za-z0-9_-]{43}\}$/.test(k));
      expect(mine.length).toBeGreaterThan(0);
      // One key per bucket, the digest inside the braces, never the caller's id.
      expect(keys.some((k) => k.includes(key))).toBe(false);
      const ttl = await inspector!.pttl(mine[0]!);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(21_000);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('a closed store refuses with StoreUnavailableError (callers answer 503)', async () => {
    const store = await createRedisRateLimitStore({ url, keyPrefix });
    await store.close();
    await expect(store.take('k', { rate: 1, burst: 1 })).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});
