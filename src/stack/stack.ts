/**
 * `startStack`: the whole Warden stack on one node:http server — the authorization server (when
 * enabled), each configured resource behind the resource-server gauntlet (the built-in demo MCP
 * server, or a gateway to an upstream), its RFC 9728 metadata, liveness (`/healthz`) and
 * readiness (`/readyz`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { withListenPort, type ResourceConfig, type WardenConfig } from '../config/defaults.js';
import type { AuthorizationServer } from '../authorization-server/create-authorization-server.js';
import { signingKeySource } from '../authorization-server/key-source.js';
import { exchangeForUpstream } from '../authorization-server/grants/upstream-exchange.js';
import type { UpstreamMintRequest } from '../gateway/upstream-token.js';
import { createLogger, type Logger } from '../observability/logger.js';
import type { ReplayStore, SessionStore } from '../stores/index.js';
import { startStackAuthorizationServer, type StackAuthorizationServer } from './authorization-server.js';
import { StackStartError } from './errors.js';
import { startFleet, type Fleet } from './fleet/start-fleet.js';
import type { ServerRegistry } from './fleet/server-registry.js';
import { createStackMetrics, type StackMetrics } from './metrics.js';
import { createAdminConsole } from '../admin/console.js';
import { RecentRecords } from '../admin/recent-records.js';
import { createConsoleOverview } from './console-overview.js';
import { CONSOLE_CLIENT_ID, CONSOLE_SCOPE, consoleEnabled, consoleResource } from './own-resources.js';
import { consoleServers } from './console-servers.js';
import { consoleFleet } from './console-fleet.js';
import { createReadinessCheck } from './readiness.js';
import { createReplayStore, createSessionStore } from './replay-store.js';
import { createRateLimitStore } from './rate-limit-store.js';
import type { RateLimitStore } from '../stores/index.js';
import { createRouter } from './router.js';
import { originPolicy } from './origin-policy.js';
import { removeStackFile, writeStackFile, type StackInfo } from './stack-file.js';
import { DEFAULTS } from '../oauth/defaults.js';
import type { AuthorizationDecision } from '../oauth/authorization-decision.js';
import type { AuditEvent } from '../authorization-server/options.js';
import { decisionEvent, securityEvent } from '../observability/audit-events.js';
import { currentRequestContext } from '../oauth/request-scope.js';
import { openAuditTrail, startTelemetry, type AuditTrail } from './audit-trail.js';
import type { Telemetry } from '../observability/open-telemetry.js';

/** Options of {@link startStack}. */
export interface StartStackOptions {
  /**
   * Where `stack.json` is written, and where the authorization server keeps its generated secret
   * and the demo credentials. Without it no `stack.json` is written and the secret (unless
   * configured) and demo credentials live only in this process.
   */
  stateDir?: string;
  /** Overrides `listen.port`; 0 picks a free port (the real one is in `url` and `stack.json`). */
  port?: number;
  /** Default: JSON lines on stdout. */
  logger?: Logger;
  /** How long shutdown waits for in-flight requests (e.g. SSE streams) before cutting them. Default 10 s. */
  shutdownGraceMs?: number;
  /** How often the fleet registry store's revision is polled. Default `DEFAULTS.fleet.registryPollMs`. */
  registryPollMs?: number;
}

/** A listening stack. */
export interface RunningStack {
  /** Public base URL (with the real port when it listened on 0). */
  readonly url: string;
  readonly server: Server;
  /** The configuration as it applies: derived URLs follow the real port. */
  readonly config: WardenConfig;
  /** What `stack.json` holds. */
  readonly info: StackInfo;
  /** The authorization server, when `authorizationServer.enabled`. */
  readonly authorizationServer: AuthorizationServer | undefined;
  /** The stack's metrics, when `metrics.enabled` (served at `metrics.path`). */
  readonly metrics: StackMetrics | undefined;
  /** The audit trail, when `audit` is on. */
  readonly auditTrail: AuditTrail | undefined;
  /**
   * Re-reads the signing keys from the store now, instead of within the next 30 s: picks up a
   * rotation done by `warden keys rotate` or another instance. No-op without an authorization server.
   */
  reloadKeys(): Promise<void>;
  /** The fleet registry: every server running now (config-declared and added at run time). */
  readonly registry: ServerRegistry;
  /**
   * Applies the servers (`resources`) of a re-read configuration without a restart (file watch,
   * SIGHUP). Checked whole: on a problem nothing changes and the problems are returned. Other
   * keys need a restart; they are ignored (and named in the answer).
   */
  reloadServers(config: WardenConfig): { ok: true; ignored: string[] } | { ok: false; name: string; problems: readonly { path: string; message: string }[] };
  /** Stops accepting, lets in-flight requests finish (up to the grace period), closes stores. Idempotent. */
  close(): Promise<void>;
}

