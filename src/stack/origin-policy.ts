/**
 * Who may call the stack's MCP endpoints from a web page. The MCP transport requires servers to
 * validate `Origin` on every request and answer 403 to one that is present and not allowed (DNS
 * rebinding); on a loopback listener the `Host` must be the server's own name too (a rebinding
 * page sends the attacker's). Allowed origins get CORS — a preflight answer and the response
 * headers a browser-based MCP client must read (`WWW-Authenticate`, `Mcp-Session-Id`,
 * `DPoP-Nonce`). No credentials mode: MCP clients send tokens in headers, never cookies.
 *
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#security-warning
 * @see https://fetch.spec.whatwg.org/#http-cors-protocol
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { noteReason } from '../oauth/response-reason.js';

/** Request headers a browser MCP client sends (preflight `Access-Control-Allow-Headers`). */
const ALLOWED_REQUEST_HEADERS = 'Authorization, DPoP, Content-Type, Accept, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID, Mcp-Method, Mcp-Name, traceparent, tracestate';
/** Response headers a browser MCP client must be able to read. */
const EXPOSED_HEADERS = 'WWW-Authenticate, Mcp-Session-Id, DPoP-Nonce, MCP-Protocol-Version, Retry-After, RateLimit, RateLimit-Policy';
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** What the stack allows. */
export interface OriginPolicy {
  /** Origins (scheme://host[:port]) allowed in `Origin`, exactly. */
  origins: ReadonlySet<string>;
  /** Also allow any loopback origin (a local development stack). */
  loopbackOrigins: boolean;
  /** Host names (without port) the listener answers to, when it must check `Host`; undefined: any. */
  hosts: ReadonlySet<string> | undefined;
}

/**
 * The policy for a stack: its public origin and `allowedOrigins`; any loopback origin when the
 * public URL itself is on loopback; and, when the listener is on loopback, a `Host` check for the
 * public host and the loopback names.
 */
export function originPolicy(publicOrigin: string, listenHost: string, allowedOrigins: readonly string[]): OriginPolicy {
  const publicUrl = new URL(publicOrigin);
  const local = LOOPBACK_HOSTS.has(publicUrl.hostname);
  const listensLocally = LOOPBACK_HOSTS.has(listenHost);
  return {
    origins: new Set([publicUrl.origin, ...allowedOrigins.map((o) => new URL(o).origin)]),
    loopbackOrigins: local,
    hosts: listensLocally ? new Set([publicUrl.hostname, ...LOOPBACK_HOSTS]) : undefined,
  };
}

function originAllowed(policy: OriginPolicy, origin: string): boolean {
  if (policy.origins.has(origin)) return true;
  if (!policy.loopbackOrigins) return false;
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && LOOPBACK_HOSTS.has(url.hostname) && url.origin === origin;
  } catch {
    return false;
  }
}

function hostName(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.lastIndexOf(':');
  return (colon === -1 ? host : host.slice(0, colon)).toLowerCase();
}

/**
 * Applies the policy to a request for an MCP endpoint: answers it (403 for a foreign `Origin` or
 * `Host`, 204 for an allowed preflight) and returns true, or sets the CORS headers for an allowed
 * origin and returns false for the endpoint to answer.
 */
export function enforceOriginPolicy(policy: OriginPolicy, req: IncomingMessage, res: ServerResponse): boolean {
  const host = req.headers.host;
  if (policy.hosts !== undefined && (host === undefined || !policy.hosts.has(hostName(host)))) {
    refuse(res, 'the Host header does not name this server (DNS rebinding)');
    return true;
  }
  const origin = req.headers.origin;
  if (origin !== undefined) {
    if (!originAllowed(policy, origin)) {
      refuse(res, 'requests from this Origin are not allowed (MCP: servers validate Origin)');
      return true;
    }
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Vary', 'Origin');
    res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
  }
  if (req.method === 'OPTIONS') {
    res.writeHead(204, {
      Allow: 'GET, POST, DELETE, OPTIONS',
      ...(origin === undefined
        ? {}
        : { 'Access-Control-Allow-Methods': 'GET, POST, DELETE', 'Access-Control-Allow-Headers': ALLOWED_REQUEST_HEADERS, 'Access-Control-Max-Age': '600' }),
    });
    res.end();
    return true;
  }
  return false;
}

function refuse(res: ServerResponse, message: string): void {
  noteReason(res, 'forbidden_origin');
  const body = JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message } });
  res.writeHead(403, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(body);
}
