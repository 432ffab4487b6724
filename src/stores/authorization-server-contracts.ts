/**
 * Authorization-server store contracts. Atomicity is part of each contract; every backend
 * (memory, sqlite, ...) passes the same conformance suite
 * (`conformance/authorization-server-stores.conformance.ts`).
 * Secrets (codes, refresh tokens, client secrets) are stored only as hashes: callers pass
 * `sha256` digests (base64url) as keys, never plaintext.
 * All times are seconds since the epoch.
 */

/** An authorization code, keyed by the SHA-256 of the code. */
export interface AuthorizationCodeRecord {
  codeHash: string;
  clientId: string;
  redirectUri: string;
  /** Canonical resource URI the code (and its tokens) are bound to (RFC 8707). */
  resource: string;
  scopes: string[];
  subject: string;
  codeChallenge: string;
  /** RFC 9449 §10: thumbprint the token request's proof key must match. */
  dpopJkt?: string;
  /** Grant (refresh family) id that redeeming this code creates. */
  grantId: string;
  authTime: number;
  expiresAt: number;
}

/** Result of {@link CodeStore.consume}. */
export type ConsumeResult =
  | { state: 'fresh'; code: AuthorizationCodeRecord }
  /** Redeemed before: the caller revokes everything the first redemption issued (RFC 9700 §4.5.3). */
  | { state: 'reused'; code: AuthorizationCodeRecord }
  | { state: 'unknown' };

export interface CodeStore {
  save(code: AuthorizationCodeRecord): Promise<void>;
  /** Atomically marks the code used. Exactly one concurrent caller gets `fresh`. Expired codes are `unknown`. */
  consume(codeHash: string, now: number): Promise<ConsumeResult>;
}

/** A grant: one user's (or client's) authorization, the root of one refresh-token family. */
export interface GrantRecord {
  grantId: string;
  clientId: string;
  subject: string;
  scopes: string[];
  resources: string[];
  /** DPoP key the family is bound to (public clients using DPoP). */
  jkt?: string;
  createdAt: number;
  /** Absolute end of the family, if any. */
  expiresAt?: number;
  revokedAt?: number;
}

/** One refresh token of a family, keyed by the SHA-256 of the token. */
export interface RefreshTokenRecord {
  tokenHash: string;
  grantId: string;
  /** 0 for the first token of the family, +1 per rotation. */
  generation: number;
  scopes: string[];
  resources: string[];
  jkt?: string;
  issuedAt: number;
  expiresAt: number;
  /** Set once rotated. */
  rotatedAt?: number;
  successorHash?: string;
  /** Fingerprint of the request that rotated it (client, DPoP key, parameters): a retry of the same request may replay the successor. */
  rotationFingerprint?: string;
}

/**
 * Where an access token came from, as far as revocation is concerned: the grant it was recorded
 * under, and the access tokens it was obtained from by token exchange (RFC 8693).
 */
export interface AccessTokenLineage {
  /** The grant the token was recorded under (`recordAccessToken`); absent when none. */
  grantId?: string;
  /** The `jti`s it was exchanged from (its subject token, that one's subject token, ...), sorted; empty when none. */
  exchangedFrom: string[];
}

/** Result of {@link GrantStore.rotateRefreshToken}. */
export type RotateResult =
  | { state: 'rotated'; previous: RefreshTokenRecord; grant: GrantRecord }
  /** Already rotated by the same request within the grace window: hand out the same successor again. */
  | { state: 'retry'; previous: RefreshTokenRecord; successor: RefreshTokenRecord; grant: GrantRecord }
  /** Already rotated otherwise: reuse. The store has revoked the family. */
  | { state: 'reused'; grantId: string }
  | { state: 'unknown' }
  | { state: 'expired' }
  | { state: 'revoked' };

