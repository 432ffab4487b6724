import { tokenIdHash } from '../../oauth/token-id-hash.js';
import { InvalidRequestError, InvalidScopeError, InvalidTargetError, isOAuthError, UnauthorizedClientError } from '../../oauth/errors.js';
import type { AccessTokenClaims } from '../../jose/verify-access-token.js';
import { issueAccessToken } from '../issue-access-token.js';
import { verifyOwnAccessToken } from '../verify-own-access-token.js';
import { accessTokenBinding, buildTokenResponse, parseScopeParam, requireParam, requireSubset, type GrantHandler } from './token-response.js';

/** RFC 8693 §2.1 grant type. */
export const TOKEN_EXCHANGE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** RFC 8693 §3 token type of an OAuth access token. */
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
/**
 * Longest chain of exchanges: a token exchanged from a token exchanged from ... at most this many
 * times. Each link is checked on every revocation lookup, so the chain is kept short.
 */
export const MAX_EXCHANGE_DEPTH = 8;

/**
 * The `act` claim of the new token (RFC 8693 §4.1): the requesting client acts for the subject
 * when it is not the client the subject token was issued to; earlier actors nest inside.
 */
function actorClaim(subject: AccessTokenClaims, requester: string): Record<string, unknown> | undefined {
  const prior = subject.payload.act;
  const priorAct = prior !== null && typeof prior === 'object' && !Array.isArray(prior) ? (prior as Record<string, unknown>) : undefined;
  if (subject.clientId === requester) return priorAct;
  return priorAct === undefined ? { sub: requester } : { sub: requester, act: priorAct };
}

/**
 * Token exchange (RFC 8693) for down-scoping: an access token issued by this server is traded for
 * a narrower one — a `resource` among its audiences and a `scope` within its scopes — e.g. one
 * token per MCP session or tool. The subject (`sub`) is preserved, `client_id` is the requesting
 * client, `act` names it when it is not the subject token's client. The new token never outlives
 * the subject token, and no refresh token is issued.
 *
 * The new token belongs to the subject token's grant (its refresh family), and is recorded as
 * exchanged from the subject token and from everything that one was exchanged from: revoking the
 * grant (by the user, by refresh-token or code reuse) or any token of the chain (RFC 7009) puts
 * it on the deny-list that resource servers and introspection consult. A chain may be at most
 * {@link MAX_EXCHANGE_DEPTH} exchanges long.
 *
 * Only clients configured by the operator (`source: 'configured'`) may exchange; any other client
 * is `unauthorized_client` even if its stored record claims the grant.
 *
 * Refused (RFC 8693 §2.2.2: `invalid_request`): another `subject_token_type`, actor tokens, a
 * subject token that is invalid, expired or revoked, or DPoP-bound to a key other than the
 * request's proof key.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8693#section-2
 */
export const tokenExchangeGrant: GrantHandler = async ({ ctx, form, client, jkt, claimProof }) => {
  // Defence in depth: only operator-configured clients act for others. Registration and metadata
  // documents refuse this grant; a stored record that claims it anyway is not trusted.
  if (client.source !== 'configured') throw new UnauthorizedClientError('token exchange is only for clients configured by the operator (RFC 8693 §2.1)');
  const subjectToken = requireParam(form, 'subject_token');
  if (requireParam(form, 'subject_token_type') !== ACCESS_TOKEN_TYPE) {
    throw new InvalidRequestError(`"subject_token_type" must be ${ACCESS_TOKEN_TYPE}: only access tokens issued by this server can be exchanged`);
  }
  if (form.actor_token !== undefined || form.actor_token_type !== undefined) throw new InvalidRequestError('"actor_token" is not supported; the authenticated client is the actor');
  if (form.requested_token_type !== undefined && form.requested_token_type !== ACCESS_TOKEN_TYPE) {
    throw new InvalidRequestError(`"requested_token_type" must be ${ACCESS_TOKEN_TYPE}`);
  }
  if (form.audience !== undefined) throw new InvalidTargetError('"audience" is not supported: name the target with "resource" (RFC 8707)');

  let subject: AccessTokenClaims;
  try {
    subject = await verifyOwnAccessToken(ctx, subjectToken);
  } catch (error) {
    if (!isOAuthError(error)) throw error;
    throw new InvalidRequestError('"subject_token" is not a valid access token issued by this server (RFC 8693 §2.2.2)');
  }
  const now = ctx.now();
  if (subject.sub === undefined || subject.jti === undefined || subject.exp <= now) throw new InvalidRequestError('"subject_token" is expired or incomplete');
  if (await ctx.stores.grants.isAccessTokenDenied(subject.jti, now)) throw new InvalidRequestError('"subject_token" has been revoked');
  const lineage = await ctx.stores.grants.getAccessTokenLineage(subject.jti);
  if (lineage.exchangedFrom.length >= MAX_EXCHANGE_DEPTH) {
    throw new InvalidRequestError(`"subject_token" was itself exchanged ${lineage.exchangedFrom.length} times; a chain of exchanges is at most ${MAX_EXCHANGE_DEPTH} long`);
  }
  // Possession of a bound subject token is proven by a proof signed with its key.
  if (subject.jkt !== undefined && subject.jkt !== jkt) {
    throw new InvalidRequestError('"subject_token" is DPoP-bound: sign the DPoP proof with the key it is bound to (RFC 9449 §6)');
  }

  const resource = ctx.resources.resolve(form.resource);
  if (!subject.aud.includes(resource.uri)) throw new InvalidTargetError('"resource" must be an audience of the subject token: token exchange only narrows');
  const allowed = subject.scopes.filter((s) => resource.scopes.includes(s));
  const requested = parseScopeParam(form.scope);
  if (requested !== undefined) requireSubset(requested, allowed, 'the scope of the subject token');
  const scopes = requested ?? allowed;
  if (scopes.length === 0) throw new InvalidScopeError('the subject token carries no scope this resource accepts');

  const tokenJkt = accessTokenBinding(resource, jkt);
  const act = actorClaim(subject, client.clientId);
  const authTime = subject.payload.auth_time;
  await claimProof();
  const issued = await issueAccessToken(ctx, {
    clientId: client.clientId,
    subject: subject.sub,
    // Never outlive the token it was exchanged for: that would extend a session by exchanging.
    resource: { ...resource, accessTokenLifetimeSeconds: Math.min(resource.accessTokenLifetimeSeconds, subject.exp - now) },
    scopes,
    ...(lineage.grantId !== undefined && { grantId: lineage.grantId }),
    exchangedFrom: [subject.jti, ...lineage.exchangedFrom],
    ...(tokenJkt !== undefined && { jkt: tokenJkt }),
    ...(typeof authTime === 'number' && { authTime }),
    ...(act !== undefined && { extra: { act } }),
  });
  ctx.audit({
    type: 'token.issued',
    clientId: client.clientId,
    subject: subject.sub,
    grantType: TOKEN_EXCHANGE_GRANT_TYPE,
    jtiHash: tokenIdHash(issued.jti),
    ...(lineage.grantId !== undefined && { grantId: lineage.grantId }),
    resource: resource.uri,
    scopes,
    ...(tokenJkt !== undefined && { jkt: tokenJkt }),
    detail: `exchanged a token of client ${subject.clientId}`,
  });
  return buildTokenResponse(issued, { issuedTokenType: ACCESS_TOKEN_TYPE });
};
