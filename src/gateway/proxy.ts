/**
 * Gateway mode: Warden authenticates the request, then this proxies MCP Streamable HTTP to an
 * upstream MCP server written in any language.
 *
 * node:http / node:https are used directly (not fetch) so Server-Sent Events stream through
 * unbuffered: headers go to the client as soon as the upstream answers, each chunk is written
 * as it arrives, Nagle is off, and nothing compresses. Client and upstream are tied together:
 * a client that goes away aborts the upstream request; an upstream that goes away mid-response
 * truncates the client's (destroyed, not ended, so truncation never looks like success).
 *
 * @see https://modelcontextprotocol.io/specification/2025-06-18/basic/transports#streamable-http
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-7.6
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { pipeline } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { WardenAuthInfo } from '../resource-server/types.js';
import { clientResponseHeaders, upstreamRequestHeaders, type ForwardedFor } from './forward-headers.js';
import { resolveGatewayOptions, upstreamPathFor, type GatewayProxyOptions, type ResolvedGatewayOptions } from './options.js';

/** A request as the resource-server layer hands it over: authenticated, `auth` attached. */
export type GatewayRequest = IncomingMessage & { auth?: WardenAuthInfo };

/** The handler {@link createGatewayProxy} returns. Never throws; answers every failure itself. */
export interface GatewayProxy {
  /**
   * Proxies one request. `body` is the request body when the auth layer already read it;
   * without it the request stream is piped upstream.
   */
  (req: GatewayRequest, res: ServerResponse, body?: Buffer): void;
  /** Closes pooled upstream connections (graceful shutdown). In-flight requests are aborted. */
  close(): void;
}

/**
 * Creates a Streamable HTTP reverse proxy to one upstream MCP endpoint. Options are validated
 * here, so a misconfiguration throws at start-up rather than on the first request.
 *
 * Upstream requests never carry the client's `Authorization` or `DPoP` header (no token
 * passthrough), nor any client-sent identity header; when `identityHeaders` is on they carry
 * Warden's trusted `X-Warden-Client-Id`, `X-Warden-Subject`, `X-Warden-Scopes`, `X-Warden-Jkt`.
 *
 * @throws TypeError when an option is invalid.
 */
export function createGatewayProxy(options: GatewayProxyOptions): GatewayProxy {
  const config = resolveGatewayOptions(options);
  const secure = config.upstream.protocol === 'https:';
  // Keep-alive saves a handshake per MCP request; SSE streams simply hold their socket.
  const agent = secure ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  const proxy = ((req: GatewayRequest, res: ServerResponse, body?: Buffer): void => {
    try {
      forward(config, agent, req, res, body);
    } catch {
      // E.g. a header value node refuses to send: answer, never crash the server.
      answerError(res, 502, body);
    }
  }) as GatewayProxy;
  proxy.close = () => agent.destroy();
  return proxy;
}

