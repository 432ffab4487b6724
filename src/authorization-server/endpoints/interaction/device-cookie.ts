/**
 * Device cookies: a browser that signed in to an account with its password carries a signed
 * cookie that vouches for it — for that account only — so its later sign-ins are throttled per
 * cookie instead of per address and account. An attacker sharing the user's address (an office
 * NAT, CGNAT, a reverse proxy) cannot obtain one without the password, so cannot hold the user out.
 *
 * An entry is `id.expiresAt.mac`: a random id, the second it stops vouching, and an HMAC under
 * the server secret over (account, id, expiresAt). The account is not in the cookie, only in the
 * MAC; nothing in it is secret. One cookie holds entries for up to {@link MAX_DEVICE_ENTRIES}
 * accounts (a shared computer), newest first.
 *
 * @see https://owasp.org/www-community/Slow_Down_Online_Guessing_Attacks_with_Device_Cookies
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AsContext } from '../../context.js';

/** Accounts one browser keeps a device cookie entry for; the oldest entry goes first. */
export const MAX_DEVICE_ENTRIES = 5;

/** A device cookie entry whose MAC verified for the account it was read for. */
export interface Device {
  /** Random, 128 bits, base64url: names the device in throttle keys (only ever through an HMAC). */
  id: string;
  /** When it stops vouching (epoch seconds). */
  expiresAt: number;
}

/** The account a username names, for device cookies and throttles alike: case-folded. */
export function accountOf(username: string): string {
  return username.toLowerCase();
}

/**
 * `__Host-` when the issuer is https (Secure, host-only, Path=/: a sibling subdomain cannot plant
 * one); plain http (localhost development) cannot use the prefix.
 */
export function deviceCookieName(ctx: AsContext): string {
  return ctx.issuer.startsWith('https:') ? '__Host-warden_device' : 'warden_device';
}

const ENTRY = /^([A-Za-z0-9_-]{22})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/;
/** Longest cookie value read: more entries than we ever write is someone else's doing. */
const MAX_VALUE_LENGTH = 2 * MAX_DEVICE_ENTRIES * 80;

function macOf(ctx: AsContext, account: string, id: string, expiresAt: number): string {
  return ctx.hmac('device-cookie', JSON.stringify([account, id, expiresAt]));
}

/** Well-formed, unexpired entries of every cookie of our name (a planted one cannot pass the MAC, so reading all is safe). */
function entriesOf(ctx: AsContext, req: IncomingMessage): Array<{ text: string; id: string; expiresAt: number; mac: string }> {
  const name = deviceCookieName(ctx);
  const now = ctx.now();
  const found: Array<{ text: string; id: string; expiresAt: number; mac: string }> = [];
  for (const pair of (req.headers.cookie ?? '').split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1 || pair.slice(0, eq).trim() !== name) continue;
    const value = pair.slice(eq + 1).trim();
    if (value.length > MAX_VALUE_LENGTH) continue;
    for (const text of value.split('~')) {
      const m = ENTRY.exec(text);
      if (m === null) continue;
      const expiresAt = Number(m[2]);
      if (expiresAt > now && found.length < 2 * MAX_DEVICE_ENTRIES) found.push({ text, id: m[1] as string, expiresAt, mac: m[3] as string });
    }
  }
  return found;
}

/** The request's device cookie entry for `username`'s account, if one verifies (MAC compared in constant time) and has not expired. */
export function readDevice(ctx: AsContext, req: IncomingMessage, username: string): Device | undefined {
  const account = accountOf(username);
  for (const entry of entriesOf(ctx, req)) {
    if (safeEqual(entry.mac, macOf(ctx, account, entry.id, entry.expiresAt))) return { id: entry.id, expiresAt: entry.expiresAt };
  }
  return undefined;
}

/**
 * `Set-Cookie` value after a successful password sign-in to `username`: a fresh entry for the
 * account (good for `login.deviceCookie.lifetimeSeconds`) first, then the browser's entries for
 * other accounts, up to {@link MAX_DEVICE_ENTRIES}. HttpOnly, SameSite=Lax (the sign-in form
 * posts same-origin), Secure when the issuer is https.
 */
export function deviceCookie(ctx: AsContext, req: IncomingMessage, username: string, now: number): string {
  const account = accountOf(username);
  const lifetime = ctx.login.deviceCookie.lifetimeSeconds;
  const id = randomBytes(16).toString('base64url');
  const expiresAt = now + lifetime;
  const others = entriesOf(ctx, req)
    .filter((e) => !safeEqual(e.mac, macOf(ctx, account, e.id, e.expiresAt)))
    .map((e) => e.text);
  const value = [`${id}.${expiresAt}.${macOf(ctx, account, id, expiresAt)}`, ...new Set(others)].slice(0, MAX_DEVICE_ENTRIES).join('~');
  const secure = ctx.issuer.startsWith('https:') ? '; Secure' : '';
  return `${deviceCookieName(ctx)}=${value}; Max-Age=${lifetime}; Path=/; HttpOnly; SameSite=Lax${secure}`;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  // Every MAC has the same length, so the early return leaks nothing.
  return x.length === y.length && timingSafeEqual(x, y);
}
