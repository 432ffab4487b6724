/**
 * The `RateLimit-Policy` and `RateLimit` response fields of draft-ietf-httpapi-ratelimit-headers
 * (-10), as HTTP structured-field lists (RFC 9651): a policy is a string item naming it, with `q`
 * (quota: the burst) and `w` (window: seconds for an empty bucket to fill); the current limit
 * names the policy with `r` (remaining) and `t` (seconds until the quota is whole again).
 *
 * @see https://datatracker.ietf.org/doc/draft-ietf-httpapi-ratelimit-headers/
 * @see https://www.rfc-editor.org/rfc/rfc9651#section-3.1
 */

/** One limit that applied to a request (a token bucket and what a take found). */
export interface AppliedLimit {
  /** The policy's name: a token (`per-client`, `per-subject`), never the caller's identity. */
  name: string;
  bucket: { readonly rate: number; readonly burst: number };
  state: { readonly remaining: number; readonly resetSeconds: number };
}

/** The two fields for the limits that applied (the most constrained first is the caller's choice). */
export function rateLimitFields(limits: readonly AppliedLimit[]): Record<string, string> {
  if (limits.length === 0) return {};
  return {
    'RateLimit-Policy': limits.map(({ name, bucket }) => `"${name}";q=${bucket.burst};w=${Math.max(1, Math.ceil(bucket.burst / bucket.rate))}`).join(', '),
    RateLimit: limits.map(({ name, state }) => `"${name}";r=${state.remaining};t=${Math.ceil(state.resetSeconds)}`).join(', '),
  };
}
