/**
 * The {@link ReplayStore} contract as a vitest suite. Every backend runs it, so "atomic, true
 * exactly once per live key" means the same thing in memory, in Redis and anywhere else.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-11.1
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_REPLAY_KEY_LENGTH, MAX_REPLAY_TTL_SECONDS } from '../claim-arguments.js';
import { type ReplayStore, StoreUnavailableError } from '../contracts.js';

/** How the suite may drive a backend beyond the contract itself. */
export interface ReplayStoreConformanceOptions {
  /**
   * Moves the clock of the stores `factory` creates forward by `ms`. When given, expiry is tested
   * to the millisecond with no waiting; when absent (Redis), the suite waits in real time, with
   * TTLs of a few hundred milliseconds and a margin for the server's clock.
   */
  advanceTime?: (ms: number) => void | Promise<void>;
}

const REAL_TIME_MARGIN_MS = 100;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Declares the replay-store conformance suite for one backend.
 *
 * @param name - Backend name, shown in test titles.
 * @param factory - Creates a store. Called once for the shared store and again by tests that
 *   close theirs; keys are unique per run, so stores may share a backend with other runs.
 * @param options - See {@link ReplayStoreConformanceOptions}.
 */
export function describeReplayStoreConformance(
  name: string,
  factory: () => Promise<ReplayStore>,
  options: ReplayStoreConformanceOptions = {},
): void {
  const { advanceTime } = options;
  // Stand-in for `<thumbprint>:<jti>`, unique per run so parallel runs never collide.
  const run = randomUUID();
  let counter = 0;
  const freshKey = (): string => `${run}:jti-${++counter}`;
  const elapse = async (ms: number): Promise<void> => {
    if (advanceTime) await advanceTime(ms);
    else await sleep(ms + REAL_TIME_MARGIN_MS);
  };

  describe(`ReplayStore conformance: ${name}`, () => {
    let store: ReplayStore;
    beforeAll(async () => {
      store = await factory();
    });
    afterAll(async () => {
      await store?.close();
    });

    it('RFC 9449 §11.1: the first claim of a key resolves true, every later live claim false', async () => {
      const key = freshKey();
      expect(await store.claim(key, 60)).toBe(true);
      expect(await store.claim(key, 60)).toBe(false);
      expect(await store.claim(key, 60)).toBe(false);
    });

    it('RFC 9449 §11.1: different keys are independent (same jti under another thumbprint, prefixes)', async () => {
      const key = freshKey();
      expect(await store.claim(key, 60)).toBe(true);
      expect(await store.claim(`other-thumbprint:${key}`, 60)).toBe(true);
      expect(await store.claim(`${key}:`, 60)).toBe(true);
      expect(await store.claim(`${key}x`, 60)).toBe(true);
      expect(await store.claim(`${key}:é ✓`, 60)).toBe(true);
      expect(await store.claim(key, 60)).toBe(false);
      expect(await store.claim(`${key}:é ✓`, 60)).toBe(false);
    });

    it('contract: 50 concurrent claims of one key resolve true exactly once (atomic)', async () => {
      const key = freshKey();
      const results = await Promise.all(Array.from({ length: 50 }, () => store.claim(key, 60)));
      expect(results.filter((won) => won)).toHaveLength(1);
    });

    it('contract: concurrent claims of distinct keys all resolve true', async () => {
      const keys = Array.from({ length: 50 }, freshKey);
      const results = await Promise.all(keys.map((key) => store.claim(key, 60)));
      expect(results.every((won) => won)).toBe(true);
    });

    it('RFC 9449 §11.1: once its TTL has passed a key can be claimed again, once', async () => {
      const key = freshKey();
      expect(await store.claim(key, 0.3)).toBe(true);
      expect(await store.claim(key, 0.3)).toBe(false);
      await elapse(300);
      expect(await store.claim(key, 60)).toBe(true);
      expect(await store.claim(key, 60)).toBe(false);
    });

    it('contract: a losing claim does not extend or shorten the winning TTL', async () => {
      const key = freshKey();
      const other = freshKey();
      expect(await store.claim(key, 0.6)).toBe(true);
      expect(await store.claim(other, 60)).toBe(true);
      await elapse(200);
      expect(await store.claim(key, 60)).toBe(false);
      expect(await store.claim(other, 0.001)).toBe(false);
      await elapse(400);
      expect(await store.claim(key, 60)).toBe(true);
      expect(await store.claim(other, 60)).toBe(false);
    });

    it.skipIf(!advanceTime)('contract: expiry is exact — live until ttl, claimable at ttl', async () => {
      const key = freshKey();
      expect(await store.claim(key, 1)).toBe(true);
      await advanceTime?.(999);
      expect(await store.claim(key, 1)).toBe(false);
      await advanceTime?.(1);
      expect(await store.claim(key, 1)).toBe(true);
    });

    it('contract: fractional TTLs are accepted and rounded up to whole milliseconds', async () => {
      const tiny = freshKey();
      expect(await store.claim(tiny, 0.0004)).toBe(true); // 0.4 ms → 1 ms, never 0
      const key = freshKey();
      expect(await store.claim(key, 1.5)).toBe(true);
      expect(await store.claim(key, 1.5)).toBe(false);
      if (advanceTime) {
        await advanceTime(1000); // not truncated to 1 s
        expect(await store.claim(key, 1.5)).toBe(false);
        await advanceTime(500);
        expect(await store.claim(key, 1.5)).toBe(true);
      }
    });

    it('contract: a TTL that is not a finite number in (0, max] rejects with TypeError and claims nothing', async () => {
      const key = freshKey();
      const invalid: unknown[] = [0, -1, -0.001, Number.NaN, Infinity, -Infinity, '60', null,
        undefined, MAX_REPLAY_TTL_SECONDS + 1];
      for (const ttl of invalid) {
        await expect(store.claim(key, ttl as number)).rejects.toBeInstanceOf(TypeError);
      }
      expect(await store.claim(key, MAX_REPLAY_TTL_SECONDS)).toBe(true);
    });

    it('contract: a key that is empty, not a string or too long rejects with TypeError', async () => {
      const invalid: unknown[] = ['', 42, null, undefined, 'k'.repeat(MAX_REPLAY_KEY_LENGTH + 1)];
      for (const key of invalid) {
        await expect(store.claim(key as string, 60)).rejects.toBeInstanceOf(TypeError);
      }
      const longest = `${freshKey()}:`.padEnd(MAX_REPLAY_KEY_LENGTH, 'k');
      expect(await store.claim(longest, 60)).toBe(true);
      expect(await store.claim(longest, 60)).toBe(false);
    });

    it('contract: close is idempotent, and later claims reject with StoreUnavailableError (fail closed)', async () => {
      const closing = await factory();
      expect(await closing.claim(freshKey(), 60)).toBe(true);
      await closing.close();
      await closing.close();
      await Promise.all([closing.close(), closing.close()]);
      await expect(closing.claim(freshKey(), 60)).rejects.toBeInstanceOf(StoreUnavailableError);
    });
  });
}
