/**
 * How much password guessing the sign-in form allows, and at what cost to the server: attempts
 * per interaction, and throttles — per source, per (account, source), per account, or for a
 * browser with a device cookie per that cookie — that slow repeated failures down, never a
 * lock-out the real user cannot get past.
 */
import type { ThrottlePolicy, ThrottleResult } from '../../../stores/authorization-server-contracts.js';
import type { AsContext } from '../../context.js';
import { DEFAULTS } from '../../../oauth/defaults.js';
import { accountOf, type Device } from './device-cookie.js';

/** Password attempts one interaction allows before it is burned and the client must start over. */
export const MAX_LOGIN_ATTEMPTS = 5;

/**
 * Claims the next password attempt of an interaction; returns its number (1-based), or undefined
 * when all {@link MAX_LOGIN_ATTEMPTS} are used. Counting with the replay store's atomic
 * claim-once keys makes the limit hold under concurrent guesses and across instances sharing the
 * store. The interaction id is a bearer handle, so only its HMAC goes into keys.
 */
export async function claimLoginAttempt(ctx: AsContext, interactionId: string): Promise<number | undefined> {
  const key = ctx.hmac('login-attempt', interactionId);
  const ttl = Math.min(Math.max(ctx.lifetimes.interaction, 1), 86_400);
  for (let n = 1; n <= MAX_LOGIN_ATTEMPTS; n += 1) {
    if (await ctx.replay.claim(`warden:login:${key}:${n}`, ttl)) return n;
  }
  return undefined;
}

const KNOWN_SOURCE_POLICY: ThrottlePolicy = { free: 1_000_000, baseDelaySeconds: 1, maxDelaySeconds: 1, forgetAfterSeconds: DEFAULTS.login.knownSourceSeconds };

/** A sign-in attempt the throttles let through; report how it ended. */
export interface AllowedSignIn {
  allowed: true;
  /** True when a device cookie vouched for the browser: only its own throttle applied. */
  byDevice: boolean;
  /** The password was right: takes the attempt back where it should not count, clears this path's failures, remembers the source. */
  succeeded(): Promise<void>;
  /** The password was wrong: the attempt stands; a device cookie at `maxFailures` failures stops vouching. */
  failed(): Promise<void>;
  /** The password was never checked (the server refused for another reason): takes the attempt back. */
  release(): Promise<void>;
}

/** The outcome of {@link throttleSignIn}. */
export type SignInThrottle = AllowedSignIn | { allowed: false; byDevice: boolean; retryAfterSeconds: number };

const refused = (result: ThrottleResult & { allowed: false }, byDevice: boolean): SignInThrottle => ({ allowed: false, byDevice, retryAfterSeconds: result.retryAfterSeconds });

/**
 * Counts a sign-in attempt against `username` from `source` (a bucket from `sourceBucket`), in
 * the shared throttle store, before the password is hashed and before a password-check slot is
 * taken: a refused attempt costs no scrypt.
 *
 * With a `device` cookie entry that verified for this account (device-cookie.ts) — and has not
 * failed `login.deviceCookie.maxFailures` times since its last success — the attempt is counted
 * per device with `login.throttle.perDevice` and nothing else: what others do from the same
 * address, or to the same account, cannot slow down a browser that signed in before (OWASP
 * device cookies).
 *
 * Otherwise, in order: per source across all accounts with `login.throttle.perSourceAllAccounts`
 * (so one source rotating usernames cannot keep the password checks busy), per (account, source)
 * with `login.throttle.perSource`, and — unless the source is known for this account — per
 * account with `login.throttle.perAccount`. Unknown usernames are counted the same way, so the
 * answer reveals nothing about which accounts exist; names are case-folded and every key is an
 * HMAC, so a password typed into the username field never becomes a store key. The per-source
 * attempt stands when the per-account one is refused (it was made, from that source); the
 * all-accounts attempt is taken back when a later throttle refuses, and after a success — it
 * counts the password checks a source costs by failing.
 */
export async function throttleSignIn(ctx: AsContext, username: string, source: string, device?: Device): Promise<SignInThrottle> {
  if (device !== undefined) {
    const byDevice = await throttleDevice(ctx, device);
    if (byDevice !== undefined) return byDevice;
  }
  const store = ctx.stores.throttles;
  const name = accountOf(username);
  const anyKey = `login-any:${ctx.hmac('login-throttle-any-account', source)}`;
  const sourceKey = `login-source:${ctx.hmac('login-throttle-source', JSON.stringify([name, source]))}`;
  const accountKey = `login-account:${ctx.hmac('login-throttle-account', name)}`;
  const knownKey = `login-known:${ctx.hmac('login-known-source', JSON.stringify([name, source]))}`;
  const { perSource, perAccount, perSourceAllAccounts } = ctx.login.throttle;

  const byAny = await store.attempt(anyKey, perSourceAllAccounts, ctx.now());
  if (!byAny.allowed) return refused(byAny, false);
  const bySource = await store.attempt(sourceKey, perSource, ctx.now());
  if (!bySource.allowed) {
    await store.release(anyKey, ctx.now());
    return refused(bySource, false);
  }
  const known = (await store.get(knownKey, ctx.now())) !== undefined;
  if (!known) {
    const byAccount = await store.attempt(accountKey, perAccount, ctx.now());
    if (!byAccount.allowed) {
      await store.release(anyKey, ctx.now());
      return refused(byAccount, false);
    }
  }
  return {
    allowed: true,
    byDevice: false,
    succeeded: async () => {
      await store.release(anyKey, ctx.now());
      await store.delete(sourceKey);
      if (!known) await store.release(accountKey, ctx.now());
      await store.attempt(knownKey, KNOWN_SOURCE_POLICY, ctx.now());
    },
    failed: async () => {},
    release: async () => {
      await store.release(anyKey, ctx.now());
      await store.release(sourceKey, ctx.now());
      if (!known) await store.release(accountKey, ctx.now());
    },
  };
}

/**
 * The device path of {@link throttleSignIn}, or undefined when the device cookie no longer
 * vouches (it failed `maxFailures` times without a success: the ordinary throttles apply). Its
 * failure count lives as long as the cookie, so a stolen cookie is worth `maxFailures` guesses
 * in all, however slowly they are made.
 */
async function throttleDevice(ctx: AsContext, device: Device): Promise<SignInThrottle | undefined> {
  const store = ctx.stores.throttles;
  const { perDevice } = ctx.login.throttle;
  const { maxFailures } = ctx.login.deviceCookie;
  const now = ctx.now();
  const deviceKey = `login-device:${ctx.hmac('login-throttle-device', device.id)}`;
  const failuresKey = `login-device-failures:${ctx.hmac('login-device-failures', device.id)}`;
  if (((await store.get(failuresKey, now))?.count ?? 0) >= maxFailures) return undefined;
  const byDevice = await store.attempt(deviceKey, perDevice, now);
  if (!byDevice.allowed) return refused(byDevice, true);
  const lifeLeft = Math.max(1, device.expiresAt - now);
  return {
    allowed: true,
    byDevice: true,
    succeeded: async () => {
      await store.delete(deviceKey);
      await store.delete(failuresKey);
    },
    failed: async () => {
      await store.attempt(failuresKey, { free: 1_000_000, baseDelaySeconds: 1, maxDelaySeconds: 1, forgetAfterSeconds: lifeLeft }, ctx.now());
    },
    release: async () => {
      await store.release(deviceKey, ctx.now());
    },
  };
}
