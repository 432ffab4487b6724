/**
 * Every default of the configuration, in one place, and the one function that applies them.
 * The result is the typed, deep-frozen {@link WardenConfig} the rest of Warden reads.
 */
import { canonicalResourceUri } from '../oauth/canonical-uri.js';
import { defaultUpstreamAudience } from './upstream-audience.js';

import type { DpopMode, PublicJwk, ScopePolicy } from '../oauth/vocabulary.js';
import type { PolicyOptions, TrustOptions } from '../resource-server/types.js';
import type { ThrottlePolicy } from '../stores/authorization-server-contracts.js';
import type { TokenBucket } from '../stores/rate-limit.js';
import type { AuthorizationServerInput, ClientInput, ConfigInput, ResourceInput, TrustInput } from './schema.js';
import { DEFAULTS } from '../oauth/defaults.js';

/**
 * The configuration's defaults: the library defaults of `oauth/defaults.ts` (documented there,
 * each with its reason), plus what only a configuration file has. `publicUrl` defaults to
 * `http://localhost:<listen.port>` and `issuer` to `publicUrl`; both follow the real port when the
 * stack listens on port 0.
 */
export const CONFIG_DEFAULTS = Object.freeze({
  listen: Object.freeze({ host: DEFAULTS.stack.host, port: DEFAULTS.stack.port }),
  /** Where `warden start` keeps its state (database, secret, demo credentials, stack.json). */
  stateDir: DEFAULTS.stack.stateDir,
  /** Embedded and durable on one machine. */
  storage: Object.freeze({ kind: 'sqlite' as const, path: `${DEFAULTS.stack.stateDir}/warden.db` }),
  /** One instance; use `{ kind: redis }` (or `redis-cluster`) when several instances share the load. */
  replay: Object.freeze({ kind: 'memory' as const }),
  nonceRequired: DEFAULTS.dpop.nonceRequired,
  clockSkewSeconds: DEFAULTS.time.clockSkewSeconds,
  authorizationServer: Object.freeze({
    enabled: true,
    /** `accessTokenSeconds` is also the default of each resource's `tokenLifetimeSeconds`. */
    lifetimes: DEFAULTS.lifetimes,
    refreshGraceSeconds: DEFAULTS.time.refreshGraceSeconds,
    /** Token-endpoint DPoP nonces are off by default: one round trip fewer for every client. */
    requireNonce: false,
    registration: DEFAULTS.registration.enabled,
    registrationThrottle: DEFAULTS.registration.throttle,
    expireUnusedClientsAfterSeconds: DEFAULTS.registration.expireUnusedAfterSeconds,
    /** `registration.clientCredentials`: self-registered `private_key_jwt` clients may use client_credentials. */
    registeredClientCredentials: DEFAULTS.registration.clientCredentials,
    clientMetadataDocuments: Object.freeze({
      enabled: DEFAULTS.clientMetadataDocuments.enabled,
      allowPrivateNetworks: DEFAULTS.clientMetadataDocuments.allowPrivateNetworks,
      failureCacheSeconds: DEFAULTS.clientMetadataDocuments.failureCacheSeconds,
      maxConcurrentFetches: DEFAULTS.clientMetadataDocuments.maxConcurrentFetches,
      fetchesPerHostPerMinute: DEFAULTS.clientMetadataDocuments.fetchesPerHostPerMinute,
      maxStaleSeconds: DEFAULTS.clientMetadataDocuments.maxStaleSeconds,
    }),
    loginTitle: 'Warden',
    login: Object.freeze({
      maxConcurrentPasswordChecks: DEFAULTS.login.maxConcurrentPasswordChecks,
      throttle: Object.freeze({
        perSource: DEFAULTS.login.perSource,
        perAccount: DEFAULTS.login.perAccount,
        perSourceAllAccounts: DEFAULTS.login.perSourceAllAccounts,
        perDevice: DEFAULTS.login.perDevice,
      }),
      deviceCookie: Object.freeze({ lifetimeSeconds: DEFAULTS.login.deviceCookieSeconds, maxFailures: DEFAULTS.login.deviceCookieMaxFailures }),
    }),
    trustedProxyHops: DEFAULTS.login.trustedProxyHops,
    /** Demo user and clients: only `warden start`'s built-in configuration turns them on. */
    demo: false,
  }),
  dpop: DEFAULTS.dpop.mode as DpopMode,
  /** Prometheus metrics on the stack's port (loopback by default; counts only). */
  metrics: Object.freeze({ enabled: true, path: DEFAULTS.stack.metricsPath }),
});