export { StackStartError };

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (error.code === 'EADDRINUSE') {
        reject(new StackStartError(`port ${port} on ${host} is already in use: stop the other process or choose another port (--port, listen.port or WARDEN_PORT)`, { cause: error }));
      } else if (error.code === 'EACCES') {
        reject(new StackStartError(`not allowed to listen on port ${port} of ${host}: choose a port above 1023 or run with the needed privilege`, { cause: error }));
      } else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
        reject(new StackStartError(`cannot listen on ${host}: it is not an address of this machine (check listen.host or WARDEN_HOST)`, { cause: error }));
      } else {
        reject(new StackStartError(`cannot listen on ${host}:${port}: ${error.message}`, { cause: error }));
      }
    };
    const onListening = () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/**
 * Starts the stack `config` declares and resolves once it is listening (and `stack.json`, with a
 * state directory, is written).
 *
 * @throws {StackStartError} when the port is taken or the address is unusable, a store cannot be
 *   opened (or is PostgreSQL, which the authorization server does not support yet), a resource
 *   has no `trust` while the authorization server is disabled, or a resource path collides with
 *   an authorization-server endpoint.
 */
export async function startStack(initial: WardenConfig, options: StartStackOptions = {}): Promise<RunningStack> {
  const logger = options.logger ?? createLogger();
  let config = options.port === undefined ? initial : withListenPort(initial, options.port);
  const { stateDir } = options;
  // A stale stack.json from an earlier run must not look like this run being ready.
  if (stateDir) await removeStackFile(stateDir);
  let replayStore: ReplayStore;
  let sessionStore: SessionStore;
  try {
    replayStore = await createReplayStore(config.replay, logger);
  } catch (error) {
    throw new StackStartError(`cannot connect the ${config.replay.kind} replay store: ${(error as Error).message}`, { cause: error });
  }
  try {
    sessionStore = await createSessionStore(config.replay, logger);
  } catch (error) {
    await replayStore.close().catch(() => undefined);
    throw new StackStartError(`cannot connect the ${config.replay.kind} session store: ${(error as Error).message}`, { cause: error });
  }
  let rateLimitStore: RateLimitStore | undefined;
  try {
    rateLimitStore = await createRateLimitStore(config.replay, logger);
  } catch (error) {
    await Promise.allSettled([replayStore.close(), sessionStore.close()]);
    throw new StackStartError(`cannot connect the ${config.replay.kind} rate-limit store: ${(error as Error).message}`, { cause: error });
  }
  const metrics = config.metrics.enabled ? createStackMetrics() : undefined;
  // The console's audit page reads the newest records of this instance.
  const recent = consoleEnabled(config) && config.authorizationServer.enabled ? new RecentRecords() : undefined;
  let trail: AuditTrail | undefined;
  let telemetry: Telemetry | undefined;
  try {
    telemetry = await startTelemetry(config);
    trail = openAuditTrail(config, [...(telemetry?.auditSink ? [telemetry.auditSink] : []), ...(recent ? [recent] : [])]);
  } catch (error) {
    await telemetry?.shutdown();
    await replayStore.close().catch(() => undefined);
    await sessionStore.close().catch(() => undefined);
    await rateLimitStore?.close().catch(() => undefined);
    throw error;
  }
  const onDecision =
    trail === undefined && telemetry === undefined
      ? undefined
      : (decision: AuthorizationDecision, server: string) => {
          decision.context?.trace?.decision(decision);
          trail?.emit(decisionEvent(decision, server));
        };
  const onAudit =
    trail === undefined && metrics === undefined
      ? undefined
      : (event: AuditEvent) => {
          metrics?.audit(event);
          trail?.emit(securityEvent(event, currentRequestContext()));
        };
  const overview = recent ? createConsoleOverview(metrics) : undefined;
  let fleet: Fleet | undefined;
  let as: StackAuthorizationServer | undefined;
  let listener: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  let closing = false;
  const server = createServer((req, res) => {
    // Ask keep-alive clients to reconnect elsewhere while draining.
    if (closing) res.setHeader('Connection', 'close');
    if (listener) listener(req, res);
    else {
      res.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': '1' });
      res.end(JSON.stringify({ error: 'temporarily_unavailable' }));
    }
  });
  try {
    const port = await listen(server, config.listen.port, config.listen.host);
    // The issuer and canonical URIs follow the real port, so the server starts after listening.
    config = withListenPort(config, port);
    if (config.authorizationServer.enabled) {
      // In one process, the AS gets its own memory replay store: a flood of junk token requests (each
      // proof is claimed) then cannot fill the store every MCP request needs. Shared Redis is
      // one keyspace by design: that is what makes several instances safe.
      const asReplay = config.replay.kind === 'memory' ? undefined : replayStore;
      as = await startStackAuthorizationServer(config, {
        ...(stateDir ? { stateDir } : {}),
        ...(asReplay ? { replayStore: asReplay } : {}),
        ...(rateLimitStore ? { rateLimits: rateLimitStore } : {}),
        logger,
        ...(onAudit ? { onAudit } : {}),
      });
      checkPathOverlap(config, as.server);
    }
    const asContext = as?.server.context;
    const own = as
      ? { keySource: signingKeySource(as.server.context.keys), revocation: as.server.revocationList, exchange: (request: UpstreamMintRequest) => exchangeForUpstream(asContext!, request) }
      : undefined;
    checkMetricsPath(config, as?.server);
    // The resources' view of the store counts replayed proofs (a claim that finds its key taken).
    const resourceReplay = metrics ? metrics.countReplays(replayStore) : replayStore;
    if (metrics && as) {
      const keys = as.server.context.keys;
      metrics.signingKeyAge.readFrom(() => {
        const createdAt = keys.currentCreatedAt;
        return createdAt === undefined ? undefined : Math.max(0, Math.round(Date.now() / 1000 - createdAt));
      });
    }
    fleet = await startFleet({
      config,
      authorizationServer: as?.server,
      own,
      stores: { replay: resourceReplay, sessions: sessionStore, ...(rateLimitStore ? { rateLimits: rateLimitStore } : {}) },
      logger,
      ...(metrics ? { prepare: (resource: ResourceConfig) => countingJwksFetches(resource, metrics) } : {}),
      ...(onDecision ? { onDecision } : {}),
      ...(onAudit ? { onAudit } : {}),
      ...(options.registryPollMs === undefined ? {} : { pollMs: options.registryPollMs }),
    });
    const registry = fleet.registry;
    const asServer = as?.server;
    const adminConsole =
      asServer && recent && config.admin && overview
        ? createAdminConsole({
            publicUrl: config.publicUrl,
            server: asServer,
            clientId: CONSOLE_CLIENT_ID,
            resource: consoleResource(config),
            scope: CONSOLE_SCOPE,
            subjects: new Set(config.admin.subjects),
            recent,
            emit: (event) => trail?.emit(securityEvent(event, currentRequestContext())),
            overview: overview.overview,
            servers: () => consoleServers(registry),
            fleet: consoleFleet(registry),
          })
        : undefined;
    const handleAs = asServer && adminConsole ? async (req: IncomingMessage, res: ServerResponse) => (await asServer.handle(req, res)) || adminConsole.handle(req, res) : asServer?.handle;
    listener = createRouter({
      table: () => registry.table(),
      ...(asServer && handleAs ? { authorizationServer: { handle: handleAs, interactionPath: new URL(asServer.context.endpoints.interaction).pathname } } : {}),
      logger,
      ...(metrics ? { metrics: { recorder: metrics, path: config.metrics.path } } : {}),
      readiness: createReadinessCheck({ replay: replayStore, sessions: sessionStore, ...(asServer ? { storage: asServer.context.stores } : {}) }),
      originPolicy: originPolicy(config.publicOrigin, config.listen.host, config.allowedOrigins),
      ...(trail || telemetry
        ? { requestContext: { trustedProxyHops: config.authorizationServer.trustedProxyHops, ...(telemetry ? { startTrace: telemetry.startRequest } : {}) } }
        : {}),
    });
  } catch (error) {
    overview?.stop();
    await fleet?.close().catch(() => undefined);
    await as?.server.close().catch(() => undefined);
    await replayStore.close().catch(() => undefined);
    await sessionStore.close().catch(() => undefined);
    await rateLimitStore?.close().catch(() => undefined);
    await trail?.close();
    await telemetry?.shutdown();
    if (server.listening) await new Promise((resolve) => server.close(resolve));
    if (error instanceof StackStartError) throw error;
    throw new StackStartError((error as Error).message, { cause: error });
  }
  const info: StackInfo = {
    issuer: config.issuer,
    resources: fleet!.registry.current().servers.map((s) => ({ name: s.name, url: s.canonicalUri, metadataUrl: fleet!.registry.mountOf(s.name)!.rs.metadataUrl })),
    clients: as?.clients ?? [],
    users: as?.users ?? [],
  };
  if (stateDir) await writeStackFile(stateDir, info);
  logger.info('listening', {
    url: config.publicUrl,
    host: config.listen.host,
    port: config.listen.port,
    issuer: config.issuer,
    resources: info.resources.map((r) => ({ name: r.name, url: r.url })),
    replay: config.replay.kind,
    authorizationServer: as ? { storage: config.storage.kind, demo: as.demo !== undefined } : false,
  });

  let closed: Promise<void> | undefined;
  const graceMs = options.shutdownGraceMs ?? DEFAULTS.stack.shutdownGraceMs;
  const close = () =>
    (closed ??= (async () => {
      closing = true;
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const drainTick = setInterval(() => server.closeIdleConnections(), 100);
      const cutoff = setTimeout(() => server.closeAllConnections(), graceMs);
      await drained;
      clearInterval(drainTick);
      clearTimeout(cutoff);
      await fleet?.close().catch((error: unknown) => logger.warn('fleet registry close failed', { error }));
      await as?.server.close().catch((error: unknown) => logger.warn('authorization server close failed', { error }));
      await replayStore.close().catch((error: unknown) => logger.warn('replay store close failed', { error }));
      await sessionStore.close().catch((error: unknown) => logger.warn('session store close failed', { error }));
      await rateLimitStore?.close().catch((error: unknown) => logger.warn('rate-limit store close failed', { error }));
      overview?.stop();
      await trail?.close();
      await telemetry?.shutdown();
      if (stateDir) await removeStackFile(stateDir);
      logger.info('stopped', {});
    })());

  const authorizationServer = as?.server;
  return {
    url: config.publicUrl,
    server,
    config,
    info,
    authorizationServer,
    metrics,
    auditTrail: trail,
    reloadKeys: async () => {
      await authorizationServer?.context.keys.reload();
    },
    registry: fleet!.registry,
    reloadServers: (next) => reloadServers(fleet!.registry, config, next),
    close,
  };
}

