/**
 * Discovery, as an MCP client does it (MCP 2025-11-25 authorization): an unauthenticated request,
 * the `WWW-Authenticate` challenge, protected-resource metadata (RFC 9728), then the authorization
 * server's metadata (RFC 8414, with the OpenID Connect fallbacks). Each step runs once per audit.
 */
import { parseChallenges } from '../client/step-up.js';
import type { AuditContext } from './context.js';
import type { Exchange, ProbeResponse } from './http-client.js';
import { initializeBody, postHeaders } from './mcp-messages.js';

/** One parsed challenge. */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Every challenge of every `WWW-Authenticate` header of a response. */
export function challengesOf(response: ProbeResponse): Challenge[] {
  return (response.headers.get('www-authenticate') ?? []).flatMap((value) => parseChallenges(value));
}

/** The unauthenticated `initialize` every discovery starts from. */
export function baseline(ctx: AuditContext): Promise<Exchange> {
  return ctx.memo('baseline', () => ctx.send({ method: 'POST', url: ctx.target.url, headers: postHeaders(), body: initializeBody() }));
}

/** Protected-resource metadata and how it was found. */
export interface ResourceMetadata {
  url: string;
  document: Record<string, unknown>;
  exchange: Exchange;
  /** `resource_metadata` of the challenge, when it named one. */
  advertised?: string;
  /** Whether the metadata is (also) served at the path-inserted well-known URL (RFC 9728 §3.1). */
  atWellKnown: boolean;
  /** Every request made to find it. */
  attempts: Exchange[];
}

/** RFC 9728 §3.1: `/.well-known/oauth-protected-resource` inserted before the resource's path. */
export function wellKnownResourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return `${url.origin}/.well-known/oauth-protected-resource${path}`;
}

/** Finds the protected-resource metadata: challenge first, then the path-inserted and root well-known URLs. */
export async function resourceMetadata(ctx: AuditContext): Promise<ResourceMetadata | undefined> {
  return (await resourceMetadataSearch(ctx)).metadata;
}

/** The search for the resource metadata: what was found, and every request it took. */
export function resourceMetadataSearch(ctx: AuditContext): Promise<{ metadata?: ResourceMetadata; attempts: Exchange[] }> {
  return ctx.memo('resource-metadata', async () => {
    const challenge = challengesOf((await baseline(ctx)).response).find((c) => c.params.resource_metadata !== undefined);
    const advertised = challenge?.params.resource_metadata;
    const wellKnown = wellKnownResourceMetadataUrl(ctx.target.url);
    const root = `${ctx.target.origin}/.well-known/oauth-protected-resource`;
    const candidates = [...new Set([advertised, wellKnown, root].filter((u): u is string => u !== undefined && URL.canParse(u)))];
    const attempts: Exchange[] = [];
    let found: { url: string; document: Record<string, unknown>; exchange: Exchange } | undefined;
    let atWellKnown = false;
    for (const url of candidates) {
      if (!ctx.http.allows(url)) {
        ctx.notes.push(`The challenge names resource metadata at ${new URL(url).origin}, another origin than the target's; the audit did not fetch it.`);
        continue;
      }
      // Once found through the challenge, only the path-inserted URL still needs asking (for the check that it is there too).
      if (found !== undefined && url !== wellKnown) continue;
      const exchange = await ctx.send({ method: 'GET', url, headers: { accept: 'application/json' } });
      attempts.push(exchange);
      const document = jsonObject(exchange);
      if (document === undefined || typeof document.resource !== 'string') continue;
      if (url === wellKnown) atWellKnown = true;
      found ??= { url, document, exchange };
    }
    if (found === undefined) return { attempts };
    return { metadata: { ...found, ...(advertised !== undefined && { advertised }), atWellKnown, attempts }, attempts };
  });
}

