import type { Endpoint } from '../../endpoint.js';
import { sendJson } from '../../http.js';

/**
 * The issuer's public keys (current, next and not-yet-expired retired keys), so verifiers know a
 * key before it signs and keep it until its last token expires.
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-5
 */
export const jwksEndpoint: Endpoint = async (ctx, _req, res) => {
  sendJson(res, 200, await ctx.keys.jwks(), { 'Cache-Control': 'public, max-age=60', 'Access-Control-Allow-Origin': '*', 'Content-Type': 'application/jwk-set+json' });
};
