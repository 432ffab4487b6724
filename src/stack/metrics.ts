/**
 * The stack's Prometheus metrics: request outcomes and latency per route kind, authentication
 * failures by OAuth error code, DPoP replays caught, tokens issued by grant type, refresh-token
 * reuse. Every label value comes from a fixed set below (see {@link ../observability/metrics.ts}):
 * never a path, client id, subject, tool name or token.
 */
import type { AuditEvent } from '../authorization-server/options.js';
import { MetricsRegistry, type Counter, type Gauge, type Histogram } from '../observability/metrics.js';
import type { ReplayStore } from '../stores/index.js';

/** What part of the stack answered a request. */
export const ROUTE_KINDS = ['resource', 'resource_metadata', 'authorization_server', 'health', 'metrics', 'not_found'] as const;
export type RouteKind = (typeof ROUTE_KINDS)[number];

/** Statuses recorded as themselves; any other is `other`. */
const STATUSES = ['200', '201', '202', '204', '301', '302', '303', '304', '307', '308', '400', '401', '403', '404', '405', '406', '409', '413', '415', '422', '429', '500', '501', '502', '503', '504'];

/** Why the resource gauntlet refused a request: the challenge's `error`, or `no_credentials`. */
export const AUTH_FAILURE_REASONS = ['invalid_token', 'invalid_dpop_proof', 'use_dpop_nonce', 'insufficient_scope', 'invalid_request', 'temporarily_unavailable', 'no_credentials'] as const;

/** Statuses of a resource response that count as an authentication/authorization failure. */
const AUTH_FAILURE_STATUSES = new Set([400, 401, 403, 503]);

/** Grant types as labelled (token exchange by a short name rather than its URN). */
const GRANT_TYPES = ['authorization_code', 'client_credentials', 'refresh_token', 'token_exchange', 'jwt_bearer', 'device_code'];
const GRANT_LABEL: Readonly<Record<string, string>> = {
  'urn:ietf:params:oauth:grant-type:token-exchange': 'token_exchange',
  'urn:ietf:params:oauth:grant-type:jwt-bearer': 'jwt_bearer',
  'urn:ietf:params:oauth:grant-type:device_code': 'device_code',
};

/** The stack's metrics and the hooks that feed them. */
export interface StackMetrics {
  readonly registry: MetricsRegistry;
  readonly requests: Counter<'route' | 'status'>;
  readonly duration: Histogram<'route'>;
  readonly authFailures: Counter<'reason'>;
  readonly replays: Counter;
  readonly tokensIssued: Counter<'grant_type'>;
  readonly refreshReuse: Counter;
  /** Failed fetches of a remote JWKS (`trust.jwksUri`): network error, timeout or non-200. */
  readonly jwksFetchFailures: Counter;
  /** Age of the signing key in use, read at each scrape (the stack points it at its authorization server). */
  readonly signingKeyAge: Gauge;
  /** `fetch` for a remote JWKS, counting each failed fetch. */
  countJwksFetches(fetchImpl: typeof fetch): typeof fetch;
  /** Records one finished request. `reason` is the router's reading of the response's challenge. */
  request(route: RouteKind, status: number, seconds: number, reason: string | undefined): void;
  /** Counts issuance and refresh-token reuse from the authorization server's audit events. */
  audit(event: AuditEvent): void;
  /** The replay store the resources use, counting every claim that finds its key taken (a replayed proof). */
  countReplays(store: ReplayStore): ReplayStore;
}

/** Creates the stack's metrics in a fresh registry. */
export function createStackMetrics(): StackMetrics {
  const registry = new MetricsRegistry();
  const requests = registry.counter('warden_http_requests_total', 'HTTP requests answered, by route kind and status.', { route: ROUTE_KINDS, status: STATUSES });
  const duration = registry.histogram('warden_http_request_duration_seconds', 'Time to answer an HTTP request (until the response ends), by route kind.', { route: ROUTE_KINDS });
  const authFailures = registry.counter('warden_auth_failures_total', 'Protected-resource requests refused (400, 401, 403, 503), by the OAuth error code of the challenge; no_credentials: 401 without error.', { reason: AUTH_FAILURE_REASONS });
  const replays = registry.counter('warden_dpop_replays_total', 'DPoP proofs refused at a protected resource because their jti was already used.');
  const tokensIssued = registry.counter('warden_tokens_issued_total', 'Access tokens issued by the authorization server, by grant type.', { grant_type: GRANT_TYPES });
  const refreshReuse = registry.counter('warden_refresh_reuse_total', 'Refresh tokens presented again after rotation (the grant is revoked).');
  const jwksFetchFailures = registry.counter('warden_jwks_fetch_failures_total', 'Fetches of a trusted issuer\'s JWKS (trust.jwksUri) that failed: network error, timeout or a status other than 200. The last good keys keep being used.');
  const signingKeyAge = registry.gauge('warden_signing_key_age_seconds', 'Seconds since the authorization server\'s current signing key was created (rotate with warden keys rotate).');
  return {
    registry,
    requests,
    duration,
    authFailures,
    replays,
    tokensIssued,
    refreshReuse,
    jwksFetchFailures,
    signingKeyAge,
    countJwksFetches(fetchImpl) {
      return async (input, init) => {
        try {
          const response = await fetchImpl(input, init);
          if (response.status !== 200) jwksFetchFailures.inc();
          return response;
        } catch (error) {
          jwksFetchFailures.inc();
          throw error;
        }
      };
    },
    request(route, status, seconds, reason) {
      requests.inc({ route, status });
      duration.observe({ route }, seconds);
      if (route === 'resource' && AUTH_FAILURE_STATUSES.has(status)) authFailures.inc({ reason: reason ?? 'other' });
    },
    audit(event) {
      if (event.type === 'token.issued' || event.type === 'token.refreshed') {
        const grant = event.grantType ?? (event.type === 'token.refreshed' ? 'refresh_token' : 'other');
        tokensIssued.inc({ grant_type: GRANT_LABEL[grant] ?? grant });
      } else if (event.type === 'refresh.reuse_detected') refreshReuse.inc();
    },
    countReplays(store) {
      // The gauntlet claims a proof's jti last, only after every other check passed: a lost claim
      // is exactly a replayed proof (the store's contract: false = already claimed and live).
      return {
        claim: async (key, ttlSeconds) => {
          const fresh = await store.claim(key, ttlSeconds);
          if (!fresh) replays.inc();
          return fresh;
        },
        close: () => store.close(),
      };
    },
  };
}
