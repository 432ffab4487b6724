import { randomUUID } from 'node:crypto';
import type { AsContext } from './context.js';
import { federatedClaims } from './federation/federated-user.js';
import type { RegisteredResource } from './resource-registry.js';

/** An issued access token. */
export interface IssuedAccessToken {
  accessToken: string;
  tokenType: 'DPoP' | 'Bearer';
  expiresIn: number;
  jti: string;
  scope: string;
}

/** What {@link issueAccessToken} mints. */
export interface AccessTokenInput {
  clientId: string;
  subject: string;
  resource: RegisteredResource;
  scopes: readonly string[];
  /** RFC 7638 thumbprint the token is bound to (RFC 9449 §6). */
  jkt?: string;
  /** The grant it is issued under: revoking the grant denies it. */
  grantId?: string;
  /** RFC 8693: the access tokens (`jti`s) it is exchanged from: denying any of them denies it. */
  exchangedFrom?: readonly string[];
  authTime?: number;
  extra?: Record<string, unknown>;
  /**
   * Already recorded under `grantId` by the caller, in the same store write as its grant change
   * (`GrantStore.rotateRefreshToken` with `accessToken`): the token gets this `jti` and `exp`,
   * and is not recorded again.
   */
  recorded?: { jti: string; expiresAt: number };
}

/**
 * Mints an RFC 9068 JWT access token: `typ: at+jwt`, `aud` = the resource's canonical URI
 * (RFC 8707), `cnf.jkt` when DPoP-bound (RFC 9449 §6). Records it under its grant, and with the
 * tokens it was exchanged from, so that revoking any of them puts it on the deny-list. Both are
 * recorded before the token is returned, so nobody holds a token revocation could miss.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-2.2
 */
export async function issueAccessToken(ctx: AsContext, input: AccessTokenInput): Promise<IssuedAccessToken> {
  const lifetime = input.resource.accessTokenLifetimeSeconds;
  const now = input.recorded === undefined ? ctx.now() : input.recorded.expiresAt - lifetime;
  const jti = input.recorded?.jti ?? randomUUID();
  const scope = input.scopes.join(' ');
  // A user who signed in at an upstream provider carries its groups, for policy.
  const federated = input.extra === undefined ? await federatedClaims(ctx, input.subject) : undefined;
  const payload: Record<string, unknown> = {
    ...federated,
    ...input.extra,
    iss: ctx.issuer,
    sub: input.subject,
    aud: input.resource.uri,
    client_id: input.clientId,
    scope,
    jti,
    iat: now,
    exp: now + lifetime,
  };
  if (input.authTime !== undefined) payload.auth_time = input.authTime;
  if (input.jkt !== undefined) payload.cnf = { jkt: input.jkt };
  const accessToken = await ctx.keys.signJwt(payload, 'at+jwt');
  if (input.grantId !== undefined && input.recorded === undefined) await ctx.stores.grants.recordAccessToken(input.grantId, jti, now + lifetime);
  if (input.exchangedFrom !== undefined) await ctx.stores.grants.recordExchangedAccessToken(jti, input.exchangedFrom, now + lifetime);
  return { accessToken, tokenType: input.jkt === undefined ? 'Bearer' : 'DPoP', expiresIn: lifetime, jti, scope };
}
