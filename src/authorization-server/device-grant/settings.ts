/** The device authorization grant's settings (RFC 8628), resolved from the options once. */
import { DEFAULTS } from '../../oauth/defaults.js';
import type { DeviceCodeStore, ThrottlePolicy } from '../../stores/authorization-server-contracts.js';
import { resolveThrottlePolicy, type AsContext } from '../context.js';

/** What the device endpoints need; `store` undefined means the grant is off. */
export interface DeviceGrantSettings {
  store: DeviceCodeStore | undefined;
  codeSeconds: number;
  intervalSeconds: number;
  userCodeThrottle: ThrottlePolicy;
  /** `{issuer}/device_authorization` (RFC 8628 §3.1). */
  authorizationEndpoint: string;
  /** `{issuer}/device`: where the user enters the code (RFC 8628 §3.2 `verification_uri`). */
  verificationUri: string;
}

const cache = new WeakMap<AsContext, DeviceGrantSettings>();

/**
 * The settings of `ctx`, validated on first use (`createAuthorizationServer` asks at start, so a
 * wrong value fails there with a message that says what to change).
 */
export function deviceGrantSettings(ctx: AsContext): DeviceGrantSettings {
  const known = cache.get(ctx);
  if (known !== undefined) return known;
  const bad = (path: string, message: string): never => {
    throw new TypeError(`createAuthorizationServer: ${path} ${message}`);
  };
  const given = ctx.options.deviceGrant ?? {};
  const whole = (name: 'codeSeconds' | 'intervalSeconds', min: number, max: number): number => {
    const value = given[name] ?? DEFAULTS.deviceGrant[name];
    if (!Number.isSafeInteger(value) || value < min || value > max) bad(`deviceGrant.${name}`, `must be a whole number from ${min} to ${max}`);
    return value;
  };
  const base = ctx.endpoints.token.slice(0, -'/token'.length);
  const settings: DeviceGrantSettings = Object.freeze({
    store: (given.enabled ?? DEFAULTS.deviceGrant.enabled) ? ctx.stores.deviceCodes : undefined,
    codeSeconds: whole('codeSeconds', 60, 3600),
    intervalSeconds: whole('intervalSeconds', 1, 60),
    userCodeThrottle: resolveThrottlePolicy('deviceGrant.userCodeThrottle', given.userCodeThrottle, DEFAULTS.deviceGrant.userCodeThrottle, bad),
    authorizationEndpoint: `${base}/device_authorization`,
    verificationUri: `${base}/device`,
  });
  cache.set(ctx, settings);
  return settings;
}
