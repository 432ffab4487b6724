import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, hasRedisServerBinary, RedisServerProcess } from '../../../test/helpers/redis-server.js';
import { requireService, testService } from '../../../test/helpers/services.js';
import { StoreUnavailableError } from '../contracts.js';
import { describeReplayStoreConformance } from '../conformance/replay-store.conformance.js';
import { createRedisReplayStore } from './replay-store.js';

const redis = await testService('redis');
// Unique per run, so parallel runs against one Redis never see each other's keys.
const keyPrefix = `warden:test:${randomUUID()}:`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(redis.skip)(`Redis replay store (WARDEN_TEST_REDIS_URL)${redis.note}`, () => {
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

  describeReplayStoreConformance('redis', () => createRedisReplayStore({ url, keyPrefix }));

  it('RFC 9449 §11.1: claims are shared across instances — 2 stores × 25 concurrent claims, one true', async () => {
    const [a, b] = await Promise.all([
      createRedisReplayStore({ url, keyPrefix }),
      createRedisReplayStore({ url, keyPrefix }),
    ]);
    try {
      const key = `jkt:${randomUUID()}`;
      const claims = Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).claim(key, 60));
      expect((await Promise.all(claims)).filter((won) => won)).toHaveLength(1);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('contract: stores `prefix + key` with a millisecond TTL rounded up (SET PX NX)', async () => {
    const store = await createRedisReplayStore({ url, keyPrefix });
    try {
      const key = `jkt:${randomUUID()}`;
      expect(await store.claim(key, 42.0004)).toBe(true);
      const ttl = await inspector?.pttl(`${keyPrefix}${key}`);
      expect(ttl).toBeGreaterThan(41_000);
      expect(ttl).toBeLessThanOrEqual(42_001);
    } finally {
      await store.close();
    }
  });
});

describe('Redis replay store set-up (no server needed)', () => {
  it('fails at start with StoreUnavailableError when nothing listens, within connectTimeoutMs', async () => {
    const port = await freePort();
    const started = performance.now();
    await expect(
      createRedisReplayStore({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 300 }),
    ).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('rejects invalid options with a TypeError that never echoes the URL', async () => {
    const secretUrl = 'http://user:hunter2@127.0.0.1:6379';
    await expect(createRedisReplayStore({ url: secretUrl })).rejects.toThrow(TypeError);
    await expect(createRedisReplayStore({ url: secretUrl })).rejects.not.toThrow(/hunter2/);
    await expect(createRedisReplayStore({ url: 'not a url' })).rejects.toThrow(TypeError);
    for (const commandTimeoutMs of [0, -1, 1.5, Number.NaN]) {
      await expect(
        createRedisReplayStore({ url: 'redis://127.0.0.1:1', commandTimeoutMs }),
      ).rejects.toThrow(TypeError);
    }
  });
});

/** Asserts every claim rejected with StoreUnavailableError (none resolved, true or false). */
function expectAllUnavailable(outcomes: PromiseSettledResult<boolean>[]): void {
  for (const outcome of outcomes) {
    expect(outcome.status).toBe('rejected');
    if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(StoreUnavailableError);
  }
}

describe.skipIf(!hasRedisServerBinary())('Redis replay store outages (own redis-server: SIGSTOP, SIGKILL)', () => {
  let server: RedisServerProcess;
  beforeAll(async () => {
    server = await RedisServerProcess.start();
  });
  afterAll(async () => {
    server?.resume();
    await server?.kill();
  });

  it('DESIGN fail closed: rejects within commandTimeoutMs while Redis hangs (SIGSTOP), resumes after', async () => {
    const store = await createRedisReplayStore({ url: server.url, commandTimeoutMs: 300 });
    try {
      server.pause();
      const started = performance.now();
      const stalled = Array.from({ length: 10 }, (_, i) => `jkt:stalled-${i}`);
      expectAllUnavailable(await Promise.allSettled(stalled.map((key) => store.claim(key, 60))));
      expect(performance.now() - started).toBeLessThan(1000);
      server.resume();
      expect(await store.claim('jkt:resumed', 60)).toBe(true);
      // Redis applied the timed-out SETs once it woke: proofs the caller was told were
      // unavailable cannot be accepted later either (RFC 9449 §11.1: never twice).
      for (const key of stalled) expect(await store.claim(key, 60)).toBe(false);
    } finally {
      server.resume();
      await store.close();
    }
  });

  it('DESIGN fail closed: rejects promptly while Redis is down (SIGKILL), recovers on the same store', async () => {
    const errors: Error[] = [];
    const store = await createRedisReplayStore({ url: server.url, onError: (e) => errors.push(e) });
    const spare = await createRedisReplayStore({ url: server.url });
    try {
      expect(await store.claim('jkt:before', 60)).toBe(true);
      await server.kill('SIGKILL');

      // Sequential claims (the already-claimed key too), then a burst: each rejects well under
      // 2 s with the default 1 s command timeout, and none resolves.
      for (const key of ['jkt:before', 'jkt:during-1', 'jkt:during-2']) {
        const started = performance.now();
        expectAllUnavailable(await Promise.allSettled([store.claim(key, 60)]));
        expect(performance.now() - started).toBeLessThan(1500);
      }
      const burst = performance.now();
      const keys = Array.from({ length: 20 }, (_, i) => `jkt:burst-${i}`);
      expectAllUnavailable(await Promise.allSettled(keys.map((key) => store.claim(key, 60))));
      expect(performance.now() - burst).toBeLessThan(1500);

      // Failed reconnections reach our listener instead of crashing the process, and claims
      // keep rejecting promptly meanwhile.
      const waiting = performance.now();
      while (errors.length === 0 && performance.now() - waiting < 3000) await sleep(20);
      expect(errors.length).toBeGreaterThan(0);
      const later = performance.now();
      expectAllUnavailable(await Promise.allSettled([store.claim('jkt:during-3', 60)]));
      expect(performance.now() - later).toBeLessThan(1500);

      // Closing while down neither hangs nor keeps reconnecting.
      const closing = performance.now();
      await spare.close();
      expect(performance.now() - closing).toBeLessThan(500);

      await server.start();
      const restarted = performance.now();
      let recovered = false;
      let attempt = 0;
      while (!recovered && performance.now() - restarted < 10_000) {
        attempt += 1;
        recovered = await store.claim(`jkt:after-${attempt}`, 60).catch((error: unknown) => {
          if (!(error instanceof StoreUnavailableError)) throw error;
          return false;
        });
        if (!recovered) await sleep(50);
      }
      expect(recovered).toBe(true);
      // Reconnection backoff is capped at 2 s.
      expect(performance.now() - restarted).toBeLessThan(5000);
      expect(await store.claim(`jkt:after-${attempt}`, 60)).toBe(false);
    } finally {
      await Promise.all([store.close(), spare.close()]);
    }
  });
});
