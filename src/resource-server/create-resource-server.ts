import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MiddlewareHandler } from 'hono';
import { ResourceServerCore } from './core.js';
import { expressAdapter, type ExpressLikeRequest, type NextFunction } from './adapters/express.js';
import { honoAdapter, type WardenHonoEnv } from './adapters/hono.js';
import { metadataHandler, nodeAdapter, type AuthenticatedHandler } from './adapters/node.js';
import { webAdapter } from './adapters/web.js';
import type { ProtectedResourceMetadata } from './metadata.js';
import { resolveOptions } from './options.js';
import type { DpopMode, RequestCheck, ResourceServerOptions, VerifyRequest, VerifyResult, WardenAuthInfo } from './types.js';

/** A protected MCP resource: the gauntlet plus thin framework adapters. */
export interface ResourceServer {
  /** Canonical URI of the resource (the `aud` tokens must carry). */
  readonly resource: string;
  readonly dpop: DpopMode;
  /** Absolute URL of the RFC 9728 metadata (path-inserted form), as sent in `resource_metadata`. */
  readonly metadataUrl: string;
  /** Paths at which the metadata is served: path-inserted and root well-known. */
  readonly metadataPaths: readonly string[];
  /** The extra checks it runs before the replay claim (`checks` of the options). */
  readonly checks: readonly RequestCheck[];
  /** Runs the full gauntlet on one request; never throws. */
  verify(request: VerifyRequest): Promise<VerifyResult>;
  /** The RFC 9728 protected resource metadata document. */
  metadata(): ProtectedResourceMetadata;
  /** node:http handler for the metadata document. */
  metadataHandler(): (req: IncomingMessage, res: ServerResponse) => void;
  /** node:http listener that authenticates, then calls `handler` (serves metadata too). */
  node(handler: AuthenticatedHandler): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  /** Express middleware; sets `req.auth`. */
  express(): (req: ExpressLikeRequest, res: ServerResponse, next: NextFunction) => Promise<void>;
  /** Hono middleware; sets `c.get('auth')`. */
  hono(): MiddlewareHandler<WardenHonoEnv>;
  /** Web `Request` gate: resolves to auth info or the `Response` to send (MCP SDK v2 shape). */
  web(): (request: Request) => Promise<WardenAuthInfo | Response>;
  /** Closes what the resource server created itself (its default replay store, remote key source). */
  close(): Promise<void>;
}

/**
 * Creates a resource server. Options are validated here, so a misconfiguration fails at start
 * with a message that says what to change.
 *
 * @example
 * const rs = createResourceServer({
 *   resource: 'https://mcp.example.com/mcp',
 *   trust: { issuer: 'https://auth.example.com', jwksUri: 'https://auth.example.com/jwks' },
 *   dpop: 'required',
 *   scopes: { default: ['mcp:tools'], tools: { admin_reset: ['mcp:admin'] } },
 * });
 * app.use('/mcp', rs.express());
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7
 * @see https://www.rfc-editor.org/rfc/rfc9728
 */
export function createResourceServer(options: ResourceServerOptions): ResourceServer {
  const resolved = resolveOptions(options);
  const core = new ResourceServerCore(resolved);
  return Object.freeze({
    resource: resolved.resource,
    dpop: resolved.dpop,
    metadataUrl: resolved.metadataUrl,
    metadataPaths: Object.freeze([...resolved.metadataPaths]),
    checks: resolved.checks,
    verify: (request: VerifyRequest) => core.verify(request),
    metadata: () => core.metadata(),
    metadataHandler: () => metadataHandler(core),
    node: (handler: AuthenticatedHandler) => nodeAdapter(core, handler),
    express: () => expressAdapter(core),
    hono: () => honoAdapter(core),
    web: () => webAdapter(core),
    async close() {
      resolved.keys?.close?.();
      if (resolved.ownsReplayStore) await resolved.replayStore.close();
    },
  });
}
