/**
 * The token endpoint's rate limit per client: one token bucket per `client_id`, taken after the
 * client authenticated (a wrong secret spends nothing of the real client's bucket). Over it: 429
 * `temporarily_unavailable` with `Retry-After` (RFC 6585 §4) and the `RateLimit-Policy` /
 * `RateLimit` fields of draft-ietf-httpapi-ratelimit-headers; the store down: 503 (fail closed).
 */
import { RateLimitedError } from '../../../oauth/errors.js';
import { rateLimitFields } from '../../../oauth/rate-limit-fields.js';
import type { AsContext } from '../../context.js';

/** Takes a token for `clientId`, or throws {@link RateLimitedError}. No-op without a configured limit. */
export async function limitTokenRequests(ctx: AsContext, clientId: string): Promise<void> {
  const limit = ctx.options.tokenEndpointRateLimit;
  if (limit === undefined) return;
  const state = await limit.store.take(JSON.stringify([ctx.issuer, 'token', clientId]), limit.perClient);
  if (state.allowed) return;
  throw new RateLimitedError('too many token requests from this client: retry after the Retry-After delay', {
    retryAfterSeconds: state.retryAfterSeconds,
    headers: rateLimitFields([{ name: 'token-per-client', bucket: limit.perClient, state }]),
  });
}
