import { constants, type KeyObject } from 'node:crypto';

/** How one JWS `alg` is verified with node:crypto, and which keys may serve it. */
export interface AlgorithmSpec {
  /** node:crypto digest name, or null for EdDSA. */
  hash: 'sha256' | 'sha384' | 'sha512' | null;
  /** Key family the alg requires (RFC 7518 §3): stops RSA/EC/OKP key confusion. */
  keyType: 'ec' | 'rsa' | 'ed25519';
  /** Named curve for EC algs (node's name). */
  curve?: 'prime256v1' | 'secp384r1' | 'secp521r1';
  /** Signature length in bytes for fixed-size algs (EC in IEEE P1363 form, Ed25519). */
  signatureLength?: number;
  pss?: boolean;
}

/**
 * The names of the asymmetric algorithms Warden verifies — the one list of them. `none` and every
 * HMAC alg are absent on purpose: a public key must never be usable as an HMAC secret
 * (RFC 8725 §2.1, §3.1).
 *
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-3.1
 * @see https://www.rfc-editor.org/rfc/rfc8037#section-3.1 (EdDSA; `Ed25519` is the fully specified name)
 */
export const ASYMMETRIC_ALGORITHMS = Object.freeze(['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA', 'Ed25519'] as const);

/** An asymmetric JWS algorithm Warden verifies (never `none`, never HMAC). */
export type AsymmetricAlg = (typeof ASYMMETRIC_ALGORITHMS)[number];

/** How each of {@link ASYMMETRIC_ALGORITHMS} is verified. */
export const ALGORITHMS: Readonly<Record<AsymmetricAlg, AlgorithmSpec>> = Object.freeze({
  ES256: { hash: 'sha256', keyType: 'ec', curve: 'prime256v1', signatureLength: 64 },
  ES384: { hash: 'sha384', keyType: 'ec', curve: 'secp384r1', signatureLength: 96 },
  ES512: { hash: 'sha512', keyType: 'ec', curve: 'secp521r1', signatureLength: 132 },
  RS256: { hash: 'sha256', keyType: 'rsa' },
  RS384: { hash: 'sha384', keyType: 'rsa' },
  RS512: { hash: 'sha512', keyType: 'rsa' },
  PS256: { hash: 'sha256', keyType: 'rsa', pss: true },
  PS384: { hash: 'sha384', keyType: 'rsa', pss: true },
  PS512: { hash: 'sha512', keyType: 'rsa', pss: true },
  EdDSA: { hash: null, keyType: 'ed25519', signatureLength: 64 },
  Ed25519: { hash: null, keyType: 'ed25519', signatureLength: 64 },
});

/** The spec of an untrusted `alg` value, or undefined when Warden does not verify it. */
export function algorithmSpec(alg: string): AlgorithmSpec | undefined {
  return Object.hasOwn(ALGORITHMS, alg) ? ALGORITHMS[alg as AsymmetricAlg] : undefined;
}

/** Every alg name Warden supports, for membership checks of untrusted strings. */
export const SUPPORTED_ALGORITHMS: readonly string[] = ASYMMETRIC_ALGORITHMS;

/** Minimum RSA modulus length accepted (RFC 7518 §3.3). */
export const MIN_RSA_BITS = 2048;

/** True when `key` may verify signatures made with `spec` (family, curve, RSA size). */
export function keyFitsAlgorithm(key: KeyObject, spec: AlgorithmSpec): boolean {
  if (key.type !== 'public') return false;
  const type = key.asymmetricKeyType;
  if (spec.keyType === 'rsa') {
    if (type !== 'rsa') return false;
    return (key.asymmetricKeyDetails?.modulusLength ?? 0) >= MIN_RSA_BITS;
  }
  if (spec.keyType === 'ec') {
    return type === 'ec' && key.asymmetricKeyDetails?.namedCurve === spec.curve;
  }
  return type === 'ed25519';
}

/** node:crypto verify options for `spec`. */
export function verifyKeyInput(key: KeyObject, spec: AlgorithmSpec): KeyObject | { key: KeyObject; dsaEncoding?: 'ieee-p1363'; padding?: number; saltLength?: number } {
  if (spec.keyType === 'ec') return { key, dsaEncoding: 'ieee-p1363' };
  if (spec.pss) return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
  return key;
}
