/**
 * The stack's rate-limit buckets, in the replay store's backend: Redis (or a Redis Cluster) when
 * replay is there — so limits hold across every instance — memory otherwise. Opened only when
 * some resource or the authorization server has a `rateLimit`.
 */
import type { ReplayConfig, WardenConfig } from '../config/defaults.js';
import type { Logger } from '../observability/logger.js';
import { MemoryRateLimitStore, createRedisRateLimitStore, type RateLimitStore } from '../stores/index.js';

const REDIS_ERROR_LOG_INTERVAL_MS = 10_000;

/** Whether the configuration limits any rate. */
export function needsRateLimits(config: WardenConfig): boolean {
  return config.resources.some((r) => r.rateLimit !== undefined) || (config.authorizationServer.enabled && config.authorizationServer.rateLimit !== undefined);
}

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
