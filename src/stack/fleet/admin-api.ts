/**
 * The fleet admin API, `<publicUrl>/admin/api`: list, show, add or replace, and remove servers.
 *
 * It is a protected resource of the stack's own authorization server like any MCP server: its
 * canonical URI `<publicUrl>/admin/api` is the audience its tokens must carry (a token for an MCP
 * server is refused here, RFC 8707), it has its own RFC 9728 metadata, and every request goes
 * through the resource-server gauntlet (signature, audience, DPoP, replay, revocation) needing
 * scope `warden:admin`, granted only to the clients `admin.clients` names (client_credentials).
 * Failures answer 401/403 with `WWW-Authenticate` as everywhere else.
 *
 * | request | answer |
 * | --- | --- |
 * | `GET /admin/api/servers` | 200 `{ revision, servers: [...] }` |
 * | `GET /admin/api/servers/{name}` | 200 the server, 404 |
 * | `PUT /admin/api/servers/{name}` (JSON entry) | 201 added, 200 replaced; 400 problem with `errors[].path`; 409 declared in config |
 * | `DELETE /admin/api/servers/{name}` | 204; 404; 409 declared in config |
 *
 * Errors are RFC 9457 problem documents. A store that cannot answer is 503 with `Retry-After`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResourceConfig } from '../../config/defaults.js';
import type { ServerProblem } from '../../config/server-spec.js';
import type { AuditEvent } from '../../authorization-server/options.js';
import { InsufficientScopeError, StoreUnavailableError } from '../../oauth/errors.js';
import { BodyLimitError, readStream } from '../../oauth/read-stream.js';
import { noteReason } from '../../oauth/response-reason.js';
import { createResourceServer, type ResourceServer, type ResourceServerOptions } from '../../resource-server/index.js';
import { MAX_ENTRY_BYTES, parseServerEntry, redactEntry, refusalOf, restoreSecret, type RefusedChange } from './server-entry.js';
import type { ServerRegistry } from './server-registry.js';
import type { Route } from '../router.js';

/** The scope every admin API request needs. */
export const ADMIN_SCOPE = 'warden:admin';
/** Path of the admin API under `publicUrl`. */
export const ADMIN_API_PATH = '/admin/api';
/** Largest server entry accepted. */
const MAX_BODY_BYTES = MAX_ENTRY_BYTES;

/** Options of {@link createAdminApi}. */
export interface AdminApiOptions {
  /** `<publicUrl>/admin/api`. */
  uri: string;
  /** Resource-server options (trust in the stack's issuer, replay, revocation) for the admin API. */
  resourceServer: Omit<ResourceServerOptions, 'resource' | 'scopes' | 'checks' | 'dpop'>;
  /** Client ids allowed to administer (`admin.clients`). */
  clients: readonly string[];
  registry: () => ServerRegistry;
  /** Told every change an admin made (the audit trail): who, which server, the new revision. */
  audit?: (event: AuditEvent) => void;
}

/** The admin API as a route of the stack's router, and its resource server. */
export interface AdminApi extends Route {
  rs: ResourceServer;
}

interface Problem {
  status: number;
  title: string;
  detail: string;
  errors?: readonly ServerProblem[];
  headers?: Record<string, string>;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...headers });
  res.end(text);
}

