import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isOAuthError } from '../../../oauth/errors.js';
import { requestSource } from '../../client-address.js';
import { getClient } from '../../clients/get-client.js';
import type { AsContext } from '../../context.js';
import { deviceGrantSettings } from '../../device-grant/settings.js';
import { normalizeUserCode, userCodeHash } from '../../device-grant/user-code.js';
import type { Endpoint } from '../../endpoint.js';
import { DEVICE_CODE_GRANT_TYPE } from '../../grants/device-code.js';
import { readForm, readQuery, sendHtml, unavailableRetryAfter, type ResponseHeaders } from '../../http.js';
import { renderErrorPage } from '../../html-page.js';
import { sendRedirect } from '../authorize/authorization-response.js';
import type { PendingAuthorization } from '../authorize/pending-authorization.js';
import { isSameOriginPost } from '../interaction/index.js';
import { MALFORMED_CODE_MESSAGE, renderDeviceCodePage, WRONG_CODE_MESSAGE } from './pages.js';

/**
 * The verification URI (RFC 8628 §3.3), `{issuer}/device`. GET shows the code form (prefilled
 * from `verification_uri_complete`'s `user_code`, still to be confirmed with a click). POST, only
 * from this page (same-origin), checks in order:
 * 1. the input can be a user code (else the form again, not counted);
 * 2. the per-source throttle on wrong codes (RFC 8628 §5.1) — 429 with `Retry-After`;
 * 3. the code names a live, pending device request (a wrong one counts against the source;
 *    the answer is the same whether it never existed, expired or was used);
 * 4. its client and resource are still registered.
 * Then the request joins the sign-in and consent pages (`/interaction/{id}`), which always ask
 * for consent and end on a page telling the user to return to the device.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8628#section-3.3
 * @see https://www.rfc-editor.org/rfc/rfc8628#section-5.1
 */
export const deviceVerificationEndpoint: Endpoint = async (ctx, req, res) => {
  try {
    if (req.method === 'POST') await enterCode(ctx, req, res);
    else {
      const prefill = readQuery(req).user_code;
      sendForm(ctx, res, 200, prefill === undefined || prefill.length > 32 ? {} : { userCode: prefill });
    }
  } catch (error) {
    if (res.headersSent) throw error;
    const retryAfter = unavailableRetryAfter(error);
    if (retryAfter !== undefined) return sendPage(ctx, res, 503, 'Temporarily unavailable', 'The service is temporarily unavailable. Please try again in a moment.', { 'Retry-After': retryAfter });
    // readQuery's and readForm's refusals (duplicated fields, wrong content type, oversized body).
    if (isOAuthError(error)) return sendForm(ctx, res, 400, { error: 'The form could not be read. Try again.' });
    throw error;
  }
};

async function enterCode(ctx: AsContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!isSameOriginPost(ctx, req)) return sendPage(ctx, res, 403, 'Request refused', 'This form was not submitted from this page. Open the address shown on your device and enter the code there.');
  const settings = deviceGrantSettings(ctx);
  const store = settings.store;
  if (store === undefined) return sendPage(ctx, res, 404, 'Not available', 'Device sign-in is not enabled on this server.');
  const typed = (await readForm(req)).user_code ?? '';
  const canonical = normalizeUserCode(typed);
  if (canonical === undefined) return sendForm(ctx, res, 400, { error: MALFORMED_CODE_MESSAGE, userCode: typed.slice(0, 32) });

  const throttles = ctx.stores.throttles;
  const key = `device-user-code:${ctx.hmac('device-user-code-source', requestSource(ctx, req))}`;
  const attempt = await throttles.attempt(key, settings.userCodeThrottle, ctx.now());
  if (!attempt.allowed) {
    ctx.audit({ type: 'login.failed', detail: `device user code throttled: retry after ${attempt.retryAfterSeconds} s` });
    const wait = attempt.retryAfterSeconds;
    return sendForm(ctx, res, 429, { error: `Too many wrong codes. Wait ${wait} second${wait === 1 ? '' : 's'}, then try again.` }, { 'Retry-After': String(wait) });
  }
  const hash = userCodeHash(ctx, canonical);
  const now = ctx.now();
  const record = await store.findByUserCode(hash, now);
  if (record === undefined || record.status !== 'pending') {
    ctx.audit({ type: 'login.failed', detail: 'device user code not found' });
    return sendForm(ctx, res, 400, { error: WRONG_CODE_MESSAGE });
  }
  // A right code is not a guess: only wrong ones slow a source down.
  await throttles.release(key, now);

  const client = await getClient(ctx, record.clientId);
  const resource = ctx.resources.list().find((r) => r.uri === record.resource);
  if (client === undefined || !client.grantTypes.includes(DEVICE_CODE_GRANT_TYPE) || resource === undefined) {
    return sendPage(ctx, res, 400, 'This request cannot continue', "The application's registration changed since the code was issued. Start again on your device.");
  }
  const pending: PendingAuthorization = {
    v: 1,
    clientId: record.clientId,
    redirectUri: '',
    resource: record.resource,
    scopes: [...record.scopes],
    codeChallenge: '',
    expiresAt: Math.min(record.expiresAt, now + ctx.lifetimes.interaction),
    device: { userCodeHash: hash },
  };
  const id = randomBytes(32).toString('base64url');
  await ctx.stores.interactions.put(id, pending, pending.expiresAt);
  sendRedirect(res, `${ctx.endpoints.interaction}/${id}`);
}

function sendForm(ctx: AsContext, res: ServerResponse, status: number, extra: { userCode?: string; error?: string }, headers: ResponseHeaders = {}): void {
  const html = renderDeviceCodePage({ brand: ctx.loginTitle, action: deviceGrantSettings(ctx).verificationUri, ...extra });
  // Same-origin referrer: the form POST must carry this origin (see interaction/send-page.ts).
  sendHtml(res, status, html, { 'Referrer-Policy': 'same-origin', 'Cache-Control': 'no-store', ...headers });
}

function sendPage(ctx: AsContext, res: ServerResponse, status: number, title: string, message: string, headers: ResponseHeaders = {}): void {
  sendHtml(res, status, renderErrorPage(ctx.loginTitle, title, message), headers);
}
