import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { toWireError } from '../../../oauth/error-response.js';
import type { ClientRecord } from '../../../stores/authorization-server-contracts.js';
import type { AsContext } from '../../context.js';
import type { Endpoint } from '../../endpoint.js';
import { sendHtml, unavailableRetryAfter } from '../../http.js';
import { renderErrorPage } from '../../html-page.js';
import { sendErrorRedirect, sendRedirect } from './authorization-response.js';
import {
  AuthorizePageError,
  checkClient,
  checkDpopJkt,
  checkNoDuplicates,
  checkPkce,
  checkRedirectUri,
  checkResource,
  checkResponseType,
  checkScope,
  checkState,
  readAuthorizationParams,
  type AuthorizationParams,
} from './checks.js';
import type { PendingAuthorization } from './pending-authorization.js';
import { resolvePushedRequest } from '../par/pushed-requests.js';

export { AuthorizePageError } from './checks.js';
export { appendResponseParameters } from './authorization-response.js';
export type { PendingAuthorization } from './pending-authorization.js';

/**
 * The authorization endpoint (RFC 6749 §4.1.1, OAuth 2.1 §4.1.1), GET or POST. Runs its checks in
 * order; accepted requests are parked in the interaction store and the browser is sent to the
 * login page. Errors before the client and redirect URI are verified render a page (never a
 * redirect); later errors are redirected with `state` and `iss` (RFC 9207). Size limits: the
 * query or form at most `MAX_AUTHORIZATION_REQUEST_BYTES` (8 KiB; checked first, so a page) and
 * `state` at most `MAX_STATE_CHARS` (1024) characters (a redirected `invalid_request`).
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.3
 * @see https://www.rfc-editor.org/rfc/rfc8707#section-2
 * @see https://www.rfc-editor.org/rfc/rfc9207#section-2
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-10
 */
export const authorizeEndpoint: Endpoint = async (ctx, req, res) => {
  let params: AuthorizationParams;
  let client: ClientRecord;
  let redirectUri: string;
  try {
    params = await resolvePushedRequest(ctx, await readAuthorizationParams(req));
    client = await checkClient(ctx, params);
    redirectUri = checkRedirectUri(client, params);
  } catch (error) {
    if (error instanceof AuthorizePageError) return sendErrorPage(ctx, res, error.status, error.message, error.error);
    // Before the redirect URI is verified, "try again later" is a page too, with Retry-After.
    const retryAfter = unavailableRetryAfter(error);
    if (retryAfter !== undefined) {
      return sendErrorPage(ctx, res, 503, 'The server cannot check the application right now. Try again in a moment.', 'temporarily_unavailable', { 'Retry-After': retryAfter });
    }
    throw error;
  }
  // A duplicated state is not echoed: which copy would be the client's? An over-long one is (RFC
  // 6749 §4.1.2.1 requires it, and the request size cap bounds it); it is never stored.
  const state = params.duplicated.has('state') ? undefined : params.values.state;
  try {
    checkNoDuplicates(params);
    checkState(params);
    checkResponseType(client, params);
    const codeChallenge = checkPkce(params);
    const resource = checkResource(ctx, params);
    const scopes = checkScope(client, resource, params);
    const dpopJkt = checkDpopJkt(params);

    const expiresAt = ctx.now() + ctx.lifetimes.interaction;
    // Only validated values are parked — never the request's parameters as such: an
    // unauthenticated request must not be able to store anything it likes (or much of anything).
    const pending: PendingAuthorization = { v: 1, clientId: client.clientId, redirectUri, resource: resource.uri, scopes, codeChallenge, expiresAt };
    if (state !== undefined) pending.state = state;
    if (dpopJkt !== undefined) pending.dpopJkt = dpopJkt;
    // 256 bits: the id in the login page URL is the only handle on the pending request.
    const id = randomBytes(32).toString('base64url');
    await ctx.stores.interactions.put(id, pending, expiresAt);
    sendRedirect(res, `${ctx.endpoints.interaction}/${id}`);
  } catch (error) {
    // The redirect URI is verified, so every failure — ours or the store's — goes back to the client
    // (RFC 6749 §4.1.2.1 defines server_error and temporarily_unavailable for exactly this).
    sendErrorRedirect(ctx, res, redirectUri, state, toWireError(error, 'server-error'));
  }
};

function sendErrorPage(ctx: AsContext, res: ServerResponse, status: number, message: string, code: string, headers: Record<string, string> = {}): void {
  sendHtml(res, status, renderErrorPage(ctx.loginTitle, 'This sign-in request cannot continue', message, code), headers);
}
