/**
 * {@link SessionStore} on Redis, shared by every instance: `SET key owner NX PX ttl` binds
 * atomically (Redis decides which principal wins a race), `GETEX key PX ttl` reads and extends
 * (Redis ≥ 6.2). The connection fails fast and closed, as the replay store's. Every command
 * touches one key, so it works unchanged on a Redis Cluster (`nodes`); a binding lost in a
 * failover fails closed (the session is unknown: 404, the client starts a new one).
 *
 * @see https://redis.io/docs/latest/commands/getex/
 */
import { type SessionStore, StoreUnavailableError } from '../contracts.js';
import { openRedis, quitRedis, requireReady, type RedisClient, type RedisConnectionOptions } from './connection.js';

/** Options of {@link createRedisSessionStore}. */
export interface RedisSessionStoreOptions extends RedisConnectionOptions {
  /** Prepended to every key. Default `warden:session:`. */
  keyPrefix?: string;
}

const WHAT = 'Redis session store';

/** Connects to Redis and returns a shared session store (see {@link createRedisReplayStore} for the connection's behaviour). */
export async function createRedisSessionStore(options: RedisSessionStoreOptions): Promise<SessionStore> {
  const keyPrefix = options.keyPrefix ?? 'warden:session:';
  if (typeof keyPrefix !== 'string') throw new TypeError(`${WHAT} keyPrefix must be a string`);
  return new RedisSessionStore(await openRedis(options, WHAT), keyPrefix);
}

class RedisSessionStore implements SessionStore {
  readonly #client: RedisClient;
  readonly #prefix: string;
  #closing: Promise<void> | undefined;

  constructor(client: RedisClient, prefix: string) {
    this.#client = client;
    this.#prefix = prefix;
  }

  async bind(key: string, owner: string, ttlSeconds: number): Promise<boolean> {
    const ttl = ttlMs(ttlSeconds);
    return this.#run(async (redis) => {
      const k = this.#prefix + key;
      if ((await redis.set(k, owner, 'PX', ttl, 'NX')) === 'OK') return true;
      const current = await redis.getex(k, 'PX', ttl);
      // Expired between the two commands: bind again (one more round trip, still atomic).
      if (current === null) return (await redis.set(k, owner, 'PX', ttl, 'NX')) === 'OK';
      return current === owner;
    });
  }

  async owner(key: string, ttlSeconds: number): Promise<string | undefined> {
    const ttl = ttlMs(ttlSeconds);
    return this.#run(async (redis) => (await redis.getex(this.#prefix + key, 'PX', ttl)) ?? undefined);
  }

  async forget(key: string): Promise<void> {
    await this.#run((redis) => redis.del(this.#prefix + key));
  }

  close(): Promise<void> {
    this.#closing ??= quitRedis(this.#client);
    return this.#closing;
  }

  async #run<T>(command: (redis: RedisClient) => Promise<T>): Promise<T> {
    requireReady(this.#client, this.#closing !== undefined, WHAT);
    try {
      return await command(this.#client);
    } catch (cause) {
      throw new StoreUnavailableError(`${WHAT} could not answer`, { cause });
    }
  }
}

function ttlMs(ttlSeconds: number): number {
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) throw new TypeError('session ttlSeconds must be a positive number');
  return Math.ceil(ttlSeconds * 1000);
}
