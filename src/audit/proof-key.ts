/**
 * DPoP keys the audit signs with: the user's (`--dpop-key`, the key a supplied token is bound to)
 * or one the audit generates for tokens it obtains itself. Unlike the client kit's holder, these
 * can sign deliberately wrong proofs — stale `iat`, wrong `htm`, no `ath` — which is the point.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createProof } from '../dpop/create-proof.js';
import { jwkThumbprint } from '../jose/thumbprint.js';

/** A key that signs proofs. */
export interface ProofKey {
  alg: string;
  publicJwk: Record<string, unknown>;
  /** RFC 7638 thumbprint: what `cnf.jkt` of a token bound to this key says. */
  thumbprint: string;
  /** Signs a proof; every claim can be overridden, `ath` dropped with `accessToken: undefined`. */
  sign(options: ProofOptions): string;
}

/** What a proof says. */
export interface ProofOptions {
  htm: string;
  htu: string;
  accessToken?: string;
  nonce?: string;
  /** Seconds since the epoch; default now. */
  iat?: number;
}

/** Generates a fresh ES256 key (never leaves this process). */
export function generateProofKey(): ProofKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return proofKey(privateKey, publicKey, 'ES256');
}

/**
 * Imports a private JWK (the `--dpop-key` file): EC P-256/384/521, Ed25519 or RSA. Throws a
 * `TypeError` saying what is wrong — never quoting key material.
 */
export function importProofKey(jwk: unknown): ProofKey {
  if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)) throw new TypeError('the DPoP key must be a JSON object (a private JWK)');
  const source = jwk as Record<string, unknown>;
  if (typeof source.d !== 'string') throw new TypeError('the DPoP key must be a private JWK (it has no "d" member)');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: source as never, format: 'jwk' });
  } catch {
    throw new TypeError('the DPoP key is not a usable private JWK (check kty, crv and the key members)');
  }
  const publicKey = createPublicKey(privateKey);
  return proofKey(privateKey, publicKey, algorithmFor(source));
}

function algorithmFor(jwk: Record<string, unknown>): string {
  if (typeof jwk.alg === 'string') return jwk.alg;
  if (jwk.kty === 'EC') return ({ 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' } as Record<string, string>)[String(jwk.crv)] ?? 'ES256';
  if (jwk.kty === 'OKP') return 'EdDSA';
  if (jwk.kty === 'RSA') return 'PS256';
  throw new TypeError('the DPoP key must be an EC, OKP (Ed25519) or RSA key');
}

function proofKey(privateKey: KeyObject, publicKey: KeyObject, alg: string): ProofKey {
  const exported = publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
  // Only the public members the thumbprint covers: nothing else of the key goes out in a proof.
  const publicJwk: Record<string, unknown> =
    exported.kty === 'RSA' ? { kty: 'RSA', e: exported.e, n: exported.n } : exported.kty === 'OKP' ? { kty: 'OKP', crv: exported.crv, x: exported.x } : { kty: 'EC', crv: exported.crv, x: exported.x, y: exported.y };
  return {
    alg,
    publicJwk,
    thumbprint: jwkThumbprint(publicJwk),
    sign: (options) => createProof({ privateKey, publicJwk, alg, ...options }),
  };
}