/** The resource with its remote JWKS fetched through a fetch that counts failures (`warden_jwks_fetch_failures_total`). */
function countingJwksFetches(resource: ResourceConfig, metrics: StackMetrics): ResourceConfig {
  const trust = resource.trust;
  if (trust === undefined || trust.jwksUri === undefined) return resource;
  return { ...resource, trust: { ...trust, fetch: metrics.countJwksFetches(trust.fetch ?? ((input, init) => fetch(input, init))) } };
}

/**
 * Refuses a resource whose path is (or sits under) one of the authorization server's endpoints:
 * the authorization server answers first, so the resource would never see those requests.
 */
function checkPathOverlap(config: WardenConfig, as: AuthorizationServer): void {
  const endpoints = Object.values(as.context.endpoints).map((url) => new URL(url).pathname);
  for (const [index, resource] of config.resources.entries()) {
    if (resource.host !== undefined) continue;
    const taken = endpoints.find((path) => resource.routePath === path || resource.routePath.startsWith(`${path}/`));
    if (taken !== undefined) {
      throw new StackStartError(
        `resources[${index}].path: ${resource.path} is taken by the authorization server's endpoint ${taken}: choose another path for resource "${resource.name}"`,
      );
    }
  }
}

/**
 * Refuses a metrics path that a resource (under the `publicUrl` path prefix) or an authorization
 * server endpoint also answers: whichever is routed first would hide the other.
 */