/** Where spans and audit log records are exported (OTLP/HTTP JSON). */
export interface OpenTelemetryConfig {
  /** Base URL of the receiver: `/v1/traces` and `/v1/logs` are appended. */
  readonly endpoint: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly serviceName: string;
  readonly traces: boolean;
  readonly logs: boolean;
}

/** Where audit records go: nowhere, stdout, or a file rotated by size. */
export type AuditConfig =
  | { readonly enabled: false }
  | { readonly enabled: true; readonly sink: 'stdout'; readonly instance?: string }
  | { readonly enabled: true; readonly sink: 'file'; readonly path: string; readonly maxBytes: number; readonly keep: number; readonly instance?: string };

function resolveAudit(input: ConfigInput['audit']): AuditConfig {
  if (input === undefined || input.enabled === false) return { enabled: false };
  const instance = input.instance === undefined ? {} : { instance: input.instance };
  if (input.sink === 'file' && input.path !== undefined) {
    return { enabled: true, sink: 'file', path: input.path, maxBytes: input.maxBytes ?? DEFAULTS.audit.maxBytes, keep: input.keep ?? DEFAULTS.audit.keep, ...instance };
  }
  return { enabled: true, sink: 'stdout', ...instance };
}

/** Where the authorization server keeps its data (clients, grants, users, consents, keys). */
export type StorageConfig =
  | { readonly kind: 'sqlite'; readonly path: string }
  /** `schema`: the PostgreSQL schema the tables live in (default `warden`). */
  | { readonly kind: 'postgres'; readonly url: string; readonly schema?: string }
  | { readonly kind: 'memory' };

/** Where DPoP proof `jti`s are claimed; shared by every resource of the stack. */
export type ReplayConfig =
  | { readonly kind: 'memory'; readonly capacity?: number }
  | { readonly kind: 'redis'; readonly url: string }
  /** `nodes`: URLs of some nodes of a Redis Cluster; `replicaAcks`: replicas that must hold a claim (default 1). */
  | { readonly kind: 'redis-cluster'; readonly nodes: readonly string[]; readonly replicaAcks?: number };

/** An upstream OpenID provider declared in `authorizationServer.identityProviders`. */
export interface IdentityProviderConfig {
  readonly id: string;
  readonly kind?: 'oidc';
  readonly name?: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly privateKeyJwt?: boolean;
  readonly scopes?: readonly string[];
  readonly claims?: { readonly subject?: string; readonly email?: string; readonly groups?: string };
}

/** A client declared in `authorizationServer.clients` (secret in the clear, as configured). */
export interface ClientConfig {
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly redirectUris?: readonly string[];
  readonly grantTypes?: readonly string[];
  readonly clientName?: string;
  readonly scope?: string;
  readonly tokenEndpointAuthMethod?: 'none' | 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
  /** private_key_jwt: the client's public keys (RFC 7517 JWKS). */
  readonly jwks?: { readonly keys: readonly Readonly<Record<string, unknown>>[] };
  /** private_key_jwt: where the client publishes its public keys. */
  readonly jwksUri?: string;
  /** RFC 9126 §6: authorization requests must be pushed first. */
  readonly requirePushedAuthorizationRequests?: boolean;
}

