/**
 * Validation of a provider's ID token (OpenID Connect Core 1.0 §3.1.3.7), in full: a signed
 * compact JWS with an asymmetric algorithm (never `none`, never HMAC), a signature by a key of
 * the provider's JWKS, `iss` exact, `aud` containing our client id, `azp` equal to it when
 * present (required with several audiences), `exp` in the future and `iat` not in it (within the
 * clock skew), and `nonce` equal to the one this sign-in sent.
 */
import { decodeCompactJws } from '../../jose/compact-jws.js';
import { verifyJwsSignature } from '../../jose/compact-jws.js';
import type { KeySource } from '../../jose/key-source.js';

/** Algorithms accepted for ID tokens: asymmetric only (a shared-secret HMAC would let the provider's other clients forge). */
const ID_TOKEN_ALGORITHMS: ReadonlySet<string> = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']);

/** Why an ID token was refused; `message` is shown on the error page (it never contains the token). */
export class IdTokenError extends Error {
  override name = 'IdTokenError';
}

/** What {@link validateIdToken} checks against. */
export interface IdTokenExpectations {
  issuer: string;
  clientId: string;
  nonce: string;
  keys: KeySource;
  /** Seconds. */
  now: number;
  skew: number;
}

/**
 * Returns the claims of a valid ID token.
 *
 * @throws IdTokenError naming the first check that failed.
 * @see https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation
 */
export async function validateIdToken(token: string, expect: IdTokenExpectations): Promise<Record<string, unknown>> {
  let jws;
  try {
    jws = decodeCompactJws(token);
  } catch {
    throw new IdTokenError('the ID token is not a signed JWT');
  }
  const alg = jws.header.alg;
  if (typeof alg !== 'string' || !ID_TOKEN_ALGORITHMS.has(alg)) throw new IdTokenError(`the ID token is not signed with an accepted algorithm (got ${JSON.stringify(alg)})`);
  const kid = typeof jws.header.kid === 'string' ? jws.header.kid : undefined;
  const keys = await expect.keys.resolve(kid);
  if (!keys.some((k) => (k.alg === undefined || k.alg === alg) && verifyJwsSignature(alg, k.key, jws.signingInput, jws.signature))) {
    throw new IdTokenError("the ID token's signature does not verify with the provider's keys");
  }
  const c = jws.payload;
  if (c.iss !== expect.issuer) throw new IdTokenError(`the ID token was issued by ${JSON.stringify(c.iss)}, not ${expect.issuer}`);
  const aud = typeof c.aud === 'string' ? [c.aud] : Array.isArray(c.aud) ? c.aud : [];
  if (!aud.includes(expect.clientId)) throw new IdTokenError('the ID token is not meant for this server (aud)');
  if (c.azp !== undefined && c.azp !== expect.clientId) throw new IdTokenError('the ID token was issued to another party (azp)');
  if (aud.length > 1 && c.azp === undefined) throw new IdTokenError('the ID token has several audiences and no azp');
  if (typeof c.exp !== 'number' || c.exp + expect.skew <= expect.now) throw new IdTokenError('the ID token has expired');
  if (typeof c.iat !== 'number' || c.iat - expect.skew > expect.now) throw new IdTokenError('the ID token was issued in the future (iat)');
  if (c.nonce !== expect.nonce) throw new IdTokenError('the ID token does not carry the nonce of this sign-in');
  if (typeof c.sub !== 'string' || c.sub === '') throw new IdTokenError('the ID token has no subject');
  return c;
}
