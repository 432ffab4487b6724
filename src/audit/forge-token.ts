/**
 * Forged access tokens: the JWTs an attacker without the issuer's key can make. A resource server
 * must refuse every one; accepting any is a finding. Each is built from a real token's claims when
 * the user supplied one (so only the forgery differs), else from claims the audit synthesises from
 * the metadata (issuer, resource, scopes).
 * @see https://www.rfc-editor.org/rfc/rfc8725#section-2.1
 */
import { createHmac, randomUUID, sign, type KeyObject } from 'node:crypto';

/** Header and claims of a JWT, decoded without verification. */
export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

const b64 = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** Decodes a compact JWS's header and payload, or undefined for anything else (an opaque token). */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0] as string, 'base64url').toString('utf8')) as unknown;
    const payload = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8')) as unknown;
    if (header === null || typeof header !== 'object' || Array.isArray(header)) return undefined;
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return undefined;
    return { header: header as Record<string, unknown>, payload: payload as Record<string, unknown> };
  } catch {
    return undefined;
  }
}

/** Claims for a token the audit makes up: what a resource server would accept from its issuer. */
export function synthesizedClaims(options: { issuer: string; audience: string; scopes: readonly string[]; jkt?: string }): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: options.issuer,
    sub: 'warden-audit',
    aud: options.audience,
    client_id: 'warden-audit',
    jti: randomUUID(),
    iat: now,
    exp: now + 300,
  };
  if (options.scopes.length > 0) claims.scope = options.scopes.join(' ');
  if (options.jkt !== undefined) claims.cnf = { jkt: options.jkt };
  return claims;
}

/** `alg: none` with an empty signature (RFC 7519 §6.1 "unsecured JWT"). */
export function unsecuredJwt(header: Record<string, unknown>, payload: Record<string, unknown>, alg = 'none'): string {
  const h: Record<string, unknown> = { ...header, alg };
  delete h.kid;
  return `${b64(h)}.${b64(payload)}.`;
}

/** The same token with one bit of its signature flipped. */
export function tamperedSignature(token: string): string {
  const [h, p, s] = token.split('.') as [string, string, string];
  const signature = Buffer.from(s, 'base64url');
  if (signature.length === 0) return `${h}.${p}.${b64('x')}`;
  const i = Math.floor(signature.length / 2);
  signature[i] = (signature[i] as number) ^ 0x01;
  return `${h}.${p}.${signature.toString('base64url')}`;
}

/** HS256 keyed with `secret` (algorithm confusion: the issuer's public key used as an HMAC key). */
export function hmacJwt(header: Record<string, unknown>, payload: Record<string, unknown>, secret: string | Buffer): string {
  const input = `${b64({ ...header, alg: 'HS256' })}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** ES256 by a key of the audit's, with that key's public JWK in the header (RFC 7515 §4.1.3 `jwk`). */
export function embeddedKeyJwt(header: Record<string, unknown>, payload: Record<string, unknown>, key: { privateKey: KeyObject; publicJwk: Record<string, unknown>; kid: string }): string {
  const h: Record<string, unknown> = { ...header, alg: 'ES256', kid: key.kid, jwk: key.publicJwk };
  const input = `${b64(h)}.${b64(payload)}`;
  const signature = sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

/** ES256 by a key of the audit's, claiming the issuer's `kid`: a signature nobody checks passes. */
export function foreignSignatureJwt(header: Record<string, unknown>, payload: Record<string, unknown>, key: { privateKey: KeyObject }): string {
  const input = `${b64({ ...header, alg: 'ES256' })}.${b64(payload)}`;
  const signature = sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}
