import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResourceServerCore } from '../core.js';
import type { WardenAuthInfo } from '../types.js';
import { BodyLimitError } from '../../oauth/read-stream.js';
import { noteReason } from '../../oauth/response-reason.js';
import { requestContextOf } from '../../oauth/request-context.js';
import { isJsonContentType, payloadTooLarge, readBody } from './read-body.js';
import { filterNodeResponse } from './filter-node-response.js';
import { requestHeaders } from './request-headers.js';

/** A node request after the gauntlet: auth info plus the body already read. */
export type AuthenticatedRequest = IncomingMessage & { auth: WardenAuthInfo; body?: unknown; rawBody: Buffer };

/** A node:http handler that runs after authentication. */
export type AuthenticatedHandler = (req: AuthenticatedRequest, res: ServerResponse) => unknown;

/** Writes a plain response. */
export function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { ...headers, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * node:http adapter: serves the RFC 9728 metadata at its well-known paths, reads the body
 * (capped), runs the gauntlet, and calls `handler` with `req.auth`, `req.body` (parsed JSON) and
 * `req.rawBody`. Holds no checks of its own.
 */
export function nodeAdapter(core: ResourceServerCore, handler: AuthenticatedHandler): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const metadata = metadataHandler(core);
  return async (req, res) => {
    if (core.isMetadataPath(req.url ?? '/')) {
      metadata(req, res);
      return;
    }
    let raw: Buffer;
    try {
      raw = await readBody(req, core.options.maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyLimitError) {
        const r = payloadTooLarge(core.options.maxBodyBytes);
        send(res, r.status, r.headers, r.body);
        req.resume();
        return;
      }
      res.destroy();
      return;
    }
    // The gauntlet parses the bytes itself (strictly), and hands back what it read.
    const result = await core.verify({ method: req.method ?? 'GET', url: req.url ?? '/', headers: requestHeaders(req), body: raw, context: requestContextOf(req) });
    if (!result.ok) {
      noteReason(res, result.error);
      send(res, result.status, result.headers, result.body);
      return;
    }
    for (const name in result.headers) res.setHeader(name, result.headers[name] as string);
    const authed = req as AuthenticatedRequest;
    authed.auth = result.auth;
    authed.body = isJsonContentType(req.headers['content-type']) ? result.parsedBody : undefined;
    authed.rawBody = raw;
    // tools/list answers show only the tools this caller may call (filter-node-response.ts).
    if (result.toolVisible !== undefined && core.options.filterToolsList) filterNodeResponse(res, result.parsedBody, result.toolVisible);
    try {
      await handler(authed, res);
    } catch {
      // The handler is the application's; never leak its error, never crash the server.
      send(res, 500, { 'Content-Type': 'application/json' }, JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32603, message: 'internal error' } }));
    }
  };
}

/** node:http handler for the RFC 9728 metadata document (GET/HEAD; CORS-readable, cacheable). */
export function metadataHandler(core: ResourceServerCore): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const headers = { 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': '*', 'Cache-Control': 'public, max-age=300' };
    if (req.method === 'OPTIONS') {
      send(res, 204, { ...headers, 'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS' }, '');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, { 'Content-Type': 'application/json', Allow: 'GET, HEAD, OPTIONS' }, JSON.stringify({ error: 'method_not_allowed' }));
      return;
    }
    send(res, 200, headers, JSON.stringify(core.metadata()));
  };
}