/** An issuer of jwt-bearer assertions, as configured. */
export interface AssertionIssuerConfig {
  readonly id: string;
  readonly issuer: string;
  readonly jwksUri?: string;
  readonly jwks?: { readonly keys: readonly Readonly<Record<string, unknown>>[] };
}

/** `authorizationServer.jwtBearer`: enterprise IdPs (SEP-990) and workload trust domains (SEP-1933). */
export interface JwtBearerConfig {
  readonly enterpriseIdps?: readonly AssertionIssuerConfig[];
  readonly workloads?: ReadonlyArray<
    AssertionIssuerConfig & { readonly audience?: string; readonly maxLifetimeSeconds?: number; readonly rules: ReadonlyArray<{ readonly subject: string; readonly clientId: string }> }
  >;
}

/** The authorization server's settings, every default applied (see {@link CONFIG_DEFAULTS}). */
export interface AuthorizationServerConfig {
  readonly enabled: boolean;
  /** From the file or `WARDEN_SECRET`; undefined: the stack keeps one in its state directory. */
  readonly secret?: string;
  readonly lifetimes: {
    readonly accessTokenSeconds: number;
    readonly refreshTokenSeconds: number;
    readonly codeSeconds: number;
    readonly interactionSeconds: number;
  };
  readonly refreshGraceSeconds: number;
  readonly dpop: { readonly requireNonce: boolean };
  readonly registration: { readonly enabled: boolean; readonly throttle: Readonly<ThrottlePolicy>; readonly expireUnusedAfterSeconds: number; readonly clientCredentials: boolean };
  readonly deviceGrant: { readonly enabled: boolean; readonly codeSeconds: number; readonly intervalSeconds: number; readonly userCodeThrottle: Readonly<ThrottlePolicy> };
  readonly clientMetadataDocuments: {
    readonly enabled: boolean;
    readonly allowPrivateNetworks: boolean;
    readonly failureCacheSeconds: number;
    readonly maxConcurrentFetches: number;
    readonly fetchesPerHostPerMinute: number;
    readonly maxStaleSeconds: number;
  };
  readonly clients: readonly ClientConfig[];
  /** The jwt-bearer grant's trust (enterprise IdPs, workload trust domains); absent: the grant is off. */
  readonly jwtBearer?: JwtBearerConfig;
  /** Pushed authorization requests (RFC 9126); absent: optional for every client, 60 s request URIs. */
  readonly par?: { readonly required?: boolean; readonly requestUriSeconds?: number };
  /** Upstream OpenID providers, as configured (validated again by the authorization server). */
  readonly identityProviders: readonly IdentityProviderConfig[];
  readonly login: {
    readonly title: string;
    readonly localUsers: boolean;
    readonly maxConcurrentPasswordChecks: number;
    readonly throttle: {
      readonly perSource: Readonly<ThrottlePolicy>;
      readonly perAccount: Readonly<ThrottlePolicy>;
      readonly perSourceAllAccounts: Readonly<ThrottlePolicy>;
      readonly perDevice: Readonly<ThrottlePolicy>;
    };
    readonly deviceCookie: { readonly lifetimeSeconds: number; readonly maxFailures: number };
  };
  /** Reverse proxies trusted to append the client address to X-Forwarded-For. */
  readonly trustedProxyHops: number;
  /** Create the demo user and clients (`warden start`). */
  readonly demo: boolean;
  /** Token buckets at the token endpoint (`{ rate, burst }` per client); undefined: no limit. */
  readonly rateLimit?: { readonly tokenEndpoint: { readonly perClient: TokenBucket } };
}

