import type { ServerResponse } from 'node:http';
import type { OAuthError } from '../../../oauth/errors.js';
import type { AsContext } from '../../context.js';

/**
 * Appends response parameters to a redirect URI, keeping its own query untouched (RFC 6749 §3.1.2:
 * "MUST retain that query component when adding additional query parameters"). The URI is not
 * re-serialised, so what the client registered is what it gets back, byte for byte.
 */
export function appendResponseParameters(redirectUri: string, params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) search.append(name, value);
  const hash = redirectUri.indexOf('#');
  // Redirect URIs never carry a fragment (RFC 6749 §3.1.2); drop one defensively rather than put parameters after it.
  const base = hash === -1 ? redirectUri : redirectUri.slice(0, hash);
  const separator = !base.includes('?') ? '?' : base.endsWith('?') || base.endsWith('&') ? '' : '&';
  return `${base}${separator}${search.toString()}`;
}

/**
 * Sends a 303 (so a POSTed form becomes a GET at the target) that no cache keeps and that leaks no
 * referrer. Extra headers carry e.g. `Set-Cookie`.
 */
export function sendRedirect(res: ServerResponse, location: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(303, { Location: location, 'Cache-Control': 'no-store', Pragma: 'no-cache', 'Referrer-Policy': 'no-referrer', 'Content-Length': 0, ...headers });
  res.end();
}

/**
 * Redirects an error to the client (RFC 6749 §4.1.2.1): `error`, `error_description`, `state` when
 * the request had one, and `iss` (RFC 9207 §2, on error responses too). Only call once the
 * redirect URI has been verified against the client's registration.
 */
export function sendErrorRedirect(ctx: AsContext, res: ServerResponse, redirectUri: string, state: string | undefined, error: OAuthError): void {
  sendRedirect(
    res,
    appendResponseParameters(redirectUri, { error: error.code, error_description: wireDescription(error.description), state, iss: ctx.issuer }),
  );
}

/** RFC 6749 §4.1.2.1 limits `error_description` to %x20-21 / %x23-5B / %x5D-7E: quotes become apostrophes, the rest goes. */
function wireDescription(text: string): string {
  return text.replace(/["\\]/g, "'").replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, '');
}
