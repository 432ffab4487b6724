/**
 * The rate-limit store contract: token buckets, one per key, taken from atomically — so limits
 * hold across every instance that shares the store (Redis), and a burst of concurrent requests
 * can never take more tokens than the bucket holds.
 */

/** A token bucket: `burst` tokens at most, refilled at `rate` tokens per second. */
export interface TokenBucket {
  /** Tokens added per second (> 0). */
  readonly rate: number;
  /** Bucket capacity: the most requests allowed back to back (a whole number ≥ 1). */
  readonly burst: number;
}

/** What one take found. */
export interface BucketState {
  /** Whether a token was taken (the request may go on). */
  allowed: boolean;
  /** Whole tokens left after this take. */
  remaining: number;
  /** Seconds until a token is available again (0 when allowed). */
  retryAfterSeconds: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
}

/** Token buckets by key. */
export interface RateLimitStore {
  /**
   * Refills the bucket `key` for the time since its last take and takes one token if there is
   * one — as one atomic step. A bucket never seen starts full.
   *
   * @throws {StoreUnavailableError} when the store cannot answer (callers fail closed: 503).
   */
  take(key: string, bucket: TokenBucket): Promise<BucketState>;
  close(): Promise<void>;
}

/** Throws a TypeError unless `bucket` is a usable token bucket. */
export function checkBucket(bucket: TokenBucket, what = 'bucket'): void {
  if (bucket === null || typeof bucket !== 'object') throw new TypeError(`${what} must be { rate, burst }`);
  if (typeof bucket.rate !== 'number' || !Number.isFinite(bucket.rate) || bucket.rate <= 0) throw new TypeError(`${what}.rate must be a positive number of requests per second`);
  if (!Number.isInteger(bucket.burst) || bucket.burst < 1) throw new TypeError(`${what}.burst must be a whole number ≥ 1`);
}

/** The state after a take, from the tokens left (fractional) and the bucket. */
export function bucketState(allowed: boolean, tokens: number, bucket: TokenBucket): BucketState {
  return {
    allowed,
    remaining: Math.max(0, Math.floor(tokens)),
    retryAfterSeconds: allowed ? 0 : Math.max(0, (1 - tokens) / bucket.rate),
    resetSeconds: Math.max(0, (bucket.burst - tokens) / bucket.rate),
  };
}
