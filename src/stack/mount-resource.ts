/**
 * One configured resource, mounted: the resource-server gauntlet in front of the built-in demo
 * MCP server or a gateway proxy to an upstream.
 */
import type { ResourceConfig, WardenConfig } from '../config/defaults.js';
import type { KeySource } from '../jose/key-source.js';
import { createDemoMcpHandler } from './demo/index.js';
import { createGatewayHandler, createGatewayProxy } from '../gateway/index.js';
import { createResourceServer, type ResourceServer, type ResourceServerOptions } from '../resource-server/index.js';
import type { TrustOptions } from '../resource-server/types.js';
import type { RateLimitStore, ReplayStore, RevocationList, SessionStore } from '../stores/index.js';
import { createRateLimitCheck } from '../resource-server/rate-limit/rate-limit-check.js';
import type { RequestCheck } from '../resource-server/types.js';
import { isOwnResource, scopePolicyOf } from './own-resources.js';
import { StackStartError } from './errors.js';
import type { Route } from './router.js';

/** The stack's own authorization server, as its resources see it: keys in process, deny-list. */
export interface OwnIssuer {
  keySource: KeySource;
  revocation: RevocationList;
}

/** A resource ready to route: its resource server, request handler and metadata handler. */
export interface MountedResource extends Route {
  rs: ResourceServer;
  /** Closes the upstream connection pool and what the resource server owns. */
  close(): Promise<void>;
}

/**
 * Resource-server options for one configured resource: its canonical URI, the configured trust or
 * else this stack's authorization server (keys read in process, no HTTP round trip; its deny-list
 * of revoked tokens), the shared replay store, and `htu` built from the configured public origin.
 *
 * @throws {StackStartError} when the resource has no `trust` and the stack has no authorization server.
 */
export function resourceServerOptions(config: WardenConfig, resource: ResourceConfig, own: OwnIssuer | undefined, replayStore: ReplayStore): ResourceServerOptions {
  let trust: TrustOptions;
  if (resource.trust !== undefined) trust = resource.trust;
  else if (own !== undefined) trust = { issuer: config.issuer, keySource: own.keySource };
  else {
    throw new StackStartError(
      `resource "${resource.name}" has no trust and the authorization server is disabled: add trust (the issuer whose tokens it accepts) to resources[${config.resources.indexOf(resource)}], or enable the authorization server (authorizationServer.enabled: true)`,
    );
  }
  const scopes = scopePolicyOf(resource);
  const revocation = own !== undefined && isOwnResource(config, resource) ? own.revocation : undefined;
  return {
    resource: resource.canonicalUri,
    // Clients are sent to the issuer whose tokens this resource accepts.
    authorizationServers: [trust.issuer],
    trust,
    dpop: resource.dpop,
    clockSkewSeconds: config.clockSkewSeconds,
    ...(scopes ? { scopes } : {}),
    ...(resource.policy ? { policy: resource.policy } : {}),
    ...(revocation ? { revocation } : {}),
    ...(config.nonce ? { nonce: { secret: config.nonce.secret, required: config.nonce.required } } : {}),
    replayStore,
    publicBaseUrl: config.publicOrigin,
    resourceName: resource.name,
  };
}

/** Creates the resource server and upstream handler (demo or gateway) of one resource. */
export function mountResource(
  config: WardenConfig,
  resource: ResourceConfig,
  own: OwnIssuer | undefined,
  stores: { replay: ReplayStore; sessions: SessionStore; rateLimits?: RateLimitStore },
): MountedResource {
  const options = resourceServerOptions(config, resource, own, stores.replay);
  const limits = rateLimitChecks(resource, stores.rateLimits);
  if (resource.upstream === 'builtin:demo') {
    const rs = createResourceServer({ ...options, checks: limits });
    return mounted(resource, rs, rs.node(createDemoMcpHandler()), () => {});
  }
  // Gateway: the forwarding checks run before the gauntlet, the gauntlet authorizes exactly the
  // parse that is forwarded, and session ownership is checked before the replay claim.
  const proxy = createGatewayProxy({
    upstream: resource.upstream,
    mountPath: resource.routePath,
    publicBaseUrl: config.publicOrigin,
    sessions: stores.sessions,
    forwardHeaders: resource.forwardHeaders,
  });
  const rs = createResourceServer({ ...options, checks: [...(proxy.sessionCheck ? [proxy.sessionCheck] : []), ...limits] });
  return mounted(resource, rs, createGatewayHandler(rs, proxy), () => proxy.close());
}

/** The resource's rate limits as a check (after scopes and policy, before the replay claim). */
function rateLimitChecks(resource: ResourceConfig, store: RateLimitStore | undefined): RequestCheck[] {
  if (resource.rateLimit === undefined) return [];
  if (store === undefined) throw new StackStartError(`resource "${resource.name}" has a rateLimit but the stack opened no rate-limit store`);
  return [createRateLimitCheck({ store, scope: resource.canonicalUri, ...resource.rateLimit })];
}

function mounted(resource: ResourceConfig, rs: ResourceServer, handle: MountedResource['handle'], closeUpstream: () => void): MountedResource {
  return {
    name: resource.name,
    routePath: resource.routePath,
    metadataPaths: rs.metadataPaths,
    metadata: rs.metadataHandler(),
    handle,
    rs,
    async close() {
      closeUpstream();
      await rs.close();
    },
  };
}
