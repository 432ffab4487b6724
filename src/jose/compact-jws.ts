import { verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { algorithmSpec, keyFitsAlgorithm, verifyKeyInput } from './algorithms.js';
import { WardenError } from '../oauth/errors.js';

/** A decoded (not yet verified) JWS in compact serialisation. */
export interface DecodedJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** ASCII bytes of `base64url(header) "." base64url(payload)`. */
  signingInput: Buffer;
  signature: Buffer;
}

/** Why a compact JWS could not be decoded. */
export class JwsFormatError extends WardenError {
  constructor(message: string) {
    super('invalid_jws', message);
  }
}

const B64URL = /^[A-Za-z0-9_-]+$/;

/** The three segments of a compact JWS, not yet checked as base64url nor decoded. */
export interface JwsSegments {
  header: string;
  payload: string;
  signature: string;
  /** `header "." payload`: what the signature covers. */
  signingInput: string;
}

/**
 * Splits a compact JWS (RFC 7515 §7.1) into three non-empty dot-separated parts. Checks nothing
 * else: {@link decodeCompactJws} is the strict decoder; callers of this one run the same checks
 * on each part ({@link assertBase64url}, {@link decodeJwsObject}).
 */
export function splitCompactJws(value: string): JwsSegments {
  const first = value.indexOf('.');
  const second = first < 0 ? -1 : value.indexOf('.', first + 1);
  if (first <= 0 || second <= first + 1 || value.indexOf('.', second + 1) !== -1 || second === value.length - 1) {
    throw new JwsFormatError('not a compact JWS (expected three non-empty dot-separated parts)');
  }
  const signingInput = value.slice(0, second);
  return { header: signingInput.slice(0, first), payload: value.slice(first + 1, second), signature: value.slice(second + 1), signingInput };
}

/** Throws unless every part is unpadded base64url. */
export function assertBase64url(...parts: string[]): void {
  for (const part of parts) if (!B64URL.test(part)) throw new JwsFormatError('JWS parts must be unpadded base64url');
}

/**
 * Decodes a compact JWS (RFC 7515 §7.1) strictly: three base64url parts (no padding), JSON
 * objects for header and payload, no `crit` members Warden does not understand (§4.1.11).
 * Does not verify anything: callers must call {@link verifyJwsSignature} before trusting it.
 */
export function decodeCompactJws(value: string): DecodedJws {
  const parts = splitCompactJws(value);
  assertBase64url(parts.header, parts.payload, parts.signature);
  const header = decodeJwsObject(parts.header, 'header');
  const payload = decodeJwsObject(parts.payload, 'payload');
  assertNoCrit(header);
  return {
    header,
    payload,
    signingInput: Buffer.from(parts.signingInput, 'ascii'),
    signature: Buffer.from(parts.signature, 'base64url'),
  };
}

/** Throws for a `crit` header parameter: Warden understands no extension (RFC 7515 §4.1.11). */
export function assertNoCrit(header: Readonly<Record<string, unknown>>): void {
  if (header.crit !== undefined) throw new JwsFormatError('unsupported "crit" header parameter');
}

/** A base64url JWS part that must hold a JSON object (header or payload), decoded. */
export function decodeJwsObject(part: string, what: 'header' | 'payload'): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new JwsFormatError(`JWS ${what} is not valid JSON`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new JwsFormatError(`JWS ${what} must be a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * Verifies a JWS signature with node:crypto. Returns false (never throws) for an unknown alg,
 * a key of the wrong family/curve/size for the alg, a wrong-length signature, or a bad signature.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-3
 */
export function verifyJwsSignature(alg: string, key: KeyObject, signingInput: Buffer, signature: Buffer): boolean {
  const spec = algorithmSpec(alg);
  if (spec === undefined || !keyFitsAlgorithm(key, spec)) return false;
  if (spec.signatureLength !== undefined && signature.length !== spec.signatureLength) return false;
  try {
    return cryptoVerify(spec.hash, signingInput, verifyKeyInput(key, spec), signature);
  } catch {
    return false;
  }
}