/** One protected MCP server, with everything derived from `publicUrl` resolved. */
export interface ResourceConfig {
  readonly name: string;
  /** As configured, relative to `publicUrl`; for a host-routed server (`url`), its URL's path. */
  readonly path: string;
  /** Host-routed servers (`url`): the `host[:port]` requests must name; undefined: any (path-routed under publicUrl). */
  readonly host?: string;
  /** The path requests arrive on: `publicUrl`'s own path prefix + `path`. */
  readonly routePath: string;
  /** Canonical URI (RFC 8707, MCP): the `aud` tokens for this resource carry. */
  readonly canonicalUri: string;
  /** `builtin:demo` or the http(s) URL of the MCP server to proxy. */
  readonly upstream: string;
  readonly dpop: DpopMode;
  /** Undefined: the upstream's own default (the demo policy for `builtin:demo`, none otherwise). */
  readonly scopes?: ScopePolicy;
  /** CEL rules checked after scopes; undefined: none. */
  readonly policy?: PolicyOptions;
  /** Token buckets per client and per user (`{ rate, burst }`); undefined: no limit. */
  readonly rateLimit?: { readonly perClient?: TokenBucket; readonly perSubject?: TokenBucket };
  /** Undefined: tokens of this stack's own issuer. */
  readonly trust?: TrustOptions;
  readonly tokenLifetimeSeconds: number;
  /** Configured clients that may introspect this resource's tokens (RFC 7662 §4); empty by default. */
  readonly introspectionClients: readonly string[];
  /** Gateway: request headers forwarded beyond the transport's own; empty by default. */
  readonly forwardHeaders: readonly string[];
  /**
   * Gateway: how the upstream learns the caller. Unset, it is `token` when this stack's
   * authorization server runs and issues the resource's tokens; otherwise undefined, which means
   * trusted `X-Warden-*` headers (`headers`).
   */
  readonly upstreamAuth?: { readonly kind: 'token' | 'headers' | 'none'; readonly audience: string; readonly tokenLifetimeSeconds: number };
}

/** The whole configuration: validated, defaulted, deep-frozen. */
export interface WardenConfig {
  /** No trailing slash; may carry a path prefix. */
  readonly publicUrl: string;
  /** Scheme, host and port of `publicUrl`: the base `htu` is built from. */
  readonly publicOrigin: string;
  /** Web origins besides `publicUrl`'s allowed to call the MCP endpoints (any loopback origin too when `publicUrl` is on loopback). */
  readonly allowedOrigins: readonly string[];
  readonly listen: { readonly host: string; readonly port: number };
  readonly issuer: string;
  readonly storage: StorageConfig;
  readonly replay: ReplayConfig;
  readonly nonce?: { readonly secret: string; readonly required: boolean };
  readonly clockSkewSeconds: number;
  readonly authorizationServer: AuthorizationServerConfig;
  readonly resources: readonly ResourceConfig[];
  /**
   * Administration, when configured: the fleet admin API's clients (`admin.clients`; none: no admin
   * API), the console's subjects (`admin.subjects`) and whether the console runs (`admin.console`,
   * default: when subjects are named; users with the admin role get in too).
   */
  readonly admin?: { readonly clients: readonly string[]; readonly subjects: readonly string[]; readonly console: boolean };
  /** Prometheus metrics: served at `path` (not under `publicUrl`'s path prefix, like `/healthz`). */
  readonly metrics: { readonly enabled: boolean; readonly path: string };
  /** The audit trail: on when the `audit` key is present (and not `enabled: false`). */
  readonly audit: AuditConfig;
  /** OpenTelemetry export (OTLP/HTTP), when configured. */
  readonly openTelemetry?: OpenTelemetryConfig;
  /** Which values were derived rather than given, so they can follow the real port. */
  readonly defaulted: { readonly publicUrl: boolean; readonly issuer: boolean };
}

/** Freezes `value` and everything reachable from it. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  }
  return value;
}

function defaultPublicUrl(port: number): string {
  return `http://localhost:${port}`;
}

/** `publicUrl` without a trailing slash, and its origin. Input is already validated. */
function splitPublicUrl(publicUrl: string): { publicUrl: string; publicOrigin: string } {
  const url = new URL(publicUrl);
  const prefix = url.pathname.replace(/\/+$/, '');
  return { publicUrl: `${url.origin}${prefix}`, publicOrigin: url.origin };
}

