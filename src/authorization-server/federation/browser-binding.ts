/**
 * Binds a sign-in at an upstream provider to the browser that started it (RFC 6749 §10.12,
 * RFC 9700 §4.7.1): a cookie holding a MAC of the `state`, set when the browser is sent to the
 * provider and required at the callback. Without it, an attacker could send a victim the callback
 * URL of the attacker's own sign-in and sign the victim's browser in as the attacker.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AsContext } from '../context.js';

function cookieName(ctx: AsContext): string {
  return ctx.issuer.startsWith('https:') ? '__Host-warden_federation' : 'warden_federation';
}

/** `Set-Cookie` binding `state` to this browser for `maxAge` seconds (SameSite=Lax: it must come back on the provider's redirect). */
export function bindingCookie(ctx: AsContext, state: string, maxAge: number): string {
  const secure = ctx.issuer.startsWith('https:') ? '; Secure' : '';
  return `${cookieName(ctx)}=${ctx.hmac('federation-browser', state)}; Max-Age=${Math.max(1, maxAge)}; Path=/; HttpOnly; SameSite=Lax${secure}`;
}

/** `Set-Cookie` removing the binding once the callback has used it. */
export function clearBindingCookie(ctx: AsContext): string {
  const secure = ctx.issuer.startsWith('https:') ? '; Secure' : '';
  return `${cookieName(ctx)}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax${secure}`;
}

/** True when the request carries exactly one binding cookie and it is the MAC of `state` (constant-time). */
export function isBoundBrowser(ctx: AsContext, req: IncomingMessage, state: string): boolean {
  const name = cookieName(ctx);
  const values = (req.headers.cookie ?? '')
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part.startsWith(`${name}=`))
    .map((part) => part.slice(name.length + 1));
  if (values.length !== 1) return false;
  const expected = Buffer.from(ctx.hmac('federation-browser', state));
  const actual = Buffer.from(values[0] as string);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
