/**
 * Gateway mode: Warden authenticates the request, then this proxies MCP Streamable HTTP to an
 * upstream MCP server written in any language — forwarding only what was authorized, in a form
 * every parser reads the same way (see {@link ./prepare-forward.ts}): a rebuilt body, a checked
 * path, headers Warden chose, and sessions bound to the principal that opened them.
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
import { pipeline, type Transform } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { MessageRefusedError, RPC_CODES } from '../mcp/message-refused-error.js';
import { errorAnswer, toWireError } from '../oauth/error-response.js';
import { noteReason } from '../oauth/response-reason.js';
import { requestContextOf } from '../oauth/request-context.js';
import { BadGatewayError, RateLimitedError } from '../oauth/errors.js';
import { readStream, BodyLimitError } from '../oauth/read-stream.js';
import { SessionLimitError } from '../stores/contracts.js';
import { headerValues } from '../resource-server/read-credentials.js';
import type { RequestCheck, WardenAuthInfo } from '../resource-server/types.js';
import { clientResponseHeaders, upstreamRequestHeaders, type ForwardedFor } from './forward-headers.js';
import { resolveGatewayOptions, type GatewayProxyOptions, type ResolvedGatewayOptions } from './options.js';
import { distinctHeaders, legacyTokenOf, prepareForward, type ForwardPlan } from './prepare-forward.js';
import { LEGACY_TOKEN_PARAM, SessionBinding } from './session-binding.js';
import { rewriteEndpointEvent } from './sse-endpoint.js';
import { toolsListFilter } from '../resource-server/policy/filter-tools-list.js';

/**
 * A request as the resource-server layer hands it over: authenticated, `auth` attached, and
 * `toolVisible` (the gauntlet's `VerifyResult.toolVisible`) when `tools/list` answers are to be filtered.
 */
export type GatewayRequest = IncomingMessage & {
  auth?: WardenAuthInfo;
  toolVisible?: (name: string) => boolean;
  /** `Authorization` for the upstream (`upstreamAuth: token`): a token minted for it, never the client's. */
  upstreamAuthorization?: string;
};

/** The handler {@link createGatewayProxy} returns. Never throws; answers every failure itself. */
export interface GatewayProxy {
  /**
   * Checks and proxies one authenticated request (`req.auth`): {@link GatewayProxy.prepare}, the
   * session owner when sessions are bound, then {@link GatewayProxy.forward}. `body` is the
   * request body when the auth layer already read it; without it the body is read here (capped).
   */
  (req: GatewayRequest, res: ServerResponse, body?: Buffer): void;
  /**
   * The forwarding checks alone, before authentication, so a request that cannot be forwarded is
   * refused without consuming a DPoP proof: pass `plan.json` to the resource server's `verify`.
   *
   * @throws {MessageRefusedError} with the status and JSON-RPC code to answer.
   */
  prepare(req: IncomingMessage, body: Buffer): ForwardPlan;
  /**
   * A resource-server check (`checks` of `createResourceServer`) that refuses a session id bound
   * to another principal with 404, before the replay claim. Undefined without `sessions`.
   */
  readonly sessionCheck: RequestCheck | undefined;
  /** Sends a prepared, authorized request upstream and streams the answer back. */
  forward(req: GatewayRequest, res: ServerResponse, plan: ForwardPlan): void;
  /** Closes pooled upstream connections (graceful shutdown). In-flight requests are aborted. */
  close(): void;
}

/**
 * Creates a Streamable HTTP reverse proxy to one upstream MCP endpoint. Options are validated
 * here, so a misconfiguration throws at start-up rather than on the first request.
 *
 * Upstream requests never carry the client's `Authorization` or `DPoP` header (no token
 * passthrough), nor any client-sent identity, forwarding or method-override header; when
 * `identityHeaders` is on they carry Warden's trusted `X-Warden-Client-Id`, `X-Warden-Subject`,
 * `X-Warden-Scopes`, `X-Warden-Jkt`.
 *
 * @throws TypeError when an option is invalid.
 */
