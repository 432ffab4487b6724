import { randomBytes, randomUUID } from 'node:crypto';
import { tokenIdHash } from '../../oauth/token-id-hash.js';
import { InvalidGrantError, InvalidTargetError } from '../../oauth/errors.js';
import type { ClientRecord, GrantRecord, RefreshTokenRecord } from '../../stores/authorization-server-contracts.js';
import type { AsContext } from '../context.js';
import { issueAccessToken } from '../issue-access-token.js';
import { sha256Base64url } from '../pkce.js';
import { accessTokenBinding, buildTokenResponse, parseScopeParam, requireParam, requireSubset, type GrantHandler } from './token-response.js';

/** End of a refresh token issued now: sliding lifetime, never beyond the grant's absolute end. */
function refreshExpiry(ctx: AsContext, grant: GrantRecord, now: number): number {
  return Math.min(now + ctx.lifetimes.refreshToken, grant.expiresAt ?? Number.POSITIVE_INFINITY);
}

/**
 * Issues the first refresh token of a grant's family: 32 random bytes, base64url. Only its
 * SHA-256 is stored. Returns the plaintext for the token response.
 */
export async function issueRefreshToken(ctx: AsContext, grant: GrantRecord): Promise<string> {
  const plaintext = randomBytes(32).toString('base64url');
  const now = ctx.now();
  const record: RefreshTokenRecord = {
    tokenHash: sha256Base64url(plaintext),
    grantId: grant.grantId,
    generation: 0,
    scopes: [...grant.scopes],
    resources: [...grant.resources],
    issuedAt: now,
    expiresAt: refreshExpiry(ctx, grant, now),
  };
  if (grant.jkt !== undefined) record.jkt = grant.jkt;
  await ctx.stores.grants.saveRefreshToken(record);
  return plaintext;
}

/**
 * How long after a rotation the same request may be retried and get the same successor. The
 * fingerprint of a retry (client id, DPoP key, parameters) is only a secret for a party that
 * authenticates: a confidential client has its secret, a DPoP-bound token has its key. For a
 * public client without DPoP anyone holding the rotated token can reproduce the fingerprint, so a
 * grace window would hand a thief the successor without reuse detection: there is none — every
 * second presentation is reuse and revokes the family (RFC 9700 §4.14.2).
 */
function retryGraceSeconds(ctx: AsContext, client: ClientRecord, boundKey: string | undefined): number {
  if (client.tokenEndpointAuthMethod === 'none' && boundKey === undefined) return 0;
  return ctx.refreshGraceSeconds;
}

/**
 * `grant_type=refresh_token` (OAuth 2.1 §4.3) with rotation on every use (RFC 9700 §4.14.2).
 *
 * The successor is a pure function of the presented token (`HMAC(secret, token)`), so the store
 * never holds a refresh token in plaintext and yet a retry of the same request inside the grace
 * window receives the very same successor: a lost response does not kill the session. "Same
 * request" is the fingerprint of client, DPoP key and parameters; anything else presenting a
 * rotated token is reuse, and the store revokes the whole family with its access tokens. The
 * window applies only to confidential clients and DPoP-bound tokens ({@link retryGraceSeconds}):
 * a public client's unbound token has no grace, since a thief could reproduce its fingerprint.
 *
 * The client and DPoP-key binding are checked before the compare-and-swap, so a token presented
 * by the wrong party is refused without rotating (or revoking) the legitimate client's family.
 * The DPoP proof's `jti` is claimed after those checks and just before the compare-and-swap.
 *
 * @see https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1#section-4.3
 * @see https://www.rfc-editor.org/rfc/rfc9700#section-4.14.2
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-5
 */
