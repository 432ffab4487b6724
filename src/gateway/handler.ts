/**
 * A resource server and a gateway proxy as one node:http handler, in the order that keeps every
 * promise of both: the forwarding checks first (a request that cannot be forwarded is refused
 * before any proof is consumed), then the full gauntlet on exactly the parse that will be
 * forwarded (with the session-owner check before the replay claim), then the upstream.
 */
import { DEFAULTS } from '../oauth/defaults.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MessageRefusedError, RPC_CODES } from '../mcp/message-refused-error.js';
import { BodyLimitError, readStream } from '../oauth/read-stream.js';
import type { ResourceServer } from '../resource-server/create-resource-server.js';
import { requestPath } from '../oauth/request-path.js';
import { noteReason } from '../oauth/response-reason.js';
import { requestContextOf } from '../oauth/request-context.js';
import { answerFailure, type GatewayProxy, type GatewayRequest } from './proxy.js';
import type { UpstreamTokenSource } from './upstream-token.js';

/** Options of {@link createGatewayHandler}. */
export interface GatewayHandlerOptions {
  /** Largest request body read. Default 4 MiB. */
  maxBodyBytes?: number;
  /**
   * `upstreamAuth: token`: the upstream's `Authorization` for an authorized request (see
   * `upstream-token.ts`). A refusal (a revoked grant) answers as the error says; a store outage 503.
   */
  upstreamToken?: UpstreamTokenSource;
}

/**
 * Protects `proxy` with `rs`. When the proxy binds sessions, `rs` must be created with
 * `checks: [proxy.sessionCheck]` — so another principal's session id is refused, before the DPoP
 * replay claim — else this throws at set-up.
 *
 * @throws TypeError when the proxy binds sessions and `rs` does not check them.
 */
export function createGatewayHandler(rs: ResourceServer, proxy: GatewayProxy, options: GatewayHandlerOptions = {}): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULTS.limits.maxBodyBytes;
  if (proxy.sessionCheck !== undefined && !rs.checks.includes(proxy.sessionCheck)) {
    // Sessions would be bound on responses but never checked on requests: refuse to start.
    throw new TypeError('createGatewayHandler: the proxy binds sessions, so create the resource server with checks: [proxy.sessionCheck]');
  }
  const metadataPaths = new Set(rs.metadataPaths);
  const metadata = rs.metadataHandler();
  return async (req, res) => {
    if (metadataPaths.has(requestPath(req.url ?? '/'))) return metadata(req, res);
    let raw: Buffer;
    try {
      raw = await readStream(req, maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyLimitError) {
        return answerFailure(res, new MessageRefusedError(413, RPC_CODES.invalidRequest, `request body exceeds ${maxBodyBytes} bytes`, { headers: { Connection: 'close' } }));
      }
      res.destroy();
      return;
    }
    let plan;
    try {
      plan = proxy.prepare(req, raw);
    } catch (error) {
      if (error instanceof MessageRefusedError) return answerFailure(res, error);
      throw error;
    }
    const result = await rs.verify({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headersDistinct, body: plan.json, context: requestContextOf(req) });
    if (!result.ok) {
      noteReason(res, result.error);
      res.writeHead(result.status, { ...result.headers, 'Content-Length': Buffer.byteLength(result.body) });
      res.end(result.body);
      return;
    }
    for (const [name, value] of Object.entries(result.headers)) res.setHeader(name, value);
    (req as GatewayRequest).auth = result.auth;
    if (result.toolVisible !== undefined) (req as GatewayRequest).toolVisible = result.toolVisible;
    if (options.upstreamToken !== undefined) {
      try {
        (req as GatewayRequest).upstreamAuthorization = await options.upstreamToken(result.auth, plan.json);
      } catch (error) {
        return answerFailure(res, error, plan);
      }
    }
    proxy.forward(req, res, plan);
  };
}