/** Canonical URI and route path of a resource under `publicUrl` (joined, never resolved). */
function locate(publicUrl: string, path: string): { canonicalUri: string; routePath: string } {
  const canonicalUri = canonicalResourceUri(`${publicUrl}${path}`);
  return { canonicalUri, routePath: new URL(canonicalUri).pathname };
}

function resolveTrust(trust: TrustInput): TrustOptions {
  const common = { issuer: trust.issuer, ...(trust.algorithms ? { algorithms: trust.algorithms } : {}) };
  const jwks = trust.jwks ? { keys: trust.jwks.keys as readonly PublicJwk[] } : undefined;
  if (trust.introspection) return { ...common, introspection: { ...trust.introspection }, ...(jwks ? { jwks } : {}) };
  if (jwks) return { ...common, jwks };
  // The schema guarantees one key source; jwksUri is what remains.
  return { ...common, jwksUri: trust.jwksUri! };
}

function resolveClient(client: ClientInput): ClientConfig {
  // Copy only what was given: absent keys keep the authorization server's own defaults.
  return Object.fromEntries(Object.entries(client).filter(([, value]) => value !== undefined)) as unknown as ClientConfig;
}

function resolveAuthorizationServer(input: AuthorizationServerInput | undefined, needed: boolean): AuthorizationServerConfig {
  const d = CONFIG_DEFAULTS.authorizationServer;
  return {
    // Default: on when some resource relies on this stack's own issuer (or there are none yet);
    // a pure gateway whose resources all trust other issuers needs no AS and no database.
    enabled: input?.enabled ?? (d.enabled && needed),
    ...(input?.secret === undefined ? {} : { secret: input.secret }),
    lifetimes: {
      accessTokenSeconds: input?.lifetimes?.accessTokenSeconds ?? d.lifetimes.accessTokenSeconds,
      refreshTokenSeconds: input?.lifetimes?.refreshTokenSeconds ?? d.lifetimes.refreshTokenSeconds,
      codeSeconds: input?.lifetimes?.codeSeconds ?? d.lifetimes.codeSeconds,
      interactionSeconds: input?.lifetimes?.interactionSeconds ?? d.lifetimes.interactionSeconds,
    },
    refreshGraceSeconds: input?.refreshGraceSeconds ?? d.refreshGraceSeconds,
    dpop: { requireNonce: input?.dpop?.requireNonce ?? d.requireNonce },
    registration: {
      enabled: input?.registration?.enabled ?? d.registration,
      throttle: { ...d.registrationThrottle, ...input?.registration?.throttle },
      expireUnusedAfterSeconds: input?.registration?.expireUnusedAfterSeconds ?? d.expireUnusedClientsAfterSeconds,
      clientCredentials: input?.registration?.clientCredentials ?? d.registeredClientCredentials,
    },
    deviceGrant: {
      enabled: input?.deviceGrant?.enabled ?? DEFAULTS.deviceGrant.enabled,
      codeSeconds: input?.deviceGrant?.codeSeconds ?? DEFAULTS.deviceGrant.codeSeconds,
      intervalSeconds: input?.deviceGrant?.intervalSeconds ?? DEFAULTS.deviceGrant.intervalSeconds,
      userCodeThrottle: { ...DEFAULTS.deviceGrant.userCodeThrottle, ...input?.deviceGrant?.userCodeThrottle },
    },
    clientMetadataDocuments: { ...d.clientMetadataDocuments, ...input?.clientMetadataDocuments },
    clients: (input?.clients ?? []).map(resolveClient),
    ...(input?.jwtBearer === undefined ? {} : { jwtBearer: input.jwtBearer as JwtBearerConfig }),
    ...(input?.par === undefined ? {} : { par: { ...input.par } }),
    identityProviders: (input?.identityProviders ?? []).map((p) => ({ ...p })),
    login: {
      title: input?.login?.title ?? d.loginTitle,
      localUsers: input?.login?.localUsers ?? true,
      maxConcurrentPasswordChecks: input?.login?.maxConcurrentPasswordChecks ?? d.login.maxConcurrentPasswordChecks,
      throttle: {
        perSource: { ...d.login.throttle.perSource, ...input?.login?.throttle?.perSource },
        perAccount: { ...d.login.throttle.perAccount, ...input?.login?.throttle?.perAccount },
        perSourceAllAccounts: { ...d.login.throttle.perSourceAllAccounts, ...input?.login?.throttle?.perSourceAllAccounts },
        perDevice: { ...d.login.throttle.perDevice, ...input?.login?.throttle?.perDevice },
      },
      deviceCookie: { ...d.login.deviceCookie, ...input?.login?.deviceCookie },
    },
    trustedProxyHops: input?.trustedProxyHops ?? d.trustedProxyHops,
    demo: input?.demo ?? d.demo,
    ...(input?.rateLimit ? { rateLimit: { tokenEndpoint: { perClient: { ...input.rateLimit.tokenEndpoint.perClient } } } } : {}),
  };
}

