import { DEFAULTS } from '../oauth/defaults.js';
import { SUPPORTED_ALGORITHMS } from '../jose/algorithms.js';
import type { KeySource } from '../jose/key-source.js';
import { createLocalKeySource } from '../jose/local-key-source.js';
import { createRemoteKeySource } from '../jose/remote-key-source.js';
import { createNonceManager, type NonceManager } from '../dpop/nonce.js';
import { canonicalResourceUri } from '../oauth/canonical-uri.js';
import { isScopeToken } from '../oauth/scope.js';
import { MemoryReplayStore } from '../stores/memory/replay-store.js';
import type { ReplayStore, RevocationList } from '../stores/contracts.js';
import { createIntrospectionClient, type IntrospectionClient } from './introspection.js';
import { metadataLocations } from './metadata.js';
import { NameSet } from '../mcp/lookalike-names.js';
import { VerifiedTokenCache } from './verified-token-cache.js';
import type { DpopMode, RequestCheck, ResourceServerOptions } from './types.js';
import type { DecisionListener } from '../oauth/authorization-decision.js';
import { compilePolicy, type CompiledPolicy } from './policy/compile-policy.js';

/** Options after validation and defaulting; frozen. */
export interface ResolvedOptions {
  resource: string;
  resourceUrl: URL;
  publicOrigin: string;
  authorizationServers: string[];
  issuer: string;
  keys: KeySource | undefined;
  introspection: IntrospectionClient | undefined;
  tokenAlgorithms: ReadonlySet<string>;
  tokenTypes: ReadonlySet<string>;
  dpop: DpopMode;
  dpopAlgorithms: ReadonlySet<string>;
  dpopAlgorithmList: readonly string[];
  nonce: { manager: NonceManager; required: boolean } | undefined;
  replayStore: ReplayStore;
  ownsReplayStore: boolean;
  revocation: RevocationList | undefined;
  defaultScopes: readonly string[];
  toolScopes: ReadonlyMap<string, readonly string[]>;
  /** The tools the policy names, for refusing lookalike tool names. */
  toolNames: NameSet;
  /** CEL rules, compiled; undefined without `policy`. */
  policy: CompiledPolicy | undefined;
  filterToolsList: boolean;
  strictMessages: boolean;
  checks: readonly RequestCheck[];
  /** Told every decision (audit trail, traces); undefined when nobody listens. */
  onDecision: DecisionListener | undefined;
  /** Undefined when `tokenCache: false`. */
  tokenCache: VerifiedTokenCache | undefined;
  scopesSupported: string[];
  skew: number;
  proofMaxAge: number;
  replayTtl: number;
  maxAuthorizationBytes: number;
  maxProofBytes: number;
  maxBodyBytes: number;
  metadataUrl: string;
  metadataPaths: string[];
  resourceName: string | undefined;
  resourceDocumentation: string | undefined;
  now: () => number;
}


/** Fails at set-up with a message that says what to change. */
function bad(path: string, message: string): never {
  throw new TypeError(`createResourceServer: ${path} ${message}`);
}

function algList(value: readonly string[] | undefined, fallback: readonly string[], path: string): string[] {
  const list = value === undefined ? [...fallback] : [...value];
  if (list.length === 0) bad(path, 'must name at least one algorithm');
  for (const alg of list) {
    if (!SUPPORTED_ALGORITHMS.includes(alg)) bad(path, `contains "${alg}"; supported asymmetric algorithms: ${SUPPORTED_ALGORITHMS.join(', ')} (never "none" or HMAC)`);
  }
  return list;
}

function scopeList(value: readonly unknown[] | undefined, path: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) bad(path, 'must be an array of scope strings');
  for (const s of value) if (typeof s !== 'string' || !isScopeToken(s)) bad(path, `contains an invalid scope ${JSON.stringify(s)}`);
  return [...new Set(value as string[])];
}

function positive(value: number | undefined, fallback: number, path: string): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) bad(path, 'must be a non-negative number');
  return v;
}

