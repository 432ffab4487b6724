/**
 * The stores of a stack kept in the replay backend: the replay store and the gateway's session
 * bindings — one each, shared by every resource (and every instance, for Redis and Redis Cluster).
 */
import type { ReplayConfig } from '../config/defaults.js';
import type { Logger } from '../observability/logger.js';
import { MemoryReplayStore, MemorySessionStore, createRedisReplayStore, createRedisSessionStore, type ReplayStore, type SessionStore } from '../stores/index.js';

/** Interval between repeated Redis connection-error log lines while Redis is down. */
const REDIS_ERROR_LOG_INTERVAL_MS = 10_000;

/** Where the Redis stores connect: one Redis (`url`) or a cluster (`nodes`, and how many replicas a claim needs). */
function redisTarget(config: Exclude<ReplayConfig, { kind: 'memory' }>): { url: string } | { nodes: readonly string[]; replicaAcks?: number } {
  if (config.kind === 'redis') return { url: config.url };
  return { nodes: config.nodes, ...(config.replicaAcks === undefined ? {} : { replicaAcks: config.replicaAcks }) };
}

/**
 * Creates the replay store `config` asks for. Redis is connected before the stack listens, so an
 * unreachable Redis fails start-up instead of answering 503 to every request.
 */
export async function createReplayStore(config: ReplayConfig, logger: Logger): Promise<ReplayStore> {
  if (config.kind === 'memory') {
    return new MemoryReplayStore(config.capacity === undefined ? {} : { capacity: config.capacity });
  }
  let lastLogged = 0;
  return createRedisReplayStore({
    ...redisTarget(config),
    onError: (error) => {
      const now = Date.now();
      if (now - lastLogged < REDIS_ERROR_LOG_INTERVAL_MS) return;
      lastLogged = now;
      logger.warn('replay store connection error', { store: config.kind, error });
    },
  });
}

/** The gateway's session bindings, in the replay store's backend (so they hold across instances with Redis). */
export async function createSessionStore(config: ReplayConfig, logger: Logger): Promise<SessionStore> {
  if (config.kind === 'memory') return new MemorySessionStore();
  let lastLogged = 0;
  const target = redisTarget(config);
  return createRedisSessionStore({
    // Session bindings need no replica acknowledgement: one lost in a failover fails closed (404).
    ...('url' in target ? { url: target.url } : { nodes: target.nodes }),
    onError: (error) => {
      const now = Date.now();
      if (now - lastLogged < REDIS_ERROR_LOG_INTERVAL_MS) return;
      lastLogged = now;
      logger.warn('session store connection error', { store: config.kind, error });
    },
  });
}
