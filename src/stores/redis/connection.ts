/**
 * One Redis connection as every Warden store on Redis wants it: fail fast and closed. No offline
 * queue, no per-command retries and a command timeout, so while Redis is down each command
 * rejects promptly (the store turns that into {@link StoreUnavailableError}, the request into
 * 503) instead of queueing or passing; it reconnects by itself and service resumes without a
 * restart. The same holds for a Redis Cluster ({@link ./cluster.ts}). The ioredis driver is
 * imported here, so deployments without Redis never load it.
 */
import { DEFAULTS } from '../../oauth/defaults.js';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { StoreUnavailableError } from '../contracts.js';
import { createClusterClient, masterConnections } from './cluster.js';
import { importIoredis } from './driver.js';

/** A single Redis or a Redis Cluster client: the commands the stores use are the same. */
export type RedisClient = Redis | Cluster;

/** Options shared by the Redis-backed stores. Give `url` (one Redis) or `nodes` (a Redis Cluster). */
export interface RedisConnectionOptions {
  /** `redis://` or `rediss://` (TLS) URL, credentials and database included. Never logged. */
  url?: string;
  /**
   * A Redis Cluster: `redis://` or `rediss://` URLs of some of its nodes (any of them; the rest
   * are discovered). Credentials, when needed, in the URLs (every node shares them). Never logged.
   */
  nodes?: readonly string[];
  /** How long one command may wait for Redis before rejecting. Default 1000 ms. */
  commandTimeoutMs?: number;
  /**
   * Bound on each TCP connection attempt, and on the wait for the first connection when the
   * store is created. Default 5000 ms.
   */
  connectTimeoutMs?: number;
  /**
   * Told about connection errors (refused, reset, timed out), which also happen on every
   * reconnection attempt while Redis is down — rate-limit before logging. Messages name the host
   * and port, never credentials. Default: ignored (commands already reject while disconnected).
   */
  onError?: (error: Error) => void;
}

/** Reconnection backoff: linear, capped, so recovery is noticed within ~2 s of Redis returning. */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(attempt * 100, 2000);
}

/**
 * Connects and resolves once the first connection is ready, so a wrong URL or an unreachable
 * server fails at start-up rather than as 503s on every request.
 *
 * @param what - The store's name for messages, e.g. "Redis replay store".
 * @throws TypeError (as a rejection) for invalid options; the message never echoes the URL.
 * @throws StoreUnavailableError (as a rejection) when Redis is not ready within `connectTimeoutMs`.
 */
export async function openRedis(options: RedisConnectionOptions, what: string): Promise<RedisClient> {
  const commandTimeoutMs = positiveInteger(options.commandTimeoutMs ?? DEFAULTS.stores.redisCommandTimeoutMs, 'commandTimeoutMs', what);
  const connectTimeoutMs = positiveInteger(options.connectTimeoutMs ?? DEFAULTS.stores.connectTimeoutMs, 'connectTimeoutMs', what);
  if (options.nodes !== undefined) {
    if (options.url !== undefined) throw new TypeError(`${what}: give url (one Redis) or nodes (a Redis Cluster), not both`);
    if (!Array.isArray(options.nodes) || options.nodes.length === 0) throw new TypeError(`${what} nodes must list at least one redis:// URL`);
    for (const node of options.nodes) checkUrl(node, what);
    const cluster = await createClusterClient(options.nodes, { commandTimeoutMs, connectTimeoutMs, reconnectDelayMs });
    const onClusterError = options.onError;
    // Cluster-level errors and each node's connection errors (the driver re-emits the latter as `node error`).
    cluster.on('error', (error: Error) => onClusterError?.(error));
    cluster.on('node error', (error: Error) => onClusterError?.(error));
    await connect(cluster, connectTimeoutMs, what);
    await masterConnections(cluster, connectTimeoutMs);
    return cluster;
  }
  checkUrl(options.url, what);
  const { Redis } = await importIoredis();
  const clientOptions: RedisOptions = {
    lazyConnect: true,
    // Fail closed and fast: a command issued while disconnected rejects at once, and one in
    // flight when the connection drops is rejected, not resent (it may have been applied).
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: commandTimeoutMs,
    connectTimeout: connectTimeoutMs,
    retryStrategy: reconnectDelayMs,
  };
  const client = new Redis(options.url as string, clientOptions);
  // Without a listener, ioredis reports every failed reconnection on stderr.
  const onError = options.onError;
  client.on('error', (error: Error) => onError?.(error));
  await connect(client, connectTimeoutMs, what);
  return client;
}

/** Waits for the first `ready`; on timeout, stops reconnecting and rejects. */
async function connect(client: RedisClient, timeoutMs: number, what: string): Promise<void> {
  let lastError: unknown;
  const remember = (error: unknown): void => {
    lastError = error;
  };
  client.on('error', remember);
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
      client.once('ready', () => resolve());
      // The first attempt may fail (the retry strategy keeps trying until the deadline).
      client.connect().catch(remember);
    });
  } catch {
    client.disconnect();
    throw new StoreUnavailableError(`${what}: no connection within ${timeoutMs} ms`, { cause: lastError });
  } finally {
    clearTimeout(timer);
    client.off('error', remember);
  }
}

/** QUIT when connected (lets Redis close cleanly); otherwise just stop reconnecting. */
export async function quitRedis(client: RedisClient): Promise<void> {
  if (client.status === 'ready') {
    try {
      await client.quit();
      return;
    } catch {
      // Lost mid-quit: fall through and drop the socket.
    }
  }
  client.disconnect();
}

/** Rejects with a readable reason while the client is not connected (ioredis would reject too). */
export function requireReady(client: RedisClient, closing: boolean, what: string): void {
  if (closing) throw new StoreUnavailableError(`${what} is closed`);
  if (client.status !== 'ready') throw new StoreUnavailableError(`${what} is not connected`);
}

function positiveInteger(value: unknown, name: string, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new TypeError(`${what} ${name} must be a positive integer (milliseconds)`);
  }
  return value;
}

function checkUrl(url: unknown, what: string): void {
  let protocol: string | undefined;
  try {
    protocol = typeof url === 'string' ? new URL(url).protocol : undefined;
  } catch {
    protocol = undefined;
  }
  // The URL may carry a password, so the message names what is expected, not what was given.
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    throw new TypeError(`${what} url must be a redis:// or rediss:// URL`);
  }
}
