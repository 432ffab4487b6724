/**
 * Limits on open dynamic registration (RFC 7591 §3 without an initial access token): anyone can
 * register, so registrations are throttled per source address, and a registered client that is
 * never used does not stay forever.
 */
import { StoreUnavailableError } from '../../../stores/contracts.js';
import type { AsContext } from '../../context.js';

/**
 * Counts a registration from `source`; the wait in seconds when it comes too soon, else
 * undefined. The key is an HMAC, so addresses are not stored in the clear.
 */
export async function throttleRegistration(ctx: AsContext, source: string): Promise<number | undefined> {
  const key = `register-source:${ctx.hmac('register-source', source)}`;
  const result = await ctx.stores.throttles.attempt(key, ctx.registration.throttle, ctx.now());
  return result.allowed ? undefined : result.retryAfterSeconds;
}

/**
 * Records that `client` was used — it completed an authorization or obtained a token — so that
 * it does not expire as unused. A write only on a registered client's first use.
 *
 * Bookkeeping, not a check, and it runs after the tokens or code exist: a store that cannot
 * answer here must not turn a success into a 503 (a client retrying a spent code would trip
 * reuse detection). The next use records it instead.
 */
export async function noteClientUsed(ctx: AsContext, client: { clientId: string; source: string; usedAt?: number }): Promise<void> {
  if (client.source !== 'registered' || client.usedAt !== undefined) return;
  try {
    await ctx.stores.clients.markUsed(client.clientId, ctx.now());
  } catch (error) {
    if (!(error instanceof StoreUnavailableError)) throw error;
  }
}