export interface GrantStore {
  createGrant(grant: GrantRecord): Promise<void>;
  getGrant(grantId: string): Promise<GrantRecord | undefined>;
  /** Saves the first refresh token of a family (or any token that is not a rotation). */
  saveRefreshToken(token: RefreshTokenRecord): Promise<void>;
  getRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | undefined>;
  /**
   * Compare-and-swap rotation: if `tokenHash` is the family's current, unexpired, unrotated token,
   * atomically mark it rotated (with `fingerprint`) and store `successor`. Exactly one of any
   * number of concurrent callers gets `rotated`. A later call with the same `fingerprint` within
   * `graceSeconds` of the rotation gets `retry` with the stored successor; any other call on a
   * rotated token gets `reused` and the whole family is revoked (RFC 9700 §4.14.2).
   *
   * With `accessToken`, a `rotated` or `retry` result also records that access token under the
   * family's grant in the same atomic step, as {@link recordAccessToken} would (the grant is not
   * revoked in either case): one write where a rotation followed by a record took two, each its
   * own durable commit. Other results record nothing.
   */
  rotateRefreshToken(input: {
    tokenHash: string;
    successor: RefreshTokenRecord;
    fingerprint: string;
    graceSeconds: number;
    now: number;
    accessToken?: { jti: string; expiresAt: number };
  }): Promise<RotateResult>;
  /** Revokes the grant, all its refresh tokens and (via the deny-list) its recorded access tokens. Idempotent. */
  revokeGrant(grantId: string, now: number): Promise<void>;
  /**
   * Revokes everything `subject` authorised `clientId` to hold (the user withdraws consent): every
   * grant of the pair as {@link revokeGrant} does, and the grants still to come from its
   * authorization codes — an unredeemed code is deleted (redeeming it then fails as unknown), and
   * a code redeemed whose grant does not exist yet (the redemption is in flight) gets that grant
   * created revoked, so the redemption issues only tokens that are denied. Atomic: no grant of the
   * pair created concurrently escapes. Returns how many grants this call revoked (grants already
   * revoked do not count).
   */
  revokeGrantsFor(subject: string, clientId: string, now: number): Promise<number>;
  /** Records an access token issued under a grant, so revoking the grant can deny it. */
  recordAccessToken(grantId: string, jti: string, expiresAt: number): Promise<void>;
  /**
   * Records that access token `jti` (until `expiresAt`) was obtained by exchanging the access
   * tokens `exchangedFrom` (RFC 8693: its subject token and every token that one was exchanged
   * from), so that denying any of them denies `jti` too ({@link isAccessTokenDenied}). Idempotent.
   * Call after `recordAccessToken` when the token also belongs to a grant.
   *
   * @throws TypeError when `exchangedFrom` is empty or not strings (a caller bug).
   */
  recordExchangedAccessToken(jti: string, exchangedFrom: readonly string[], expiresAt: number): Promise<void>;
  /** What is recorded about `jti`'s origin (an unknown `jti` has no grant and an empty chain). */
  getAccessTokenLineage(jti: string): Promise<AccessTokenLineage>;
  /** Puts an access-token `jti` on the deny-list until it expires. */
  denyAccessToken(jti: string, expiresAt: number): Promise<void>;
  /**
   * True if `jti`, or an access token it was exchanged from (`recordExchangedAccessToken`), is on
   * the deny-list and not yet expired: revoking a token revokes everything exchanged from it.
   * Decided when asked, so no exchange racing a revocation can escape it.
   */
  isAccessTokenDenied(jti: string, now: number): Promise<boolean>;
  /**
   * Deletes expired codes, tokens, deny-list entries, interactions and forgotten throttle keys
   * (every store's expired rows). Returns how many rows went.
   */
  purgeExpired(now: number): Promise<number>;
}

/** A registered or configured OAuth client. */
export interface ClientRecord {
  clientId: string;
  /** scrypt hash of the secret (confidential clients); absent for public clients. */
  secretHash?: string;
  tokenEndpointAuthMethod: 'none' | 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
  /** `private_key_jwt` (RFC 7523 §2.2): the client's public keys, inline (RFC 7591 `jwks`). */
  jwks?: { keys: unknown[] };
  /** `private_key_jwt`: where the client publishes its public keys (RFC 7591 `jwks_uri`). */
  jwksUri?: string;
  redirectUris: string[];
  grantTypes: string[];
  responseTypes: string[];
  clientName?: string;
  clientUri?: string;
  logoUri?: string;
  scope?: string;
  /** 'registered' (RFC 7591), 'configured' (config file), 'metadata-document' (CIMD, cached). */
  source: 'registered' | 'configured' | 'metadata-document';
  createdAt: number;
  /** For cached metadata documents: when to refetch. */
  expiresAt?: number;
  /** When the client first completed an authorization or obtained a token (`markUsed`); absent: never. */
  usedAt?: number;
  /** When an operator disabled the client; absent: enabled. A disabled client is no client to the endpoints. */
  disabledAt?: number;
}