export const refreshTokenGrant: GrantHandler = async ({ ctx, form, client, jkt, claimProof }) => {
  const presented = requireParam(form, 'refresh_token');
  const tokenHash = sha256Base64url(presented);
  const grants = ctx.stores.grants;

  const token = await grants.getRefreshToken(tokenHash);
  const grant = token === undefined ? undefined : await grants.getGrant(token.grantId);
  if (token === undefined || grant === undefined) throw new InvalidGrantError('the refresh token is invalid, expired or revoked');
  if (grant.clientId !== client.clientId) throw new InvalidGrantError('the refresh token was issued to another client');
  const boundKey = token.jkt ?? grant.jkt;
  if (boundKey !== undefined && boundKey !== jkt) {
    throw new InvalidGrantError('the refresh token is bound to another DPoP key; sign the proof with the key it was issued to (RFC 9449 §5)');
  }

  // OAuth 2.1 §4.3.1: scope may only narrow; omitted means everything the token carries.
  const requested = parseScopeParam(form.scope);
  if (requested !== undefined) requireSubset(requested, token.scopes, 'the scope of the refresh token (OAuth 2.1 §4.3.1)');
  let resourceUri = token.resources[0];
  if (form.resource !== undefined) {
    resourceUri = ctx.resources.resolve(form.resource).uri;
    if (!token.resources.includes(resourceUri)) throw new InvalidTargetError('"resource" must be one of the resources of the original grant (RFC 8707 §2.2)');
  }
  if (resourceUri === undefined) throw new InvalidGrantError('the refresh token names no resource');
  const resource = ctx.resources.resolve(resourceUri);
  const tokenJkt = accessTokenBinding(resource, jkt);
  const scopes = (requested ?? token.scopes).filter((s) => resource.scopes.includes(s));

  const now = ctx.now();
  // Refused before the proof is claimed: what the compare-and-swap would answer `expired` or
  // `revoked` (a rotated token of a revoked family still goes on, to be reported as reuse).
  const revoked = grant.revokedAt !== undefined && token.rotatedAt === undefined;
  if (revoked || token.expiresAt <= now || (grant.expiresAt !== undefined && grant.expiresAt <= now)) {
    throw new InvalidGrantError('the refresh token is invalid, expired or revoked');
  }
  const successorPlaintext = ctx.hmac('refresh-successor', presented);
  // RFC 6749 §6: the new refresh token keeps the scope (and resources) of the one presented;
  // only the access token is narrowed.
  const successor: RefreshTokenRecord = {
    tokenHash: sha256Base64url(successorPlaintext),
    grantId: token.grantId,
    generation: token.generation + 1,
    scopes: [...token.scopes],
    resources: [...token.resources],
    issuedAt: now,
    expiresAt: refreshExpiry(ctx, grant, now),
  };
  if (token.jkt !== undefined) successor.jkt = token.jkt;
  const fingerprint = ctx.hmac('refresh-fp', JSON.stringify({ clientId: client.clientId, jkt: jkt ?? '', scope: form.scope ?? '', resource: form.resource ?? '' }));

  // The access token is recorded under the grant by the rotation itself (one store write, one
  // durable commit, instead of two); it is signed only once the rotation succeeded.
  const recorded = { jti: randomUUID(), expiresAt: now + resource.accessTokenLifetimeSeconds };

  // The compare-and-swap is the last check and the first change: the proof is claimed before it,
  // so a replayed proof can neither rotate the family nor obtain a retry's successor.
  await claimProof();
  const rotation = await grants.rotateRefreshToken({ tokenHash, successor, fingerprint, graceSeconds: retryGraceSeconds(ctx, client, boundKey), now, accessToken: recorded });
  switch (rotation.state) {
    case 'rotated':
    case 'retry':
      break;
    case 'reused':
      ctx.audit({ type: 'refresh.reuse_detected', clientId: client.clientId, subject: grant.subject, grantId: rotation.grantId, ...(jkt !== undefined && { jkt }), detail: 'refresh token family revoked with its access tokens' });
      throw new InvalidGrantError('the refresh token has already been used; the grant and its tokens are revoked (RFC 9700 §4.14.2)');
    default:
      throw new InvalidGrantError('the refresh token is invalid, expired or revoked');
  }

  const issued = await issueAccessToken(ctx, {
    clientId: client.clientId,
    subject: rotation.grant.subject,
    resource,
    scopes,
    grantId: rotation.grant.grantId,
    recorded,
    ...(tokenJkt !== undefined && { jkt: tokenJkt }),
  });
  ctx.audit({
    type: 'token.refreshed',
    clientId: client.clientId,
    subject: rotation.grant.subject,
    grantId: rotation.grant.grantId,
    grantType: 'refresh_token',
    resource: resource.uri,
    scopes,
    jtiHash: tokenIdHash(issued.jti),
    ...(tokenJkt !== undefined && { jkt: tokenJkt }),
    ...(rotation.state === 'retry' && { detail: 'retry within the grace window: same successor' }),
  });
  return buildTokenResponse(issued, { refreshToken: successorPlaintext });
};
