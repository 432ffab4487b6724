import { tokenIdHash } from '../../oauth/token-id-hash.js';
import { InvalidGrantError, InvalidRequestError, InvalidTargetError } from '../../oauth/errors.js';
import type { AuthorizationCodeRecord, GrantRecord } from '../../stores/authorization-server-contracts.js';
import { StoreConflictError } from '../../stores/store-conflict-error.js';
import type { AsContext } from '../context.js';
import { issueAccessToken } from '../issue-access-token.js';
import { isCodeVerifier, sha256Base64url, verifyPkceS256 } from '../pkce.js';
import { issueRefreshToken } from './refresh-token.js';
import { accessTokenBinding, buildTokenResponse, requireParam, type GrantHandler } from './token-response.js';

/**
 * `grant_type=authorization_code` (OAuth 2.1 §4.1.3). Checks, in order: parameters present and the
 * verifier well-formed (before the code is touched, so a malformed request does not burn it);
 * the code consumed atomically (a second redemption revokes everything the first issued); bound to
 * this client, this exact `redirect_uri`, the PKCE S256 verifier (RFC 7636 §4.6), the code's
 * resource (RFC 8707 §2.2) and its `dpop_jkt` (RFC 9449 §10). Then the DPoP proof's `jti` is
 * claimed (a request failing a check never consumes it), and a grant, a (DPoP-bound) access
 * token for the resource and, if the client may refresh, the first refresh token of the family.
 * A code presented again claims its proof before revoking anything, so a replayed proof is
 * `invalid_dpop_proof` and only a redemption with a proof of its own (or none) counts as reuse.
 *
 * A code that fails any check after consumption stays consumed: codes are single-use whatever the
 * outcome, and a stolen code presented with a wrong verifier must not remain redeemable.
 *
 * @see https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1#section-4.1.3
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-11.1
 * @see https://www.rfc-editor.org/rfc/rfc9700#section-4.5.3
 */
