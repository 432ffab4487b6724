/**
 * Spaces requests out to at most `rate` per second, so an audit never hammers a server it does not
 * own. No bursts: request n+1 starts no earlier than 1/rate seconds after request n started.
 */

/** Clock and timer, injectable so tests need not wait. */
export interface RateLimiterClock {
  /** Milliseconds, monotonic. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** A limiter shared by every request of one audit. */
export interface RateLimiter {
  /** Resolves when the next request may start. Callers are served in the order they asked. */
  take(): Promise<void>;
}

const systemClock: RateLimiterClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * Creates a limiter for `rate` requests per second (a positive number; fractions allowed, e.g.
 * 0.5 for one request every two seconds).
 */
export function createRateLimiter(rate: number, clock: RateLimiterClock = systemClock): RateLimiter {
  if (!(typeof rate === 'number' && Number.isFinite(rate) && rate > 0)) throw new RangeError('rate must be a positive number of requests per second');
  const interval = 1000 / rate;
  let next = Number.NEGATIVE_INFINITY;
  return {
    async take() {
      const now = clock.now();
      // Reserve a slot synchronously, so concurrent callers queue rather than share one.
      const slot = Math.max(now, next);
      next = slot + interval;
      if (slot > now) await clock.sleep(slot - now);
    },
  };
}
