import { missingScopes } from '../../../oauth/scope.js';
import type { AsContext } from '../../context.js';

/**
 * True when `subject` already allowed `clientId` every one of `scopes` at `resource` (a remembered
 * consent), so the consent page can be skipped. A request for anything more asks again.
 */
export async function hasRememberedConsent(ctx: AsContext, subject: string, clientId: string, resource: string, scopes: readonly string[]): Promise<boolean> {
  const remembered = await ctx.stores.consents.get(subject, clientId, resource);
  return remembered !== undefined && missingScopes(remembered.scopes, scopes).length === 0;
}

/** What {@link revokeAuthorization} took back. */
export interface RevokedAuthorization {
  /** Remembered consents forgotten (one per resource). */
  consents: number;
  /** Grants revoked (refresh families, and grants of codes being redeemed). */
  grants: number;
}

/** What revoking needs: the stores, and optionally the server's clock and audit sink. */
export type RevocationContext = Pick<AsContext, 'stores'> & Partial<Pick<AsContext, 'now' | 'audit'>>;

/**
 * Withdraws everything `subject` allowed `clientId`: the remembered consents (all resources), so
 * the next authorization asks again, and every grant issued under them
 * (`GrantStore.revokeGrantsFor`): refresh tokens stop working, authorization codes not yet
 * redeemed are void, and access tokens — with the tokens exchanged from them (RFC 8693) — go on
 * the deny-list that resource servers and introspection consult.
 *
 * Consents go first, so no new authorization skips the consent page while the grants are revoked.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7009#section-2.1
 */
export async function revokeAuthorization(ctx: RevocationContext, subject: string, clientId: string): Promise<RevokedAuthorization> {
  const consents = await ctx.stores.consents.revoke(subject, clientId);
  const now = ctx.now?.() ?? Math.floor(Date.now() / 1000);
  const grants = await ctx.stores.grants.revokeGrantsFor(subject, clientId, now);
  if (consents > 0) ctx.audit?.({ type: 'consent.revoked', clientId, subject, detail: `${consents} consent(s) forgotten` });
  if (consents > 0 || grants > 0) {
    ctx.audit?.({ type: 'grant.revoked', clientId, subject, detail: `consent withdrawn: ${consents} consent(s) forgotten, ${grants} grant(s) revoked` });
  }
  return { consents, grants };
}

/**
 * Forgets every consent `subject` gave `clientId` (all resources), so the next authorization asks
 * again, and revokes the grants issued under them with their tokens ({@link revokeAuthorization}).
 * Returns how many consents were removed.
 */
export async function revokeConsent(ctx: RevocationContext, subject: string, clientId: string): Promise<number> {
  return (await revokeAuthorization(ctx, subject, clientId)).consents;
}
