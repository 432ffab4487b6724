/**
 * The Redis rate-limit store on a real Redis Cluster the test starts (three masters, three
 * replicas): the shared conformance suite, and the key layout — one hash-tagged key per bucket,
 * buckets spread over every master.
 *
 * @see https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#hash-tags
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRedisClusterBinaries, RedisCluster } from '../../../test/helpers/redis-cluster.js';
import { isCi } from '../../../test/helpers/services.js';
import { describeRateLimitStoreConformance } from '../conformance/rate-limit-store.conformance.js';
import { createRedisRateLimitStore } from './rate-limit-store.js';

const available = hasRedisClusterBinaries();
if (!available) {
  const message = 'Redis Cluster suites need /usr/bin/redis-server and /usr/bin/redis-cli (apt-get install redis-server)';
  if (isCi()) throw new Error(`${message}; CI is set, so this fails rather than skips`);
  console.info(`[warden tests] ${message}: skipped.`);
}

describe.skipIf(!available)(`Redis Cluster rate-limit store: three masters, three replicas${available ? '' : ' (skipped: redis-server / redis-cli missing)'}`, () => {
  let cluster: RedisCluster | undefined;
  const keyPrefix = `warden:test:rl:${randomUUID()}:`;
  beforeAll(async () => {
    cluster = await RedisCluster.start();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });
  const nodes = (): string[] => cluster?.urls ?? [];

  describeRateLimitStoreConformance('redis-cluster', () => createRedisRateLimitStore({ nodes: nodes(), keyPrefix }));

  it('two instances share a bucket on the cluster; buckets of many clients spread over every master', async () => {
    const [a, b] = await Promise.all([createRedisRateLimitStore({ nodes: nodes(), keyPrefix }), createRedisRateLimitStore({ nodes: nodes(), keyPrefix })]);
    try {
      const bucket = { rate: 0.01, burst: 3 };
      const key = `client:${randomUUID()}`;
      const takes = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).take(key, bucket)));
      expect(takes.filter((t) => t.allowed)).toHaveLength(3);
      for (let i = 0; i < 60; i += 1) await a.take(`client:${randomUUID()}`, bucket);
      const masters = (await cluster!.describe()).filter((n) => n.role === 'master');
      const counts = await Promise.all(masters.map(async (m) => Number((await cluster!.cli(m.port, 'dbsize')).trim())));
      expect(counts.every((n) => n > 0)).toBe(true);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
