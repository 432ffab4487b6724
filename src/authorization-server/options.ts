import type { SecurityEventInput } from '../observability/audit-events.js';
import type { RateLimitStore, TokenBucket } from '../stores/rate-limit.js';
import type { AuthorizationServerStores, ThrottlePolicy } from '../stores/authorization-server-contracts.js';
import type { ReplayStore } from '../stores/contracts.js';
import type { DpopMode } from '../oauth/vocabulary.js';

/** A client declared in configuration (not registered at run time). */
export interface ConfiguredClient {
  clientId: string;
  /** Plaintext secret from the config; hashed before it is stored. Absent for public clients. */
  clientSecret?: string;
  redirectUris?: string[];
  grantTypes?: string[];
  clientName?: string;
  scope?: string;
  tokenEndpointAuthMethod?: 'none' | 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
  /** `private_key_jwt` (RFC 7523 §2.2): the client's public keys, inline. */
  jwks?: { keys: unknown[] };
  /** `private_key_jwt`: where the client publishes its public keys. */
  jwksUri?: string;
  /** RFC 9126 §6: this client's authorization requests must be pushed to `/par` first. Default false. */
  requirePushedAuthorizationRequests?: boolean;
}

/** An issuer whose JWTs the jwt-bearer grant accepts, and where its keys are (exactly one of `jwks`, `jwksUri`). */
export interface TrustedAssertionIssuer {
  /** A short name (logs, audit, the subject prefix of enterprise users). */
  id: string;
  /** Its issuer identifier, compared byte for byte with `iss`. */
  issuer: string;
  jwksUri?: string;
  jwks?: { keys: unknown[] };
}

/** A workload trust domain (SEP-1933): a platform that issues workload JWTs, and which workloads are which client. */
export interface WorkloadTrustDomain extends TrustedAssertionIssuer {
  /** The `aud` its tokens must carry for Warden. Default: Warden's issuer. */
  audience?: string;
  /** Longest time from now a token's `exp` may lie. Default 86400; 60 to 604800. */
  maxLifetimeSeconds?: number;
  /**
   * First match wins: a `sub` matching `subject` (whole string; `*` matches any run of
   * characters) acts as `clientId`, a configured client whose grant types include the jwt-bearer grant.
   */
  rules: Array<{ subject: string; clientId: string }>;
}

/** One upstream OpenID provider (OpenID Connect Core 1.0, code flow). */
export interface IdentityProviderOptions {
  /** Short id (lower case), in URLs and audit events. */
  id: string;
  /** Only `oidc`. */
  kind?: 'oidc';
  /** On the sign-in button. Default: the id. */
  name?: string;
  /** The provider's issuer identifier, exactly as its discovery document and ID tokens name it. */
  issuer: string;
  clientId: string;
  /** Sent with `client_secret_basic`. Either this or `privateKeyJwt`. */
  clientSecret?: string;
  /**
   * Authenticate with `private_key_jwt` (RFC 7523 §2.2, OIDC Core §9) instead of a secret: the
   * assertion is signed with Warden's signing key, so register `{issuer}/jwks` as the client's
   * `jwks_uri` at the provider.
   */
  privateKeyJwt?: boolean;
  /** Default `openid email profile`; must include `openid`. */
  scopes?: string[];
  /** ID-token claim names. Defaults `sub`, `email`, `groups`; the groups reach Warden's access tokens as `groups`. */
  claims?: { subject?: string; email?: string; groups?: string };
}

