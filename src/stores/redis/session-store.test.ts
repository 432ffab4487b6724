import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireService, testService } from '../../../test/helpers/services.js';
import { describeSessionStoreConformance } from '../conformance/session-store.conformance.js';
import { createRedisSessionStore } from './session-store.js';

const redis = await testService('redis');
const keyPrefix = `warden:test:${randomUUID()}:`;

describe.skipIf(redis.skip)(`Redis session store (WARDEN_TEST_REDIS_URL)${redis.note}`, () => {
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

  describeSessionStoreConformance('redis', () => createRedisSessionStore({ url, keyPrefix }));

  it('a binding made through one instance holds at another (shared backend)', async () => {
    const [a, b] = await Promise.all([createRedisSessionStore({ url, keyPrefix }), createRedisSessionStore({ url, keyPrefix })]);
    try {
      const key = randomUUID();
      expect(await a.bind(key, 'alice', 60)).toBe(true);
      expect(await b.bind(key, 'mallory', 60)).toBe(false);
      expect(await b.owner(key, 60)).toBe('alice');
      const ttl = await inspector!.pttl(keyPrefix + key);
      expect(ttl).toBeGreaterThan(55_000);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