/** Validates and defaults {@link ResourceServerOptions}. */
export function resolveOptions(options: ResourceServerOptions): Readonly<ResolvedOptions> {
  if (options === null || typeof options !== 'object') bad('options', 'must be an object');
  let resource: string;
  try {
    resource = canonicalResourceUri(options.resource);
  } catch (error) {
    return bad('resource', `is invalid: ${(error as Error).message}. Use the canonical URI clients connect to, e.g. https://mcp.example.com/mcp`);
  }
  const resourceUrl = new URL(resource);
  if (resourceUrl.search !== '') bad('resource', 'must not contain a query');

  let publicOrigin = resourceUrl.origin;
  if (options.publicBaseUrl !== undefined) {
    try {
      publicOrigin = new URL(options.publicBaseUrl).origin;
    } catch {
      bad('publicBaseUrl', 'must be an absolute URL such as https://mcp.example.com');
    }
  }

  const trust = options.trust;
  if (trust === null || typeof trust !== 'object') bad('trust', 'is required: { issuer, jwks | jwksUri | introspection }');
  if (typeof trust.issuer !== 'string' || trust.issuer.length === 0) bad('trust.issuer', 'must be the exact "iss" of trusted tokens');
  const sources = [trust.jwksUri !== undefined, trust.jwks !== undefined && trust.introspection === undefined, trust.introspection !== undefined, trust.keySource !== undefined].filter(Boolean).length;
  if (sources !== 1) bad('trust', 'needs exactly one of jwks, jwksUri, keySource or introspection (introspection may add jwks for JWTs)');

  let keys: KeySource | undefined;
  let introspection: IntrospectionClient | undefined;
  try {
    if (trust.jwksUri !== undefined) {
      const remote: Parameters<typeof createRemoteKeySource>[0] = { jwksUri: trust.jwksUri };
      if (trust.refetchIntervalSeconds !== undefined) remote.refetchIntervalSeconds = trust.refetchIntervalSeconds;
      if (trust.cacheMaxAgeSeconds !== undefined) remote.cacheMaxAgeSeconds = trust.cacheMaxAgeSeconds;
      if (trust.timeoutMs !== undefined) remote.timeoutMs = trust.timeoutMs;
      if (trust.fetch !== undefined) remote.fetch = trust.fetch;
      keys = createRemoteKeySource(remote);
    } else if (trust.keySource !== undefined) {
      if (typeof trust.keySource.resolve !== 'function') bad('trust.keySource', 'must implement resolve(kid)');
      keys = trust.keySource;
    } else if (trust.jwks !== undefined) {
      keys = createLocalKeySource(trust.jwks);
    }
    if (trust.introspection !== undefined) introspection = createIntrospectionClient(trust.introspection);
  } catch (error) {
    bad('trust', `is invalid: ${(error as Error).message}`);
  }

  const dpop = options.dpop ?? DEFAULTS.dpop.mode;
  if (dpop !== 'disabled' && dpop !== 'allowed' && dpop !== 'required') bad('dpop', `must be "disabled", "allowed" or "required", got ${JSON.stringify(dpop)}`);
  const dpopAlgorithmList = algList(options.dpopAlgorithms, DEFAULTS.dpop.algorithms, 'dpopAlgorithms');

  let nonce: ResolvedOptions['nonce'];
  if (options.nonce !== undefined) {
    try {
      // Bound to the origin, not the resource: clients (MCP SDK v2) keep one nonce per origin.
      const nonceOptions: Parameters<typeof createNonceManager>[0] = { secret: options.nonce.secret, context: publicOrigin };
      if (options.nonce.slotSeconds !== undefined) nonceOptions.slotSeconds = options.nonce.slotSeconds;
      if (options.now !== undefined) nonceOptions.now = options.now;
      nonce = { manager: createNonceManager(nonceOptions), required: options.nonce.required ?? DEFAULTS.dpop.nonceRequired };
    } catch (error) {
      bad('nonce', `is invalid: ${(error as Error).message}`);
    }
    if (dpop === 'disabled') bad('nonce', 'has no effect with dpop "disabled"; remove it or enable DPoP');
  }

  const defaultScopes = scopeList(options.scopes?.default, 'scopes.default');
  const toolScopes = new Map<string, readonly string[]>();
  const tools = options.scopes?.tools ?? {};
  if (tools === null || typeof tools !== 'object') bad('scopes.tools', 'must map tool names to scope arrays');
  for (const name of Object.keys(tools)) toolScopes.set(name, scopeList(tools[name], `scopes.tools.${name}`));
  const scopesSupported = [...new Set([...defaultScopes, ...[...toolScopes.values()].flat()])];

  const skew = positive(options.clockSkewSeconds, DEFAULTS.time.clockSkewSeconds, 'clockSkewSeconds');
  const proofMaxAge = positive(options.proofMaxAgeSeconds, DEFAULTS.time.proofMaxAgeSeconds, 'proofMaxAgeSeconds');
  if (proofMaxAge === 0) bad('proofMaxAgeSeconds', 'must be greater than 0');
  const authorizationServers = options.authorizationServers === undefined ? [trust.issuer] : [...options.authorizationServers];
  for (const as of authorizationServers) {
    if (typeof as !== 'string' || !URL.canParse(as)) bad('authorizationServers', `contains ${JSON.stringify(as)}, which is not an absolute URL`);
  }

  if (options.replayStore !== undefined && typeof options.replayStore.claim !== 'function') bad('replayStore', 'must implement claim(key, ttlSeconds)');
  let policy: CompiledPolicy | undefined;
  if (options.policy !== undefined) {
    try {
      policy = compilePolicy(options.policy);
    } catch (error) {
      bad('policy', `is invalid: ${(error as Error).message}`);
    }
  }
  const strictMessages = options.strictMessages ?? true;
  if (typeof strictMessages !== 'boolean') bad('strictMessages', 'must be a boolean');
  const checks = options.checks ?? [];
  if (!Array.isArray(checks) || checks.some((c) => typeof c !== 'function')) bad('checks', 'must be an array of functions');
  if (options.onDecision !== undefined && typeof options.onDecision !== 'function') bad('onDecision', 'must be a function');
  let tokenCache: VerifiedTokenCache | undefined;
  if (options.tokenCache !== false) {
    const maxEntries = options.tokenCache?.maxEntries ?? DEFAULTS.verifiedTokens.maxEntries;
    const maxSeconds = options.tokenCache?.maxSeconds ?? DEFAULTS.verifiedTokens.maxSeconds;
    if (!Number.isInteger(maxEntries) || maxEntries < 0) bad('tokenCache.maxEntries', 'must be a whole number (0 turns the cache off)');
    if (typeof maxSeconds !== 'number' || !Number.isFinite(maxSeconds) || maxSeconds <= 0) bad('tokenCache.maxSeconds', 'must be a positive number of seconds');
    if (maxEntries > 0) tokenCache = new VerifiedTokenCache(maxEntries, maxSeconds);
  }
  const locations = metadataLocations(resource);

  return Object.freeze({
    resource,
    resourceUrl,
    publicOrigin,
    authorizationServers,
    issuer: trust.issuer,
    keys,
    introspection,
    tokenAlgorithms: new Set(algList(trust.algorithms, SUPPORTED_ALGORITHMS, 'trust.algorithms')),
    tokenTypes: new Set((trust.tokenTypes ?? ['at+jwt', 'application/at+jwt']).map((t) => t.toLowerCase())),
    dpop,
    dpopAlgorithms: new Set(dpopAlgorithmList),
    dpopAlgorithmList,
    nonce,
    replayStore: options.replayStore ?? new MemoryReplayStore(),
    ownsReplayStore: options.replayStore === undefined,
    revocation: options.revocation,
    defaultScopes,
    toolScopes,
    toolNames: new NameSet(toolScopes.keys()),
    policy,
    filterToolsList: options.filterToolsList === true,
    strictMessages,
    checks: Object.freeze([...checks]),
    onDecision: options.onDecision,
    tokenCache,
    scopesSupported,
    skew,
    proofMaxAge,
    // A proof is acceptable from iat - skew until iat + maxAge + skew: remember its jti that long.
    replayTtl: proofMaxAge + 2 * skew,
    maxAuthorizationBytes: positive(options.limits?.maxAuthorizationBytes, DEFAULTS.limits.maxAuthorizationBytes, 'limits.maxAuthorizationBytes'),
    maxProofBytes: positive(options.limits?.maxProofBytes, DEFAULTS.limits.maxProofBytes, 'limits.maxProofBytes'),
    maxBodyBytes: positive(options.limits?.maxBodyBytes, DEFAULTS.limits.maxBodyBytes, 'limits.maxBodyBytes'),
    metadataUrl: locations.url,
    metadataPaths: locations.paths,
    resourceName: options.resourceName,
    resourceDocumentation: options.resourceDocumentation,
    now: options.now ?? (() => Date.now() / 1000),
  });
}