function resolvePolicy(policy: NonNullable<ResourceInput['policy']>): PolicyOptions {
  return {
    ...(policy.groupsClaim === undefined ? {} : { groupsClaim: policy.groupsClaim }),
    rules: policy.rules.map((r) => ({ name: r.name, ...(r.tools ? { tools: [...r.tools] } : {}), ...(r.allow !== undefined ? { allow: r.allow } : { deny: r.deny as string }) })),
  };
}

/**
 * One resource with its defaults. `ownIssuer`: the stack's issuer when its authorization server
 * runs — then a gateway resource that accepts that issuer's tokens presents its upstream a token
 * from it (`upstreamAuth: token`, RFC 8693) unless `upstreamAuth` says otherwise.
 */
export function resolveResource(resource: ResourceInput, publicUrl: string, defaultLifetime: number, ownIssuer?: string): ResourceConfig {
  const { scopes, trust } = resource;
  const upstreamAuth =
    resource.upstreamAuth ?? (ownIssuer !== undefined && !resource.upstream.startsWith('builtin:') && (trust === undefined || trust.issuer === ownIssuer) ? { kind: 'token' as const } : undefined);
  let where: { path: string; canonicalUri: string; routePath: string; host?: string };
  if (resource.url !== undefined) {
    const canonicalUri = canonicalResourceUri(resource.url);
    const url = new URL(canonicalUri);
    where = { path: url.pathname, canonicalUri, routePath: url.pathname, host: url.host };
  } else {
    where = { path: resource.path!, ...locate(publicUrl, resource.path!) };
  }
  return {
    name: resource.name,
    ...where,
    upstream: resource.upstream,
    dpop: resource.dpop ?? CONFIG_DEFAULTS.dpop,
    ...(scopes ? { scopes: { default: scopes.default ?? [], tools: scopes.tools ?? {}, ...(scopes.descriptions ? { descriptions: { ...scopes.descriptions } } : {}) } } : {}),
    ...(trust ? { trust: resolveTrust(trust) } : {}),
    ...(resource.policy ? { policy: resolvePolicy(resource.policy) } : {}),
    ...(resource.rateLimit ? { rateLimit: { ...resource.rateLimit } } : {}),
    tokenLifetimeSeconds: resource.tokenLifetimeSeconds ?? defaultLifetime,
    introspectionClients: [...(resource.introspectionClients ?? [])],
    forwardHeaders: [...(resource.forwardHeaders ?? [])],
    ...(upstreamAuth
      ? {
          upstreamAuth: {
            kind: upstreamAuth.kind,
            audience: canonicalResourceUri(upstreamAuth.audience ?? (resource.upstream.startsWith('builtin:') ? where.canonicalUri : defaultUpstreamAudience(resource.upstream))),
            tokenLifetimeSeconds: upstreamAuth.tokenLifetimeSeconds ?? DEFAULTS.gateway.upstreamTokenSeconds,
          },
        }
      : {}),
  };
}

