/**
 * The stack's request router: health, the development issuer's JWKS, each resource's RFC 9728
 * metadata and its protected path (exact and sub-paths); everything else 404. Logs one redacted
 * JSON line per request — method, path (no query), status, duration, reason — never a header value.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../observability/logger.js';

/** A mounted protected resource. */
export interface Route {
  name: string;
  /** Requests to this path or below it go to `handle`. */
  routePath: string;
  /** Metadata paths this resource claims (path-inserted, and the root one). */
  metadataPaths: readonly string[];
  metadata: (req: IncomingMessage, res: ServerResponse) => void;
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}

/** Inputs of {@link createRouter}. */
export interface RouterOptions {
  routes: readonly Route[];
  /** The development issuer's public JWKS, served at `/.well-known/jwks.json`. */
  jwks: unknown;
  logger: Logger;
}

/** Path of the issuer's JWKS. */
export const JWKS_PATH = '/.well-known/jwks.json';
/** Liveness endpoint. */
export const HEALTH_PATH = '/healthz';

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** The path of a request target (origin-form or absolute-form), without query or fragment. */
export function requestPath(target: string): string {
  if (target.startsWith('/')) {
    const end = target.search(/[?#]/);
    return end === -1 ? target : target.slice(0, end);
  }
  try {
    return new URL(target).pathname;
  } catch {
    return target === '*' ? '*' : '/';
  }
}

/** Remembers the `WWW-Authenticate` a response is sent with, including headers given to `writeHead`. */
function watchChallenge(res: ServerResponse): () => string {
  let seen = '';
  const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
  res.writeHead = ((...args: unknown[]) => {
    const headers = args.find((a, i) => i > 0 && a !== null && typeof a === 'object');
    if (headers && !Array.isArray(headers)) {
      for (const [name, value] of Object.entries(headers)) {
        if (name.toLowerCase() === 'www-authenticate') seen = Array.isArray(value) ? value.join(', ') : String(value);
      }
    }
    return writeHead(...args);
  }) as ServerResponse['writeHead'];
  return () => {
    const set = res.getHeader('www-authenticate');
    return seen || (Array.isArray(set) ? set.join(', ') : typeof set === 'string' ? set : '');
  };
}

/** Why a request was refused, from our own challenge — the one place the reason is on the wire. */
function reasonOf(status: number, challenge: string): string | undefined {
  if (status < 400) return undefined;
  const match = /\berror="([a-z_]+)"/.exec(challenge);
  if (match) return match[1];
  if (status === 401) return 'no_credentials';
  if (status === 503) return 'temporarily_unavailable';
  if (status === 404) return 'not_found';
  return undefined;
}

/**
 * Builds the request listener. Metadata paths claimed by more than one resource (the root
 * well-known path, when there are several resources) are served by none: which resource it
 * describes would be a guess, and clients find each resource's own path from its challenge.
 */
export function createRouter(options: RouterOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { routes, logger } = options;
  const claims = new Map<string, Route[]>();
  for (const route of routes) {
    for (const path of route.metadataPaths) claims.set(path, [...(claims.get(path) ?? []), route]);
  }
  const metadata = new Map<string, Route>();
  for (const [path, claimants] of claims) if (claimants.length === 1) metadata.set(path, claimants[0]!);
  const jwks = JSON.stringify(options.jwks);

  const dispatch = (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> | void => {
    if (path === HEALTH_PATH) return sendJson(res, 200, { status: 'ok' }, { 'Cache-Control': 'no-store' });
    if (path === JWKS_PATH) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'method_not_allowed' }, { Allow: 'GET, HEAD' });
      res.writeHead(200, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(jwks),
        'Access-Control-Allow-Origin': '*',
        // Short, so a key rotation (once the authorization server lands) is picked up quickly.
        'Cache-Control': 'public, max-age=60',
      });
      res.end(req.method === 'HEAD' ? undefined : jwks);
      return;
    }
    const described = metadata.get(path);
    if (described) return described.metadata(req, res);
    for (const route of routes) {
      if (path === route.routePath || path.startsWith(`${route.routePath}/`)) return route.handle(req, res);
    }
    sendJson(res, 404, { error: 'not_found' });
  };

  return (req, res) => {
    const started = performance.now();
    const path = requestPath(req.url ?? '/');
    const challenge = watchChallenge(res);
    res.once('close', () => {
      const reason = reasonOf(res.statusCode, challenge());
      logger.info('request', {
        method: req.method,
        path: path.length > 512 ? `${path.slice(0, 512)}…` : path,
        status: res.statusCode,
        durationMs: Math.round((performance.now() - started) * 100) / 100,
        ...(reason ? { reason } : {}),
        ...(res.writableFinished ? {} : { aborted: true }),
      });
    });
    Promise.resolve()
      .then(() => dispatch(req, res, path))
      .catch((error: unknown) => {
        logger.error('request failed', { path, error });
        if (!res.headersSent) sendJson(res, 500, { error: 'server_error' });
        else res.destroy();
      });
  };
}
