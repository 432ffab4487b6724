/**
 * {@link ReplayStore} on Redis, shared by every instance behind a load balancer. One atomic
 * `SET key 1 PX ttl NX` per claim: the server decides which caller wins, so no instance can
 * accept a proof another has already accepted.
 *
 * The client is set up to fail fast and closed: no offline queue, no per-command retries and a
 * command timeout, so while Redis is down each claim rejects promptly with
 * {@link StoreUnavailableError} (the resource server answers 503) instead of queueing requests
 * or, worse, passing them; it reconnects by itself and service resumes without a restart.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-11.1
 * @see https://redis.io/docs/latest/commands/set/
 */
import type { Redis, RedisOptions } from 'ioredis';
import { replayTtlMilliseconds } from '../claim-arguments.js';
import { type ReplayStore, StoreUnavailableError } from '../contracts.js';

/** Options of {@link createRedisReplayStore}. */
export interface RedisReplayStoreOptions {
  /** `redis://` or `rediss://` (TLS) URL, credentials and database included. Never logged. */
  url: string;
  /** Prepended to every key, so one Redis can serve several deployments. Default `warden:replay:`. */
  keyPrefix?: string;
  /** How long one claim may wait for Redis before rejecting. Default 1000 ms. */
  commandTimeoutMs?: number;
  /**
   * Bound on each TCP connection attempt, and on the wait for the first connection when the
   * store is created. Default 5000 ms.
   */
  connectTimeoutMs?: number;
  /**
   * Told about connection errors (refused, reset, timed out), which also happen on every
   * reconnection attempt while Redis is down — rate-limit before logging. Messages name the host
   * and port, never credentials. Default: ignored (claims already reject while disconnected).
   */
  onError?: (error: Error) => void;
}

/** Reconnection backoff: linear, capped, so recovery is noticed within ~2 s of Redis returning. */
function reconnectDelayMs(attempt: number): number {
  return Math.min(attempt * 100, 2000);
}

/**
 * Connects to Redis and returns a shared replay store. The ioredis driver is imported here, so
 * deployments that do not configure Redis never load it.
 *
 * Resolves once the first connection is ready, so a wrong URL or an unreachable server fails at
 * start-up rather than as 503s on every request. After that, outages are survived: claims reject
 * with {@link StoreUnavailableError} until the client has reconnected.
 *
 * @throws TypeError (as a rejection) for invalid options; the message never echoes the URL.
 * @throws StoreUnavailableError (as a rejection) when Redis is not ready within `connectTimeoutMs`.
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-11.1
 */
export async function createRedisReplayStore(options: RedisReplayStoreOptions): Promise<ReplayStore> {
  const keyPrefix = options.keyPrefix ?? 'warden:replay:';
  const commandTimeoutMs = positiveInteger(options.commandTimeoutMs ?? 1000, 'commandTimeoutMs');
  const connectTimeoutMs = positiveInteger(options.connectTimeoutMs ?? 5000, 'connectTimeoutMs');
  checkUrl(options.url);
  if (typeof keyPrefix !== 'string') throw new TypeError('Redis replay store keyPrefix must be a string');

  const { Redis } = await import('ioredis');
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
  const client = new Redis(options.url, clientOptions);
  // Without a listener, ioredis reports every failed reconnection on stderr.
  const onError = options.onError;
  client.on('error', (error: Error) => onError?.(error));

  await connect(client, connectTimeoutMs);
  return new RedisReplayStore(client, keyPrefix);
}

class RedisReplayStore implements ReplayStore {
  readonly #client: Redis;
  readonly #keyPrefix: string;
  #closing: Promise<void> | undefined;

  constructor(client: Redis, keyPrefix: string) {
    this.#client = client;
    this.#keyPrefix = keyPrefix;
  }

  async claim(key: string, ttlSeconds: number): Promise<boolean> {
    const ttlMs = replayTtlMilliseconds(key, ttlSeconds);
    if (this.#closing !== undefined) throw new StoreUnavailableError('Redis replay store is closed');
    // ioredis would reject too, but saying so here keeps the reason readable.
    if (this.#client.status !== 'ready') {
      throw new StoreUnavailableError('Redis replay store is not connected');
    }
    let reply: 'OK' | null;
    try {
      reply = await this.#client.set(this.#keyPrefix + key, '1', 'PX', ttlMs, 'NX');
    } catch (cause) {
      throw new StoreUnavailableError('Redis replay store could not answer', { cause });
    }
    if (reply === 'OK') return true;
    if (reply === null) return false;
    throw new StoreUnavailableError('Redis replay store sent an unexpected reply');
  }

  close(): Promise<void> {
    this.#closing ??= quit(this.#client);
    return this.#closing;
  }
}

/** Waits for the first `ready`; on timeout, stops reconnecting and rejects. */
async function connect(client: Redis, timeoutMs: number): Promise<void> {
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
    throw new StoreUnavailableError(
      `Redis replay store: no connection within ${timeoutMs} ms`,
      { cause: lastError },
    );
  } finally {
    clearTimeout(timer);
    client.off('error', remember);
  }
}

/** QUIT when connected (lets Redis close cleanly); otherwise just stop reconnecting. */
async function quit(client: Redis): Promise<void> {
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

function positiveInteger(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new TypeError(`Redis replay store ${name} must be a positive integer (milliseconds)`);
  }
  return value;
}

function checkUrl(url: unknown): void {
  let protocol: string | undefined;
  try {
    protocol = typeof url === 'string' ? new URL(url).protocol : undefined;
  } catch {
    protocol = undefined;
  }
  // The URL may carry a password, so the message names what is expected, not what was given.
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    throw new TypeError('Redis replay store url must be a redis:// or rediss:// URL');
  }
}
