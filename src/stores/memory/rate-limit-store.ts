/**
 * {@link RateLimitStore} in one process's memory: for a single instance and tests. Buckets are
 * forgotten once full again; past `capacity` live buckets the least recently used is dropped (it
 * restarts full — the caller gains at most one burst).
 */
import { bucketState, checkBucket, type BucketState, type RateLimitStore, type TokenBucket } from '../rate-limit.js';

/** Options of {@link MemoryRateLimitStore}. */
export interface MemoryRateLimitStoreOptions {
  /** Most buckets kept. Default 100,000. */
  capacity?: number;
  /** Clock in milliseconds (tests). Default `Date.now`. */
  now?: () => number;
}

export class MemoryRateLimitStore implements RateLimitStore {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #capacity: number;
  readonly #now: () => number;

  constructor(options: MemoryRateLimitStoreOptions = {}) {
    this.#capacity = options.capacity ?? 100_000;
    if (!Number.isInteger(this.#capacity) || this.#capacity < 1) throw new TypeError('MemoryRateLimitStore capacity must be a whole number ≥ 1');
    this.#now = options.now ?? Date.now;
  }

  async take(key: string, bucket: TokenBucket): Promise<BucketState> {
    checkBucket(bucket);
    const now = this.#now();
    const entry = this.#buckets.get(key);
    let tokens = bucket.burst;
    if (entry !== undefined) {
      tokens = Math.min(bucket.burst, entry.tokens + (Math.max(0, now - entry.at) / 1000) * bucket.rate);
      this.#buckets.delete(key);
    }
    const allowed = tokens >= 1;
    if (allowed) tokens -= 1;
    // Re-inserted last: the Map's order is least recently used first.
    this.#buckets.set(key, { tokens, at: now });
    if (this.#buckets.size > this.#capacity) this.#evict(now, bucket);
    return bucketState(allowed, tokens, bucket);
  }

  #evict(now: number, bucket: TokenBucket): void {
    for (const [key, entry] of this.#buckets) {
      if (this.#buckets.size <= this.#capacity) return;
      // A bucket full again holds nothing worth keeping; else the oldest goes.
      if (entry.tokens + ((now - entry.at) / 1000) * bucket.rate >= bucket.burst || this.#buckets.size > this.#capacity) this.#buckets.delete(key);
    }
  }

  async close(): Promise<void> {
    this.#buckets.clear();
  }
}
