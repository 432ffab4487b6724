/**
 * {@link RateLimitStore} on Redis, shared by every instance: each take is one Lua script (atomic
 * on the server, timed by the server's own clock — instances' clocks may disagree), on a hash
 * `{t: tokens, at: ms}` that expires once the bucket would be full again. Keys are hash-tagged
 * (`<prefix>{<digest of the key>}`) so one bucket is one slot on a Redis Cluster, and no caller
 * chooses another's slot. While Redis is down a take rejects with {@link StoreUnavailableError}:
 * callers fail closed (503).
 *
 * @see https://redis.io/docs/latest/develop/interact/programmability/eval-intro/
 * @see https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#hash-tags
 */
import { createHash } from 'node:crypto';
import { StoreUnavailableError } from '../contracts.js';
import { bucketState, checkBucket, type BucketState, type RateLimitStore, type TokenBucket } from '../rate-limit.js';
import { openRedis, quitRedis, requireReady, type RedisClient, type RedisConnectionOptions } from './connection.js';

/** Options of {@link createRedisRateLimitStore}. */
export interface RedisRateLimitStoreOptions extends RedisConnectionOptions {
  /** Prepended to every key. Default `warden:ratelimit:`. */
  keyPrefix?: string;
}

const WHAT = 'Redis rate-limit store';

/** KEYS[1] bucket; ARGV rate (tokens/s), burst. Returns { allowed (0/1), tokens left as a string }. */
const TAKE = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 't', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = burst
else
  local elapsed = now - at
  if elapsed < 0 then elapsed = 0 end
  tokens = math.min(burst, tokens + elapsed * rate / 1000)
end
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
return { allowed, tostring(tokens) }
`;

type TakeCommand = (key: string, rate: number, burst: number) => Promise<unknown>;

/**
 * Connects to Redis (or a Redis Cluster) and returns a shared rate-limit store.
 *
 * @throws TypeError (as a rejection) for invalid options; the message never echoes the URL.
 * @throws StoreUnavailableError (as a rejection) when Redis is not ready within `connectTimeoutMs`.
 */
export async function createRedisRateLimitStore(options: RedisRateLimitStoreOptions): Promise<RateLimitStore> {
  const keyPrefix = options.keyPrefix ?? 'warden:ratelimit:';
  if (typeof keyPrefix !== 'string') throw new TypeError(`${WHAT} keyPrefix must be a string`);
  const client = await openRedis(options, WHAT);
  // defineCommand sends EVALSHA and falls back to EVAL on NOSCRIPT (a restarted or new node).
  client.defineCommand('wardenTakeToken', { numberOfKeys: 1, lua: TAKE });
  return new RedisRateLimitStore(client, keyPrefix.replace(/[{}]/g, '_'));
}

class RedisRateLimitStore implements RateLimitStore {
  readonly #client: RedisClient;
  readonly #keyPrefix: string;
  #closing: Promise<void> | undefined;

  constructor(client: RedisClient, keyPrefix: string) {
    this.#client = client;
    this.#keyPrefix = keyPrefix;
  }

  async take(key: string, bucket: TokenBucket): Promise<BucketState> {
    checkBucket(bucket);
    requireReady(this.#client, this.#closing !== undefined, WHAT);
    const redisKey = `${this.#keyPrefix}{${createHash('sha256').update(key).digest('base64url')}}`;
    let reply: unknown;
    try {
      reply = await (this.#client as unknown as { wardenTakeToken: TakeCommand }).wardenTakeToken(redisKey, bucket.rate, bucket.burst);
    } catch (cause) {
      throw new StoreUnavailableError(`${WHAT} could not answer`, { cause });
    }
    if (!Array.isArray(reply) || (reply[0] !== 0 && reply[0] !== 1) || typeof reply[1] !== 'string' || !Number.isFinite(Number(reply[1]))) {
      throw new StoreUnavailableError(`${WHAT} sent an unexpected reply`);
    }
    return bucketState(reply[0] === 1, Number(reply[1]), bucket);
  }

  close(): Promise<void> {
    this.#closing ??= quitRedis(this.#client);
    return this.#closing;
  }
}
