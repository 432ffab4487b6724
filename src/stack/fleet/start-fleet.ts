/**
 * The fleet part of a starting stack: the registry store (when the stack runs its authorization
 * server, whose storage it shares), the admin API (when `admin.clients` is set), and the
 * {@link ServerRegistry} that mounts every server and keeps the authorization server's resource
 * registry (RFC 8707) in step with it.
 */
import type { ResourceConfig, WardenConfig } from '../../config/defaults.js';
import type { AuthorizationServer } from '../../authorization-server/create-authorization-server.js';
import type { RegisteredResource } from '../../authorization-server/resource-registry.js';
import type { Logger } from '../../observability/logger.js';
import type { AuthorizationDecision } from '../../oauth/authorization-decision.js';
import type { AuditEvent } from '../../authorization-server/options.js';
import { DEFAULTS } from '../../oauth/defaults.js';
import type { RateLimitStore, RegistryStore, ReplayStore, SessionStore } from '../../stores/index.js';
import { StackStartError } from '../errors.js';
import { mountResource, type OwnIssuer } from '../mount-resource.js';
import { registeredResources } from '../own-resources.js';
import { ADMIN_API_PATH, ADMIN_SCOPE, createAdminApi, type AdminApi } from './admin-api.js';
import { openRegistryStore } from './open-registry-store.js';
import { ServerRegistry } from './server-registry.js';

/** What {@link startFleet} needs from the stack. */
export interface FleetParts {
  config: WardenConfig;
  authorizationServer: AuthorizationServer | undefined;
  own: OwnIssuer | undefined;
  stores: { replay: ReplayStore; sessions: SessionStore; rateLimits?: RateLimitStore };
  logger: Logger;
  /** Told every authorization decision of every mounted server (the audit trail, traces). */
  onDecision?: (decision: AuthorizationDecision, server: string) => void;
  /** Told every registry change made through the admin API (the audit trail). */
  onAudit?: (event: AuditEvent) => void;
  /** Wraps each server's configuration before it is mounted (e.g. to count its JWKS fetches). */
  prepare?: (server: ResourceConfig) => ResourceConfig;
  /** Test hook: the revision poll interval. */
  pollMs?: number;
}

/** The running fleet: close the registry first (mounts), then the store. */
export interface Fleet {
  registry: ServerRegistry;
  store: RegistryStore | undefined;
  admin: AdminApi | undefined;
  close(): Promise<void>;
}

/** Opens the store, builds the admin API and the registry. */
export async function startFleet(parts: FleetParts): Promise<Fleet> {
  const { config, authorizationServer: as, own, logger } = parts;
  const endpoints = as === undefined ? [] : Object.values(as.context.endpoints).map((url) => new URL(url).pathname);
  const adminPath = new URL(`${config.publicUrl}${ADMIN_API_PATH}`).pathname;
  let admin: AdminApi | undefined;
  let adminResource: RegisteredResource | undefined;
  if (config.admin !== undefined && config.admin.clients.length > 0) {
    if (as === undefined || own === undefined) throw new StackStartError('admin.clients needs the authorization server (authorizationServer.enabled: true): the admin API accepts only its tokens');
    const taken = config.resources.find((r) => r.host === undefined && (r.routePath === adminPath || r.routePath.startsWith(`${adminPath}/`) || adminPath.startsWith(`${r.routePath}/`)));
    if (taken !== undefined) throw new StackStartError(`resource "${taken.name}" at ${taken.path} collides with the admin API at ${ADMIN_API_PATH}: choose another path`);
    const uri = `${config.publicUrl}${ADMIN_API_PATH}`;
    admin = createAdminApi({
      uri,
      clients: config.admin.clients,
      registry: () => registry,
      ...(parts.onAudit ? { audit: parts.onAudit } : {}),
      resourceServer: {
        trust: { issuer: config.issuer, keySource: own.keySource },
        revocation: own.revocation,
        replayStore: parts.stores.replay,
        publicBaseUrl: config.publicOrigin,
        clockSkewSeconds: config.clockSkewSeconds,
        ...(config.nonce ? { nonce: { secret: config.nonce.secret, required: config.nonce.required } } : {}),
      },
    });
    adminResource = {
      uri: admin.rs.resource,
      name: 'warden-admin',
      scopes: [ADMIN_SCOPE],
      // Never granted by default: a client must be registered for it explicitly.
      defaultScopes: [],
      dpop: 'allowed',
      accessTokenLifetimeSeconds: Math.min(300, config.authorizationServer.lifetimes.accessTokenSeconds),
    };
  }
  const store = as === undefined ? undefined : await openRegistryStore(config.storage);
  let registry: ServerRegistry;
  try {
    registry = await ServerRegistry.open({
      config,
      reservedPaths: [...endpoints, ...(admin ? [adminPath] : [])],
      mount: (server: ResourceConfig) => mountResource(config, parts.prepare ? parts.prepare(server) : server, own, parts.stores, parts.onDecision),
      ...(store ? { store } : {}),
      ...(admin ? { fixedRoutes: [admin] } : {}),
      pollMs: parts.pollMs ?? DEFAULTS.fleet.registryPollMs,
      logger,
      onApplied: (servers) => {
        // Tokens can be issued for exactly the servers that run (and the admin API).
        const own: RegisteredResource[] = registeredResources({ ...config, resources: servers }).map((r) => ({
          ...r,
          defaultScopes: r.defaultScopes ?? r.scopes,
          dpop: r.dpop ?? 'allowed',
          accessTokenLifetimeSeconds: r.accessTokenLifetimeSeconds ?? config.authorizationServer.lifetimes.accessTokenSeconds,
        }));
        as?.context.resources.replace([...own, ...(adminResource ? [adminResource] : [])]);
      },
    });
  } catch (error) {
    await store?.close().catch(() => undefined);
    throw error;
  }
  return {
    registry,
    store,
    admin,
    async close() {
      await registry.close();
      await admin?.rs.close().catch(() => undefined);
      await store?.close().catch(() => undefined);
    },
  };
}
