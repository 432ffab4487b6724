/**
 * Rate limits of a protected resource, per client and per subject (token buckets in a
 * {@link RateLimitStore}), as a resource-server check: run after authentication, scopes and
 * policy — so the buckets are keyed by identities the token proves — and before the DPoP replay
 * claim, so a refused request never consumes a proof. Over a limit: 429 with `Retry-After`
 * (RFC 6585 §4, RFC 9110 §10.2.3) and the `RateLimit-Policy` / `RateLimit` fields; the store
 * down: 503 (fail closed).
 */
import { RateLimitedError } from '../../oauth/errors.js';
import { checkBucket, type BucketState, type RateLimitStore, type TokenBucket } from '../../stores/rate-limit.js';
import type { RequestCheck } from '../types.js';
import { rateLimitFields } from '../../oauth/rate-limit-fields.js';

interface AppliedLimit {
  name: string;
  bucket: TokenBucket;
  state: BucketState;
}

/** Options of {@link createRateLimitCheck}. */
export interface RateLimitCheckOptions {
  store: RateLimitStore;
  /** Keeps this resource's buckets apart from others' in a shared store (its canonical URI). */
  scope: string;
  /** One bucket per OAuth client (`client_id`). */
  perClient?: TokenBucket;
  /** One bucket per user (`iss` + `sub`); tokens without `sub` (client credentials) skip it. */
  perSubject?: TokenBucket;
}

/**
 * Creates the check. Validates the buckets at set-up.
 *
 * @throws TypeError when a bucket is not `{ rate > 0, burst ≥ 1 }` or no bucket is given.
 */
export function createRateLimitCheck(options: RateLimitCheckOptions): RequestCheck {
  const { store, scope, perClient, perSubject } = options;
  if (perClient === undefined && perSubject === undefined) throw new TypeError('createRateLimitCheck: give perClient and/or perSubject');
  if (perClient !== undefined) checkBucket(perClient, 'rateLimit.perClient');
  if (perSubject !== undefined) checkBucket(perSubject, 'rateLimit.perSubject');
  return async ({ auth }) => {
    const applied: AppliedLimit[] = [];
    if (perClient !== undefined) {
      const state = await store.take(JSON.stringify([scope, 'client', auth.clientId]), perClient);
      applied.push({ name: 'per-client', bucket: perClient, state });
      if (!state.allowed) throw refusal(applied, 'this client');
    }
    const subject = auth.extra.subject;
    if (perSubject !== undefined && subject !== undefined) {
      const state = await store.take(JSON.stringify([scope, 'subject', auth.extra.issuer, subject]), perSubject);
      applied.push({ name: 'per-subject', bucket: perSubject, state });
      if (!state.allowed) throw refusal(applied, 'this user');
    }
  };
}

function refusal(applied: AppliedLimit[], who: string): RateLimitedError {
  const last = applied[applied.length - 1] as AppliedLimit;
  return new RateLimitedError(`too many requests from ${who} to this resource: retry after the Retry-After delay`, {
    retryAfterSeconds: last.state.retryAfterSeconds,
    headers: rateLimitFields([last]),
  });
}
