// JWT / DPoP helpers for the harness (token minting, proof signing, thumbprints).
// node:crypto only, so that proofs can be signed fast enough to pre-generate whole pools.
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';

/** base64url of a JSON value. */
export function b64uJson(value) {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A fresh ES256 (P-256) key pair with its public JWK (kty, crv, x, y only). */
export function generateEs256(kid) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  const publicJwk = kid === undefined ? { kty, crv, x, y } : { kty, crv, x, y, kid, alg: 'ES256', use: 'sig' };
  return { privateKey, publicKey, publicJwk, privateJwk: privateKey.export({ format: 'jwk' }) };
}

/** Re-creates a private KeyObject from a JWK (sent over IPC). */
export function privateKeyFromJwk(jwk) {
  return createPrivateKey({ key: jwk, format: 'jwk' });
}

/** RFC 7638 thumbprint of an EC public JWK (members in lexicographic order). */
export function ecThumbprint(jwk) {
  return createHash('sha256')
    .update(`{"crv":"${jwk.crv}","kty":"EC","x":"${jwk.x}","y":"${jwk.y}"}`)
    .digest('base64url');
}

/** RFC 9449 §4.2 `ath`: base64url(SHA-256(ASCII(access token))). */
export function accessTokenHash(token) {
  return createHash('sha256').update(token).digest('base64url');
}

/** Signs a compact ES256 JWS (`header.payload.signature`, signature in IEEE P1363 form). */
export function signEs256(header, payload, privateKey) {
  const input = `${b64uJson(header)}.${b64uJson(payload)}`;
  const sig = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${sig.toString('base64url')}`;
}

/** An RFC 9068 access token bound to `jkt` (RFC 9449 §6). */
export function mintAccessToken({ issuer, resource, kid, privateKey, jkt, scope = 'mcp:tools', lifetime = 600 }) {
  const now = Math.floor(Date.now() / 1000);
  return signEs256(
    { alg: 'ES256', typ: 'at+jwt', kid },
    {
      iss: issuer,
      aud: resource,
      sub: 'bench-user',
      client_id: 'bench-client',
      scope,
      jti: randomBytes(12).toString('base64url'),
      iat: now,
      exp: now + lifetime,
      cnf: { jkt },
    },
    privateKey,
  );
}

/**
 * Returns `sign(htm, htu, ath, jti, iat?)` producing DPoP proofs for one client key.
 * The protected header is encoded once: proofs differ only in their payload.
 */
export function createProofSigner(privateKey, publicJwk) {
  const { kty, crv, x, y } = publicJwk;
  const header = `${b64uJson({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y } })}.`;
  return (htm, htu, ath, jti, iat = Math.floor(Date.now() / 1000)) => {
    const input = header + b64uJson({ jti, htm, htu, iat, ath });
    const sig = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${sig.toString('base64url')}`;
  };
}

/** A random prefix that makes `jti`s unique across pools, processes and runs. */
export function jtiPrefix() {
  return randomBytes(9).toString('base64url');
}