/** Options of `createAuthorizationServer`; every value documented with its default. */
export interface AuthorizationServerOptions {
  /** Issuer identifier, byte-exact in metadata, tokens and `iss` responses (RFC 8414 §2, RFC 9207). */
  issuer: string;
  stores: AuthorizationServerStores;
  /** Where token-endpoint DPoP proof `jti`s are claimed (share it with the resource servers' store). Default: in memory. */
  replayStore?: ReplayStore;
  /**
   * Token buckets per client at the token endpoint, taken after client authentication: over the
   * limit 429 with `Retry-After` and the `RateLimit-Policy` / `RateLimit` fields; the store down 503.
   * Public clients are keyed by their (unauthenticated) `client_id`: anyone can spend their bucket.
   */
  tokenEndpointRateLimit?: { perClient: TokenBucket; store: RateLimitStore };
  /** Protected resources tokens may be issued for (RFC 8707). */
  resources: Array<{
    uri: string;
    name: string;
    scopes: string[];
    /**
     * What a client that asks for no scope gets (RFC 6749 §3.3). Default: every scope in `scopes`
     * — name them explicitly when some are privileged (the stack passes the resource's
     * `scopes.default`).
     */
    defaultScopes?: string[];
    dpop?: DpopMode;
    accessTokenLifetimeSeconds?: number;
    /**
     * Client ids of this resource's servers: operator-configured, confidential clients that may
     * introspect the tokens whose audience is this resource (RFC 7662 §4). Default none: only a
     * token's own client learns about it at `/introspect`.
     */
    introspectionClients?: string[];
    /** Human words per scope (`{ "<scope>": "<text>" }`), shown next to the scope on the consent page. Default none. */
    scopeDescriptions?: Record<string, string>;
  }>;
  /**
   * Server secret (≥ 32 bytes) for HMACs: refresh-token successors, CSRF tokens, DPoP nonces.
   * Identical on every instance.
   */
  secret: string;
  lifetimes?: {
    /** Default 600 (10 min). */
    accessTokenSeconds?: number;
    /** Sliding refresh lifetime; default 7 days. */
    refreshTokenSeconds?: number;
    /** Default 60. */
    codeSeconds?: number;
    /** Login/consent interaction; default 600. */
    interactionSeconds?: number;
  };
  /**
   * Grace window for a retried refresh (same request, same client and key). Default 10 s.
   * Applies to confidential clients and DPoP-bound refresh tokens only; a public client's unbound
   * refresh token has no grace (a thief could reproduce the retry).
   */
  refreshGraceSeconds?: number;
  /** DPoP at the token endpoint (RFC 9449 §5, §8). */
  dpop?: {
    /** Require a server nonce in token-endpoint proofs. Default false. */
    requireNonce?: boolean;
    /**
     * Secret for token-endpoint nonces. Default: `secret`. Give resource servers on the same origin
     * the same one, so a client's one nonce per origin (MCP SDK v2) works at both.
     */
    nonceSecret?: string;
    algorithms?: string[];
  };
  /**
   * JWT assertions: `private_key_jwt` client authentication (RFC 7523 §2.2) and the jwt-bearer
   * grant (§2.1). `aud` must be the issuer identifier (draft-ietf-oauth-rfc7523bis), `jti` is
   * single use (claimed in `replayStore`).
   */
  assertions?: {
    /** Accepted signature algorithms. Default ES256, ES384, ES512, EdDSA, RS256, PS256. */
    algorithms?: string[];
    /** Longest time from now an assertion's `exp` may lie. Default 300; 10 to 3600. */
    maxLifetimeSeconds?: number;
  };
  /** Pushed authorization requests (RFC 9126): `/par` is always offered. */
  par?: {
    /** Every client must push (metadata `require_pushed_authorization_requests`). Default false. */
    required?: boolean;
    /** Lifetime of a `request_uri` (single use). Default 60; 5 to 600. */
    requestUriSeconds?: number;
  };
  /** The jwt-bearer grant (RFC 7523 §2.1): whose assertions are accepted. Default: none (the grant answers invalid_grant). */
  jwtBearer?: {
    /** Enterprise IdPs whose ID-JAGs (SEP-990, `typ` oauth-id-jag+jwt) are accepted. */
    enterpriseIdps?: TrustedAssertionIssuer[];
    /** Workload trust domains (SEP-1933): Kubernetes, SPIFFE, CI OIDC issuers. */
    workloads?: WorkloadTrustDomain[];
  };
  /** Default 60. */
  proofMaxAgeSeconds?: number;
  /** Default 30. */
  clockSkewSeconds?: number;
  clients?: ConfiguredClient[];
  /** RFC 7591 dynamic registration. Default enabled. */
  registration?: {
    enabled?: boolean;
    /** Largest registration request. Default 16 KiB. */
    maxBodyBytes?: number;
    /**
     * Registrations per source address (IPv4, IPv6 /64; see `trustedProxyHops`), as a
     * `ThrottlePolicy`: beyond it `/register` answers 429 `temporarily_unavailable` with
     * `Retry-After`. Default 20 free, then 10 s doubling to 3600 s; forgotten after 86400 s.
     */
    throttle?: Partial<ThrottlePolicy>;
    /**
     * A registered client that has not completed an authorization or obtained a token this long
     * after registering is unknown from then on and deleted by the purge. Default 86400 (24 h).
     */
    expireUnusedAfterSeconds?: number;
    /**
     * Lets a client register `client_credentials` for itself, with `token_endpoint_auth_method:
     * private_key_jwt` and its keys (`jwks` or `jwks_uri`) — machine clients without an operator
     * in the loop. Their tokens carry only a resource's default scopes (a privileged scope still
     * takes a configured client). Default false: self-registration is for user-facing grants.
     */
    clientCredentials?: boolean;
  };
  /** Client ID Metadata Documents (MCP 2025-11-25). Default enabled, public addresses only. */
  clientMetadataDocuments?: {
    enabled?: boolean;
    /** Development only: allow loopback/private addresses (e.g. a document served on localhost). */
    allowPrivateNetworks?: boolean;
    /** Whole fetch, lookup included. Default 5000. */
    timeoutMs?: number;
    /** Largest document. Default 16 KiB. */
    maxBytes?: number;
    /** A failed fetch is remembered this long: the client id is unknown meanwhile, without a fetch. Default 30. */
    failureCacheSeconds?: number;
    /** Fetches in flight at once on this instance; beyond, 503 `temporarily_unavailable` + `Retry-After: 1`. Default 16. */
    maxConcurrentFetches?: number;
    /**
     * Fetches per host per minute on this instance; beyond, 503 + `Retry-After` until the minute
     * ends. A host counts together with every subdomain and port of its registrable domain (the
     * last two labels, or three under a well-known two-label public suffix such as `co.uk`). Default 20.
     */
    fetchesPerHostPerMinute?: number;
    /**
     * How long past its expiry a cached document is still served while a refetch is refused by
     * these limits or fails transiently (timeout, connection or DNS failure, 429, 500, 502, 503,
     * 504; RFC 5861 §4 stale-if-error); 0 turns this off. A definitive answer (another status,
     * a redirect, a refused document) ends the record at once. Default 86400 (24 h).
     */
    maxStaleSeconds?: number;
  };
  /** The device authorization grant (RFC 8628); see `DEFAULTS.deviceGrant`. Needs stores with `deviceCodes`. */
  deviceGrant?: {
    /** Default true (the grant is offered when the stores have device codes). */
    enabled?: boolean;
    /** Lifetime of a device code and its user code. Default 600 s; 60 to 3600. */
    codeSeconds?: number;
    /** Polling interval given to clients (RFC 8628 §3.2 `interval`). Default 5 s; 1 to 60. */
    intervalSeconds?: number;
    /** Wrong user codes per source. Default 5 free, then 2 s doubling to 900 s; forgotten after 3600 s. */
    userCodeThrottle?: Partial<ThrottlePolicy>;
  };
  /**
   * Upstream OpenID providers users may sign in at (authorization code + PKCE, `state`, `nonce`,
   * RFC 9207 `iss`); each gets a button on the sign-in page. Register
   * `{issuer}/federation/callback` as the redirect URI at the provider.
   */
  identityProviders?: IdentityProviderOptions[];
  /** The sign-in page. */
  login?: {
    /** Branding. Default "Warden". */
    title?: string;
    /** Whether local users sign in with a password. Default true; false needs an identity provider. */
    localUsers?: boolean;
    /**
     * Password checks (scrypt, ~50 ms and 16 MiB each) in flight at once on this instance, sign-ins
     * and client secrets stored as scrypt hashes together; beyond it the request is refused at
     * once — the sign-in page with 503 and `Retry-After: 1`, the token endpoint with 503
     * `temporarily_unavailable` — never queued. Default 8.
     */
    maxConcurrentPasswordChecks?: number;
    /**
     * How repeated sign-in attempts are slowed down (see `ThrottlePolicy`); a throttled attempt
     * gets the sign-in page again with 429 and `Retry-After`, before any password is hashed.
     * Never a lock-out: the wait is capped.
     */
    throttle?: {
      /** One account from one source (IPv4 address, IPv6 /64). Default 5 free, then 1 s doubling to 900 s; forgotten after 3600 s. */
      perSource?: Partial<ThrottlePolicy>;
      /** One account from all sources (except sources it signed in from before). Default 20 free, then 1 s doubling to 60 s; forgotten after 3600 s. */
      perAccount?: Partial<ThrottlePolicy>;
      /**
       * One source across all accounts, whatever usernames it tries; checked before a password
       * check is started, so one source cannot keep them all busy. Successful sign-ins are taken
       * back. Default 30 free, then 1 s doubling to 10 s; forgotten after 3600 s.
       */
      perSourceAllAccounts?: Partial<ThrottlePolicy>;
      /**
       * A browser with a device cookie for the account: counted per cookie instead of every
       * other throttle. Default 5 free, then 1 s doubling to 60 s; forgotten after 3600 s,
       * cleared by a success.
       */
      perDevice?: Partial<ThrottlePolicy>;
    };
    /**
     * Device cookies (OWASP "Slow Down Online Guessing Attacks with Device Cookies"): a
     * successful sign-in gives the browser a signed, HttpOnly cookie for that account, and its
     * later sign-ins are throttled per cookie (`throttle.perDevice`) only — so nobody sharing the
     * user's address, or guessing at the account, can hold the user out.
     */
    deviceCookie?: {
      /** How long a cookie vouches after the sign-in that issued it. Default 7776000 (90 days); at most 400 days. */
      lifetimeSeconds?: number;
      /** Wrong passwords a cookie may see without a success in between before it stops vouching for good. Default 10. */
      maxFailures?: number;
    };
  };
  /**
   * Reverse proxies in front of this server that append the client's address to
   * `X-Forwarded-For`; the source of a request (for throttling) is the address the outermost one
   * saw. Default 0: the socket's peer. Set it only when every request passes those proxies, or
   * clients can choose their own source.
   */
  trustedProxyHops?: number;
  signingAlg?: 'ES256' | 'EdDSA';
  /** How often expired rows are purged from the stores, in seconds; 0 turns it off. Default 600. */
  purgeIntervalSeconds?: number;
  /** Audit events (issued, refreshed, reuse detected, ...). Never receives tokens or secrets. */
  audit?: (event: AuditEvent) => void;
  /**
   * Operational warnings — a misconfiguration seen at run time, such as `X-Forwarded-For` arriving
   * while `trustedProxyHops` is 0 — each `code` at most once. Never receives tokens or secrets.
   * Default: `process.emitWarning`.
   */
  warn?: (message: string, fields: { code: string }) => void;
  /** Clock in seconds. */
  now?: () => number;
}

/**
 * A security-relevant event. Fields never contain tokens, codes, proofs or secrets. One shape with
 * the audit trail's security events (`warden.audit/1`), so a new event type is named once.
 */
export type AuditEvent = SecurityEventInput;
