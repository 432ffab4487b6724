/**
 * The stack's request router: the authorization server's endpoints first, then each resource's
 * RFC 9728 metadata and its protected path (exact and sub-paths), health; everything else 404.
 * Logs one redacted JSON line per request — method, path (no query), status, duration, reason —
 * never a header value. With metrics on, counts every request by route kind and status (see
 * {@link ./metrics.ts}) and serves them at the metrics path.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../observability/logger.js';
import { requestPath } from '../oauth/request-path.js';
import { reasonOf } from '../oauth/response-reason.js';
import { randomUUID } from 'node:crypto';
import { setRequestContext } from '../oauth/request-context.js';
import { runInRequestScope } from '../oauth/request-scope.js';
import type { RequestContext } from '../oauth/authorization-decision.js';
import type { RequestSpan } from '../observability/open-telemetry.js';
import { callerTrace } from '../observability/caller-trace.js';
import { clientAddress } from '../authorization-server/client-address.js';
import { enforceOriginPolicy, type OriginPolicy } from './origin-policy.js';
import { PROMETHEUS_CONTENT_TYPE } from '../observability/metrics.js';
import type { RouteKind, StackMetrics } from './metrics.js';
import { READY_PATH, type ReadinessReport } from './readiness.js';

/** A mounted protected resource. */
export interface Route {
  name: string;
  /** Requests to this path or below it go to `handle`. */
  routePath: string;
  /** Host-routed servers: only requests whose `Host` is this (`host[:port]`, lower-case) match. */
  host?: string;
  /** Metadata paths this resource claims (path-inserted, and the root one). */
  metadataPaths: readonly string[];
  metadata: (req: IncomingMessage, res: ServerResponse) => void;
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}

/** The part of the authorization server the router needs. */
export interface RoutedAuthorizationServer {
  /** Answers the request and resolves true when it is one of the server's endpoints. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /**
   * Path prefix whose next segment identifies a pending login (`/interaction`): logged as
   * `<prefix>/…`, since that id stands for a user's authorization in progress.
   */
  interactionPath?: string;
}

/**
 * What the router dispatches on: the routes and which route answers each metadata path. The
 * fleet registry swaps a whole table at once; a request keeps the table it started with.
 */
export interface RouteTable {
  readonly routes: readonly Route[];
  readonly metadata: ReadonlyMap<string, Route>;
}

/**
 * Builds a table. Metadata paths claimed by more than one resource (the root well-known path,
 * when there are several resources) are served by none: which resource it describes would be a
 * guess, and clients find each resource's own path from its challenge.
 */
export function createRouteTable(routes: readonly Route[]): RouteTable {
  const claims = new Map<string, Route[]>();
  for (const route of routes) {
    for (const path of route.metadataPaths) {
      const key = route.host === undefined ? path : `${route.host}${path}`;
      claims.set(key, [...(claims.get(key) ?? []), route]);
    }
  }
  const metadata = new Map<string, Route>();
  for (const [path, claimants] of claims) if (claimants.length === 1) metadata.set(path, claimants[0]!);
  // Host-routed servers first: on their host they win over path-routed ones.
  return { routes: [...routes.filter((r) => r.host !== undefined), ...routes.filter((r) => r.host === undefined)], metadata };
}

/** Inputs of {@link createRouter}. */
export interface RouterOptions {
  /** Fixed routes; ignored when `table` is given. */
  routes?: readonly Route[];
  /** The current table, read once per request (the fleet registry's, which changes at run time). */
  table?: () => RouteTable;
  /** The stack's authorization server, consulted before anything else. */
  authorizationServer?: RoutedAuthorizationServer;
  logger: Logger;
  /** Records every request, and serves the exposition at `path` (GET and HEAD). */
  metrics?: { recorder: StackMetrics; path: string };
  /** Answers `/readyz` (see {@link ./readiness.ts}); without it `/readyz` is 404. */
  readiness?: () => Promise<ReadinessReport>;
  /** Who may call the MCP endpoints from a web page (and, on loopback, under which Host). */
  originPolicy?: OriginPolicy;
  /**
   * Give every request an id and its source address (audit records carry both); the address is
   * read through this many trusted reverse proxies (`X-Forwarded-For`), else the socket's peer.
   */
  requestContext?: {
    trustedProxyHops: number;
    /** Starts the request's span (OpenTelemetry); it ends when the response closes. */
    startTrace?: (method: string, path: string, traceparent: string | undefined) => RequestSpan | undefined;
  };
}

/** Liveness endpoint: the process answers HTTP (no store is asked; see {@link READY_PATH} for that). */
export const HEALTH_PATH = '/healthz';

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Why a request was refused: the reason its writer recorded, else what the status says. */
function refusalReason(res: ServerResponse): string | undefined {
  const status = res.statusCode;
  if (status < 400) return undefined;
  const noted = reasonOf(res);
  if (noted !== undefined) return noted;
  if (status === 401) return 'no_credentials';
  if (status === 503) return 'temporarily_unavailable';
  if (status === 404) return 'not_found';
  return undefined;
}

