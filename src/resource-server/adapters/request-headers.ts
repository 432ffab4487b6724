import type { IncomingMessage } from 'node:http';
import type { VerifyRequest } from '../types.js';

/**
 * A node request's header fields as the gauntlet reads them, without building a second copy when
 * the first says it all. `req.headers` (which node:http builds for every request anyway) is exact
 * when no field name repeats: each name then has its one value, neither dropped nor joined. Only a
 * repeated name needs `req.headersDistinct` (built on first use), where `req.headers` would have
 * kept one `Authorization` of two, or joined two `DPoP`s with a comma — and the gauntlet must see
 * both (RFC 9449 §4.3 step 1, RFC 6750 §2.1).
 */
export function requestHeaders(req: IncomingMessage): VerifyRequest['headers'] {
  const headers = req.headers;
  return Object.keys(headers).length * 2 === req.rawHeaders.length ? headers : req.headersDistinct;
}
