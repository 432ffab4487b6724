import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { VerificationKey } from './key-source.js';

/**
 * A JWK that cannot serve as an access-token verification key. The message names the member
 * at fault and never echoes key material.
 */
export class UnusableJwkError extends TypeError {
  /** Stable machine-readable code. */
  readonly code = 'ERR_WARDEN_UNUSABLE_JWK';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UnusableJwkError';
  }
}

/** Members that only a private or symmetric key carries (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** Byte length of each coordinate per curve (RFC 7518 §6.2.1.2: full length, leading zeros kept). */
const EC_COORDINATE_BYTES: Readonly<Record<string, number>> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 };

/** Which `kty` (and `crv`) each signature `alg` can be used with (RFC 7518 §3.1, RFC 8037 §3.1). */
const ALG_REQUIREMENTS: Readonly<Record<string, { kty: 'EC' | 'RSA' | 'OKP'; crv?: string }>> = {
  ES256: { kty: 'EC', crv: 'P-256' },
  ES384: { kty: 'EC', crv: 'P-384' },
  ES512: { kty: 'EC', crv: 'P-521' },
  RS256: { kty: 'RSA' },
  RS384: { kty: 'RSA' },
  RS512: { kty: 'RSA' },
  PS256: { kty: 'RSA' },
  PS384: { kty: 'RSA' },
  PS512: { kty: 'RSA' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  Ed25519: { kty: 'OKP', crv: 'Ed25519' },
};

/** Smaller moduli are factorable within reach (RFC 7518 §3.3 requires ≥ 2048 bits). */
const RSA_MIN_BITS = 2048;
/** Bounds verification cost: a 64 kbit modulus would let an issuer JWKS stall every request. */
const RSA_MAX_BITS = 16_384;

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Imports one public JWK as a verification key, or throws {@link UnusableJwkError}.
 *
 * Accepts only public asymmetric signature keys: `EC` (P-256, P-384, P-521), `RSA` (modulus of at
 * least 2048 bits, odd public exponent greater than 1) and `OKP` (Ed25519). Refuses `oct`, any
 * private member, `use` other than `sig`, `key_ops` without `verify`, an `alg` that is not an
 * asymmetric signature algorithm or does not fit the key, and malformed or off-curve members.
 *
 * Only the own, public members are copied into a fresh object for `crypto.createPublicKey`, so an
 * inherited or extra member of the input can never reach OpenSSL.
 *
 * @param jwk - Untrusted value (typically one element of a JWKS `keys` array).
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-4
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-6
 * @see https://www.rfc-editor.org/rfc/rfc8037#section-2
 */
export function importPublicJwk(jwk: unknown): VerificationKey {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    throw new UnusableJwkError('JWK must be a JSON object');
  }
  const source = jwk as Record<string, unknown>;
  const own = (name: string): unknown => (Object.hasOwn(source, name) ? source[name] : undefined);

  for (const member of PRIVATE_MEMBERS) {
    if (Object.hasOwn(source, member)) {
      throw new UnusableJwkError(`JWK carries the private or symmetric member "${member}"; publish public keys only`);
    }
  }
  const kty = own('kty');
  if (kty === 'oct') throw new UnusableJwkError('JWK kty "oct" (symmetric) cannot verify access tokens');
  if (kty !== 'EC' && kty !== 'RSA' && kty !== 'OKP') {
    throw new UnusableJwkError('JWK kty must be "EC", "RSA" or "OKP"');
  }

  const kid = optionalString(own('kid'), 'kid');
  const alg = optionalString(own('alg'), 'alg');
  const use = optionalString(own('use'), 'use');
  if (use !== undefined && use !== 'sig') {
    throw new UnusableJwkError(`JWK use "${truncate(use)}" is not "sig"`);
  }
  checkKeyOps(own('key_ops'));

  const clean: JsonWebKey = { kty };
  let crv: string | undefined;
  if (kty === 'EC') {
    crv = optionalString(own('crv'), 'crv');
    const size = crv === undefined ? undefined : EC_COORDINATE_BYTES[crv];
    if (crv === undefined || size === undefined) throw new UnusableJwkError('EC JWK crv must be "P-256", "P-384" or "P-521"');
    clean.crv = crv;
    clean.x = base64url(own('x'), 'x', size);
    clean.y = base64url(own('y'), 'y', size);
  } else if (kty === 'OKP') {
    crv = optionalString(own('crv'), 'crv');
    if (crv !== 'Ed25519') throw new UnusableJwkError('OKP JWK crv must be "Ed25519"');
    clean.crv = crv;
    clean.x = base64url(own('x'), 'x', 32);
  } else {
    clean.n = base64url(own('n'), 'n');
    clean.e = base64url(own('e'), 'e');
  }

  if (alg !== undefined) {
    const required = ALG_REQUIREMENTS[alg];
    if (required === undefined) throw new UnusableJwkError(`JWK alg "${truncate(alg)}" is not an asymmetric signature algorithm`);
    if (required.kty !== kty || (required.crv !== undefined && required.crv !== crv)) {
      throw new UnusableJwkError(`JWK alg "${alg}" does not fit a ${kty}${crv === undefined ? '' : ` ${crv}`} key`);
    }
  }

  let key: KeyObject;
  try {
    key = createPublicKey({ key: clean, format: 'jwk' });
  } catch (cause) {
    // OpenSSL refuses EC points that are not on the curve, among other malformations.
    throw new UnusableJwkError(`JWK is not a valid ${kty} public key`, { cause });
  }
  if (kty === 'RSA') checkRsa(key);

  const result: VerificationKey = { kty, key };
  if (kid !== undefined) result.kid = kid;
  if (alg !== undefined) result.alg = alg;
  if (crv !== undefined) result.crv = crv;
  return Object.freeze(result);
}

function checkRsa(key: KeyObject): void {
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < RSA_MIN_BITS) throw new UnusableJwkError(`RSA JWK modulus is ${bits} bits; at least ${RSA_MIN_BITS} are required`);
  if (bits > RSA_MAX_BITS) throw new UnusableJwkError(`RSA JWK modulus is ${bits} bits; at most ${RSA_MAX_BITS} are accepted`);
  const e = key.asymmetricKeyDetails?.publicExponent ?? 0n;
  // e = 1 makes every message its own signature; an even e is not a valid RSA exponent.
  if (e < 3n || e % 2n === 0n) throw new UnusableJwkError('RSA JWK public exponent must be odd and at least 3');
}

function checkKeyOps(value: unknown): void {
  if (value === undefined) return;
  if (!Array.isArray(value) || !value.every((op) => typeof op === 'string')) {
    throw new UnusableJwkError('JWK key_ops must be an array of strings');
  }
  if (!value.includes('verify')) throw new UnusableJwkError('JWK key_ops does not include "verify"');
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw new UnusableJwkError(`JWK ${name} must be a non-empty string`);
  return value;
}

function base64url(value: unknown, name: string, bytes?: number): string {
  if (typeof value !== 'string' || !BASE64URL.test(value)) {
    throw new UnusableJwkError(`JWK ${name} must be an unpadded base64url string`);
  }
  if (bytes !== undefined && Buffer.from(value, 'base64url').length !== bytes) {
    throw new UnusableJwkError(`JWK ${name} must encode exactly ${bytes} bytes`);
  }
  return value;
}

/** Keeps attacker-chosen strings in messages short. */
function truncate(value: string): string {
  return value.length > 32 ? `${value.slice(0, 32)}…` : value;
}
