/**
 * The stack's rate-limit buckets, in the replay store's backend: Redis (or a Redis Cluster) when
 * replay is there — so limits hold across every instance — memory otherwise. Opened by every
 * stack, whether or not its configuration limits a rate: a server added at run time (admin API,
 * `warden servers`) or by a configuration reload may bring a `rateLimit` of its own.
 */
import type { ReplayConfig } from '../config/defaults.js';
import type { Logger } from '../observability/logger.js';
import { MemoryRateLimitStore, createRedisRateLimitStore, type RateLimitStore } from '../stores/index.js';

const REDIS_ERROR_LOG_INTERVAL_MS = 10_000;

/** Opens the store `replay` points at; Redis is connected before the stack listens. */
export async function createRateLimitStore(replay: ReplayConfig, logger: Logger): Promise<RateLimitStore> {
  if (replay.kind === 'memory') return new MemoryRateLimitStore();
  let lastLogged = 0;
  return createRedisRateLimitStore({
    ...(replay.kind === 'redis' ? { url: replay.url } : { nodes: replay.nodes }),
    onError: (error) => {
      const now = Date.now();
      if (now - lastLogged < REDIS_ERROR_LOG_INTERVAL_MS) return;
      lastLogged = now;
      logger.warn('rate-limit store connection error', { store: replay.kind, error });
    },
  });
}
