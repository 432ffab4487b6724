import { describe, expect, it } from 'vitest';
import { SUPPORTED_ALGORITHMS } from '../jose/algorithms.js';
import { DEFAULTS } from './defaults.js';

describe('DEFAULTS', () => {
  it('is frozen all the way down', () => {
    const walk = (value: unknown): void => {
      if (value === null || typeof value !== 'object') return;
      expect(Object.isFrozen(value)).toBe(true);
      for (const child of Object.values(value)) walk(child);
    };
    walk(DEFAULTS);
  });

  it('names only asymmetric algorithms Warden verifies (RFC 9449 §5.1: never none or HMAC)', () => {
    for (const alg of DEFAULTS.dpop.algorithms) expect(SUPPORTED_ALGORITHMS).toContain(alg);
  });

  it('keeps the windows consistent: a proof window inside the nonce slots, a code shorter than an access token', () => {
    expect(DEFAULTS.time.proofMaxAgeSeconds).toBeLessThanOrEqual(2 * DEFAULTS.time.nonceSlotSeconds);
    expect(DEFAULTS.lifetimes.codeSeconds).toBeLessThan(DEFAULTS.lifetimes.accessTokenSeconds);
    for (const throttle of [DEFAULTS.login.perSource, DEFAULTS.login.perAccount, DEFAULTS.login.perSourceAllAccounts, DEFAULTS.login.perDevice, DEFAULTS.registration.throttle]) {
      expect(throttle.maxDelaySeconds).toBeGreaterThanOrEqual(throttle.baseDelaySeconds);
      expect(throttle.forgetAfterSeconds).toBeGreaterThanOrEqual(throttle.maxDelaySeconds);
    }
  });
});
