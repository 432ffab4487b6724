/**
 * One configured resource, mounted: the resource-server gauntlet in front of the built-in demo
 * MCP server or a gateway proxy to an upstream.
 */
import type { ResourceConfig, WardenConfig } from '../config/defaults.js';
import type { KeySource } from '../jose/key-source.js';
import { createDemoMcpHandler } from './demo/index.js';
import { createGatewayHandler, createGatewayProxy, createUpstreamTokenSource, type UpstreamMintRequest } from '../gateway/index.js';
import { createResourceServer, type ResourceServer, type ResourceServerOptions } from '../resource-server/index.js';
import type { TrustOptions } from '../resource-server/types.js';
import type { RateLimitStore, ReplayStore, RevocationList, SessionStore } from '../stores/index.js';
import { createRateLimitCheck } from '../resource-server/rate-limit/rate-limit-check.js';
import type { RequestCheck } from '../resource-server/types.js';
import { isOwnResource, scopePolicyOf } from './own-resources.js';
import { StackStartError } from './errors.js';
import type { Route } from './router.js';
import type { AuthorizationDecision, DecisionListener } from '../oauth/authorization-decision.js';

/** The stack's own authorization server, as its resources see it: keys in process, deny-list. */
export interface OwnIssuer {
  keySource: KeySource;
  revocation: RevocationList;
  /** Token exchange for a gateway's upstream (`upstreamAuth: token`), in process. */
  exchange?: (request: UpstreamMintRequest) => Promise<{ accessToken: string; expiresAt: number }>;
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
export function resourceServerOptions(
  config: WardenConfig,
  resource: ResourceConfig,
  own: OwnIssuer | undefined,
  replayStore: ReplayStore,
  onDecision?: DecisionListener,
): ResourceServerOptions {
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
    // htu is built from the server's own origin: publicUrl's, or a host-routed server's URL.
    publicBaseUrl: resource.host === undefined ? config.publicOrigin : new URL(resource.canonicalUri).origin,
    resourceName: resource.name,
    ...(onDecision ? { onDecision } : {}),
  };
}

/** Creates the resource server and upstream handler (demo or gateway) of one resource. */
export function mountResource(
  config: WardenConfig,
  resource: ResourceConfig,
  own: OwnIssuer | undefined,
  stores: { replay: ReplayStore; sessions: SessionStore; rateLimits?: RateLimitStore },
  onDecision?: (decision: AuthorizationDecision, server: string) => void,
): MountedResource {
  const options = resourceServerOptions(config, resource, own, stores.replay, onDecision && ((decision) => onDecision(decision, resource.name)));
  const limits = rateLimitChecks(resource, stores.rateLimits);
  if (resource.upstream === 'builtin:demo') {
    const rs = createResourceServer({ ...options, checks: limits });
    return mounted(resource, rs, rs.node(createDemoMcpHandler()), () => {});
  }
  // Gateway: the forwarding checks run before the gauntlet, the gauntlet authorizes exactly the
  // parse that is forwarded, and session ownership is checked before the replay claim.
  const upstreamAuth = resource.upstreamAuth;
  let upstreamToken;
  if (upstreamAuth?.kind === 'token') {
    if (own?.exchange === undefined || !isOwnResource(config, resource)) {
      throw new StackStartError(`resource "${resource.name}": upstreamAuth kind token needs this stack's authorization server and a resource that trusts it (no other trust)`);
    }
    upstreamToken = createUpstreamTokenSource({
      audience: upstreamAuth.audience,
      actor: resource.canonicalUri,
      lifetimeSeconds: upstreamAuth.tokenLifetimeSeconds,
      ...(options.scopes ? { scopes: options.scopes } : {}),
      mint: own.exchange,
    });
  }
  const proxy = createGatewayProxy({
    upstream: resource.upstream,
    mountPath: resource.routePath,
    publicBaseUrl: resource.host === undefined ? config.publicOrigin : new URL(resource.canonicalUri).origin,
    sessions: stores.sessions,
    forwardHeaders: resource.forwardHeaders,
    // Only `headers` (unset: see resolveResource) vouches with X-Warden-*; a token or nothing replaces them.
    identityHeaders: upstreamAuth === undefined || upstreamAuth.kind === 'headers',
  });
  const rs = createResourceServer({ ...options, checks: [...(proxy.sessionCheck ? [proxy.sessionCheck] : []), ...limits] });
  return mounted(resource, rs, createGatewayHandler(rs, proxy, upstreamToken ? { upstreamToken } : {}), () => proxy.close());
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
    ...(resource.host === undefined ? {} : { host: resource.host.toLowerCase() }),
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
