/**
 * How much password guessing the sign-in form allows, and at what cost to the server: attempts
 * per interaction, and throttles per source, per (account, source) and per account that slow
 * repeated failures down — never a lock-out the real user cannot get past.
 */
import type { ThrottlePolicy } from '../../../stores/as-contracts.js';
import type { AsContext } from '../../context.js';
import { DEFAULTS } from '../../../oauth/defaults.js';

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
  /** The password was right: takes the attempt back from the source and the account, clears the (account, source) failures, remembers the source. */
  succeeded(): Promise<void>;
  /** The password was never checked (the server refused for another reason): takes the attempt back. */
  release(): Promise<void>;
}

/** The outcome of {@link throttleSignIn}. */
export type SignInThrottle = AllowedSignIn | { allowed: false; retryAfterSeconds: number };

/**
 * Counts a sign-in attempt against `username` from `source` (a bucket from `sourceBucket`), in
 * the shared throttle store, before the password is hashed and before a password-check slot is
 * taken: a refused attempt costs no scrypt. Counted, in order, per source across all accounts
 * with `login.throttle.perSourceAllAccounts` (so one source rotating usernames cannot keep the
 * password checks busy), per (account, source) with `login.throttle.perSource` and — unless the
 * source is known for this account — per account with `login.throttle.perAccount`. Unknown
 * usernames are counted the same way, so the answer reveals nothing about which accounts exist;
 * names are case-folded and every key is an HMAC, so a password typed into the username field
 * never becomes a store key. The per-source attempt stands when the per-account one is refused
 * (it was made, from that source); the all-accounts attempt is taken back when a later throttle
 * refuses, and after a success — it counts the password checks a source costs by failing.
 */
export async function throttleSignIn(ctx: AsContext, username: string, source: string): Promise<SignInThrottle> {
  const store = ctx.stores.throttles;
  const name = username.toLowerCase();
  const anyKey = `login-any:${ctx.hmac('login-throttle-any-account', source)}`;
  const sourceKey = `login-source:${ctx.hmac('login-throttle-source', JSON.stringify([name, source]))}`;
  const accountKey = `login-account:${ctx.hmac('login-throttle-account', name)}`;
  const knownKey = `login-known:${ctx.hmac('login-known-source', JSON.stringify([name, source]))}`;
  const { perSource, perAccount, perSourceAllAccounts } = ctx.login.throttle;

  const byAny = await store.attempt(anyKey, perSourceAllAccounts, ctx.now());
  if (!byAny.allowed) return { allowed: false, retryAfterSeconds: byAny.retryAfterSeconds };
  const bySource = await store.attempt(sourceKey, perSource, ctx.now());
  if (!bySource.allowed) {
    await store.release(anyKey, ctx.now());
    return { allowed: false, retryAfterSeconds: bySource.retryAfterSeconds };
  }
  const known = (await store.get(knownKey, ctx.now())) !== undefined;
  if (!known) {
    const byAccount = await store.attempt(accountKey, perAccount, ctx.now());
    if (!byAccount.allowed) {
      await store.release(anyKey, ctx.now());
      return { allowed: false, retryAfterSeconds: byAccount.retryAfterSeconds };
    }
  }
  return {
    allowed: true,
    succeeded: async () => {
      await store.release(anyKey, ctx.now());
      await store.delete(sourceKey);
      if (!known) await store.release(accountKey, ctx.now());
      await store.attempt(knownKey, KNOWN_SOURCE_POLICY, ctx.now());
    },
    release: async () => {
      await store.release(anyKey, ctx.now());
      await store.release(sourceKey, ctx.now());
      if (!known) await store.release(accountKey, ctx.now());
    },
  };
}
