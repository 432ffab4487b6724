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

/**
 * Forgets every consent `subject` gave `clientId` (all resources), so the next authorization asks
 * again. Tokens already issued are not touched; revoke their grants for that. Returns how many
 * consents were removed.
 */
export async function revokeConsent(ctx: Pick<AsContext, 'stores'>, subject: string, clientId: string): Promise<number> {
  return ctx.stores.consents.revoke(subject, clientId);
}
