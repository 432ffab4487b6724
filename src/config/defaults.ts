/**
 * Every default of the configuration, in one place, and the one function that applies them.
 * The result is the typed, deep-frozen {@link WardenConfig} the rest of Warden reads.
 */
import { canonicalResourceUri } from '../oauth/canonical-uri.js';
import type { DpopMode, PublicJwk, ScopePolicy, TrustOptions } from '../resource-server/types.js';
import type { ConfigInput, ResourceInput, TrustInput } from './schema.js';

/**
 * Defaults, documented. `publicUrl` defaults to `http://localhost:<listen.port>` and `issuer` to
 * `publicUrl`; both follow the real port when the stack listens on port 0.
 */
export const CONFIG_DEFAULTS = Object.freeze({
  /** Loopback only: exposing Warden is a decision the operator makes explicitly. */
  listen: Object.freeze({ host: '127.0.0.1', port: 4000 }),
  /** Embedded and durable on one machine. */
  storage: Object.freeze({ kind: 'sqlite' as const, path: '.warden/warden.db' }),
  /** One instance; use `{ kind: redis }` when several instances share the load. */
  replay: Object.freeze({ kind: 'memory' as const }),
  /** When `nonce` is set, every DPoP proof must carry a server nonce (RFC 9449 §8). */
  nonceRequired: true,
  authorizationServer: Object.freeze({ enabled: true }),
  /** Progressive rollout: bound tokens need proofs, bearer tokens still pass. */
  dpop: 'allowed' as DpopMode,
  /** Access-token lifetime the issuer uses for a resource (10 minutes). */
  tokenLifetimeSeconds: 600,
});

/** Where data lives. Recorded now; the authorization server that uses it comes later. */
export type StorageConfig =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string }
  | { readonly kind: 'memory' };

/** Where DPoP proof `jti`s are claimed; shared by every resource of the stack. */
export type ReplayConfig =
  | { readonly kind: 'memory'; readonly capacity?: number }
  | { readonly kind: 'redis'; readonly url: string };

/** One protected MCP server, with everything derived from `publicUrl` resolved. */
export interface ResourceConfig {
  readonly name: string;
  /** As configured, relative to `publicUrl`. */
  readonly path: string;
  /** The path requests arrive on: `publicUrl`'s own path prefix + `path`. */
  readonly routePath: string;
  /** Canonical URI (RFC 8707, MCP): the `aud` tokens for this resource carry. */
  readonly canonicalUri: string;
  /** `builtin:demo` or the http(s) URL of the MCP server to proxy. */
  readonly upstream: string;
  readonly dpop: DpopMode;
  /** Undefined: the upstream's own default (the demo policy for `builtin:demo`, none otherwise). */
  readonly scopes?: ScopePolicy;
  /** Undefined: tokens of this stack's own issuer. */
  readonly trust?: TrustOptions;
  readonly tokenLifetimeSeconds: number;
}

/** The whole configuration: validated, defaulted, deep-frozen. */
export interface WardenConfig {
  /** No trailing slash; may carry a path prefix. */
  readonly publicUrl: string;
  /** Scheme, host and port of `publicUrl`: the base `htu` is built from. */
  readonly publicOrigin: string;
  readonly listen: { readonly host: string; readonly port: number };
  readonly issuer: string;
  readonly storage: StorageConfig;
  readonly replay: ReplayConfig;
  readonly nonce?: { readonly secret: string; readonly required: boolean };
  readonly authorizationServer: { readonly enabled: boolean };
  readonly resources: readonly ResourceConfig[];
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

function resolveResource(resource: ResourceInput, publicUrl: string): ResourceConfig {
  const { scopes, trust } = resource;
  return {
    name: resource.name,
    path: resource.path,
    ...locate(publicUrl, resource.path),
    upstream: resource.upstream,
    dpop: resource.dpop ?? CONFIG_DEFAULTS.dpop,
    ...(scopes ? { scopes: { default: scopes.default ?? [], tools: scopes.tools ?? {} } } : {}),
    ...(trust ? { trust: resolveTrust(trust) } : {}),
    tokenLifetimeSeconds: resource.tokenLifetimeSeconds ?? CONFIG_DEFAULTS.tokenLifetimeSeconds,
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
  const config: WardenConfig = {
    publicUrl,
    publicOrigin,
    listen,
    issuer: input.issuer ?? publicUrl,
    storage,
    replay: input.replay ? { ...input.replay } : { ...CONFIG_DEFAULTS.replay },
    ...(input.nonce
      ? { nonce: { secret: input.nonce.secret, required: input.nonce.required ?? CONFIG_DEFAULTS.nonceRequired } }
      : {}),
    authorizationServer: { enabled: input.authorizationServer?.enabled ?? CONFIG_DEFAULTS.authorizationServer.enabled },
    resources: (input.resources ?? []).map((resource) => resolveResource(resource, publicUrl)),
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
    resources: config.resources.map((resource) => ({ ...resource, ...locate(publicUrl, resource.path) })),
  });
}
