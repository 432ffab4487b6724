import { randomUUID } from 'node:crypto';
import type { AsContext } from './context.js';
import type { RegisteredResource } from './resource-registry.js';

/** An issued access token. */
export interface IssuedAccessToken {
  accessToken: string;
  tokenType: 'DPoP' | 'Bearer';
  expiresIn: number;
  jti: string;
  scope: string;
}

/**
 * Mints an RFC 9068 JWT access token: `typ: at+jwt`, `aud` = the resource's canonical URI
 * (RFC 8707), `cnf.jkt` when DPoP-bound (RFC 9449 §6). Records it under its grant so revoking the
 * grant puts it on the deny-list.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-2.2
 */
export async function issueAccessToken(
  ctx: AsContext,
  input: { clientId: string; subject: string; resource: RegisteredResource; scopes: readonly string[]; jkt?: string; grantId?: string; authTime?: number; extra?: Record<string, unknown> },
): Promise<IssuedAccessToken> {
  const now = ctx.now();
  const lifetime = input.resource.accessTokenLifetimeSeconds;
  const jti = randomUUID();
  const scope = input.scopes.join(' ');
  const payload: Record<string, unknown> = {
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
  if (input.grantId !== undefined) await ctx.stores.grants.recordAccessToken(input.grantId, jti, now + lifetime);
  return { accessToken, tokenType: input.jkt === undefined ? 'Bearer' : 'DPoP', expiresIn: lifetime, jti, scope };
}
