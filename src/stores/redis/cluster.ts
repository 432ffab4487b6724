/**
 * The Redis Cluster client of the Redis-backed stores, tuned like the single-node connection
 * ({@link ./connection.ts}): fail fast and closed. Nothing is queued while the cluster (or the
 * node serving a slot) is unreachable, and no command is sent twice: a write that may have been
 * applied is never retried by the driver, so a DPoP claim is decided once. The driver's own
 * retries (on a closed connection during failover, on CLUSTERDOWN) are turned off; only MOVED and
 * ASK redirections are followed, because a node that answers MOVED did not run the command. Slot
 * maps are refreshed every second, so a promoted replica is found without waiting for a MOVED.
 *
 * @see https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/
 */
import type { Cluster, ClusterOptions, Redis } from 'ioredis';
import { importIoredis } from './driver.js';

/** How the cluster client waits and reconnects (from the store's connection options). */
export interface ClusterTuning {
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  /** Delay before the nth attempt to reach the cluster again once every node was lost. */
  reconnectDelayMs: (attempt: number) => number;
}

/** Redirections followed per command: a slot moves at most once or twice during a failover. */
const MAX_REDIRECTIONS = 3;
/** How often slot maps are refreshed, so a new master is used within about this long. */
const SLOTS_REFRESH_INTERVAL_MS = 1000;

/**
 * Creates (without connecting) a cluster client for `nodes` (`redis://` / `rediss://` URLs, already
 * checked). Credentials and TLS come from the first URL: every node of a cluster shares them.
 */
export async function createClusterClient(nodes: readonly string[], tuning: ClusterTuning): Promise<Cluster> {
  const { Cluster: ClusterClient } = await importIoredis();
  const urls = nodes.map((node) => new URL(node));
  const first = urls[0] as URL;
  const auth = {
    ...(first.username === '' ? {} : { username: decodeURIComponent(first.username) }),
    ...(first.password === '' ? {} : { password: decodeURIComponent(first.password) }),
  };
  const options: ClusterOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    // No command is resent by the driver: a connection closed under a write, or a cluster
    // that is down, rejects the command (→ StoreUnavailableError → 503).
    retryDelayOnFailover: 0,
    retryDelayOnClusterDown: 0,
    retryDelayOnTryAgain: 0,
    maxRedirections: MAX_REDIRECTIONS,
    slotsRefreshInterval: SLOTS_REFRESH_INTERVAL_MS,
    slotsRefreshTimeout: Math.min(tuning.commandTimeoutMs, 1000),
    clusterRetryStrategy: tuning.reconnectDelayMs,
    redisOptions: {
      ...auth,
      ...(first.protocol === 'rediss:' ? { tls: {} } : {}),
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: tuning.commandTimeoutMs,
      connectTimeout: tuning.connectTimeoutMs,
    },
  };
  const client = new ClusterClient(
    urls.map((url) => ({ host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port === '' ? 6379 : Number(url.port) })),
    options,
  );
  // The driver connects to a node on its first command, and with no offline queue it rejects
  // every other command sent while that connection is still being made. Connecting as soon as a
  // node is known (at start, and when a failover brings a new master) avoids that burst of 503s.
  client.on('+node', (node: Redis) => {
    if (node.status === 'wait') node.connect().catch(() => undefined);
  });
  return client;
}

/** Resolves once every known master's connection is ready, or after `timeoutMs` (they keep connecting). */
export async function masterConnections(client: Cluster, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && client.nodes('master').some((node) => node.status !== 'ready')) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