export const authorizationCodeGrant: GrantHandler = async ({ ctx, form, client, jkt, claimProof }) => {
  const codeParam = requireParam(form, 'code');
  const redirectUri = requireParam(form, 'redirect_uri');
  // OAuth 2.1 §4.1.3: code_verifier is REQUIRED; without it PKCE would be downgraded to nothing.
  const verifier = requireParam(form, 'code_verifier');
  if (!isCodeVerifier(verifier)) throw new InvalidRequestError('"code_verifier" must be 43-128 unreserved characters (RFC 7636 §4.1)');

  const now = ctx.now();
  const consumed = await ctx.stores.codes.consume(sha256Base64url(codeParam), now);
  if (consumed.state === 'unknown') throw new InvalidGrantError('the authorization code is invalid or expired');
  if (consumed.state === 'reused') {
    // The proof first: an exact replay of the redeeming request (or a concurrent copy of it)
    // carries the proof the first redemption claimed, and is refused as a replay (RFC 9449
    // §11.1) with the grant untouched — otherwise anyone replaying it, or a client's own
    // duplicate, would revoke the legitimate client's tokens. A second redemption with a proof
    // of its own is reuse (RFC 6749 §4.1.2) and revokes.
    await claimProof();
    await revokeFirstRedemption(ctx, consumed.code);
    ctx.audit({ type: 'code.reuse_detected', clientId: consumed.code.clientId, subject: consumed.code.subject, grantId: consumed.code.grantId, detail: `presented by ${client.clientId}` });
    throw new InvalidGrantError('the authorization code has already been used; the tokens issued for it are revoked (OAuth 2.1 §4.1.3)');
  }
  const code = consumed.code;

  // RFC 6749 §5.2: invalid_grant covers a code issued to another client or another redirect URI.
  if (code.clientId !== client.clientId) throw new InvalidGrantError('the authorization code was issued to another client');
  if (code.redirectUri !== redirectUri) throw new InvalidGrantError('"redirect_uri" does not match the authorization request');
  if (!verifyPkceS256(verifier, code.codeChallenge)) throw new InvalidGrantError('PKCE verification failed: "code_verifier" does not match the code challenge (RFC 7636 §4.6)');
  if (form.resource !== undefined && ctx.resources.resolve(form.resource).uri !== code.resource) {
    throw new InvalidTargetError('"resource" must name the resource of the authorization request (RFC 8707 §2.2)');
  }
  // RFC 9449 §10 says only "MUST reject". The proof itself is valid; what fails is the grant's
  // binding to another key, which RFC 6749 §5.2 calls invalid_grant (as for another client).
  if (code.dpopJkt !== undefined && code.dpopJkt !== jkt) {
    throw new InvalidGrantError('the authorization code is bound to another DPoP key (dpop_jkt); sign the proof with that key (RFC 9449 §10)');
  }

  const resource = ctx.resources.resolve(code.resource);
  const tokenJkt = accessTokenBinding(resource, jkt);
  // The code is spent already (single-use whatever the outcome); the proof only once all passed.
  await claimProof();
  ctx.audit({ type: 'code.redeemed', clientId: client.clientId, subject: code.subject, grantId: code.grantId, resource: resource.uri });
  const scopes = code.scopes.filter((s) => resource.scopes.includes(s));
  const grant: GrantRecord = { grantId: code.grantId, clientId: client.clientId, subject: code.subject, scopes, resources: [resource.uri], createdAt: now };
  // RFC 9449 §5: refresh tokens of public clients are bound to the proof key; confidential
  // clients are bound by their authentication and may use a new key per refresh.
  if (client.tokenEndpointAuthMethod === 'none' && jkt !== undefined) grant.jkt = jkt;
  try {
    await ctx.stores.grants.createGrant(grant);
  } catch (error) {
    if (!(error instanceof StoreConflictError)) throw error;
    // A concurrent second redemption got here first and left the grant revoked: go on, so that
    // exactly one redemption succeeds, but everything issued below is denied as it is recorded.
  }

  const issued = await issueAccessToken(ctx, {
    clientId: client.clientId,
    subject: code.subject,
    resource,
    scopes,
    grantId: grant.grantId,
    authTime: code.authTime,
    ...(tokenJkt !== undefined && { jkt: tokenJkt }),
  });
  const refreshToken = client.grantTypes.includes('refresh_token') ? await issueRefreshToken(ctx, grant) : undefined;
  ctx.audit({ type: 'token.issued', clientId: client.clientId, subject: code.subject, grantId: grant.grantId, grantType: 'authorization_code', resource: resource.uri, scopes, jtiHash: tokenIdHash(issued.jti), ...(tokenJkt !== undefined && { jkt: tokenJkt }) });
  return buildTokenResponse(issued, refreshToken === undefined ? {} : { refreshToken });
};

/**
 * OAuth 2.1 §4.1.3 / RFC 9700 §4.5.3: a second redemption revokes what the first one issued —
 * its refresh family and, through the deny-list, its access tokens. When the first redemption
 * has not created its grant yet (it is still in flight, or it failed), a revoked grant is left in
 * its place, so whatever it goes on to issue is born revoked.
 */
async function revokeFirstRedemption(ctx: AsContext, code: AuthorizationCodeRecord): Promise<void> {
  const grants = ctx.stores.grants;
  const now = ctx.now();
  await grants.revokeGrant(code.grantId, now);
  if ((await grants.getGrant(code.grantId)) !== undefined) return;
  try {
    await grants.createGrant({ grantId: code.grantId, clientId: code.clientId, subject: code.subject, scopes: code.scopes, resources: [code.resource], createdAt: now, revokedAt: now });
  } catch (error) {
    if (!(error instanceof StoreConflictError)) throw error;
    // The first redemption created it in between: revoke that one.
    await grants.revokeGrant(code.grantId, now);
  }
}