/** Applies every default to a validated configuration, once, and deep-freezes the result. */
export function applyDefaults(input: ConfigInput): WardenConfig {
  const listen = {
    host: input.listen?.host ?? CONFIG_DEFAULTS.listen.host,
    port: input.listen?.port ?? CONFIG_DEFAULTS.listen.port,
  };
  const { publicUrl, publicOrigin } = splitPublicUrl(input.publicUrl ?? defaultPublicUrl(listen.port));
  const storage: StorageConfig =
    input.storage === undefined
      ? { ...CONFIG_DEFAULTS.storage }
      : input.storage.kind === 'sqlite'
        ? { kind: 'sqlite', path: input.storage.path ?? CONFIG_DEFAULTS.storage.path }
        : { ...input.storage };
  const issuer = input.issuer ?? publicUrl;
  const resourcesInput = input.resources ?? [];
  const needsOwnIssuer = resourcesInput.length === 0 || resourcesInput.some((r) => r.trust === undefined || r.trust.issuer === issuer);
  const authorizationServer = resolveAuthorizationServer(input.authorizationServer, needsOwnIssuer);
  const config: WardenConfig = {
    publicUrl,
    publicOrigin,
    allowedOrigins: (input.allowedOrigins ?? []).map((origin) => new URL(origin).origin),
    listen,
    issuer,
    storage,
    replay: input.replay ? { ...input.replay } : { ...CONFIG_DEFAULTS.replay },
    ...(input.nonce
      ? { nonce: { secret: input.nonce.secret, required: input.nonce.required ?? CONFIG_DEFAULTS.nonceRequired } }
      : {}),
    clockSkewSeconds: input.clockSkewSeconds ?? CONFIG_DEFAULTS.clockSkewSeconds,
    authorizationServer,
    resources: (input.resources ?? []).map((resource) => resolveResource(resource, publicUrl, authorizationServer.lifetimes.accessTokenSeconds, authorizationServer.enabled ? issuer : undefined)),
    ...(input.admin ? { admin: { clients: [...(input.admin.clients ?? [])], subjects: [...(input.admin.subjects ?? [])], console: input.admin.console ?? (input.admin.subjects ?? []).length > 0 } } : {}),
    metrics: { enabled: input.metrics?.enabled ?? CONFIG_DEFAULTS.metrics.enabled, path: input.metrics?.path ?? CONFIG_DEFAULTS.metrics.path },
    audit: resolveAudit(input.audit),
    ...(input.openTelemetry
      ? {
          openTelemetry: {
            endpoint: input.openTelemetry.endpoint,
            headers: { ...input.openTelemetry.headers },
            serviceName: input.openTelemetry.serviceName ?? 'warden',
            traces: input.openTelemetry.traces ?? true,
            logs: input.openTelemetry.logs ?? true,
          },
        }
      : {}),
    defaulted: { publicUrl: input.publicUrl === undefined, issuer: input.issuer === undefined },
  };
  return deepFreeze(config);
}

/**
 * The configuration as it applies once the server listens on `port` — which differs from
 * `listen.port` when that was 0. Derived URLs (`publicUrl`, `issuer`, canonical URIs) follow the
 * real port; URLs the operator gave are kept as given.
 */
export function withListenPort(config: WardenConfig, port: number): WardenConfig {
  if (port === config.listen.port) return config;
  const { publicUrl, publicOrigin } = config.defaulted.publicUrl
    ? splitPublicUrl(defaultPublicUrl(port))
    : { publicUrl: config.publicUrl, publicOrigin: config.publicOrigin };
  return deepFreeze({
    ...config,
    listen: { ...config.listen, port },
    publicUrl,
    publicOrigin,
    issuer: config.defaulted.issuer ? publicUrl : config.issuer,
    // Host-routed servers name their own URL; only path-routed ones follow the port.
    resources: config.resources.map((resource) => (resource.host !== undefined ? resource : { ...resource, ...locate(publicUrl, resource.path) })),
  });
}
