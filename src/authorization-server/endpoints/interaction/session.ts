/**
 * The browser session of the embedded login (a signed cookie, no server-side state) and the CSRF
 * token of the interaction forms.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AsContext } from '../../context.js';

/** How long a sign-in is remembered by the browser: a working day, so repeated authorizations skip the password. */
export const SESSION_SECONDS = 8 * 3600;

/** A verified session: who signed in, and when. */
export interface BrowserSession {
  subject: string;
  authTime: number;
}

/**
 * `__Host-` when the issuer is https: the browser then refuses the cookie unless it is Secure,
 * host-only and Path=/, so a sibling subdomain cannot plant one (cookie tossing). Plain http
 * (localhost development) cannot use the prefix.
 */
export function sessionCookieName(ctx: AsContext): string {
  return isHttps(ctx) ? '__Host-warden_session' : 'warden_session';
}

function isHttps(ctx: AsContext): boolean {
  return ctx.issuer.startsWith('https:');
}

function attributes(ctx: AsContext, maxAge: number): string {
  // SameSite=Lax, not Strict: the client sends the browser here with a cross-site top-level GET,
  // and the cookie must come along for a returning user to skip the login form.
  return `; Max-Age=${maxAge}; Path=/; HttpOnly; SameSite=Lax${isHttps(ctx) ? '; Secure' : ''}`;
}

function signedPart(subject: string, authTime: number, expiresAt: number): string {
  return `${Buffer.from(subject, 'utf8').toString('base64url')}.${authTime}.${expiresAt}`;
}

/** `Set-Cookie` value that signs `subject` in for {@link SESSION_SECONDS}. */
export function sessionCookie(ctx: AsContext, subject: string, authTime: number): string {
  const payload = signedPart(subject, authTime, authTime + SESSION_SECONDS);
  return `${sessionCookieName(ctx)}=${payload}.${ctx.hmac('session', payload)}${attributes(ctx, SESSION_SECONDS)}`;
}

/** `Set-Cookie` value that signs the browser out. */
export function clearSessionCookie(ctx: AsContext): string {
  return `${sessionCookieName(ctx)}=${attributes(ctx, 0)}`;
}

/**
 * Reads and verifies the session cookie: MAC (constant time), expiry. Two cookies of our name make
 * the session ambiguous (one may have been planted), so neither is trusted. Whether the user
 * still exists is the caller's check.
 */
export function readSession(ctx: AsContext, req: IncomingMessage): BrowserSession | undefined {
  const name = sessionCookieName(ctx);
  const values: string[] = [];
  for (const pair of (req.headers.cookie ?? '').split(';')) {
    const eq = pair.indexOf('=');
    if (eq !== -1 && pair.slice(0, eq).trim() === name) values.push(pair.slice(eq + 1).trim());
  }
  if (values.length !== 1) return undefined;
  const parts = (values[0] as string).split('.');
  if (parts.length !== 4) return undefined;
  const [subjectB64, authTimeText, expiresText, mac] = parts as [string, string, string, string];
  if (!/^\d{1,12}$/.test(authTimeText) || !/^\d{1,12}$/.test(expiresText)) return undefined;
  if (!safeEqual(mac, ctx.hmac('session', `${subjectB64}.${authTimeText}.${expiresText}`))) return undefined;
  const expiresAt = Number(expiresText);
  if (expiresAt <= ctx.now()) return undefined;
  const subject = Buffer.from(subjectB64, 'base64url').toString('utf8');
  if (subject.length === 0) return undefined;
  return { subject, authTime: Number(authTimeText) };
}

/** CSRF token of an interaction's forms: only the server can compute it, and it is worthless for any other interaction. */
export function csrfToken(ctx: AsContext, interactionId: string): string {
  return ctx.hmac('csrf', interactionId);
}

/** True when `submitted` is the interaction's CSRF token (constant-time comparison). */
export function checkCsrf(ctx: AsContext, interactionId: string, submitted: string | undefined): boolean {
  return submitted !== undefined && safeEqual(submitted, csrfToken(ctx, interactionId));
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  // Lengths are public (every MAC has the same length), so the early return leaks nothing.
  return x.length === y.length && timingSafeEqual(x, y);
}