/** The authorization server the metadata names first (the one the audit probes), allowed from now on. */
export function authorizationServer(ctx: AuditContext): Promise<string | undefined> {
  return ctx.memo('authorization-server', async () => {
    const prm = await resourceMetadata(ctx);
    const servers = prm?.document.authorization_servers;
    const issuer = Array.isArray(servers) ? servers.find((s): s is string => typeof s === 'string' && URL.canParse(s)) : undefined;
    if (issuer === undefined) return undefined;
    const url = new URL(issuer);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
    ctx.http.allowOrigin(url.origin);
    return issuer;
  });
}

/** Authorization-server metadata and where it was found. */
export interface AuthorizationServerMetadata {
  issuer: string;
  url: string;
  /** `oauth`: RFC 8414; `openid`: OpenID Connect Discovery. */
  kind: 'oauth' | 'openid';
  document: Record<string, unknown>;
  exchange: Exchange;
  attempts: Exchange[];
}

/** The well-known URLs an MCP client tries for an issuer, in its order (MCP 2025-11-25). */
export function metadataUrls(issuer: string): Array<{ url: string; kind: 'oauth' | 'openid' }> {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  const urls: Array<{ url: string; kind: 'oauth' | 'openid' }> = [
    { url: `${url.origin}/.well-known/oauth-authorization-server${path}`, kind: 'oauth' },
    { url: `${url.origin}/.well-known/openid-configuration${path}`, kind: 'openid' },
  ];
  if (path !== '') urls.push({ url: `${url.origin}${path}/.well-known/openid-configuration`, kind: 'openid' });
  return urls;
}

/** Fetches the authorization server's metadata, trying each URL in order until one answers a document. */
export async function authorizationServerMetadata(ctx: AuditContext): Promise<AuthorizationServerMetadata | undefined> {
  return (await authorizationServerMetadataSearch(ctx)).metadata;
}

/** The search for the authorization server's metadata, with every request it took. */
export function authorizationServerMetadataSearch(ctx: AuditContext): Promise<{ metadata?: AuthorizationServerMetadata; attempts: Exchange[] }> {
  return ctx.memo('as-metadata', async () => {
    const issuer = await authorizationServer(ctx);
    const attempts: Exchange[] = [];
    if (issuer === undefined) return { attempts };
    for (const { url, kind } of metadataUrls(issuer)) {
      const exchange = await ctx.send({ method: 'GET', url, headers: { accept: 'application/json' } });
      attempts.push(exchange);
      const document = jsonObject(exchange);
      if (document !== undefined && typeof document.issuer === 'string') return { metadata: { issuer, url, kind, document, exchange, attempts }, attempts };
    }
    return { attempts };
  });
}

/** An endpoint of the authorization server's metadata, if it is a URL the audit may contact. */
export async function endpoint(ctx: AuditContext, name: string): Promise<string | undefined> {
  const metadata = await authorizationServerMetadata(ctx);
  const value = metadata?.document[name];
  if (typeof value !== 'string' || !URL.canParse(value)) return undefined;
  if (!ctx.http.allows(value)) {
    const note = `The authorization server's ${name} is on ${new URL(value).origin}, not its issuer's origin; checks that need it were skipped (--allow-origin to include it).`;
    if (!ctx.notes.includes(note)) ctx.notes.push(note);
    return undefined;
  }
  return value;
}

/** A string array member of a metadata document ([] when absent). */
export function stringList(document: Record<string, unknown> | undefined, name: string): string[] {
  const value = document?.[name];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** The body of a 200 JSON response as an object, or undefined. */
export function jsonObject(exchange: Exchange): Record<string, unknown> | undefined {
  if (exchange.response.status !== 200) return undefined;
  try {
    const value = JSON.parse(exchange.response.body) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The JSON object body of any response (an error body too), or undefined. */
export function jsonBody(exchange: Exchange): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(exchange.response.body) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Scopes to ask for: the challenge's, else the metadata's `scopes_supported` (MCP scope selection strategy). */
export async function scopesToRequest(ctx: AuditContext): Promise<string[]> {
  const challenge = challengesOf((await baseline(ctx)).response).find((c) => c.params.scope !== undefined);
  if (challenge?.params.scope !== undefined) return challenge.params.scope.split(' ').filter(Boolean);
  return stringList((await resourceMetadata(ctx))?.document, 'scopes_supported');
}
