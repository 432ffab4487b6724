/**
 * The console's "last hour": cumulative counters read once a minute; the window's count is the
 * current value minus the reading one window old.
 */
import { describe, expect, it } from 'vitest';
import { MetricsWindow } from './metrics-window.js';

const MINUTE = 60_000;

describe('MetricsWindow', () => {
  it('counts what the counters rose by in the last hour; older rises drop out as the window slides', () => {
    let now = 1_000 * MINUTE;
    let denied = 0;
    const window = new MetricsWindow(() => ({ denied }), { now: () => now });
    denied = 5; // in the first minute
    for (let minute = 1; minute <= 30; minute++) {
      now += MINUTE;
      window.sample();
    }
    denied = 8; // half an hour in
    expect(window.counts()).toEqual({ from: 1_000 * MINUTE, counts: { denied: 8 }, totals: { denied: 8 } });
    for (let minute = 31; minute <= 61; minute++) {
      now += MINUTE;
      window.sample();
    }
    // 61 minutes in: the first minute's 5 are more than an hour old; the 3 of minute 30 are not.
    expect(window.counts()).toEqual({ from: 1_001 * MINUTE, counts: { denied: 3 }, totals: { denied: 8 } });
    for (let minute = 62; minute <= 200; minute++) {
      now += MINUTE;
      window.sample();
    }
    expect(window.counts().counts).toEqual({ denied: 0 });
    expect(window.counts().from).toBe(now - 60 * MINUTE);
  });

  it('a counter that appears later counts from zero; a young instance counts since its start', () => {
    let now = 0;
    let values: Record<string, number> = {};
    const window = new MetricsWindow(() => values, { now: () => now });
    now += 5 * MINUTE;
    window.sample();
    values = { replays: 2 };
    expect(window.counts()).toEqual({ from: 0, counts: { replays: 2 }, totals: { replays: 2 } });
  });

  it('start() reads on a timer that does not keep the process alive; stop() ends it', () => {
    const window = new MetricsWindow(() => ({}), { intervalMs: 10 }).start();
    window.stop();
    window.stop();
    expect(window.counts().counts).toEqual({});
  });
});
