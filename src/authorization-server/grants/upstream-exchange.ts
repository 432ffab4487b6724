/**
 * Token exchange (RFC 8693) done in process for the stack's gateway: the caller's access token
 * (verified by the gateway, issued by this server) is traded for a short-lived token for the
 * upstream MCP server behind it — `aud` the upstream's own identifier, `sub` and `client_id` the
 * caller's, `scope` narrowed to what the call needs, `act: { sub: <gateway> }` (RFC 8693 §4.1,
 * earlier actors nested). The rules are the token endpoint's exchange rules: the subject token
 * must verify, be live and not revoked (a revoked grant or token is refused), the chain stays
 * short, the scope only narrows, the new token never outlives the subject token, and it is
 * recorded under the subject token's grant and lineage, so revoking either denies it. One audit
 * event per token.
 *
 * Not reachable from `/token`: an upstream audience is not a registered resource, so no client
 * can ask for one — only the gateway, through this function, can mint one.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8693#section-2
 * @see https://www.rfc-editor.org/rfc/rfc8693#section-4.1
 */
import { InvalidScopeError, InvalidTokenError, isOAuthError } from '../../oauth/errors.js';
import type { AccessTokenClaims } from '../../jose/verify-access-token.js';
import type { AsContext } from '../context.js';
import { issueAccessToken, type IssuedAccessToken } from '../issue-access-token.js';
import { verifyOwnAccessToken } from '../verify-own-access-token.js';
import { ACCESS_TOKEN_TYPE, MAX_EXCHANGE_DEPTH, TOKEN_EXCHANGE_GRANT_TYPE } from './token-exchange.js';

/** What the gateway asks for. */
export interface UpstreamExchangeInput {
  /** The caller's access token, as the gateway received (and verified) it. */
  subjectToken: string;
  /** The upstream's identifier: the new token's `aud`. */
  audience: string;
  /** The scopes the call needs: each must be in the subject token. */
  scopes: readonly string[];
  /** Who acts: the gateway (`act.sub`). */
  actor: string;
  /** At most this long (and never beyond the subject token). */
  lifetimeSeconds: number;
}

/** The minted token and when it expires (seconds since the epoch). */
export interface UpstreamToken extends IssuedAccessToken {
  expiresAt: number;
}

function actorClaim(subject: AccessTokenClaims, actor: string): Record<string, unknown> {
  const prior = subject.payload.act;
  const priorAct = prior !== null && typeof prior === 'object' && !Array.isArray(prior) ? (prior as Record<string, unknown>) : undefined;
  return priorAct === undefined ? { sub: actor } : { sub: actor, act: priorAct };
}

/**
 * Mints the upstream token. Rejects with `InvalidTokenError` when the subject token is not a
 * live, unrevoked token of this server (the gateway answers 401), `InvalidScopeError` when the
 * call needs a scope the token lacks, and `StoreUnavailableError` when the store cannot answer.
 */
export async function exchangeForUpstream(ctx: AsContext, input: UpstreamExchangeInput): Promise<UpstreamToken> {
  let subject: AccessTokenClaims;
  try {
    subject = await verifyOwnAccessToken(ctx, input.subjectToken);
  } catch (error) {
    if (!isOAuthError(error)) throw error;
    throw new InvalidTokenError('the access token cannot be exchanged for the upstream: it is not a valid token of this issuer');
  }
  const now = ctx.now();
  if (subject.sub === undefined || subject.jti === undefined || subject.exp <= now) throw new InvalidTokenError('the access token is expired or incomplete');
  if (await ctx.stores.grants.isAccessTokenDenied(subject.jti, now)) throw new InvalidTokenError('the access token has been revoked');
  const lineage = await ctx.stores.grants.getAccessTokenLineage(subject.jti);
  if (lineage.exchangedFrom.length >= MAX_EXCHANGE_DEPTH) throw new InvalidTokenError(`the access token was itself exchanged ${lineage.exchangedFrom.length} times`);
  const missing = input.scopes.filter((s) => !subject.scopes.includes(s));
  if (missing.length > 0) throw new InvalidScopeError(`the call needs ${missing.join(' ')}, which the access token does not carry`);
  if (input.scopes.length === 0) throw new InvalidScopeError('no scope to exchange for');
  const lifetime = Math.min(input.lifetimeSeconds, subject.exp - now);
  const issued = await issueAccessToken(ctx, {
    clientId: subject.clientId,
    subject: subject.sub,
    resource: { uri: input.audience, name: input.audience, scopes: input.scopes, defaultScopes: input.scopes, dpop: 'disabled', accessTokenLifetimeSeconds: lifetime },
    scopes: input.scopes,
    ...(lineage.grantId !== undefined && { grantId: lineage.grantId }),
    exchangedFrom: [subject.jti, ...lineage.exchangedFrom],
    ...(typeof subject.payload.auth_time === 'number' && { authTime: subject.payload.auth_time }),
    extra: { act: actorClaim(subject, input.actor) },
  });
  ctx.audit({
    type: 'token.issued',
    clientId: subject.clientId,
    subject: subject.sub,
    grantType: TOKEN_EXCHANGE_GRANT_TYPE,
    ...(lineage.grantId !== undefined && { grantId: lineage.grantId }),
    resource: input.audience,
    scopes: [...input.scopes],
    detail: `exchanged by ${input.actor} for its upstream (${ACCESS_TOKEN_TYPE})`,
  });
  return { ...issued, expiresAt: now + lifetime };
}
