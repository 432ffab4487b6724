import { DEFAULTS } from '../oauth/defaults.js';
import { createHmac } from 'node:crypto';
import { ProofKeyCache } from '../dpop/proof-key-cache.js';
import { createNonceManager, type NonceManager } from '../dpop/nonce.js';
import type { AuthorizationServerStores, ThrottlePolicy } from '../stores/authorization-server-contracts.js';
import { MetadataDocumentLimits } from './clients/metadata-document-limits.js';

import { PasswordCheckLimiter } from './password-check-limiter.js';
import type { ReplayStore } from '../stores/contracts.js';
import { MemoryReplayStore } from '../stores/memory/replay-store.js';
import type { AuditEvent, AuthorizationServerOptions } from './options.js';
import { ResourceRegistry } from './resource-registry.js';
import { SigningKeys } from './signing-keys.js';

/** Endpoint URLs, all under the issuer. */
export interface EndpointUrls {
  authorization: string;
  token: string;
  registration: string;
  revocation: string;
  introspection: string;
  jwks: string;
  /** Login and consent pages. */
  interaction: string;
}

/** Everything an endpoint needs: resolved options, stores, keys, registry, clock. Built once, frozen. */
export interface AsContext {
  issuer: string;
  /** Issuer URL path prefix ('' for a root issuer), under which every endpoint lives. */
  basePath: string;
  stores: AuthorizationServerStores;
  replay: ReplayStore;
  keys: SigningKeys;
  resources: ResourceRegistry;
  endpoints: EndpointUrls;
  lifetimes: { accessToken: number; refreshToken: number; code: number; interaction: number };
  refreshGraceSeconds: number;
  proofMaxAge: number;
  skew: number;
  dpopAlgorithms: ReadonlySet<string>;
  dpopAlgorithmList: readonly string[];
  /** Token-endpoint nonces, bound to the issuer origin. */
  nonce: { manager: NonceManager; required: boolean };
  proofKeys: ProofKeyCache;
  registration: { enabled: boolean; maxBodyBytes: number; throttle: ThrottlePolicy; expireUnusedAfterSeconds: number; clientCredentials: boolean };
  clientMetadataDocuments: Required<NonNullable<AuthorizationServerOptions['clientMetadataDocuments']>>;
  /** This instance's limits on metadata-document fetches. */
  metadataDocumentLimits: MetadataDocumentLimits;
  loginTitle: string;
  /** Sign-in cost controls: throttles, device cookies and the cap on password checks in flight. */
  login: {
    throttle: { perSource: ThrottlePolicy; perAccount: ThrottlePolicy; perSourceAllAccounts: ThrottlePolicy; perDevice: ThrottlePolicy };
    deviceCookie: { lifetimeSeconds: number; maxFailures: number };
    passwordChecks: PasswordCheckLimiter;
  };
  /** Reverse proxies trusted to append to `X-Forwarded-For` (see `client-address.ts`). */
  trustedProxyHops: number;
  options: Readonly<AuthorizationServerOptions>;
  now(): number;
  /** HMAC-SHA256 under the server secret, domain-separated by `label`; base64url. */
  hmac(label: string, data: string): string;
  /** An operational warning (a misconfiguration seen at run time), passed to `options.warn` the first time `code` is seen only. */
  warnOnce(code: string, message: string): void;
  audit(event: AuditEvent): void;
}

/** Largest value any throttle or expiry setting takes: a year, in seconds. */
const MAX_THROTTLE_VALUE = 366 * 86_400;

/**
 * A throttle policy from `given` over `defaults`, checked: whole numbers up to a year's seconds,
 * free ≥ 0, base ≥ 1, max ≥ base, forgetAfter ≥ max. Calls `bad(path, message)` on the first problem.
 */
export function resolveThrottlePolicy(path: string, given: Partial<ThrottlePolicy> | undefined, defaults: Readonly<ThrottlePolicy>, bad: (path: string, message: string) => never): ThrottlePolicy {
  const policy = { ...defaults, ...given };
  for (const name of ['free', 'baseDelaySeconds', 'maxDelaySeconds', 'forgetAfterSeconds'] as const) {
    const value = policy[name];
    const min = name === 'free' ? 0 : 1;
    if (!Number.isSafeInteger(value) || value < min || value > MAX_THROTTLE_VALUE) bad(`${path}.${name}`, `must be a whole number from ${min} to ${MAX_THROTTLE_VALUE}`);
  }
  if (policy.maxDelaySeconds < policy.baseDelaySeconds) bad(`${path}.maxDelaySeconds`, `must be at least baseDelaySeconds (${policy.baseDelaySeconds})`);
  if (policy.forgetAfterSeconds < policy.maxDelaySeconds) bad(`${path}.forgetAfterSeconds`, `must be at least maxDelaySeconds (${policy.maxDelaySeconds}), or waiting out the delay would forget the failures`);
  return policy;
}

