/**
 * Which headers cross the gateway, in each direction.
 *
 * Requests: hop-by-hop headers stop here (RFC 9110 §7.6.1); the client's credentials stop here
 * (MCP authorization: no token passthrough — the upstream must never be able to replay them);
 * identity headers a client could forge stop here, and Warden's own trusted ones replace them.
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

/** The client's credentials: Warden consumed them; forwarding them would be token passthrough. */
const CREDENTIALS = new Set(['authorization', 'dpop']);

/**
 * Headers an upstream (or a framework in front of it) may believe over the request itself, so a
 * client must never choose them:
 * - identity headers other proxies (oauth2-proxy, Apache, Envoy set-ups, ...) use;
 * - where the request came from (`Forwarded`, `X-Real-IP`, client-IP variants; every
 *   `X-Forwarded-*` goes by prefix): Warden writes `X-Forwarded-For/Proto/Host` itself;
 * - what the request is (IIS/Symfony `X-Original-URL`/`X-Rewrite-URL`, method overrides that
 *   Express, Rails and Spring honour): the upstream must run the request Warden authorized.
 */
const SPOOFABLE = new Set([
  'x-auth-request-user',
  'x-auth-request-email',
  'x-remote-user',
  'remote-user',
  'x-user',
  'x-user-id',
  'x-client-id',
  'forwarded',
  'x-real-ip',
  'x-client-ip',
  'client-ip',
  'true-client-ip',
  'cf-connecting-ip',
  'x-cluster-client-ip',
  'x-original-url',
  'x-original-uri',
  'x-rewrite-url',
  'x-original-host',
  'x-host',
  'x-original-method',
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
]);

/**
 * Headers Warden writes from what it authorized: the body's type and length (the body is
 * rebuilt), and the MCP headers that mirror it (SEP-2243), re-encoded from the body.
 */
const REWRITTEN = new Set(['content-type', 'content-length', 'content-encoding', 'mcp-method', 'mcp-name']);

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
 * Builds the headers of the upstream request from the client's, plus `set` (Warden's own: the
 * body's `Content-Type`/`Content-Length`, the SEP-2243 headers re-encoded from the body).
 *
 * `Accept-Encoding` is pinned to `identity` because a compressing upstream buffers SSE events
 * until its compressor flushes.
 */
export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders,
  options: { upstreamHost: string; forwarded: ForwardedFor; auth: WardenAuthInfo | undefined; set: Readonly<Record<string, string>> },
): OutgoingHttpHeaders {
  const dropped = connectionTokens(incoming['connection']);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    if (dropped.has(name) || isBlockedRequestHeader(name)) continue;
    out[name] = value;
  }
  out['host'] = options.upstreamHost;
  out['accept-encoding'] = 'identity';
  Object.assign(out, options.set);

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

function isBlockedRequestHeader(name: string): boolean {
  return (
    // CGI-style upstreams (WSGI, PHP, Rack) map "X_Warden_Subject" and "X-Warden-Subject" to the
    // same variable: an underscore name could forge an identity header. Standard headers have none.
    name.includes('_') ||
    HOP_BY_HOP.has(name) ||
    CREDENTIALS.has(name) ||
    SPOOFABLE.has(name) ||
    REWRITTEN.has(name) ||
    name.startsWith('x-forwarded-') ||
    name.startsWith('x-envoy-') ||
    name === 'host' ||
    name === 'accept-encoding' ||
    name.startsWith('proxy-') ||
    name.startsWith('x-warden-')
  );
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
