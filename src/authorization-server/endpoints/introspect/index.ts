import { InvalidRequestError, isOAuthError } from '../../../oauth/errors.js';
import type { AccessTokenClaims } from '../../../jose/verify-access-token.js';
import type { ClientRecord } from '../../../stores/authorization-server-contracts.js';
import { authenticateClient } from '../../clients/client-auth.js';
import type { AsContext } from '../../context.js';
import type { Endpoint } from '../../endpoint.js';
import { NO_STORE_HEADERS } from '../../http.js';
import { readForm, sendJson } from '../../http.js';
import { sha256Base64url } from '../../pkce.js';
import { verifyOwnAccessToken } from '../../verify-own-access-token.js';

/** RFC 7662 §2.2: an inactive token is reported with nothing else, whatever the reason. */
const INACTIVE = Object.freeze({ active: false });

/**
 * RFC 7662 §4: who may learn about an access token — its own client, or a server of a resource
 * among its audiences (`introspectionClients` of that resource). Only an operator-configured
 * client can be a resource server: a self-registered one never is, whatever its id.
 */
function mayIntrospect(ctx: AsContext, client: ClientRecord, claims: AccessTokenClaims): boolean {
  if (claims.clientId === client.clientId) return true;
  return client.source === 'configured' && ctx.resources.isResourceServer(client.clientId, claims.aud);
}

/**
 * Introspects one of our JWT access tokens for `client`: signature, issuer, who is asking (RFC 7662
 * §4), strict expiry, deny-list.
 */
async function introspectAccessToken(ctx: AsContext, client: ClientRecord, token: string): Promise<Record<string, unknown>> {
  let claims;
  try {
    claims = await verifyOwnAccessToken(ctx, token);
  } catch (error) {
    if (isOAuthError(error)) return INACTIVE;
    throw error;
  }
  // Before anything else is looked at: a client with no business knowing learns nothing, not
  // even whether the token was revoked.
  if (!mayIntrospect(ctx, client, claims)) return INACTIVE;
  const now = ctx.now();
  // The verifier tolerates clock skew between machines; here our own clock decides, no leeway.
  if (claims.exp <= now || claims.jti === undefined || (await ctx.stores.grants.isAccessTokenDenied(claims.jti, now))) return INACTIVE;
  const result: Record<string, unknown> = {
    active: true,
    iss: claims.iss,
    sub: claims.sub,
    aud: claims.aud.length === 1 ? claims.aud[0] : [...claims.aud],
    client_id: claims.clientId,
    scope: claims.scopes.join(' '),
    exp: claims.exp,
    iat: claims.iat,
    jti: claims.jti,
    token_type: claims.jkt === undefined ? 'Bearer' : 'DPoP',
  };
  // RFC 9449 §6.2: the confirmation a resource server needs to check the DPoP binding.
  if (claims.jkt !== undefined) result.cnf = { jkt: claims.jkt };
  if (claims.payload.act !== undefined) result.act = claims.payload.act;
  return result;
}

/**
 * Introspects a refresh token, for the client it was issued to only: resource servers
 * introspect access tokens, and nobody else has a reason to learn about a client's refresh tokens.
 * A rotated token is inactive: its successor is the live one.
 */
async function introspectRefreshToken(ctx: AsContext, client: ClientRecord, token: string): Promise<Record<string, unknown>> {
  const record = await ctx.stores.grants.getRefreshToken(sha256Base64url(token));
  const grant = record === undefined ? undefined : await ctx.stores.grants.getGrant(record.grantId);
  const now = ctx.now();
  if (record === undefined || grant === undefined || grant.clientId !== client.clientId) return INACTIVE;
  if (grant.revokedAt !== undefined || record.rotatedAt !== undefined || record.expiresAt <= now || (grant.expiresAt !== undefined && grant.expiresAt <= now)) return INACTIVE;
  return { active: true, client_id: grant.clientId, sub: grant.subject, scope: record.scopes.join(' '), exp: record.expiresAt, iat: record.issuedAt, iss: ctx.issuer };
}

/**
 * Token introspection (RFC 7662). Only confidential clients may ask (§2.1: the endpoint requires
 * authorization; a public client's `client_id` proves nothing → 401 `invalid_client`), and only
 * about their own tokens or, for a resource's configured server (`introspectionClients`), tokens
 * meant for that resource (§4). Unknown, expired, revoked and foreign tokens, and tokens the
 * caller may not learn about, all answer `{ "active": false }` (§2.2). Access-token
 * answers carry `token_type` and `cnf.jkt`, so a resource server can enforce DPoP binding.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7662#section-2
 */
export const introspectEndpoint: Endpoint = async (ctx, req, res) => {
  for (const [name, value] of Object.entries(NO_STORE_HEADERS)) res.setHeader(name, value);
  const form = await readForm(req);
  const { client } = await authenticateClient(ctx, req, form, { allowPublic: false });
  const token = form.token;
  if (token === undefined || token === '') throw new InvalidRequestError('the "token" parameter is required (RFC 7662 §2.1)');
  const result = token.includes('.') ? await introspectAccessToken(ctx, client, token) : await introspectRefreshToken(ctx, client, token);
  sendJson(res, 200, result);
};
