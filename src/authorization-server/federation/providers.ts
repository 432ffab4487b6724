/**
 * Upstream OpenID providers ("the company IdP") users sign in at: their settings, validated at
 * start, and their discovery documents and signing keys, fetched on first use and cached.
 */
import { DEFAULTS } from '../../oauth/defaults.js';
import { fetchJson, parseHttpUrl } from '../../jose/fetch-json.js';
import type { KeySource } from '../../jose/key-source.js';
import { createRemoteKeySource } from '../../jose/remote-key-source.js';
import type { AsContext } from '../context.js';
import type { IdentityProviderOptions } from '../options.js';

/** One configured provider, resolved. */
export interface IdentityProvider {
  id: string;
  /** Shown on the sign-in button. */
  name: string;
  issuer: string;
  clientId: string;
  /** How Warden authenticates at the provider's token endpoint. */
  auth: { method: 'client_secret_basic'; secret: string } | { method: 'private_key_jwt' };
  scopes: readonly string[];
  claims: { subject: string; email: string; groups: string };
}

/** What the provider's discovery document says (OpenID Connect Discovery 1.0 §3). */
export interface ProviderMetadata {
  authorizationEndpoint: string;
  tokenEndpoint: string;
  /** RFC 9207 §3: the provider always sends `iss` with its authorization responses. */
  issParameterSupported: boolean;
  keys: KeySource;
}

const ID = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const settings = new WeakMap<AsContext, { providers: ReadonlyMap<string, IdentityProvider>; localUsers: boolean; metadata: Map<string, Promise<ProviderMetadata>> }>();

function resolve(ctx: AsContext) {
  const known = settings.get(ctx);
  if (known !== undefined) return known;
  const bad = (path: string, message: string): never => {
    throw new TypeError(`createAuthorizationServer: ${path} ${message}`);
  };
  const providers = new Map<string, IdentityProvider>();
  (ctx.options.identityProviders ?? []).forEach((p: IdentityProviderOptions, i) => {
    const path = `identityProviders[${i}]`;
    if (typeof p.id !== 'string' || !ID.test(p.id)) bad(`${path}.id`, 'must be 1-32 lower-case letters, digits, "_" or "-"');
    if (providers.has(p.id)) bad(`${path}.id`, `duplicates ${JSON.stringify(p.id)}`);
    if (p.kind !== undefined && p.kind !== 'oidc') bad(`${path}.kind`, 'must be "oidc"');
    let issuer: URL;
    try {
      issuer = parseHttpUrl(p.issuer, `${path}.issuer`);
    } catch {
      return bad(`${path}.issuer`, 'must be an absolute https URL (http only for localhost development)');
    }
    if (issuer.search !== '' || issuer.hash !== '') bad(`${path}.issuer`, 'must not have a query or fragment');
    if (typeof p.clientId !== 'string' || p.clientId === '') bad(`${path}.clientId`, 'is required');
    const hasSecret = typeof p.clientSecret === 'string' && p.clientSecret !== '';
    if (hasSecret === (p.privateKeyJwt === true)) bad(`${path}.clientSecret`, 'or privateKeyJwt: true is required, not both (how Warden authenticates at the provider)');
    const scopes = p.scopes ?? ['openid', 'email', 'profile'];
    if (!scopes.includes('openid')) bad(`${path}.scopes`, 'must include "openid"');
    providers.set(p.id, {
      id: p.id,
      name: p.name ?? p.id,
      issuer: p.issuer,
      clientId: p.clientId,
      auth: hasSecret ? { method: 'client_secret_basic', secret: p.clientSecret as string } : { method: 'private_key_jwt' },
      scopes: Object.freeze([...scopes]),
      claims: { subject: p.claims?.subject ?? 'sub', email: p.claims?.email ?? 'email', groups: p.claims?.groups ?? 'groups' },
    });
  });
  const localUsers = ctx.options.login?.localUsers ?? true;
  if (!localUsers && providers.size === 0) bad('login.localUsers', 'may be false only with at least one identity provider, or nobody could sign in');
  const resolved = { providers, localUsers, metadata: new Map<string, Promise<ProviderMetadata>>() };
  settings.set(ctx, resolved);
  return resolved;
}

/** The configured providers (validated on first call; `createAuthorizationServer` calls it at start). */
export function identityProviders(ctx: AsContext): ReadonlyMap<string, IdentityProvider> {
  return resolve(ctx).providers;
}

/** Whether local users may sign in with a password (`login.localUsers`, default true). */
export function localUsersEnabled(ctx: AsContext): boolean {
  return resolve(ctx).localUsers;
}

/** Where providers send users back: `{issuer}/federation/callback` (register it at the provider). */
export function federationCallbackUrl(ctx: AsContext): string {
  return `${ctx.endpoints.interaction.slice(0, -'/interaction'.length)}/federation/callback`;
}

/**
 * The provider's discovery document, fetched once (a failure is forgotten, so the next sign-in
 * retries); its `issuer` must be the configured one exactly (OpenID Connect Discovery 1.0 §4.3).
 *
 * @throws Error with a message for the error page when the document is missing or wrong.
 */
export function providerMetadata(ctx: AsContext, provider: IdentityProvider): Promise<ProviderMetadata> {
  const cache = resolve(ctx).metadata;
  let entry = cache.get(provider.id);
  if (entry === undefined) {
    entry = discover(provider);
    cache.set(provider.id, entry);
    entry.catch(() => cache.delete(provider.id));
  }
  return entry;
}

async function discover(provider: IdentityProvider): Promise<ProviderMetadata> {
  const url = new URL(`${provider.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
  const doc = (await fetchJson(url, { headers: { accept: 'application/json' } }, { timeoutMs: DEFAULTS.jwks.timeoutMs, maxBytes: DEFAULTS.jwks.maxBytes, fetch: globalThis.fetch })) as Record<string, unknown>;
  if (doc.issuer !== provider.issuer) throw new Error(`the provider's discovery document names issuer ${JSON.stringify(doc.issuer)}, not ${provider.issuer}`);
  const endpoint = (name: string): string => {
    const value = doc[name];
    if (typeof value !== 'string') throw new Error(`the provider's discovery document has no ${name}`);
    return parseHttpUrl(value, name).href;
  };
  return {
    authorizationEndpoint: endpoint('authorization_endpoint'),
    tokenEndpoint: endpoint('token_endpoint'),
    issParameterSupported: doc.authorization_response_iss_parameter_supported === true,
    keys: createRemoteKeySource({ jwksUri: endpoint('jwks_uri') }),
  };
}