function problem(res: ServerResponse, p: Problem): void {
  const text = JSON.stringify({ type: 'about:blank', title: p.title, status: p.status, detail: p.detail, ...(p.errors ? { errors: p.errors } : {}) });
  res.writeHead(p.status, { 'Content-Type': 'application/problem+json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...p.headers });
  res.end(text);
}

/** What the API shows of a server: where it is, what it forwards to, and how it is protected (identity mode, rule names, rate limits). */
export function describeServer(server: ResourceConfig, source: 'config' | 'registry', rs?: ResourceServer): Record<string, unknown> {
  return {
    name: server.name,
    source,
    url: server.canonicalUri,
    ...(rs ? { metadataUrl: rs.metadataUrl } : {}),
    path: server.path,
    upstream: server.upstream,
    dpop: server.dpop,
    ...(server.scopes ? { scopes: server.scopes } : {}),
    ...(server.trust ? { trust: { issuer: server.trust.issuer } } : {}),
    tokenLifetimeSeconds: server.tokenLifetimeSeconds,
    ...(server.upstreamAuth ? { upstreamAuth: { kind: server.upstreamAuth.kind, ...(server.upstreamAuth.kind === 'token' ? { audience: server.upstreamAuth.audience } : {}) } } : {}),
    // Rule names only: expressions stay with the entry (`GET /servers/{name}` shows a stored one).
    ...(server.policy ? { policyRules: server.policy.rules.map((r) => r.name) } : {}),
    ...(server.rateLimit ? { rateLimit: server.rateLimit } : {}),
  };
}

/** Creates the admin API route. */
export function createAdminApi(options: AdminApiOptions): AdminApi {
  const admins = new Set(options.clients);
  const rs = createResourceServer({
    ...options.resourceServer,
    resource: options.uri,
    dpop: 'allowed',
    scopes: { default: [ADMIN_SCOPE] },
    resourceName: 'Warden admin API',
    checks: [
      ({ auth }) => {
        // The scope alone is not enough: only operator-named clients administer the fleet.
        if (!admins.has(auth.clientId)) throw new InsufficientScopeError(`client ${JSON.stringify(auth.clientId)} is not an admin client (admin.clients)`, { scope: [ADMIN_SCOPE] });
      },
    ],
  });
  const routePath = new URL(rs.resource).pathname;
  const serversPath = `${routePath}/servers`;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let body: Buffer;
    try {
      body = await readStream(req, MAX_BODY_BYTES);
    } catch (error) {
      if (error instanceof BodyLimitError) {
        req.resume();
        return problem(res, { status: 413, title: 'Payload Too Large', detail: `a server entry is at most ${MAX_BODY_BYTES} bytes`, headers: { Connection: 'close' } });
      }
      res.destroy();
      return;
    }
    // The body is not JSON-RPC: the gauntlet checks credentials and scope only.
    const verdict = await rs.verify({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headersDistinct });
    if (!verdict.ok) {
      noteReason(res, verdict.error);
      res.writeHead(verdict.status, { ...verdict.headers, 'Content-Length': Buffer.byteLength(verdict.body) });
      res.end(verdict.body);
      return;
    }
    for (const [name, value] of Object.entries(verdict.headers)) res.setHeader(name, value);
    const changed = (detail: string) =>
      options.audit?.({ type: 'registry.changed', clientId: verdict.auth.clientId, admin: verdict.auth.extra.subject ?? verdict.auth.clientId, detail });
    try {
      await route(req, res, body, changed);
    } catch (error) {
      if (error instanceof StoreUnavailableError) {
        return problem(res, { status: 503, title: 'Service Unavailable', detail: 'the registry store cannot answer; try again', headers: { 'Retry-After': '1' } });
      }
      throw error;
    }
  };

  const route = async (req: IncomingMessage, res: ServerResponse, body: Buffer, changed: (detail: string) => void): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const registry = options.registry();
    const method = req.method ?? 'GET';
    if (path === serversPath) {
      if (method !== 'GET') return problem(res, { status: 405, title: 'Method Not Allowed', detail: 'the server list answers GET', headers: { Allow: 'GET' } });
      await registry.refresh();
      const { revision, servers, declaredInConfig } = registry.current();
      return send(res, 200, { revision, servers: servers.map((s) => describeServer(s, declaredInConfig.has(s.name) ? 'config' : 'registry')) });
    }
    const match = path.startsWith(`${serversPath}/`) ? path.slice(serversPath.length + 1) : undefined;
    let name: string | undefined;
    try {
      name = match === undefined ? undefined : decodeURIComponent(match);
    } catch {
      name = undefined;
    }
    if (name === undefined || name === '' || name.includes('/')) return problem(res, { status: 404, title: 'Not Found', detail: `no such admin resource; servers are at ${serversPath}` });
    if (method === 'GET') {
      await registry.refresh();
      const { servers, declaredInConfig } = registry.current();
      const server = servers.find((s) => s.name === name);
      if (server === undefined) return problem(res, { status: 404, title: 'Not Found', detail: `no server named ${JSON.stringify(name)}` });
      const record = registry.record(name);
      return send(res, 200, { ...describeServer(server, declaredInConfig.has(name) ? 'config' : 'registry'), ...(record ? { entry: redactEntry(record.spec) } : {}) });
    }
    if (method === 'PUT') return put(res, registry, name, req.headers['content-type'], body, changed);
    if (method === 'DELETE') {
      await registry.refresh();
      const known = registry.current().servers.some((s) => s.name === name);
      if (!known) return problem(res, { status: 404, title: 'Not Found', detail: `no server named ${JSON.stringify(name)}` });
      const result = await registry.propose({ remove: name });
      if (result.ok) {
        changed(`server ${JSON.stringify(name)} removed (revision ${result.revision})`);
        return send(res, 204, undefined);
      }
      return refusal(res, result);
    }
    return problem(res, { status: 405, title: 'Method Not Allowed', detail: 'a server answers GET, PUT and DELETE', headers: { Allow: 'GET, PUT, DELETE' } });
  };

  const put = async (res: ServerResponse, registry: ServerRegistry, name: string, contentType: string | undefined, body: Buffer, changed: (detail: string) => void): Promise<void> => {
    if (contentType === undefined || !/^application\/json\s*(;\s*charset=utf-8\s*)?$/i.test(contentType.trim())) {
      return problem(res, { status: 415, title: 'Unsupported Media Type', detail: 'send the server entry as application/json', headers: { Accept: 'application/json' } });
    }
    await registry.refresh();
    const parsed = restoreSecret(parseServerEntry(name, body), registry.record(name)?.spec);
    if (!parsed.ok) return problem(res, { status: 400, title: 'Bad Request', detail: parsed.detail, errors: parsed.errors });
    const result = await registry.propose({ put: { name, spec: parsed.spec } });
    if (!result.ok) return refusal(res, result);
    changed(`server ${JSON.stringify(name)} ${result.created ? 'added' : 'replaced'} (revision ${result.revision})`);
    const rs = result.server;
    return send(res, result.created ? 201 : 200, { revision: result.revision, ...(rs ? describeServer(rs, 'registry') : { name }) });
  };

  return {
    name: 'warden-admin',
    routePath,
    metadataPaths: rs.metadataPaths,
    metadata: rs.metadataHandler(),
    handle,
    rs,
  };
}

function refusal(res: ServerResponse, result: RefusedChange): void {
  problem(res, refusalOf(result));
}