export interface ClientStore {
  get(clientId: string): Promise<ClientRecord | undefined>;
  /** Inserts or replaces. */
  put(client: ClientRecord): Promise<void>;
  delete(clientId: string): Promise<void>;
  /** Records the client's first use (sets `usedAt` if unset; later calls change nothing). Unknown ids are ignored. */
  markUsed(clientId: string, now: number): Promise<void>;
  /**
   * Deletes the dynamically registered clients (`source: 'registered'`) never used (no `usedAt`)
   * that were created at or before `createdAtOrBefore`. Atomic per client: one marked used
   * concurrently is kept. Returns how many went.
   */
  deleteUnused(createdAtOrBefore: number): Promise<number>;
}

/** A local user of the embedded login, or a user linked to an upstream identity provider. */
export interface UserRecord {
  username: string;
  /** scrypt hash (see `authorization-server/password.ts`); a federated user's is `federated`, which no password verifies. */
  passwordHash: string;
  createdAt: number;
  /** Set for a user who signs in at an upstream OpenID provider: who they are there, and what it said last. */
  federation?: FederatedIdentity;
  /** Roles held (`admin`: let into the operator console); absent or empty: none. */
  roles?: string[];
}

/** The upstream identity a federated user is linked to, with the claims of their latest sign-in. */
export interface FederatedIdentity {
  /** The provider's issuer identifier, exactly. */
  issuer: string;
  /** The provider's subject for the user. */
  subject: string;
  email?: string;
  groups?: string[];
  /** When the claims were last updated (seconds). */
  updatedAt: number;
}

export interface UserStore {
  get(username: string): Promise<UserRecord | undefined>;
  put(user: UserRecord): Promise<void>;
  delete(username: string): Promise<boolean>;
  list(): Promise<string[]>;
}

/** A remembered consent: this user let this client have these scopes at this resource. */
export interface ConsentRecord {
  subject: string;
  clientId: string;
  resource: string;
  scopes: string[];
  grantedAt: number;
}

export interface ConsentStore {
  get(subject: string, clientId: string, resource: string): Promise<ConsentRecord | undefined>;
  /** Inserts or widens (union of scopes). */
  put(consent: ConsentRecord): Promise<void>;
  revoke(subject: string, clientId: string): Promise<number>;
  list(subject: string): Promise<ConsentRecord[]>;
}

/** Short-lived, single-use state (pending authorization requests across the login/consent pages). */
export interface InteractionStore {
  /** Stores `data` under `id` until `expiresAt`. */
  put(id: string, data: unknown, expiresAt: number): Promise<void>;
  /** Reads without consuming (to render a page). Expired → undefined. */
  get(id: string, now: number): Promise<unknown | undefined>;
  /** Atomically reads and deletes: exactly one caller gets the data. */
  take(id: string, now: number): Promise<unknown | undefined>;
}

/** A signing key: private JWK kept in the store; the public part is published in the JWKS. */
export interface SigningKeyRecord {
  kid: string;
  alg: 'ES256' | 'EdDSA';
  privateJwk: Record<string, unknown>;
  publicJwk: Record<string, unknown>;
  /** next: published, not yet signing. current: signing. retired: published until `retireAfter`. */
  state: 'next' | 'current' | 'retired';
  createdAt: number;
  retireAfter?: number;
}

export interface KeyStore {
  list(): Promise<SigningKeyRecord[]>;
  put(key: SigningKeyRecord): Promise<void>;
  delete(kid: string): Promise<void>;
  /**
   * Atomically: current → retired (retireAfter), next → current, and `newNext` becomes next.
   * Keeps exactly one current key.
   */
  rotate(input: { newNext: SigningKeyRecord; retireAfter: number }): Promise<void>;
}

/**
 * How repeated events of one key (sign-in attempts, registrations from one address) are slowed
 * down — never locked out: the first `free` events pass back to back; after n ≥ `free` events the
 * next one must come at least `baseDelaySeconds × 2^(n − free)` seconds, at most
 * `maxDelaySeconds`, after the previous one; a key with no event for `forgetAfterSeconds` starts
 * again from zero. All values are whole numbers.
 */
export interface ThrottlePolicy {
  free: number;
  baseDelaySeconds: number;
  maxDelaySeconds: number;
  forgetAfterSeconds: number;
}

/** What a throttled key has seen: events counted and the time of the last one. */
export interface ThrottleState {
  count: number;
  lastAt: number;
}

/** Result of {@link ThrottleStore.attempt}. */
export type ThrottleResult =
  | { allowed: true; count: number }
  /** Too soon: nothing was counted; the caller may try again in `retryAfterSeconds` (≥ 1). */
  | { allowed: false; count: number; retryAfterSeconds: number };

