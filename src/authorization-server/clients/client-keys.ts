import type { KeySource } from '../../jose/key-source.js';
import { createLocalKeySource } from '../../jose/local-key-source.js';
import { createRemoteKeySource } from '../../jose/remote-key-source.js';
import type { ClientRecord } from '../../stores/authorization-server-contracts.js';
import type { AsContext } from '../context.js';
import { createPublicOnlyFetch, RefusedUrlError } from './public-only-fetch.js';

/** Key sources are built once per key set and reused; this bounds how many one instance keeps. */
const MAX_SOURCES = 1000;

const sources = new WeakMap<AsContext, Map<string, KeySource>>();

/**
 * How a client's `jwks_uri` is fetched: an operator's configured URL as any trust source; a URL a
 * client chose (self-registered, metadata document) only through the SSRF guard, and within the
 * limits of metadata-document fetches (in flight at once, per host per minute), which anyone who
 * can register could otherwise point at one victim host.
 */
function clientFetch(ctx: AsContext, client: ClientRecord): { fetch?: typeof fetch } {
  if (client.source === 'configured') return {};
  const acquire = (url: URL): (() => void) => {
    const slot = ctx.metadataDocumentLimits.acquire(url.host, ctx.now());
    if ('refused' in slot) throw new RefusedUrlError(slot.refused.reason === 'capacity' ? 'too many fetches in flight' : 'too many fetches to this host in the last minute');
    return slot.release;
  };
  return { fetch: createPublicOnlyFetch({ allowPrivateNetworks: ctx.clientMetadataDocuments.allowPrivateNetworks, acquire }) };
}

/**
 * The public keys a `private_key_jwt` client signs its assertions with (RFC 7523 §2.2): its
 * registered `jwks`, or its `jwks_uri` fetched and cached like an issuer's key set (refetched on
 * an unknown `kid`, rate-limited, stale on error) — through the SSRF guard when the client chose
 * the URL itself. Undefined when the client registered neither,
 * or its inline set holds no usable key.
 */
export function clientKeySource(ctx: AsContext, client: ClientRecord): KeySource | undefined {
  const cacheKey = client.jwks !== undefined ? `jwks:${JSON.stringify(client.jwks)}` : client.jwksUri !== undefined ? `uri:${client.source === 'configured' ? 'operator' : 'guarded'}:${client.jwksUri}` : undefined;
  if (cacheKey === undefined) return undefined;
  let perContext = sources.get(ctx);
  if (perContext === undefined) {
    perContext = new Map();
    sources.set(ctx, perContext);
  }
  const cached = perContext.get(cacheKey);
  if (cached !== undefined) return cached;
  let source: KeySource;
  try {
    source = client.jwks !== undefined ? createLocalKeySource(client.jwks) : createRemoteKeySource({ jwksUri: client.jwksUri as string, now: () => ctx.now() * 1000, ...clientFetch(ctx, client) });
  } catch {
    return undefined;
  }
  if (perContext.size >= MAX_SOURCES) {
    const oldest = perContext.keys().next().value as string;
    perContext.get(oldest)?.close?.();
    perContext.delete(oldest);
  }
  perContext.set(cacheKey, source);
  return source;
}