export function createGatewayProxy(options: GatewayProxyOptions): GatewayProxy {
  const config = resolveGatewayOptions(options);
  const secure = config.upstream.protocol === 'https:';
  // Keep-alive saves a handshake per MCP request; SSE streams simply hold their socket.
  const agent = secure ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  const sessions = config.sessions === undefined ? undefined : new SessionBinding(config.sessions, config.upstream.href, config.sessionIdleSeconds);
  const mount = { mountPath: config.mountPath, upstream: config.upstream };

  const prepare = (req: IncomingMessage, body: Buffer): ForwardPlan =>
    prepareForward({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headersDistinct ?? distinctHeaders(req.headers), body }, mount);

  const forward = (req: GatewayRequest, res: ServerResponse, plan: ForwardPlan): void => {
    void (async () => {
      let path = plan.path;
      if (sessions !== undefined && plan.legacyToken !== undefined) {
        // A legacy HTTP+SSE POST: to the upstream endpoint behind the token, for its owner only.
        try {
          path = await sessions.legacyEndpoint(req.auth, plan.legacyToken);
        } catch (error) {
          return answerFailure(res, error, plan);
        }
      }
      try {
        send(config, agent, sessions, req, res, plan, path);
      } catch {
        // E.g. a header value node refuses to send: answer, never crash the server.
        answerFailure(res, new BadGatewayError(), plan);
      }
    })();
  };

  const sessionCheck: RequestCheck | undefined =
    sessions === undefined
      ? undefined
      : async ({ auth, request }) => {
          const sessionId = headerValues(request.headers, 'mcp-session-id')[0];
          if (sessionId !== undefined) await sessions.requireOwner(auth, sessionId);
          const token = legacyTokenOf(request.url);
          if (token !== undefined) await sessions.legacyEndpoint(auth, token);
        };

  const proxy = ((req: GatewayRequest, res: ServerResponse, body?: Buffer): void => {
    void (async () => {
      let plan: ForwardPlan | undefined;
      try {
        const raw = body ?? (await readStream(req, config.maxBodyBytes));
        plan = prepare(req, raw);
        if (sessions !== undefined && plan.sessionId !== undefined) await sessions.requireOwner(req.auth, plan.sessionId);
      } catch (error) {
        if (error instanceof BodyLimitError) return answerFailure(res, new MessageRefusedError(413, RPC_CODES.invalidRequest, `request body exceeds ${config.maxBodyBytes} bytes`), plan);
        // A refusal, or the session store could not answer (fail closed).
        return answerFailure(res, error, plan);
      }
      forward(req, res, plan);
    })();
  }) as GatewayProxy;
  proxy.prepare = prepare;
  proxy.forward = forward;
  (proxy as { sessionCheck: RequestCheck | undefined }).sessionCheck = sessionCheck;
  proxy.close = () => agent.destroy();
  return proxy;
}

function send(
  config: ResolvedGatewayOptions,
  agent: http.Agent,
  sessions: SessionBinding | undefined,
  req: GatewayRequest,
  res: ServerResponse,
  plan: ForwardPlan,
  path: string,
): void {
  const { upstream } = config;
  const headers = upstreamRequestHeaders(req.headers, {
    upstreamHost: upstream.host,
    forwarded: forwardedFor(config, req),
    auth: config.identityHeaders ? req.auth : undefined,
    set: plan.headers,
    allow: config.forwardHeaders,
  });
  headers['content-length'] = String(plan.body?.length ?? 0);
  // W3C Trace Context: when Warden traces the request, its span is the upstream's parent.
  const context = requestContextOf(req);
  const trace = context.trace;
  if (trace !== undefined) headers['traceparent'] = trace.traceparent;
  // The id the request is recorded under, not one the client chose (an echoing upstream answers it back).
  if (context.requestId !== undefined) headers['x-request-id'] = context.requestId;
  if (req.upstreamAuthorization !== undefined) headers['authorization'] = req.upstreamAuthorization;

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
    if (!res.headersSent) answerFailure(res, new BadGatewayError(), plan);
    else res.destroy();
  });

  upstreamReq.once('response', (upstreamRes) => {
    clearTimeout(connectTimer);
    void (async () => {
      const status = upstreamRes.statusCode ?? 502;
      if (sessions !== undefined) {
        try {
          if (!(await trackSession(sessions, req, plan, status, upstreamRes.headers['mcp-session-id']))) {
            // The upstream handed out an id someone else holds: it must not reach this caller.
            upstreamRes.destroy();
            upstreamReq.destroy();
            if (!clientGone) answerFailure(res, new BadGatewayError('the upstream MCP server issued a session id that belongs to another session'), plan);
            return;
          }
        } catch (error) {
          upstreamRes.destroy();
          upstreamReq.destroy();
          if (clientGone) return;
          answerFailure(res, error instanceof SessionLimitError ? new RateLimitedError('too many open sessions for this caller: close some (DELETE) or let them expire', { retryAfterSeconds: 60 }) : error, plan);
          return;
        }
      }
      if (clientGone) {
        upstreamRes.destroy();
        return;
      }
      // tools/list answers show only the tools this caller may call (filter-tools-list.ts).
      const filter = req.toolVisible === undefined ? undefined : toolsListFilter(req.toolVisible, plan.messages, status, upstreamRes.headers);
      if (filter === 'unreadable') {
        upstreamRes.destroy();
        upstreamReq.destroy();
        return answerFailure(res, new BadGatewayError('the upstream answered tools/list in a form Warden cannot filter'), plan);
      }
      // A legacy HTTP+SSE stream announces its session in an endpoint event: the client gets Warden's token instead.
      const legacyStream = sessions !== undefined && req.method === 'GET' && status === 200 && isEventStream(upstreamRes.headers['content-type']);
      relay(res, upstreamReq, upstreamRes, status, plan, legacyStream ? (data) => openLegacySession(config, sessions, req, res, data) : undefined, filter);
    })();
  });

  upstreamReq.end(plan.body);
}