function checkMetricsPath(config: WardenConfig, as: AuthorizationServer | undefined): void {
  if (!config.metrics.enabled) return;
  const path = config.metrics.path;
  const overlaps = (other: string) => other === path || other.startsWith(`${path}/`) || path.startsWith(`${other}/`);
  const resource = config.resources.find((r) => r.host === undefined && overlaps(r.routePath));
  if (resource !== undefined) {
    throw new StackStartError(`metrics.path: ${path} collides with resource "${resource.name}" at ${resource.routePath}: choose another metrics path`);
  }
  const endpoint = as === undefined ? undefined : Object.values(as.context.endpoints).map((url) => new URL(url).pathname).find(overlaps);
  if (endpoint !== undefined) {
    throw new StackStartError(`metrics.path: ${path} collides with the authorization server's endpoint ${endpoint}: choose another metrics path`);
  }
}

/**
 * Applies the `resources` of a re-read configuration to the running registry; keys other than
 * `resources` only change with a restart, and are named when they differ.
 */
function reloadServers(registry: ServerRegistry, running: WardenConfig, next: WardenConfig): ReturnType<RunningStack['reloadServers']> {
  const applied = withListenPort(next, running.listen.port);
  const ignored = (Object.keys(applied) as Array<keyof WardenConfig>).filter(
    (key) => key !== 'resources' && key !== 'listen' && key !== 'defaulted' && JSON.stringify(applied[key]) !== JSON.stringify(running[key]),
  );
  const result = registry.reloadConfig({ ...running, resources: applied.resources });
  return result.ok ? { ok: true, ignored } : result;
}
