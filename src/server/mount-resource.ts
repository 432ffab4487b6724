/**
 * One configured resource, mounted: the resource-server gauntlet in front of the built-in demo
 * MCP server or a gateway proxy to an upstream.
 */
import type { ServerResponse } from 'node:http';
import type { ResourceConfig, WardenConfig } from '../config/defaults.js';
import { createDemoMcpHandler, demoScopePolicy } from '../demo/index.js';
import { issuerJwks, type DevIssuerKey } from '../dev-issuer/index.js';
import { createGatewayProxy } from '../gateway/index.js';
import { createResourceServer, type AuthenticatedRequest, type ResourceServer, type ResourceServerOptions } from '../resource-server/index.js';
import type { ReplayStore } from '../stores/index.js';
import type { Route } from './router.js';

/** A resource ready to route: its resource server, request handler and metadata handler. */
export interface MountedResource extends Route {
  rs: ResourceServer;
  /** Closes the upstream connection pool and what the resource server owns. */
  close(): Promise<void>;
}

function isBuiltinDemo(resource: ResourceConfig): boolean {
  return resource.upstream === 'builtin:demo';
}

/**
 * Resource-server options for one configured resource: its canonical URI, the configured trust or
 * else this stack's development issuer (local keys, no HTTP round-trip), the shared replay store,
 * and `htu` built from the configured public origin.
 */
export function resourceServerOptions(config: WardenConfig, resource: ResourceConfig, key: DevIssuerKey, replayStore: ReplayStore): ResourceServerOptions {
  const trust = resource.trust ?? { issuer: config.issuer, jwks: issuerJwks(key), algorithms: ['ES256'] as const };
  const scopes = resource.scopes ?? (isBuiltinDemo(resource) ? demoScopePolicy : undefined);
  return {
    resource: resource.canonicalUri,
    // Clients are sent to the issuer whose tokens this resource accepts.
    authorizationServers: [trust.issuer],
    trust,
    dpop: resource.dpop,
    ...(scopes ? { scopes } : {}),
    ...(config.nonce ? { nonce: { secret: config.nonce.secret, required: config.nonce.required } } : {}),
    replayStore,
    publicBaseUrl: config.publicOrigin,
    resourceName: resource.name,
  };
}

/** Creates the resource server and upstream handler (demo or gateway) of one resource. */
export function mountResource(config: WardenConfig, resource: ResourceConfig, key: DevIssuerKey, replayStore: ReplayStore): MountedResource {
  const rs = createResourceServer(resourceServerOptions(config, resource, key, replayStore));
  let handler: (req: AuthenticatedRequest, res: ServerResponse) => unknown;
  let closeUpstream = () => {};
  if (isBuiltinDemo(resource)) {
    handler = createDemoMcpHandler();
  } else {
    const proxy = createGatewayProxy({ upstream: resource.upstream, mountPath: resource.routePath, publicBaseUrl: config.publicOrigin });
    // The gauntlet already read the body; hand it on rather than re-reading a drained stream.
    handler = (req, res) => proxy(req, res, req.rawBody);
    closeUpstream = () => proxy.close();
  }
  return {
    name: resource.name,
    routePath: resource.routePath,
    metadataPaths: rs.metadataPaths,
    metadata: rs.metadataHandler(),
    handle: rs.node(handler),
    rs,
    async close() {
      closeUpstream();
      await rs.close();
    },
  };
}
