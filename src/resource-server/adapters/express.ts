import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResourceServerCore } from '../core.js';
import type { WardenAuthInfo } from '../types.js';
import { BodyTooLargeError, parseJsonIfJson, payloadTooLarge, readBody } from './read-body.js';
import { send } from './node.js';

/** The slice of an Express request the middleware touches (no dependency on express types). */
export type ExpressLikeRequest = IncomingMessage & { auth?: WardenAuthInfo; body?: unknown; originalUrl?: string; _body?: boolean };
/** Express `next`. */
export type NextFunction = (error?: unknown) => void;

/**
 * Express middleware: runs the gauntlet and sets `req.auth` (what the MCP SDK's transports read).
 * Uses `req.body` when a body parser already ran; otherwise reads and parses the JSON body and
 * marks it parsed so a later `express.json()` does not wait for a consumed stream.
 */
export function expressAdapter(core: ResourceServerCore): (req: ExpressLikeRequest, res: ServerResponse, next: NextFunction) => Promise<void> {
  return async (req, res, next) => {
    let body = req.body;
    // What the gauntlet evaluates: the parsed body, or the raw bytes when they do not parse (so an
    // unreadable body is judged ambiguous, not empty).
    let evaluated: unknown = body;
    if (body === undefined) {
      try {
        const raw = await readBody(req, core.options.maxBodyBytes);
        body = parseJsonIfJson(req.headers['content-type'], raw);
        evaluated = body ?? raw;
        req.body = body;
        req._body = true;
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          const r = payloadTooLarge(core.options.maxBodyBytes);
          send(res, r.status, r.headers, r.body);
          return;
        }
        next(error);
        return;
      }
    }
    // Mounted routers strip their prefix from req.url; htu needs the full path.
    const url = req.originalUrl ?? req.url ?? '/';
    const result = await core.verify({ method: req.method ?? 'GET', url, headers: req.headersDistinct, body: evaluated });
    if (!result.ok) {
      send(res, result.status, result.headers, result.body);
      return;
    }
    for (const [name, value] of Object.entries(result.headers)) res.setHeader(name, value);
    req.auth = result.auth;
    next();
  };
}
