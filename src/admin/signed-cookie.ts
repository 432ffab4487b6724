/**
 * The console's cookies: a JSON payload and its MAC under the server secret (the authorization
 * server's `hmac`), so nothing the browser holds can be forged, and the MAC is compared in
 * constant time. Expiry is inside the payload.
 */
import { timingSafeEqual } from 'node:crypto';

/** `hmac(label, data)`: base64url MAC of `data` under the server secret, separated by `label`. */
export type Mac = (label: string, data: string) => string;

/** `payload.mac`, both base64url. */
export function sealCookie(mac: Mac, label: string, payload: object): string {
  const data = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${data}.${mac(label, data)}`;
}

/** The payload of a cookie sealed with `label`, or undefined when forged, malformed or expired. */
export function openCookie<T extends { exp: number }>(mac: Mac, label: string, value: string | undefined, now: number): T | undefined {
  if (value === undefined || value.length > 4096) return undefined;
  const dot = value.indexOf('.');
  if (dot <= 0) return undefined;
  const data = value.slice(0, dot);
  const given = Buffer.from(value.slice(dot + 1));
  const expected = Buffer.from(mac(label, data));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(data, 'base64url').toString('utf8')) as T;
    return typeof payload.exp === 'number' && payload.exp > now ? payload : undefined;
  } catch {
    return undefined;
  }
}

/** The value of cookie `name` in a `Cookie` header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
