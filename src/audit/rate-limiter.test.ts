import { describe, expect, it } from 'vitest';
import { createRateLimiter } from './rate-limiter.js';

/** A clock that only moves when the limiter sleeps, so spacing is exact and tests never wait. */
function fakeClock() {
  let now = 1_000;
  const sleeps: number[] = [];
  return {
    sleeps,
    clock: {
      now: () => now,
      sleep: async (ms: number) => {
        sleeps.push(ms);
        now += ms;
      },
    },
  };
}

describe('createRateLimiter (the --rate bound of warden audit)', () => {
  it('spaces requests 1/rate apart: 5 requests at 10/s start at 0, 100, 200, 300, 400 ms', async () => {
    const { clock, sleeps } = fakeClock();
    const limiter = createRateLimiter(10, clock);
    const starts: number[] = [];
    for (let i = 0; i < 5; i++) {
      await limiter.take();
      starts.push(clock.now() - 1_000);
    }
    expect(starts).toEqual([0, 100, 200, 300, 400]);
    expect(sleeps).toEqual([100, 100, 100, 100]);
  });

  it('queues concurrent callers instead of letting them share a slot', async () => {
    // A frozen clock: all three ask at the same instant; the first goes at once, the others wait for their own slots.
    const sleeps: number[] = [];
    const limiter = createRateLimiter(4, { now: () => 0, sleep: async (ms) => void sleeps.push(ms) });
    await Promise.all([limiter.take(), limiter.take(), limiter.take()]);
    expect(sleeps).toEqual([250, 500]);
  });

  it('does not let an idle period build up a burst', async () => {
    const { clock, sleeps } = fakeClock();
    const limiter = createRateLimiter(2, clock);
    await limiter.take();
    await clock.sleep(5_000);
    sleeps.length = 0;
    await limiter.take();
    await limiter.take();
    expect(sleeps).toEqual([500]);
  });

  it('refuses a rate that is not a positive number', () => {
    for (const rate of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => createRateLimiter(rate)).toThrow(RangeError);
  });
});
