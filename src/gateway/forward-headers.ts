/**
 * Which headers cross the gateway, in each direction.
 *
 * Requests: an allow-list — the transport's own headers pass; hop-by-hop headers (RFC 9110
 * §7.6.1), the client's credentials (MCP authorization: no token passthrough — the upstream must
 * never be able to replay them) and every header an upstream might trust for identity, origin or
 * routing stop here, and Warden's own trusted ones replace them.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-7.6.1
 * @see https://modelcontextprotocol.io/specification/2025-06-18/basic/security_best_practices#token-passthrough
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { WardenAuthInfo } from '../resource-server/types.js';

/** Hop-by-hop headers, plus `expect`, whose 100-continue dance is between client and Warden. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
]);

/**
 * Request headers that cross the gateway: what the MCP transport, content negotiation and
 * tracing need — nothing else. An allow-list, because every proxy in front of an upstream has
 * taught it to believe some header (`X-Forwarded-User`, `X-Amzn-Oidc-Identity`,
 * `X-Goog-Authenticated-User-Email`, `X-SSL-Client-Cert`, `X-Original-URL`, method overrides, …)
 * and no deny-list can name them all. `Mcp-Param-*` (SEP-2243) pass too: the upstream checks
 * them against its tool schemas. Operators add names with `forwardHeaders`.
 */
export const FORWARDED_REQUEST_HEADERS: ReadonlySet<string> = new Set([
  'accept',
  'accept-language',
  'user-agent',
  'origin',
  'cache-control',
  'pragma',
  'mcp-protocol-version',
  'mcp-session-id',
  'last-event-id',
  'traceparent',
  'tracestate',
  'baggage',
  'x-request-id',
]);

/** Header names an operator may not add to the allow-list: Warden writes them, or they carry the client's credentials. */
export function unforwardableHeader(name: string): string | undefined {
  if (!/^[!#$%&'*+.^`|~0-9a-z-]+$/.test(name)) return 'must be a lower-case header name without "_"';
  if (HOP_BY_HOP.has(name) || name.startsWith('proxy-')) return 'is hop-by-hop';
  if (name === 'authorization' || name === 'dpop') return 'is the client\'s credential (no token passthrough)';
  if (['host', 'content-type', 'content-length', 'content-encoding', 'mcp-method', 'mcp-name', 'accept-encoding', 'forwarded', 'x-real-ip'].includes(name) || name.startsWith('x-forwarded-') || name.startsWith('x-warden-')) {
    return 'is written by Warden';
  }
  return undefined;
}

/** Where the request came from, for the `X-Forwarded-*` headers. */
export interface ForwardedFor {
  proto: 'http' | 'https';
  host: string | undefined;
  /** The peer address of the client's socket. */
  remoteAddress: string | undefined;
}

/** Trusted identity headers Warden sets (lower-case names). */
export const IDENTITY_HEADERS = Object.freeze({
  clientId: 'x-warden-client-id',
  subject: 'x-warden-subject',
  scopes: 'x-warden-scopes',
  jkt: 'x-warden-jkt',
} as const);

/**
 * Builds the headers of the upstream request: the client's headers that are on the allow-list
 * ({@link FORWARDED_REQUEST_HEADERS}, `Mcp-Param-*`, and `allow`), unless `Connection` names
 * them; then Warden's own — `set` (the body's `Content-Type`, the SEP-2243 headers re-encoded
 * from the body), `Host`, `Accept-Encoding: identity` (a compressing upstream buffers SSE events
 * until its compressor flushes), `X-Forwarded-For/Proto/Host`, and the identity headers.
 */
export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders,
  options: {
    upstreamHost: string;
    forwarded: ForwardedFor;
    auth: WardenAuthInfo | undefined;
    set: Readonly<Record<string, string>>;
    allow?: ReadonlySet<string>;
  },
): OutgoingHttpHeaders {
  const dropped = connectionTokens(incoming['connection']);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || dropped.has(name)) continue;
    if (FORWARDED_REQUEST_HEADERS.has(name) || name.startsWith('mcp-param-') || options.allow?.has(name) === true) out[name] = value;
  }
  Object.assign(out, options.set);
  out['host'] = options.upstreamHost;
  out['accept-encoding'] = 'identity';

  // Only what Warden knows: the client's own chain could say anything.
  const { proto, host, remoteAddress } = options.forwarded;
  out['x-forwarded-proto'] = proto;
  if (host !== undefined) out['x-forwarded-host'] = host;
  if (remoteAddress !== undefined) out['x-forwarded-for'] = remoteAddress;

  if (options.auth !== undefined) Object.assign(out, identityHeaders(options.auth));
  return out;
}

/**
 * Trusted identity headers for an authenticated caller. Values are sent verbatim when they are
 * visible ASCII without `%`; otherwise percent-encoded as UTF-8, so an upstream that always
 * applies `decodeURIComponent` gets the exact value back and no value can inject a header.
 */
export function identityHeaders(auth: WardenAuthInfo): Record<string, string> {
  const out: Record<string, string> = {
    [IDENTITY_HEADERS.clientId]: headerSafe(auth.clientId),
    [IDENTITY_HEADERS.scopes]: auth.scopes.map(headerSafe).join(' '),
  };
  if (auth.extra.subject !== undefined) out[IDENTITY_HEADERS.subject] = headerSafe(auth.extra.subject);
  if (auth.extra.jkt !== undefined) out[IDENTITY_HEADERS.jkt] = headerSafe(auth.extra.jkt);
  return out;
}

/**
 * Filters the upstream's response headers: hop-by-hop ones (and any the upstream's `Connection`
 * names) go; everything else — `Mcp-Session-Id`, `Content-Type`, `Set-Cookie`, and also an
 * upstream `WWW-Authenticate` — passes. Warden does not rewrite the upstream's own challenge: an
 * upstream that answers 401 after Warden let the request in is misconfigured, and its challenge
 * is the most useful thing the client can see.
 */
export function clientResponseHeaders(incoming: IncomingHttpHeaders): OutgoingHttpHeaders {
  const dropped = connectionTokens(incoming['connection']);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    if (dropped.has(name) || HOP_BY_HOP.has(name) || name.startsWith('proxy-')) continue;
    out[name] = value;
  }
  return out;
}

/** Header names listed in `Connection` are hop-by-hop too (RFC 9110 §7.6.1). */
function connectionTokens(value: string | string[] | undefined): Set<string> {
  const tokens = new Set<string>();
  if (value === undefined) return tokens;
  for (const line of Array.isArray(value) ? value : [value]) {
    for (const token of line.split(',')) {
      const name = token.trim().toLowerCase();
      if (name !== '') tokens.add(name);
    }
  }
  return tokens;
}

const VERBATIM = /^[\x21-\x24\x26-\x7e]*$/;

function headerSafe(value: string): string {
  if (VERBATIM.test(value)) return value;
  // Byte-wise over UTF-8 rather than encodeURIComponent, which throws on a lone surrogate.
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const unreserved =
      (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) ||
      byte === 0x2d || byte === 0x2e || byte === 0x5f || byte === 0x7e;
    out += unreserved ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
