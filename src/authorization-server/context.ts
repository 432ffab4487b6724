import { createHmac } from 'node:crypto';
import { ProofKeyCache } from '../dpop/proof-key-cache.js';
import { createNonceManager, type NonceManager } from '../dpop/nonce.js';
import type { AuthorizationServerStores } from '../stores/as-contracts.js';
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
  registration: { enabled: boolean; maxBodyBytes: number };
  clientMetadataDocuments: Required<NonNullable<AuthorizationServerOptions['clientMetadataDocuments']>>;
  loginTitle: string;
  options: Readonly<AuthorizationServerOptions>;
  now(): number;
  /** HMAC-SHA256 under the server secret, domain-separated by `label`; base64url. */
  hmac(label: string, data: string): string;
  audit(event: AuditEvent): void;
}

const DEFAULT_DPOP_ALGS = ['ES256', 'ES384', 'ES512', 'EdDSA', 'RS256', 'PS256'];

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
  const dpopAlgorithmList = options.dpop?.algorithms ?? DEFAULT_DPOP_ALGS;
  options.resources.forEach((r, i) => {
    const ids = r.introspectionClients;
    if (ids !== undefined && (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string' && id !== '' && !/^https?:/i.test(id)))) {
      bad(`resources[${i}].introspectionClients`, 'must list client ids of configured clients (not URLs)');
    }
  });
  const resources = new ResourceRegistry(
    options.resources.map((r) => ({
      uri: r.uri,
      name: r.name,
      scopes: r.scopes,
      defaultScopes: r.defaultScopes ?? r.scopes.filter((s) => s !== 'mcp:admin'),
      dpop: r.dpop ?? 'allowed',
      accessTokenLifetimeSeconds: r.accessTokenLifetimeSeconds ?? options.lifetimes?.accessTokenSeconds ?? 600,
      introspectionClients: Object.freeze([...(r.introspectionClients ?? [])]),
    })),
  );
  const cimd = options.clientMetadataDocuments ?? {};
  const audit = options.audit ?? (() => {});
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
      accessToken: options.lifetimes?.accessTokenSeconds ?? 600,
      refreshToken: options.lifetimes?.refreshTokenSeconds ?? 7 * 24 * 3600,
      code: options.lifetimes?.codeSeconds ?? 60,
      interaction: options.lifetimes?.interactionSeconds ?? 600,
    },
    refreshGraceSeconds: options.refreshGraceSeconds ?? 10,
    proofMaxAge: options.proofMaxAgeSeconds ?? 60,
    skew: options.clockSkewSeconds ?? 30,
    dpopAlgorithms: new Set(dpopAlgorithmList),
    dpopAlgorithmList,
    // Per origin, like the resource servers: clients keep one nonce per origin.
    nonce: { manager: createNonceManager({ secret: options.dpop?.nonceSecret ?? options.secret, context: issuerUrl.origin, now }), required: options.dpop?.requireNonce ?? false },
    proofKeys: new ProofKeyCache(),
    registration: { enabled: options.registration?.enabled ?? true, maxBodyBytes: options.registration?.maxBodyBytes ?? 16 * 1024 },
    clientMetadataDocuments: {
      enabled: cimd.enabled ?? true,
      allowPrivateNetworks: cimd.allowPrivateNetworks ?? false,
      timeoutMs: cimd.timeoutMs ?? 5000,
      maxBytes: cimd.maxBytes ?? 16 * 1024,
    },
    loginTitle: options.login?.title ?? 'Warden',
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
  });
}