/** Validates options and builds the context. Throws a TypeError that says what to fix. */
export function createContext(options: AuthorizationServerOptions): AsContext {
  const bad = (path: string, message: string): never => {
    throw new TypeError(`createAuthorizationServer: ${path} ${message}`);
  };
  let issuerUrl: URL;
  try {
    issuerUrl = new URL(options.issuer);
  } catch {
    return bad('issuer', 'must be an absolute https URL (http only for localhost development)');
  }
  if (issuerUrl.search !== '' || issuerUrl.hash !== '') bad('issuer', 'must not have a query or fragment (RFC 8414 §2)');
  if (issuerUrl.protocol !== 'https:' && issuerUrl.protocol !== 'http:') bad('issuer', 'must use https');
  if (typeof options.secret !== 'string' || Buffer.byteLength(options.secret) < 32) bad('secret', 'must be at least 32 bytes; generate one with `openssl rand -base64 48`');
  const issuer = options.issuer;
  const basePath = issuerUrl.pathname === '/' ? '' : issuerUrl.pathname.replace(/\/$/, '');
  const base = `${issuerUrl.origin}${basePath}`;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const tokenUrl = `${base}/token`;
  const dpopAlgorithmList = options.dpop?.algorithms ?? DEFAULTS.dpop.algorithms;
  options.resources.forEach((r, i) => {
    const ids = r.introspectionClients;
    if (ids !== undefined && (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string' && id !== '' && !/^https?:/i.test(id)))) {
      bad(`resources[${i}].introspectionClients`, 'must list client ids of configured clients (not URLs)');
    }
    const words = r.scopeDescriptions;
    if (words !== undefined && (words === null || typeof words !== 'object' || !Object.entries(words).every(([scope, text]) => r.scopes.includes(scope) && typeof text === 'string'))) {
      bad(`resources[${i}].scopeDescriptions`, 'must map scopes of this resource to text');
    }
  });
  const resources = new ResourceRegistry(
    options.resources.map((r) => ({
      uri: r.uri,
      name: r.name,
      scopes: r.scopes,
      defaultScopes: r.defaultScopes ?? r.scopes,
      dpop: r.dpop ?? 'allowed',
      accessTokenLifetimeSeconds: r.accessTokenLifetimeSeconds ?? options.lifetimes?.accessTokenSeconds ?? DEFAULTS.lifetimes.accessTokenSeconds,
      introspectionClients: Object.freeze([...(r.introspectionClients ?? [])]),
      ...(r.scopeDescriptions !== undefined ? { scopeDescriptions: Object.freeze({ ...r.scopeDescriptions }) } : {}),
    })),
  );
  const cimd = options.clientMetadataDocuments ?? {};
  const wholeNumber = (path: string, value: number, min: number, max: number): number => {
    if (!Number.isSafeInteger(value) || value < min || value > max) bad(path, `must be a whole number from ${min} to ${max}`);
    return value;
  };
  const maxChecks = wholeNumber('login.maxConcurrentPasswordChecks', options.login?.maxConcurrentPasswordChecks ?? DEFAULTS.login.maxConcurrentPasswordChecks, 1, 1024);
  const login = {
    throttle: {
      perSource: resolveThrottlePolicy('login.throttle.perSource', options.login?.throttle?.perSource, DEFAULTS.login.perSource, bad),
      perAccount: resolveThrottlePolicy('login.throttle.perAccount', options.login?.throttle?.perAccount, DEFAULTS.login.perAccount, bad),
      perSourceAllAccounts: resolveThrottlePolicy('login.throttle.perSourceAllAccounts', options.login?.throttle?.perSourceAllAccounts, DEFAULTS.login.perSourceAllAccounts, bad),
      perDevice: resolveThrottlePolicy('login.throttle.perDevice', options.login?.throttle?.perDevice, DEFAULTS.login.perDevice, bad),
    },
    deviceCookie: {
      // Browsers cap a cookie's lifetime at 400 days (RFC 6265bis §5.6.2).
      lifetimeSeconds: wholeNumber('login.deviceCookie.lifetimeSeconds', options.login?.deviceCookie?.lifetimeSeconds ?? DEFAULTS.login.deviceCookieSeconds, 3600, 400 * 86_400),
      maxFailures: wholeNumber('login.deviceCookie.maxFailures', options.login?.deviceCookie?.maxFailures ?? DEFAULTS.login.deviceCookieMaxFailures, 1, 1000),
    },
    passwordChecks: new PasswordCheckLimiter(maxChecks),
  };
  const registration = {
    enabled: options.registration?.enabled ?? true,
    maxBodyBytes: options.registration?.maxBodyBytes ?? DEFAULTS.limits.maxRegistrationBytes,
    throttle: resolveThrottlePolicy('registration.throttle', options.registration?.throttle, DEFAULTS.registration.throttle, bad),
    expireUnusedAfterSeconds: wholeNumber('registration.expireUnusedAfterSeconds', options.registration?.expireUnusedAfterSeconds ?? DEFAULTS.registration.expireUnusedAfterSeconds, 60, MAX_THROTTLE_VALUE),
    clientCredentials: options.registration?.clientCredentials ?? DEFAULTS.registration.clientCredentials,
  };
  const clientMetadataDocuments = {
    enabled: cimd.enabled ?? true,
    allowPrivateNetworks: cimd.allowPrivateNetworks ?? false,
    timeoutMs: cimd.timeoutMs ?? DEFAULTS.clientMetadataDocuments.timeoutMs,
    maxBytes: cimd.maxBytes ?? DEFAULTS.clientMetadataDocuments.maxBytes,
    failureCacheSeconds: wholeNumber('clientMetadataDocuments.failureCacheSeconds', cimd.failureCacheSeconds ?? DEFAULTS.clientMetadataDocuments.failureCacheSeconds, 0, 3600),
    maxConcurrentFetches: wholeNumber('clientMetadataDocuments.maxConcurrentFetches', cimd.maxConcurrentFetches ?? DEFAULTS.clientMetadataDocuments.maxConcurrentFetches, 1, 1024),
    fetchesPerHostPerMinute: wholeNumber('clientMetadataDocuments.fetchesPerHostPerMinute', cimd.fetchesPerHostPerMinute ?? DEFAULTS.clientMetadataDocuments.fetchesPerHostPerMinute, 1, 10_000),
    maxStaleSeconds: wholeNumber('clientMetadataDocuments.maxStaleSeconds', cimd.maxStaleSeconds ?? DEFAULTS.clientMetadataDocuments.maxStaleSeconds, 0, 7 * 86_400),
  };
  const trustedProxyHops = wholeNumber('trustedProxyHops', options.trustedProxyHops ?? DEFAULTS.login.trustedProxyHops, 0, DEFAULTS.limits.maxTrustedProxyHops);
  const audit = options.audit ?? (() => {});
  const warn = options.warn ?? ((message: string, fields: { code: string }) => process.emitWarning(message, { code: fields.code }));
  const warned = new Set<string>();
  return Object.freeze({
    issuer,
    basePath,
    stores: options.stores,
    replay: options.replayStore ?? new MemoryReplayStore(),
    keys: new SigningKeys(options.stores.keys, { alg: options.signingAlg ?? 'ES256', now }),
    resources,
    endpoints: {
      authorization: `${base}/authorize`,
      token: tokenUrl,
      registration: `${base}/register`,
      revocation: `${base}/revoke`,
      introspection: `${base}/introspect`,
      jwks: `${base}/jwks`,
      interaction: `${base}/interaction`,
    },
    lifetimes: {
      accessToken: options.lifetimes?.accessTokenSeconds ?? DEFAULTS.lifetimes.accessTokenSeconds,
      refreshToken: options.lifetimes?.refreshTokenSeconds ?? DEFAULTS.lifetimes.refreshTokenSeconds,
      code: options.lifetimes?.codeSeconds ?? DEFAULTS.lifetimes.codeSeconds,
      interaction: options.lifetimes?.interactionSeconds ?? DEFAULTS.lifetimes.interactionSeconds,
    },
    refreshGraceSeconds: options.refreshGraceSeconds ?? DEFAULTS.time.refreshGraceSeconds,
    proofMaxAge: options.proofMaxAgeSeconds ?? DEFAULTS.time.proofMaxAgeSeconds,
    skew: options.clockSkewSeconds ?? DEFAULTS.time.clockSkewSeconds,
    dpopAlgorithms: new Set(dpopAlgorithmList),
    dpopAlgorithmList,
    // Per origin, like the resource servers: clients keep one nonce per origin.
    nonce: { manager: createNonceManager({ secret: options.dpop?.nonceSecret ?? options.secret, context: issuerUrl.origin, now }), required: options.dpop?.requireNonce ?? false },
    proofKeys: new ProofKeyCache(),
    registration,
    clientMetadataDocuments,
    metadataDocumentLimits: new MetadataDocumentLimits(clientMetadataDocuments),
    loginTitle: options.login?.title ?? 'Warden',
    login,
    trustedProxyHops,
    options: Object.freeze({ ...options }),
    now,
    hmac: (label: string, data: string) => createHmac('sha256', options.secret).update(label).update('\0').update(data).digest('base64url'),
    audit: (event: AuditEvent) => {
      try {
        audit(event);
      } catch {
        // An audit sink must never break a request.
      }
    },
    warnOnce: (code: string, message: string) => {
      if (warned.has(code)) return;
      warned.add(code);
      try {
        warn(message, { code });
      } catch {
        // Nor may a log sink.
      }
    },
  });
}