function forward(
  config: ResolvedGatewayOptions,
  agent: http.Agent,
  req: GatewayRequest,
  res: ServerResponse,
  body: Buffer | undefined,
): void {
  const path = upstreamPathFor(config, req.url ?? '/');
  if (path === undefined) {
    answerError(res, 404, body);
    return;
  }
  const { upstream } = config;
  const headers = upstreamRequestHeaders(req.headers, {
    upstreamHost: upstream.host,
    forwarded: forwardedFor(config, req),
    auth: config.identityHeaders ? req.auth : undefined,
  });
  // A stream someone else already drained has nothing left to send: say so, rather than
  // forward a Content-Length the upstream would wait for forever.
  const sent = body ?? (req.readableEnded ? Buffer.alloc(0) : undefined);
  if (sent !== undefined && (sent.length > 0 || headers['content-length'] !== undefined)) {
    headers['content-length'] = String(sent.length);
  }

  const secure = upstream.protocol === 'https:';
  const upstreamReq = (secure ? https : http).request({
    protocol: upstream.protocol,
    // URL keeps IPv6 literals bracketed; the socket layer wants them bare.
    hostname: upstream.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: upstream.port === '' ? undefined : Number(upstream.port),
    method: req.method ?? 'GET',
    path,
    headers,
    agent,
  });

  let clientGone = false;
  const connectTimer = setTimeout(() => upstreamReq.destroy(new Error('upstream connect timeout')), config.connectTimeoutMs);
  upstreamReq.once('socket', (socket: Socket) => {
    socket.setNoDelay(true);
    socket.setTimeout(0);
    if (!socket.connecting) clearTimeout(connectTimer);
    else socket.once(secure ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
  });

  res.once('close', () => {
    if (res.writableFinished) return;
    // The client left before the response completed: stop the upstream work too.
    clientGone = true;
    clearTimeout(connectTimer);
    upstreamReq.destroy();
  });

  upstreamReq.on('error', () => {
    // Cause deliberately not surfaced: addresses and stack details stay inside.
    clearTimeout(connectTimer);
    // A failed exchange must not leave its socket half-open or back in the keep-alive pool.
    upstreamReq.destroy();
    if (clientGone) return;
    if (!res.headersSent) answerError(res, 502, body);
    else res.destroy();
  });

  upstreamReq.once('response', (upstreamRes) => {
    clearTimeout(connectTimer);
    if (clientGone) {
      upstreamRes.destroy();
      return;
    }
    try {
      res.writeHead(upstreamRes.statusCode ?? 502, clientResponseHeaders(upstreamRes.headers));
      res.flushHeaders();
    } catch {
      // Node refused the upstream's status line or headers: treat the upstream as broken.
      upstreamRes.destroy();
      upstreamReq.destroy();
      answerError(res, 502, body);
      return;
    }
    const socket = res.socket;
    if (socket !== null) {
      socket.setNoDelay(true);
      // An SSE stream may be silent for minutes; an idle timeout would cut it.
      if (isEventStream(upstreamRes.headers['content-type'])) socket.setTimeout(0);
    }
    // pipeline destroys the other side on failure: upstream reset → client response
    // destroyed; client reset → upstream response destroyed.
    pipeline(upstreamRes, res, (err) => {
      if (err) upstreamReq.destroy();
    });
  });

  if (sent !== undefined) {
    upstreamReq.end(sent);
  } else {
    req.on('error', () => upstreamReq.destroy());
    req.pipe(upstreamReq);
  }
}

function forwardedFor(config: ResolvedGatewayOptions, req: IncomingMessage): ForwardedFor {
  const remoteAddress = req.socket.remoteAddress;
  if (config.publicOrigin !== undefined) return { ...config.publicOrigin, remoteAddress };
  const encrypted = (req.socket as Partial<TLSSocket>).encrypted === true;
  return { proto: encrypted ? 'https' : 'http', host: req.headers.host, remoteAddress };
}

function isEventStream(contentType: string | undefined): boolean {
  return contentType?.split(';')[0]?.trim().toLowerCase() === 'text/event-stream';
}

const ERROR_MESSAGES: Readonly<Record<number, string>> = {
  404: 'not found',
  502: 'upstream MCP server unreachable',
};

/** A JSON-RPC error body, so MCP clients show the failure; carries the request's id if it had one. */
function answerError(res: ServerResponse, status: 404 | 502, body: Buffer | undefined): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  // Drop anything a failed upstream writeHead left behind (e.g. its Set-Cookie).
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  const code = status === 502 ? -32603 : -32000;
  const payload = JSON.stringify({
    jsonrpc: '2.0',
    id: jsonRpcId(body),
    error: { code, message: ERROR_MESSAGES[status] ?? 'error' },
  });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
  });
  res.end(payload);
}

function jsonRpcId(body: Buffer | undefined): string | number | null {
  if (body === undefined || body.length === 0) return null;
  try {
    const message: unknown = JSON.parse(body.toString('utf8'));
    if (typeof message === 'object' && message !== null && !Array.isArray(message)) {
      const id = (message as { id?: unknown }).id;
      if (typeof id === 'string' || typeof id === 'number') return id;
    }
  } catch {
    // Not JSON: the error goes out with id null, as JSON-RPC prescribes.
  }
  return null;
}
