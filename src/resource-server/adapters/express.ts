import { filterNodeResponse } from './filter-node-response.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResourceServerCore } from '../core.js';
import type { WardenAuthInfo } from '../types.js';
import { BodyLimitError } from '../../oauth/read-stream.js';
import { noteReason } from '../../oauth/response-reason.js';
import { requestContextOf } from '../../oauth/request-context.js';
import { isJsonContentType, payloadTooLarge, readBody } from './read-body.js';
import { send } from './node.js';

/** The slice of an Express request the middleware touches (no dependency on express types). */
export type ExpressLikeRequest = IncomingMessage & { auth?: WardenAuthInfo; body?: unknown; originalUrl?: string; _body?: boolean };
/** Express `next`. */
export type NextFunction = (error?: unknown) => void;

/**
 * Express middleware: runs the gauntlet and sets `req.auth` (what the MCP SDK's transports read).
 * Uses `req.body` when a body parser already ran (then the application reads what that parser
 * read); otherwise reads the bytes, lets the gauntlet parse them strictly, sets `req.body` to its
 * parse for a JSON content type, and marks the body parsed so a later `express.json()` does not
 * wait for a consumed stream.
 */
export function expressAdapter(core: ResourceServerCore): (req: ExpressLikeRequest, res: ServerResponse, next: NextFunction) => Promise<void> {
  return async (req, res, next) => {
    const parsedBefore = req.body !== undefined;
    let evaluated: unknown = req.body;
    if (!parsedBefore) {
      try {
        evaluated = await readBody(req, core.options.maxBodyBytes);
        req._body = true;
      } catch (error) {
        if (error instanceof BodyLimitError) {
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
    const result = await core.verify({ method: req.method ?? 'GET', url, headers: req.headersDistinct, body: evaluated, context: requestContextOf(req) });
    if (!result.ok) {
      noteReason(res, result.error);
      send(res, result.status, result.headers, result.body);
      return;
    }
    for (const [name, value] of Object.entries(result.headers)) res.setHeader(name, value);
    if (!parsedBefore && isJsonContentType(req.headers['content-type'])) req.body = result.parsedBody;
    req.auth = result.auth;
    if (result.toolVisible !== undefined && core.options.filterToolsList) filterNodeResponse(res, result.parsedBody, result.toolVisible);
    next();
  };
}
