/**
 * {@link ReplayStore} on Redis, shared by every instance behind a load balancer. One atomic
 * `SET key 1 PX ttl NX` per claim: the server decides which caller wins, so no instance can
 * accept a proof another has already accepted. The connection fails fast and closed (see
 * {@link ./connection.ts}): while Redis is down each claim rejects promptly with
 * {@link StoreUnavailableError} and the resource server answers 503.
 *
 * On a Redis Cluster (`nodes`) keys carry a hash tag (layout in {@link ./cluster-key.ts}), and a
 * claim is acknowledged only once a replica has it too (`WAIT`, pipelined with the `SET`): replication is asynchronous, and a master that crashed
 * between answering and replicating would otherwise hand its slots to a replica that never saw
 * the claim, and the proof could be accepted a second time.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-11.1
 * @see https://redis.io/docs/latest/commands/set/
 */
import { replayTtlMilliseconds } from '../claim-arguments.js';
import { type ReplayStore, StoreUnavailableError } from '../contracts.js';
import { clusterKey } from './cluster-key.js';
import { openRedis, quitRedis, requireReady, type RedisClient, type RedisConnectionOptions } from './connection.js';

/** Options of {@link createRedisReplayStore}. */
export interface RedisReplayStoreOptions extends RedisConnectionOptions {
  /** Prepended to every key, so one Redis can serve several deployments. Default `warden:replay:`. */
  keyPrefix?: string;
  /**
   * Replicas that must have a claim before it counts (`WAIT n`); when fewer acknowledge it in
   * time the claim rejects with {@link StoreUnavailableError} (503). Default 1 on a cluster
   * (`nodes`: give every master a replica, or set 0), 0 on a single Redis.
   */
  replicaAcks?: number;
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
  const cluster = options.nodes !== undefined;
  const replicaAcks = options.replicaAcks ?? (cluster ? 1 : 0);
  if (!Number.isInteger(replicaAcks) || replicaAcks < 0) throw new TypeError(`${WHAT} replicaAcks must be a whole number ≥ 0`);
  const client = await openRedis(options, WHAT);
  // WAIT gets part of the command timeout, so a missing replica is a prompt 503, not a driver timeout.
  const waitMs = Math.max(1, Math.floor((options.commandTimeoutMs ?? 1000) / 2));
  return new RedisReplayStore(client, keyPrefix, cluster, replicaAcks, waitMs);
}

class RedisReplayStore implements ReplayStore {
  readonly #client: RedisClient;
  readonly #keyPrefix: string;
  readonly #cluster: boolean;
  readonly #replicaAcks: number;
  readonly #waitMs: number;
  #closing: Promise<void> | undefined;

  constructor(client: RedisClient, keyPrefix: string, cluster: boolean, replicaAcks: number, waitMs: number) {
    this.#client = client;
    this.#keyPrefix = keyPrefix;
    this.#cluster = cluster;
    this.#replicaAcks = replicaAcks;
    this.#waitMs = waitMs;
  }

  async claim(key: string, ttlSeconds: number): Promise<boolean> {
    const ttlMs = replayTtlMilliseconds(key, ttlSeconds);
    requireReady(this.#client, this.#closing !== undefined, WHAT);
    const redisKey = this.#cluster ? clusterKey(this.#keyPrefix, key) : this.#keyPrefix + key;
    let reply: unknown;
    try {
      if (this.#replicaAcks === 0) reply = await this.#client.set(redisKey, '1', 'PX', ttlMs, 'NX');
      else reply = await this.#setAndWait(redisKey, ttlMs);
    } catch (cause) {
      throw new StoreUnavailableError(`${WHAT} could not answer`, { cause });
    }
    if (reply === 'OK') return true;
    if (reply === null) return false;
    throw new StoreUnavailableError(`${WHAT} sent an unexpected reply`);
  }

  /**
   * `SET … NX` then `WAIT`, in one pipeline to the key's master (WAIT has no key: the pipeline
   * sends it where the SET goes). A won claim that too few replicas acknowledged is an outage.
   */
  async #setAndWait(redisKey: string, ttlMs: number): Promise<unknown> {
    const replies = await this.#client.pipeline().set(redisKey, '1', 'PX', ttlMs, 'NX').wait(this.#replicaAcks, this.#waitMs).exec();
    const [set, wait] = replies ?? [];
    if (set === undefined || wait === undefined) throw new Error('pipeline answered nothing');
    if (set[0]) throw set[0];
    if (set[1] !== 'OK') return set[1];
    if (wait[0]) throw wait[0];
    if (typeof wait[1] !== 'number' || wait[1] < this.#replicaAcks) {
      throw new Error(`only ${String(wait[1])} of ${this.#replicaAcks} replicas acknowledged the claim within ${this.#waitMs} ms`);
    }
    return 'OK';
  }

  close(): Promise<void> {
    this.#closing ??= quitRedis(this.#client);
    return this.#closing;
  }
}
