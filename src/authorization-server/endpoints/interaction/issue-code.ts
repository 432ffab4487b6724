import { randomBytes, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { AuthorizationCodeRecord, ClientRecord } from '../../../stores/authorization-server-contracts.js';
import { noteClientUsed } from '../register/limits.js';
import type { AsContext } from '../../context.js';
import type { ResponseHeaders } from '../../http.js';
import { sha256Base64url } from '../../pkce.js';
import { appendResponseParameters, sendRedirect } from '../authorize/authorization-response.js';
import type { PendingAuthorization } from '../authorize/pending-authorization.js';

/**
 * Issues the authorization code for a pending request the caller has already `take`n (so it
 * cannot be issued twice) and redirects to the client with `code`, `state` and `iss`
 * (RFC 6749 §4.1.2, RFC 9207 §2). The code is bound to the client, redirect URI, resource, PKCE
 * challenge and `dpop_jkt`; its grant id is fresh, so a replayed code can revoke what it issued.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2
 * @see https://www.rfc-editor.org/rfc/rfc9207#section-2
 */
export async function issueCode(
  ctx: AsContext,
  res: ServerResponse,
  client: ClientRecord,
  pending: PendingAuthorization & { subject: string },
  headers: ResponseHeaders = {},
): Promise<void> {
  const now = ctx.now();
  const code = randomBytes(32).toString('base64url');
  const record: AuthorizationCodeRecord = {
    // Stored only as its digest (the token endpoint looks it up the same way); the code itself is never stored or logged.
    codeHash: sha256Base64url(code),
    clientId: pending.clientId,
    redirectUri: pending.redirectUri,
    resource: pending.resource,
    scopes: [...pending.scopes],
    subject: pending.subject,
    codeChallenge: pending.codeChallenge,
    grantId: randomUUID(),
    authTime: pending.authTime ?? now,
    expiresAt: now + ctx.lifetimes.code,
  };
  if (pending.dpopJkt !== undefined) record.dpopJkt = pending.dpopJkt;
  await ctx.stores.codes.save(record);
  ctx.audit({ type: 'code.issued', clientId: record.clientId, subject: record.subject, grantId: record.grantId, resource: record.resource, scopes: record.scopes, ...(record.dpopJkt !== undefined && { jkt: record.dpopJkt }) });
  // The client completed an authorization: it no longer expires as unused.
  await noteClientUsed(ctx, client);
  sendRedirect(res, appendResponseParameters(pending.redirectUri, { code, state: pending.state, iss: ctx.issuer }), headers);
}