/** Per-key counters that slow repeated events down ({@link ThrottlePolicy}), shared by every instance using the store. */
export interface ThrottleStore {
  /**
   * Atomically: if the wait `policy` requires after the key's counted events is over, counts one
   * more (at `now`, forgotten `policy.forgetAfterSeconds` after it) and allows it; otherwise
   * counts nothing and says how long to wait. Concurrent callers get exactly what the same calls
   * made one after another would: a burst cannot slip past the wait.
   *
   * @throws TypeError for an empty or over-long key (at most 512 characters) or a policy that is
   *   not whole numbers with `forgetAfterSeconds ≥ maxDelaySeconds ≥ baseDelaySeconds ≥ 1` (a caller bug).
   */
  attempt(key: string, policy: ThrottlePolicy, now: number): Promise<ThrottleResult>;
  /**
   * Takes back one event `attempt` counted, which turned out not to count (a successful sign-in,
   * or one refused for another reason before it was made). Never below zero; `lastAt` stays.
   */
  release(key: string, now: number): Promise<void>;
  /** The key's live state (not yet forgotten at `now`), or undefined. */
  get(key: string, now: number): Promise<ThrottleState | undefined>;
  /** Forgets the key. */
  delete(key: string): Promise<void>;
}

/**
 * A device authorization request (RFC 8628 §3.1-3.2), keyed by the SHA-256 of the device code;
 * the user code is stored only as a keyed digest (`userCodeHash`, unique among live records).
 */
export interface DeviceCodeRecord {
  deviceCodeHash: string;
  userCodeHash: string;
  clientId: string;
  /** Canonical resource URI the tokens will be bound to (RFC 8707). */
  resource: string;
  /** Scopes requested; once approved, the scopes the user granted. */
  scopes: string[];
  /** Minimum seconds between polls; raised by 5 on every `slow_down` (RFC 8628 §3.5). */
  interval: number;
  /** When the token endpoint last polled (seconds); absent before the first poll. */
  lastPolledAt?: number;
  /** pending → approved | denied (by the user) → redeemed (tokens issued, once). */
  status: 'pending' | 'approved' | 'denied' | 'redeemed';
  /** Set on approval. */
  subject?: string;
  authTime?: number;
  /** Grant id the redemption creates. */
  grantId: string;
  expiresAt: number;
}

/** Result of {@link DeviceCodeStore.poll}. */
export type DevicePollResult =
  | { state: 'unknown' }
  | { state: 'expired' }
  /** Still pending and polled before `interval` elapsed: the interval is now `interval` (raised by 5). */
  | { state: 'slow_down'; interval: number }
  | { state: 'pending' }
  | { state: 'denied' }
  /** Approved: this call redeemed it; exactly one concurrent caller gets it. */
  | { state: 'approved'; record: DeviceCodeRecord }
  /** Redeemed before. */
  | { state: 'redeemed' };

/** Device codes of the device authorization grant (RFC 8628). */
export interface DeviceCodeStore {
  /** Stores a new pending record. @throws StoreConflictError when the device or user code hash is taken. */
  save(record: DeviceCodeRecord): Promise<void>;
  /** The live (unexpired) record with this user code, whatever its status. */
  findByUserCode(userCodeHash: string, now: number): Promise<DeviceCodeRecord | undefined>;
  /**
   * Atomically decides a live pending record: approved (with who and which scopes) or denied.
   * Returns false, changing nothing, when it is unknown, expired or already decided.
   */
  decide(userCodeHash: string, decision: { approved: true; subject: string; scopes: string[]; authTime: number } | { approved: false }, now: number): Promise<boolean>;
  /**
   * One token-endpoint poll, atomically: expired → `expired`; pending polled sooner than
   * `interval` after the last poll → `slow_down` with the interval raised by 5 (RFC 8628 §3.5);
   * pending → `pending`; approved → `approved` and marked redeemed, so exactly one of any
   * number of concurrent callers gets the record. Every poll of a pending record records `now`.
   */
  poll(deviceCodeHash: string, now: number): Promise<DevicePollResult>;
}

/** Everything the authorization server persists. */
export interface AuthorizationServerStores {
  codes: CodeStore;
  grants: GrantStore;
  clients: ClientStore;
  users: UserStore;
  consents: ConsentStore;
  interactions: InteractionStore;
  keys: KeyStore;
  throttles: ThrottleStore;
  /** Device codes (RFC 8628); the device grant is offered only when the stores have them. Every Warden backend does. */
  deviceCodes?: DeviceCodeStore;
  close(): Promise<void>;
}
