import type { AsContext } from '../../context.js';

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

/** Password attempts one account allows per window, across all interactions and instances. */
export const MAX_ACCOUNT_ATTEMPTS = 20;
/** Length of an account's attempt window, in seconds. */
export const ACCOUNT_WINDOW_SECONDS = 900;

/**
 * Claims a password attempt against `username` in the current window; false when the account's
 * {@link MAX_ACCOUNT_ATTEMPTS} are used. A new interaction costs one unauthenticated /authorize, so
 * the per-interaction limit alone would allow unlimited guessing per account. Unknown usernames
 * are counted the same way, so the limit reveals nothing about which accounts exist; the name is
 * HMAC'd so a password typed into the username field never becomes a store key.
 */
export async function claimAccountAttempt(ctx: AsContext, username: string): Promise<boolean> {
  const window = Math.floor(ctx.now() / ACCOUNT_WINDOW_SECONDS);
  const key = ctx.hmac('login-account', username.toLowerCase());
  for (let n = 1; n <= MAX_ACCOUNT_ATTEMPTS; n += 1) {
    if (await ctx.replay.claim(`warden:login-account:${key}:${window}:${n}`, 2 * ACCOUNT_WINDOW_SECONDS)) return true;
  }
  return false;
}
