/**
 * In-process {@link ReplayStore}: for tests and single-instance deployments. Several instances
 * behind a load balancer must share a store (Redis), since a proof replayed against another
 * instance would otherwise pass.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-11.1
 */
import { DEFAULTS } from '../../oauth/defaults.js';
import { replayTtlMilliseconds } from '../claim-arguments.js';
import { type ReplayStore, StoreUnavailableError } from '../contracts.js';
import { ExpiryHeap } from './expiry-heap.js';
import { ExpiryQueue } from './expiry-queue.js';

/** Options of {@link MemoryReplayStore}. */
export interface MemoryReplayStoreOptions {
  /**
   * Most live keys held at once. Default 1 000 000: with the resource server's 120 s TTL that
   * sustains ~8 300 DPoP requests/s — above what one core verifies — at ~160 bytes per entry
   * (the resource server's 22-character keys), so ~160 MB at the very worst. Size it above peak
   * proofs per TTL window (requests per second × TTL): when it is reached with only live keys,
   * `claim` rejects with {@link StoreUnavailableError} rather than forget a key that could then
   * be replayed.
   */
  capacity?: number;
  /**
   * Clock in milliseconds; only differences matter. Default: a monotonic clock
   * (`performance.now()`), so wall-clock steps can neither expire keys early nor pin them.
   */
  now?: () => number;
}

// V8 Maps cannot hold more than 2^24 entries; fail at construction, not under load.
const MAX_CAPACITY = 2 ** 24 - 1;

/**
 * A bounded replay store in process memory.
 *
 * It never forgets a live key. Expired keys are purged on every claim in amortised O(1): while
 * TTLs do not shrink (the resource server uses one TTL) insertion order is expiry order, so
 * entries queue up in a FIFO and only its head needs looking at. An entry whose expiry is earlier
 * than one inserted before it goes to a min-heap instead, so mixed TTLs stay exact at O(log n)
 * for those entries alone. It starts no timers.
 *
 * @example
 * ```ts
 * const replay = new MemoryReplayStore({ capacity: 2_000_000 });
 * if (!(await replay.claim(replayKey(jkt, jti), 120))) throw replayed();
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-11.1
 */
export class MemoryReplayStore implements ReplayStore {
  readonly #capacity: number;
  readonly #now: () => number;
  /** key → expiry (ms on the store's clock): the lookup. */
  readonly #expiries = new Map<string, number>();
  /** Entries inserted at or above {@link #latestExpiry}: already in expiry order. */
  readonly #inOrder = new ExpiryQueue();
  /** Entries inserted with an expiry earlier than {@link #latestExpiry} at the time. */
  readonly #outOfOrder = new ExpiryHeap();
  /** Largest expiry ever inserted. */
  #latestExpiry = -Infinity;
  #closed = false;

  /** @throws TypeError when `capacity` is not an integer in [1, 2^24 - 1]. */
  constructor(options: MemoryReplayStoreOptions = {}) {
    const capacity = options.capacity ?? DEFAULTS.stores.memoryReplayCapacity;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY) {
      throw new TypeError(`MemoryReplayStore capacity must be an integer in [1, ${MAX_CAPACITY}]`);
    }
    this.#capacity = capacity;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Keys currently held, all live as of the last claim (useful as a gauge). */
  get size(): number {
    return this.#expiries.size;
  }

  /**
   * {@inheritDoc ReplayStore.claim}
   *
   * A key that is already claimed resolves `false` even at capacity, so replays are still
   * detected while new keys are being refused.
   *
   * @throws TypeError for an invalid key or TTL (see `replayTtlMilliseconds`).
   * @throws StoreUnavailableError when the store is full of live keys or closed.
   */
  async claim(key: string, ttlSeconds: number): Promise<boolean> {
    const ttlMs = replayTtlMilliseconds(key, ttlSeconds);
    if (this.#closed) throw new StoreUnavailableError('memory replay store is closed');
    const now = this.#now();
    // After the purge every held key is live.
    this.#purge(now);
    if (this.#expiries.has(key)) return false;
    if (this.#expiries.size >= this.#capacity) {
      throw new StoreUnavailableError('memory replay store is at capacity with live keys', {
        retryAfterSeconds: Math.max(1, Math.ceil((this.#earliestExpiry() - now) / 1000)),
      });
    }
    this.#insert(key, now + ttlMs);
    return true;
  }

  /** Drops every key; later claims reject with {@link StoreUnavailableError}. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#expiries.clear();
    this.#inOrder.clear();
    this.#outOfOrder.clear();
  }

  #insert(key: string, expiresAt: number): void {
    this.#expiries.set(key, expiresAt);
    if (expiresAt >= this.#latestExpiry) {
      this.#latestExpiry = expiresAt;
      this.#inOrder.push(expiresAt, key);
    } else {
      this.#outOfOrder.push(expiresAt, key);
    }
  }

  /**
   * Removes every expired key: each entry sits in exactly one of the two orders, and each is
   * removed once, so this is amortised O(1) per claim (O(log n) for out-of-order entries).
   */
  #purge(now: number): void {
    // Two monomorphic loops rather than one over both: this runs on every request.
    const expiries = this.#expiries;
    const queue = this.#inOrder;
    while (queue.peekExpiry() <= now) {
      const key = queue.peekKey() as string;
      // Keys leave the map only here, once expired, so this check is defence in depth.
      if (expiries.get(key) === queue.peekExpiry()) expiries.delete(key);
      queue.pop();
    }
    const heap = this.#outOfOrder;
    while (heap.peekExpiry() <= now) {
      const key = heap.peekKey() as string;
      if (expiries.get(key) === heap.peekExpiry()) expiries.delete(key);
      heap.pop();
    }
  }

  #earliestExpiry(): number {
    return Math.min(this.#inOrder.peekExpiry(), this.#outOfOrder.peekExpiry());
  }
}