/**
 * Binds a session id the upstream issued (before the client can see it) and forgets one that
 * ended. Resolves false when the issued id belongs to another principal.
 */
async function trackSession(
  sessions: SessionBinding,
  req: GatewayRequest,
  plan: ForwardPlan,
  status: number,
  issued: string | string[] | undefined,
): Promise<boolean> {
  if (plan.sessionId !== undefined && (status === 404 || (req.method === 'DELETE' && status >= 200 && status < 300))) {
    await sessions.forget(plan.sessionId);
    return true;
  }
  if (typeof issued === 'string' && issued !== plan.sessionId && status < 400) return sessions.bind(req.auth, issued);
  return true;
}

function relay(
  res: ServerResponse,
  upstreamReq: http.ClientRequest,
  upstreamRes: IncomingMessage,
  status: number,
  plan: ForwardPlan,
  onEndpoint: ((data: string) => Promise<string>) | undefined,
  filter?: Transform,
): void {
  try {
    const headers = clientResponseHeaders(upstreamRes.headers);
    // A filtered body has another length.
    if (filter !== undefined) delete headers['content-length'];
    res.writeHead(status, headers);
    res.flushHeaders();
  } catch {
    // Node refused the upstream's status line or headers: treat the upstream as broken.
    upstreamRes.destroy();
    upstreamReq.destroy();
    answerFailure(res, new BadGatewayError(), plan);
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
  const done = (err: NodeJS.ErrnoException | null): void => {
    if (err) upstreamReq.destroy();
  };
  if (filter !== undefined) pipeline(upstreamRes, filter, res, done);
  else if (onEndpoint === undefined) pipeline(upstreamRes, res, done);
  else pipeline(upstreamRes, rewriteEndpointEvent(onEndpoint), res, done);
}

/**
 * Binds the upstream endpoint a legacy stream announced to a fresh token for the stream's opener,
 * keeps the binding alive while the stream is open and forgets it when it closes; resolves to the
 * endpoint to announce instead: the mount, with the token.
 */
async function openLegacySession(config: ResolvedGatewayOptions, sessions: SessionBinding, req: GatewayRequest, res: ServerResponse, data: string): Promise<string> {
  let endpoint: URL;
  try {
    endpoint = new URL(data, config.upstream);
  } catch {
    throw new Error('the upstream announced an endpoint that is not a URL');
  }
  if (endpoint.origin !== config.upstream.origin) throw new Error('the upstream announced an endpoint on another origin');
  const token = await sessions.openLegacy(req.auth, endpoint.pathname + endpoint.search);
  const keepAlive = setInterval(() => void sessions.touchLegacy(token).catch(() => undefined), sessions.keepAliveSeconds * 1000);
  keepAlive.unref();
  res.once('close', () => {
    clearInterval(keepAlive);
    void sessions.closeLegacy(token).catch(() => undefined);
  });
  return `${config.mountPath}?${LEGACY_TOKEN_PARAM}=${token}`;
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

/** The id to answer with: the request's, when the body was one request Warden read. */
function answerId(plan: ForwardPlan | undefined): string | number | null {
  const only = plan !== undefined && !plan.batch && plan.messages.length === 1 ? plan.messages[0] : undefined;
  return only?.kind === 'request' ? only.id : null;
}

/**
 * Answers a failure through the one error path, as a JSON-RPC error (MCP clients show it) with
 * the request's id when the body was one request. Anything that is not a wire error is a store
 * that could not answer (503, fail closed).
 */
export function answerFailure(res: ServerResponse, error: unknown, plan?: ForwardPlan): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  // Drop anything a failed upstream writeHead left behind (e.g. its Set-Cookie).
  for (const name of res.getHeaderNames()) if (name !== 'x-request-id') res.removeHeader(name);
  const wire = toWireError(error, 'fail-closed');
  noteReason(res, wire.code);
  const answer = errorAnswer(wire, { jsonRpc: { id: answerId(plan) } });
  res.writeHead(answer.status, { ...answer.headers, 'Content-Length': Buffer.byteLength(answer.body) });
  res.end(answer.body);
}
