import { createHash, hash } from 'node:crypto';
import { WardenError } from '../oauth/errors.js';

/**
 * The members RFC 7638 §3.2 hashes, per key type, in lexicographic order.
 * @see https://www.rfc-editor.org/rfc/rfc7638#section-3.2
 */
const REQUIRED_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  EC: ['crv', 'kty', 'x', 'y'],
  RSA: ['e', 'kty', 'n'],
  OKP: ['crv', 'kty', 'x'],
};

/** Error for a JWK that has no RFC 7638 thumbprint. */
export class ThumbprintError extends WardenError {
  constructor(message: string) {
    super('invalid_jwk', message);
  }
}

/**
 * RFC 7638 JWK SHA-256 thumbprint, base64url-encoded. Only the required public members count,
 * so the same public key always yields the same thumbprint whatever else the JWK carries.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7638#section-3
 */
export function jwkThumbprint(jwk: Readonly<Record<string, unknown>>): string {
  return thumbprintOfInput(thumbprintInput(jwk));
}

/**
 * The RFC 7638 §3.2 hash input of `jwk`: its required members, in lexicographic order, as JSON
 * without white space. Two JWKs with the same input are the same public key, so callers may cache
 * by it and hash only once per key.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7638#section-3.2
 */
export function thumbprintInput(jwk: Readonly<Record<string, unknown>>): string {
  const kty = jwk.kty;
  const members = typeof kty === 'string' && Object.hasOwn(REQUIRED_MEMBERS, kty) ? REQUIRED_MEMBERS[kty] : undefined;
  if (members === undefined) throw new ThumbprintError('unsupported or missing "kty"');
  let json = '{';
  for (let i = 0; i < members.length; i++) {
    const name = members[i] as string;
    const value = jwk[name];
    if (typeof value !== 'string' || value.length === 0) throw new ThumbprintError(`JWK member "${name}" must be a non-empty string`);
    json += `${i === 0 ? '' : ','}"${name}":${JSON.stringify(value)}`;
  }
  return `${json}}`;
}

/** The thumbprint (base64url SHA-256) of a {@link thumbprintInput}. */
export function thumbprintOfInput(input: string): string {
  return hash('sha256', input, 'base64url');
}

const ASCII = /^[\x00-\x7f]*$/;

/**
 * `ath`: base64url(SHA-256(ASCII(access token))).
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.2
 */
export function accessTokenHash(accessToken: string): string {
  // One-shot `hash` hashes a string's UTF-8 bytes, which are its ASCII bytes when it is ASCII (every
  // token68 is); it saves the Hash object `createHash` builds, ~1.5 µs a call (bench/micro.mjs).
  if (ASCII.test(accessToken)) return hash('sha256', accessToken, 'base64url');
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}
