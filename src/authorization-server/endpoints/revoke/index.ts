import { tokenIdHash } from '../../../oauth/token-id-hash.js';
import { InvalidRequestError, isOAuthError } from '../../../oauth/errors.js';
import type { ClientRecord } from '../../../stores/authorization-server-contracts.js';
import { authenticateClient } from '../../clients/client-auth.js';
import type { AsContext } from '../../context.js';
import type { Endpoint } from '../../endpoint.js';
import { NO_STORE_HEADERS } from '../../http.js';
import { readForm } from '../../http.js';
import { sha256Base64url } from '../../pkce.js';
import { verifyOwnAccessToken } from '../../verify-own-access-token.js';

/**
 * Revokes a refresh token: the whole grant (its family, and its access tokens through the
 * deny-list, RFC 7009 §2.1), only if the token belongs to `client`.
 */
async function revokeRefreshToken(ctx: AsContext, client: ClientRecord, token: string): Promise<void> {
  const record = await ctx.stores.grants.getRefreshToken(sha256Base64url(token));
  const grant = record === undefined ? undefined : await ctx.stores.grants.getGrant(record.grantId);
  if (grant === undefined || grant.clientId !== client.clientId) return;
  await ctx.stores.grants.revokeGrant(grant.grantId, ctx.now());
  ctx.audit({ type: 'grant.revoked', clientId: client.clientId, subject: grant.subject, grantId: grant.grantId, detail: 'revoked by the client (RFC 7009)' });
}

/**
 * Revokes one of our JWT access tokens: its `jti` goes on the deny-list until it expires, which
 * resource servers consult. Only the token's own client may revoke it.
 */
async function revokeAccessToken(ctx: AsContext, client: ClientRecord, token: string): Promise<void> {
  let claims;
  try {
    claims = await verifyOwnAccessToken(ctx, token);
  } catch (error) {
    if (isOAuthError(error)) return; // Not ours, forged or expired: nothing to revoke.
    throw error;
  }
  if (claims.jti === undefined || claims.clientId !== client.clientId) return;
  await ctx.stores.grants.denyAccessToken(claims.jti, claims.exp);
  ctx.audit({ type: 'token.revoked', clientId: client.clientId, ...(claims.sub !== undefined && { subject: claims.sub }), jtiHash: tokenIdHash(claims.jti), detail: 'revoked by the client (RFC 7009)' });
}

/**
 * Token revocation (RFC 7009). The client authenticates (public clients by `client_id`, since
 * they hold tokens too) and may revoke only its own tokens. The answer is 200 with an empty body
 * whether the token was revoked, unknown, invalid or another client's (§2.2): the response must
 * not tell a caller which tokens exist. `token_type_hint` is only a hint (§2.1): the token's own
 * shape decides (a JWT is an access token, anything else is looked up as a refresh token).
 *
 * @see https://www.rfc-editor.org/rfc/rfc7009#section-2
 */
export const revokeEndpoint: Endpoint = async (ctx, req, res) => {
  for (const [name, value] of Object.entries(NO_STORE_HEADERS)) res.setHeader(name, value);
  const form = await readForm(req);
  const { client } = await authenticateClient(ctx, req, form, { allowPublic: true });
  const token = form.token;
  if (token === undefined || token === '') throw new InvalidRequestError('the "token" parameter is required (RFC 7009 §2.1)');
  if (token.includes('.')) await revokeAccessToken(ctx, client, token);
  else await revokeRefreshToken(ctx, client, token);
  res.writeHead(200, { 'Content-Length': '0' });
  res.end();
};
