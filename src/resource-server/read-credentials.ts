import { InvalidDpopProofError, InvalidRequestError } from '../oauth/errors.js';
import type { VerifyRequest } from './types.js';

/** Credentials found by the shape check. */
export type Credentials =
  | { kind: 'none' }
  | { kind: 'token'; scheme: 'Bearer' | 'DPoP'; token: string; proof: string | undefined };

// RFC 9110 §11.4 credentials = auth-scheme 1*SP token68.
const AUTHORIZATION = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) +([A-Za-z0-9\-._~+/]+=*)$/;

/** All values of header `name` (lower-case), whatever shape the headers came in. */
export function headerValues(headers: VerifyRequest['headers'], name: string): string[] {
  if (typeof (headers as Headers).get === 'function' && typeof (headers as Headers).has === 'function') {
    const value = (headers as Headers).get(name);
    return value === null ? [] : [value];
  }
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  // Plain records from callers may spell one field several ways ("Authorization", "authorization"):
  // names are case-insensitive (RFC 9110 §5.1), so every spelling's values count — two of them are
  // two fields, never a choice between them.
  const out: string[] = [];
  for (const key of Object.keys(record)) {
    if (key.length !== name.length || (key !== name && key.toLowerCase() !== name)) continue;
    const value = record[key];
    if (value === undefined) continue;
    if (typeof value === 'string') out.push(value);
    else out.push(...value);
  }
  return out;
}

/**
 * Step 1 of the gauntlet: exactly one `Authorization` (`Bearer` or `DPoP`, case-insensitive),
 * at most one `DPoP`, size caps, and no token in the query string or a form body.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-2
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.3
 */
export function readCredentials(
  request: VerifyRequest,
  limits: { maxAuthorizationBytes: number; maxProofBytes: number },
): Credentials {
  const queryStart = request.url.indexOf('?');
  if (queryStart !== -1) {
    const params = new URLSearchParams(request.url.slice(queryStart + 1).split('#')[0]);
    if (params.has('access_token')) {
      throw new InvalidRequestError('access tokens are not accepted in the query string; send them in the Authorization header (OAuth 2.1 §5.2)');
    }
  }
  if (formBodyHasToken(request)) {
    throw new InvalidRequestError('access tokens are not accepted in the request body; send them in the Authorization header');
  }

  const authorization = headerValues(request.headers, 'authorization');
  if (authorization.length === 0) return { kind: 'none' };
  if (authorization.length > 1) throw new InvalidRequestError('more than one Authorization header');
  const value = authorization[0] as string;
  if (value.length > limits.maxAuthorizationBytes) throw new InvalidRequestError(`Authorization header exceeds ${limits.maxAuthorizationBytes} bytes`);
  const match = AUTHORIZATION.exec(value);
  if (match === null) {
    const scheme = value.trim().split(/\s+/, 1)[0]?.toLowerCase();
    // An unsupported scheme is "no credentials" for us (RFC 6750 §3.1): challenge without error.
    if (scheme !== 'bearer' && scheme !== 'dpop') return { kind: 'none' };
    throw new InvalidRequestError('malformed Authorization header: expected "<scheme> <token>" with a single token68 value');
  }
  const scheme = (match[1] as string).toLowerCase();
  if (scheme !== 'bearer' && scheme !== 'dpop') return { kind: 'none' };

  const dpop = headerValues(request.headers, 'dpop');
  if (dpop.length > 1 || (dpop.length === 1 && (dpop[0] as string).includes(','))) {
    throw new InvalidDpopProofError('more than one DPoP header (RFC 9449 §4.3 step 1)');
  }
  const proof = dpop[0];
  if (proof !== undefined && proof.length > limits.maxProofBytes) throw new InvalidDpopProofError(`DPoP header exceeds ${limits.maxProofBytes} bytes`);
  return { kind: 'token', scheme: scheme === 'dpop' ? 'DPoP' : 'Bearer', token: match[2] as string, proof: proof?.trim() };
}

function formBodyHasToken(request: VerifyRequest): boolean {
  const body = request.body;
  if (body === undefined || body === null) return false;
  const contentType = headerValues(request.headers, 'content-type')[0];
  if (contentType === undefined || !contentType.toLowerCase().startsWith('application/x-www-form-urlencoded')) return false;
  if (typeof body === 'string') return new URLSearchParams(body).has('access_token');
  if (body instanceof Uint8Array) return new URLSearchParams(Buffer.from(body).toString('utf8')).has('access_token');
  return typeof body === 'object' && Object.hasOwn(body, 'access_token');
}
