/**
 * Every default Warden applies, in one place, each with the reason for its value — the
 * resource server, the authorization server, the gateway, the stores and the configuration file
 * all read them from here (as node-oidc-provider's `defaults.js` does). Values only: this module
 * imports nothing, so every layer may depend on it.
 */

/** A throttle: `free` attempts back to back, then a wait doubling from `baseDelaySeconds` up to `maxDelaySeconds`; forgotten after `forgetAfterSeconds` without an attempt. */
export interface ThrottleDefaults {
  readonly free: number;
  readonly baseDelaySeconds: number;
  readonly maxDelaySeconds: number;
  readonly forgetAfterSeconds: number;
}

const freeze = <T extends object>(value: T): Readonly<T> => Object.freeze(value);

export const DEFAULTS = freeze({
  /** Token and code lifetimes of the authorization server. */
  lifetimes: freeze({
    /** Access tokens: 10 minutes — short, since a leaked bearer token works until it expires. Each resource may set its own. */
    accessTokenSeconds: 600,
    /** Refresh tokens: 7 days, sliding (rotated on every use). */
    refreshTokenSeconds: 7 * 24 * 3600,
    /** Authorization codes: 60 s — one redirect and one token request (RFC 6749 §4.1.2 recommends ≤ 10 min). */
    codeSeconds: 60,
    /** The sign-in and consent pages of one authorization request: 10 minutes. */
    interactionSeconds: 600,
  }),

  /** Clocks and windows. */
  time: freeze({
    /** Skew tolerated on `exp`/`nbf`/`iat` and proof times, for clocks of other machines. */
    clockSkewSeconds: 30,
    /** How old a DPoP proof may be (its `iat` window, RFC 9449 §11.1). */
    proofMaxAgeSeconds: 60,
    /** A retried refresh (same request, client and key) within this window gets the same successor instead of revoking the family. */
    refreshGraceSeconds: 10,
    /** Length of a DPoP server-nonce slot; the current and the previous slot are accepted (RFC 9449 §8). */
    nonceSlotSeconds: 60,
    /** How often a running stack re-reads its signing keys (picks up `warden keys rotate`). */
    signingKeyReloadSeconds: 30,
    /** How often expired codes, grants and unused clients are purged. */
    purgeIntervalSeconds: 600,
  }),

  /** DPoP (RFC 9449). */
  dpop: freeze({
    /** Proof algorithms accepted by default: the asymmetric ones clients commonly hold (never `none` or HMAC). */
    algorithms: Object.freeze(['ES256', 'ES384', 'ES512', 'EdDSA', 'RS256', 'PS256'] as const),
    /** Per-resource enforcement: progressive rollout — bound tokens need proofs, bearer tokens still pass. */
    mode: 'allowed' as 'disabled' | 'allowed' | 'required',
    /** When nonces are configured, every proof must carry one. */
    nonceRequired: true,
    /** Longest `jti` accepted in a proof. */
    maxJtiLength: 256,
  }),

  /** Sizes the resource server reads before it refuses (400/413). */
  limits: freeze({
    /** The `Authorization` header: a large JWT fits in 8 KiB. */
    maxAuthorizationBytes: 8192,
    /** The `DPoP` header. */
    maxProofBytes: 8192,
    /** A request body read for scope evaluation and forwarding: 4 MiB. */
    maxBodyBytes: 4 * 1024 * 1024,
    /** A `/register` request body. */
    maxRegistrationBytes: 16 * 1024,
    /** Most reverse proxies `trustedProxyHops` may name (X-Forwarded-For entries read from the right). */
    maxTrustedProxyHops: 10,
  }),

  /** Access tokens whose signature the resource server verified, remembered by digest. */
  verifiedTokens: freeze({
    /** Tokens remembered per resource server: ~2 KB each at most (the Authorization header cap), ~20 MB when full. */
    maxEntries: 10_000,
    /** Longest a verified token is remembered (never beyond its `exp`): a key the issuer withdraws stops vouching within this. */
    maxSeconds: 60,
  }),

  /** Remote JWKS (`trust.jwksUri`). */
  jwks: freeze({
    /** Least time between refetches an unknown `kid` triggers (a flood of forged kids costs one fetch per interval). */
    refetchIntervalSeconds: 30,
    /** How long a fetched key set is fresh; stale keys are still served while the issuer is unreachable. */
    cacheMaxAgeSeconds: 300,
    /** One fetch may take this long. */
    timeoutMs: 5000,
    /** Largest key set read. */
    maxBytes: 512 * 1024,
  }),

  /**
   * JWT assertions the authorization server accepts: `private_key_jwt` client authentication
   * (RFC 7523 §2.2) and the jwt-bearer grant (RFC 7523 §2.1: ID-JAG, workload identity).
   */
  assertions: freeze({
    /** Signature algorithms accepted (asymmetric only: never `none` or HMAC). */
    algorithms: Object.freeze(['ES256', 'ES384', 'ES512', 'EdDSA', 'RS256', 'PS256'] as const),
    /** Longest time from now an assertion's `exp` may lie (RFC 7523 §3 item 4: the AS may limit it): 5 minutes. */
    maxLifetimeSeconds: 300,
    /** Longest `jti` accepted. */
    maxJtiLength: 256,
    /** Largest assertion read (characters). */
    maxLength: 16 * 1024,
  }),

  /** Pushed authorization requests (RFC 9126). */
  par: freeze({
    /** A `request_uri` is good for one authorization request within 60 s (§2.2: short-lived). */
    requestUriSeconds: 60,
  }),

  /** RFC 7662 introspection client of the resource server (`trust.introspection`). */
  introspection: freeze({
    /** An active result is cached at most this long, and never beyond the token's `exp`. */
    cacheMaxSeconds: 60,
    /** An inactive result is cached this long. */
    negativeCacheSeconds: 10,
    maxEntries: 10_000,
    timeoutMs: 5000,
    maxBytes: 64 * 1024,
  }),

  /** Client ID Metadata Documents the authorization server fetches. */
  clientMetadataDocuments: freeze({
    enabled: true,
    /** Private and loopback addresses are refused unless asked for (SSRF). */
    allowPrivateNetworks: false,
    timeoutMs: 5000,
    maxBytes: 16 * 1024,
    /** A failed fetch is remembered this long, so a broken or hostile URL is not fetched per request. */
    failureCacheSeconds: 30,
    /** Fetches in flight per instance; beyond: 503 + Retry-After, never queued. */
    maxConcurrentFetches: 16,
    /**
     * Fetches per host per minute per instance, a host counted with every subdomain and port of its
     * registrable domain (`hostRateKey`: the last two labels, three under a listed two-label public
     * suffix such as co.uk), so wildcard DNS cannot multiply the budget.
     */
    fetchesPerHostPerMinute: 20,
    /**
     * An expired document is still served this long past its expiry while a refetch is refused by
     * the limits above or fails transiently (timeout, connection, 429/5xx: RFC 5861 §4
     * stale-if-error), so limits meant for strangers never lock a known client out. A day: a
     * client's host may be down for hours, and what is served was valid when fetched.
     */
    maxStaleSeconds: 86_400,
  }),

  /** RFC 7591 dynamic registration. */
  registration: freeze({
    /** On, as MCP clients expect it. */
    enabled: true,
    /** Per source (IPv4, IPv6 /64): 20 back to back (a team behind one NAT), then 10 s doubling to an hour; forgotten after a day. */
    throttle: freeze<ThrottleDefaults>({ free: 20, baseDelaySeconds: 10, maxDelaySeconds: 3600, forgetAfterSeconds: 86_400 }),
    /** A registered client that completes no authorization and obtains no token within 24 h expires. */
    expireUnusedAfterSeconds: 86_400,
    /** Off: self-registration is for user-facing grants; machine clients are configured (or allowed explicitly). */
    clientCredentials: false,
  }),

  /** The device authorization grant (RFC 8628): headless agents and CLIs. */
  deviceGrant: freeze({
    /** On: a client must still be registered for the grant type to use it. */
    enabled: true,
    /** Device and user codes live 10 minutes: long enough to reach another device and sign in (RFC 8628 §3.2 `expires_in`). */
    codeSeconds: 600,
    /** Seconds between polls the client is told to wait: RFC 8628 §3.5's default of 5. */
    intervalSeconds: 5,
    /**
     * Wrong user codes entered from one source (IPv4 address, IPv6 /64): 5 free, then 2 s doubling
     * to 15 min; forgotten after an hour. With 8 characters of 20 (≈ 2^34.6 codes, RFC 8628 §6.1)
     * and at most a few hundred live codes, a source gets well under one chance in a million a day.
     */
    userCodeThrottle: freeze<ThrottleDefaults>({ free: 5, baseDelaySeconds: 2, maxDelaySeconds: 900, forgetAfterSeconds: 3600 }),
  }),

  /** Sign-in with a password. */
  login: freeze({
    /** Password checks (scrypt, ~50 ms of CPU each) in flight per instance; beyond: 503 + Retry-After, never queued. */
    maxConcurrentPasswordChecks: 8,
    /** One account from one source: 5 free, then 1 s doubling to 15 min; forgotten after an hour, cleared by a success. */
    perSource: freeze<ThrottleDefaults>({ free: 5, baseDelaySeconds: 1, maxDelaySeconds: 900, forgetAfterSeconds: 3600 }),
    /** One account from all unknown sources: 20 free, then 1 s doubling to 60 s — slowed, never locked out; forgotten after an hour. */
    perAccount: freeze<ThrottleDefaults>({ free: 20, baseDelaySeconds: 1, maxDelaySeconds: 60, forgetAfterSeconds: 3600 }),
    /**
     * One source across all accounts — usernames rotated or not: 30 free, then 1 s doubling to 10 s;
     * forgotten after an hour. Checked before a password-check slot is taken, so one source cannot
     * keep the instance's slots busy (at most one check per 10 s once over); successful sign-ins
     * are taken back, so an office behind one NAT only feels it while someone there keeps failing.
     */
    perSourceAllAccounts: freeze<ThrottleDefaults>({ free: 30, baseDelaySeconds: 1, maxDelaySeconds: 10, forgetAfterSeconds: 3600 }),
    /**
     * One device cookie (OWASP "device cookies"): a browser that signed in to the account before
     * is slowed only by its own failures — 5 free, then 1 s doubling to 60 s; forgotten after an
     * hour, cleared by a success — never by what others do from its address or to its account.
     */
    perDevice: freeze<ThrottleDefaults>({ free: 5, baseDelaySeconds: 1, maxDelaySeconds: 60, forgetAfterSeconds: 3600 }),
    /**
     * A device cookie is good for 90 days after the sign-in that issued it (each sign-in issues a
     * fresh one): long enough for an account used monthly, short enough that a copied cookie dies.
     */
    deviceCookieSeconds: 90 * 86_400,
    /**
     * Failures a device cookie may have without a success in between before it is invalidated for
     * the rest of its life: whoever holds a stolen one gets 10 guesses, not 10 per hour; the real
     * user falls back to the ordinary throttles and gets a new cookie with the next sign-in.
     */
    deviceCookieMaxFailures: 10,
    /** A source an account signed in from stays known for 30 days: only the per-source throttle applies to it. */
    knownSourceSeconds: 30 * 86_400,
    /** No reverse proxy is trusted: the socket's peer is the source (`X-Forwarded-For` ignored). */
    trustedProxyHops: 0,
  }),

  /** The gateway in front of upstream MCP servers. */
  gateway: freeze({
    /** Establishing the upstream connection (TCP, plus TLS for https). */
    connectTimeoutMs: 10_000,
    /** A session binding unused this long is forgotten; the client then starts a new session. */
    sessionIdleSeconds: 86_400,
    /** Trusted `X-Warden-*` identity headers upstream (for upstreams on a private network). */
    identityHeaders: true,
    /** `upstreamAuth: token`: a minted upstream token lives 60 s (the ceiling); cached until 10 s before it lapses. */
    upstreamTokenSeconds: 60,
  }),

  /** Stores. */
  stores: freeze({
    /** In-memory replay store: 1,000,000 live proofs (~160 B each): above one core's DPoP rate × the 120 s TTL. */
    memoryReplayCapacity: 1_000_000,
    /** In-memory session bindings. */
    memorySessionCapacity: 100_000,
    /** Live session bindings one principal may hold in memory: far above any real client, far below the capacity. */
    memorySessionsPerOwner: 1_000,
    /** One Redis command may wait this long before the request fails closed (503). */
    redisCommandTimeoutMs: 1000,
    /** Connecting to Redis or PostgreSQL. */
    connectTimeoutMs: 5000,
    /** One PostgreSQL statement. */
    postgresStatementTimeoutMs: 5000,
    postgresPoolSize: 10,
    /** SQLite waits this long for a lock held by another process (`warden users add` beside a running stack). */
    sqliteBusyTimeoutMs: 5000,
  }),

  /** The fleet registry (servers added at run time, the admin API). */
  fleet: freeze({
    /** Each instance reads the registry store's revision this often: a change reaches every instance within ~1 s (the issue asks ≤ 5 s). */
    registryPollMs: 1000,
    /** A changed configuration file is re-read this long after the last write event (editors write in bursts). */
    configWatchDebounceMs: 250,
  }),

  /** The stack (`warden start`, `warden serve`). */
  stack: freeze({
    /** Loopback only: exposing Warden is a decision the operator makes explicitly. */
    host: '127.0.0.1',
    port: 4000,
    /** Where `warden start` keeps its state. */
    stateDir: '.warden',
    /** Graceful shutdown waits this long for in-flight requests (SSE streams) before cutting them. */
    shutdownGraceMs: 10_000,
    /** Prometheus metrics at this path on the stack's port. */
    metricsPath: '/metrics',
  }),

  /** The audit trail (`audit` in the configuration). */
  audit: freeze({
    /** A file sink rotates before it would pass 10 MiB: small enough to ship and verify at once. */
    maxBytes: 10 * 1024 * 1024,
    /** Rotated files kept beside the current one (`audit.log.1` … `.5`); older ones are deleted. */
    keep: 5,
  }),
});
