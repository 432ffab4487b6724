/** How the interaction pages answer: the login, consent and error pages with their headers. */
import type { ServerResponse } from 'node:http';
import type { ClientRecord } from '../../../stores/authorization-server-contracts.js';
import type { AsContext } from '../../context.js';
import { HTML_SECURITY_HEADERS, sendHtml, type ResponseHeaders } from '../../http.js';
import type { RegisteredResource } from '../../resource-registry.js';
import type { PendingAuthorization } from '../authorize/pending-authorization.js';
import { renderConsentPage, renderErrorPage, renderLoginPage, type RequestSummary } from './pages.js';
import { csrfToken } from './session.js';
import { identityProviders, localUsersEnabled } from '../../federation/providers.js';

/** Shown for an unknown, expired or already-used interaction (one text: which it was is nobody's business). */
export const EXPIRED_MESSAGE = 'This sign-in has expired or was already used. Go back to the application and start again.';

/**
 * Headers of the pages with forms, over the shared HTML security headers:
 * - no `form-action`: Chrome and Safari apply it to the redirect after a submission too
 *   (w3c/webappsec-csp#8), which would stop the code from reaching the client's redirect URI. The
 *   forms post to this page only and nothing on it is unescaped, so the directive guarded nothing.
 * - `Referrer-Policy: same-origin` instead of `no-referrer`: under `no-referrer` browsers send
 *   `Origin: null` with the form POST, and the same-origin check (index.ts) needs the real origin.
 *   Cross-origin navigations (the redirect to the client) still carry no referrer.
 */
const FORM_PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy': (HTML_SECURITY_HEADERS['Content-Security-Policy'] ?? '').replace(/\s*form-action[^;]*;?/, ''),
  'Referrer-Policy': 'same-origin',
});

/** A pending request with what its pages need, re-checked against the current registrations. */
export interface Interaction {
  id: string;
  pending: PendingAuthorization;
  client: ClientRecord;
  resource: RegisteredResource;
}

/** The login form for this interaction (with a message after a failed attempt). */
export function sendLoginPage(
  ctx: AsContext,
  res: ServerResponse,
  status: number,
  interaction: Interaction,
  extra: { error?: string; username?: string } = {},
  headers: ResponseHeaders = {},
): void {
  const providers = [...identityProviders(ctx).values()].map((p) => ({ id: p.id, name: p.name }));
  const view = { brand: ctx.loginTitle, action: actionUrl(ctx, interaction.id), csrf: csrfToken(ctx, interaction.id), request: summarize(interaction), providers, localUsers: localUsersEnabled(ctx), ...extra };
  sendHtml(res, status, renderLoginPage(view), { ...FORM_PAGE_HEADERS, ...headers });
}

/** A page for a request that cannot go on; never a redirect. */
export function sendError(ctx: AsContext, res: ServerResponse, status: number, title: string, message: string, headers: ResponseHeaders = {}): void {
  sendHtml(res, status, renderErrorPage(ctx.loginTitle, title, message), headers);
}

function summarize({ pending, client, resource }: Interaction): RequestSummary {
  const summary: RequestSummary = {
    clientName: client.clientName ?? client.clientId,
    // A device request (RFC 8628) sends nobody anywhere: the device polls for its tokens.
    redirectHost: pending.device !== undefined ? 'your device (it continues on its own)' : redirectHostOf(pending.redirectUri),
    resourceName: resource.name,
    resourceUri: resource.uri,
    scopes: pending.scopes,
  };
  if (resource.scopeDescriptions !== undefined) summary.scopeDescriptions = resource.scopeDescriptions;
  const host = clientHostOf(client);
  if (host !== undefined) summary.clientHost = host;
  if (client.source === 'registered') summary.nameUnverified = true;
  return summary;
}

/**
 * The host of a client id that is a URL: any https id, and a metadata document's (development-only)
 * loopback http id. The URL parser gives the ASCII (punycode) form, so a look-alike Unicode host
 * is shown for what it is.
 */
function clientHostOf(client: ClientRecord): string | undefined {
  if (!client.clientId.startsWith('https://') && !(client.source === 'metadata-document' && client.clientId.startsWith('http://'))) return undefined;
  try {
    const host = new URL(client.clientId).host;
    return host === '' ? undefined : host;
  } catch {
    return undefined;
  }
}

/** The host the user returns to; for a native app's private-use scheme (RFC 8252 §7.1), the scheme names the app. */
function redirectHostOf(uri: string): string {
  try {
    const url = new URL(uri);
    return url.host !== '' ? url.host : url.protocol.slice(0, -1);
  } catch {
    return uri;
  }
}

function actionUrl(ctx: AsContext, id: string): string {
  return `${ctx.endpoints.interaction}/${id}`;
}

/** The consent page for `subject`. */
export function sendConsentPage(ctx: AsContext, res: ServerResponse, interaction: Interaction, subject: string, headers: ResponseHeaders = {}): void {
  const view = { brand: ctx.loginTitle, action: actionUrl(ctx, interaction.id), csrf: csrfToken(ctx, interaction.id), request: summarize(interaction), subject };
  sendHtml(res, 200, renderConsentPage(view), { ...FORM_PAGE_HEADERS, ...headers });
}
