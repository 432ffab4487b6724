/** Loading and consuming the pending request behind an interaction page. */
import type { ServerResponse } from 'node:http';
import type { AsContext } from '../../context.js';
import { matchRedirectUri } from '../../../oauth/redirect-uri.js';
import { getClient } from '../../clients/get-client.js';
import { DEVICE_CODE_GRANT_TYPE } from '../../grants/device-code.js';
import type { ResponseHeaders } from '../../http.js';
import type { RegisteredResource } from '../../resource-registry.js';
import { parsePendingAuthorization, type PendingAuthorization } from '../authorize/pending-authorization.js';
import { EXPIRED_MESSAGE, sendError, type Interaction } from './send-page.js';

/** Atomically removes the interaction; renders the "expired or already used" page when it is gone. */
export async function take(ctx: AsContext, res: ServerResponse, id: string, headers: ResponseHeaders = {}): Promise<PendingAuthorization | undefined> {
  const pending = parsePendingAuthorization(await ctx.stores.interactions.take(id, ctx.now()));
  if (pending === undefined) sendError(ctx, res, 400, 'Sign-in expired', EXPIRED_MESSAGE, headers);
  return pending;
}

/**
 * Pairs a pending request with its client and resource as they are registered now: a client
 * deleted, a redirect URI unregistered or a resource removed since `/authorize` ends the
 * interaction with a page rather than sending a code where it is no longer allowed to go.
 */
export async function load(
  ctx: AsContext,
  res: ServerResponse,
  id: string,
  pending: PendingAuthorization | undefined,
  options: { taken?: boolean } = {},
): Promise<Interaction | undefined> {
  if (pending === undefined) {
    // take() has already answered when it found nothing.
    if (options.taken !== true) sendError(ctx, res, 400, 'Sign-in expired', EXPIRED_MESSAGE);
    return undefined;
  }
  const client = await getClient(ctx, pending.clientId);
  let resource: RegisteredResource | undefined;
  try {
    resource = ctx.resources.resolve(pending.resource);
  } catch {
    resource = undefined;
  }
  const allowed =
    pending.device !== undefined
      ? client?.grantTypes.includes(DEVICE_CODE_GRANT_TYPE) === true
      : client !== undefined && client.grantTypes.includes('authorization_code') && matchRedirectUri(client.redirectUris, pending.redirectUri);
  if (client === undefined || !allowed || resource === undefined) {
    if (options.taken !== true) await ctx.stores.interactions.take(id, ctx.now());
    sendError(ctx, res, 400, 'This sign-in request cannot continue', "The application's registration changed since this sign-in started. Go back to the application and start again.");
    return undefined;
  }
  return { id, pending, client, resource };
}
