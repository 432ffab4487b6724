/**
 * {@link ReplayStore} on Redis, shared by every instance behind a load balancer. One atomic
 * `SET key 1 PX ttl NX` per claim: the server decides which caller wins, so no instance can
 * accept a proof another has already accepted. The connection fails fast and closed (see
 * {@link ./connection.ts}): while Redis is down each claim rejects promptly with
 * {@link StoreUnavailableError} and the resource server answers 503.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-11.1
 * @see https://redis.io/docs/latest/commands/set/
 */
import type { Redis } from 'ioredis';
import { replayTtlMilliseconds } from '../claim-arguments.js';
import { type ReplayStore, StoreUnavailableError } from '../contracts.js';
import { openRedis, quitRedis, requireReady, type RedisConnectionOptions } from './connection.js';

/** Options of {@link createRedisReplayStore}. */
export interface RedisReplayStoreOptions extends RedisConnectionOptions {
  /** Prepended to every key, so one Redis can serve several deployments. Default `warden:replay:`. */
  keyPrefix?: string;
}

const WHAT = 'Redis replay store';

/**
 * Connects to Redis and returns a shared replay store. Resolves once the first connection is
 * ready; after that, outages are survived: claims reject with {@link StoreUnavailableError}
 * until the client has reconnected.
 *
 * @throws TypeError (as a rejection) for invalid options; the message never echoes the URL.
 * @throws StoreUnavailableError (as a rejection) when Redis is not ready within `connectTimeoutMs`.
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-11.1
 */
export async function createRedisReplayStore(options: RedisReplayStoreOptions): Promise<ReplayStore> {
  const keyPrefix = options.keyPrefix ?? 'warden:replay:';
  if (typeof keyPrefix !== 'string') throw new TypeError(`${WHAT} keyPrefix must be a string`);
  const client = await openRedis(options, WHAT);
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
    requireReady(this.#client, this.#closing !== undefined, WHAT);
    let reply: 'OK' | null;
    try {
      reply = await this.#client.set(this.#keyPrefix + key, '1', 'PX', ttlMs, 'NX');
    } catch (cause) {
      throw new StoreUnavailableError(`${WHAT} could not answer`, { cause });
    }
    if (reply === 'OK') return true;
    if (reply === null) return false;
    throw new StoreUnavailableError(`${WHAT} sent an unexpected reply`);
  }

  close(): Promise<void> {
    this.#closing ??= quitRedis(this.#client);
    return this.#closing;
  }
}