/** Builds the request listener (see {@link createRouteTable} for the metadata paths). */
export function createRouter(options: RouterOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { logger } = options;
  const fixed = createRouteTable(options.routes ?? []);
  const currentTable = options.table ?? (() => fixed);
  const as = options.authorizationServer;
  const interactionPrefix = as?.interactionPath === undefined ? undefined : `${as.interactionPath}/`;

  const metrics = options.metrics;

  /** Answers the request; `kind` is told which part of the stack did, before it runs. */
  const dispatch = async (req: IncomingMessage, res: ServerResponse, path: string, kind: (k: RouteKind) => void): Promise<void> => {
    // The authorization server's paths never overlap a resource's or the metrics path (the stack checks at start).
    if (as !== undefined) {
      kind('authorization_server');
      if (await as.handle(req, res)) return;
    }
    const { routes, metadata } = currentTable();
    const host = (req.headers.host ?? '').toLowerCase();
    const described = metadata.get(`${host}${path}`) ?? metadata.get(path);
    if (described) {
      kind('resource_metadata');
      return described.metadata(req, res);
    }
    for (const route of routes) {
      if (route.host !== undefined && route.host !== host) continue;
      if (path === route.routePath || path.startsWith(`${route.routePath}/`) || route.routePath === '/') {
        kind('resource');
        // A host-routed match already names a configured host: the loopback Host check has nothing to add.
        const policy = options.originPolicy === undefined || route.host === undefined ? options.originPolicy : { ...options.originPolicy, hosts: undefined };
        if (policy !== undefined && enforceOriginPolicy(policy, req, res)) return;
        return route.handle(req, res);
      }
    }
    if (path === HEALTH_PATH) {
      kind('health');
      return sendJson(res, 200, { status: 'ok' }, { 'Cache-Control': 'no-store' });
    }
    if (path === READY_PATH && options.readiness !== undefined) {
      kind('health');
      const report = await options.readiness();
      const ready = report.status === 'ready';
      return sendJson(res, ready ? 200 : 503, report, { 'Cache-Control': 'no-store', ...(ready ? {} : { 'Retry-After': '1' }) });
    }
    if (metrics !== undefined && path === metrics.path) {
      kind('metrics');
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'method_not_allowed' }, { Allow: 'GET, HEAD' });
      const text = metrics.recorder.registry.render();
      res.writeHead(200, { 'Content-Type': PROMETHEUS_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
      res.end(text);
      return;
    }
    kind('not_found');
    sendJson(res, 404, { error: 'not_found' });
  };

  /** The path as logged: bounded, and without the id of a login in progress. */
  const loggedPath = (path: string): string => {
    if (interactionPrefix !== undefined && path.startsWith(interactionPrefix)) return `${interactionPrefix}…`;
    return path.length > 512 ? `${path.slice(0, 512)}…` : path;
  };

  const contextOptions = options.requestContext;
  return (req, res) => {
    const started = performance.now();
    const path = requestPath(req.url ?? '/');
    let trace: RequestSpan | undefined;
    let context: RequestContext | undefined;
    if (contextOptions !== undefined) {
      const sourceAddress = clientAddress(req, contextOptions.trustedProxyHops);
      const traceparent = req.headers['traceparent'];
      const header = typeof traceparent === 'string' ? traceparent : undefined;
      trace = contextOptions.startTrace?.(req.method ?? 'GET', loggedPath(path), header);
      // Not tracing ourselves: the records still name the caller's trace.
      const traced = trace ?? callerTrace(header);
      const requestId = randomUUID();
      context = { requestId, ...(sourceAddress === undefined ? {} : { sourceAddress }), ...(traced === undefined ? {} : { trace: traced }) };
      setRequestContext(req, context);
      // The id audit records carry, so a client's report of a failure finds its record.
      res.setHeader('X-Request-Id', requestId);
    }
    let route: RouteKind = 'not_found';
    res.once('close', () => {
      const reason = refusalReason(res);
      metrics?.recorder.request(route, res.statusCode, (performance.now() - started) / 1000, reason);
      trace?.end(res.statusCode, route);
      logger.info('request', {
        method: req.method,
        path: loggedPath(path),
        status: res.statusCode,
        durationMs: Math.round((performance.now() - started) * 100) / 100,
        ...(reason ? { reason } : {}),
        ...(context?.requestId === undefined ? {} : { requestId: context.requestId }),
        ...(res.writableFinished ? {} : { aborted: true }),
      });
    });
    const answer = () =>
      dispatch(req, res, path, (k) => {
        route = k;
      });
    // In the request's scope, the authorization server's security events find its id and trace too.
    Promise.resolve()
      .then(() => (context === undefined ? answer() : runInRequestScope(context, answer)))
      .catch((error: unknown) => {
        logger.error('request failed', { path: loggedPath(path), error });
        if (!res.headersSent) sendJson(res, 500, { error: 'server_error' });
        else res.destroy();
      });
  };
}
