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
