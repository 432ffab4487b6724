import { DEFAULTS } from '../oauth/defaults.js';
import { timingSafeEqual } from 'node:crypto';
import { assertBase64url, assertNoCrit, decodeJwsObject, JwsFormatError, splitCompactJws, verifyJwsSignature } from '../jose/compact-jws.js';
import { accessTokenHash } from '../jose/thumbprint.js';
import { InvalidDpopProofError, UseDpopNonceError } from '../oauth/errors.js';
import { htuComparisonForm } from '../oauth/canonical-uri.js';
import { ProofKeyCache, ProofKeyError, type ProofKey } from './proof-key-cache.js';
import type { NonceManager } from './nonce.js';

/** Options of {@link verifyProof}. */
export interface VerifyProofOptions {
  /** HTTP method of the request (`htm`). */
  method: string;
  /** Expected `htu` in comparison form (see `htuComparisonForm`/`expectedHtu`). */
  htu: string;
  /** Access token presented with the proof; when set, `ath` is required and checked. */
  accessToken?: string;
  /** Precomputed `ath` of `accessToken` (saves a hash when the caller has it). */
  ath?: string;
  /** Accepted proof algorithms. */
  algorithms: ReadonlySet<string>;
  /** Maximum proof age in seconds. */
  maxAgeSeconds: number;
  /** Allowed clock skew in seconds. */
  skewSeconds: number;
  /** Current time, seconds. */
  now: number;
  /** Server nonces, when configured. */
  nonce?: { manager: NonceManager; required: boolean };
  /** Proof key cache (shared across requests). */
  keys: ProofKeyCache;
  /** Status for proof errors: 401 at a resource (§7.1), 400 at the token endpoint (§5). */
  errorStatus?: number;
  /** Longest `jti` accepted. Default 256. */
  maxJtiLength?: number;
}

/** A verified proof. */
export interface VerifiedProof {
  /** RFC 7638 thumbprint of the proof key. */
  jkt: string;
  jti: string;
  iat: number;
  /** True when the proof's nonce is valid but not the current one: send a fresh `DPoP-Nonce`. */
  nonceStale: boolean;
}

/**
 * Verifies a DPoP proof per RFC 9449 §4.3 (steps 2–12 except the `jti` claim, which the caller
 * makes last so that a failed check never consumes a `jti`). Throws `InvalidDpopProofError` or
 * `UseDpopNonceError`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.3
 */
export function verifyProof(proof: string, options: VerifyProofOptions): VerifiedProof {
  const status = options.errorStatus ?? 401;
  const fail = (description: string): never => {
    throw new InvalidDpopProofError(description, { status });
  };

  // §4.3 step 2: a well-formed JWT. A header seen before (same bytes) comes decoded, its key resolved.
  let segments;
  let header: Readonly<Record<string, unknown>>;
  let payload: Record<string, unknown>;
  let known;
  try {
    segments = splitCompactJws(proof);
    known = options.keys.knownHeader(segments.header);
    if (known === undefined) {
      assertBase64url(segments.header, segments.payload, segments.signature);
      header = decodeJwsObject(segments.header, 'header');
    } else {
      assertBase64url(segments.payload, segments.signature);
      header = known.header;
    }
    payload = decodeJwsObject(segments.payload, 'payload');
    assertNoCrit(header);
  } catch (error) {
    if (error instanceof JwsFormatError) return fail(`DPoP proof is malformed: ${error.message}`);
    throw error;
  }

  // §4.3 step 4: typ (media types compare case-insensitively, RFC 7515 §4.1.9).
  if (typeof header.typ !== 'string' || header.typ.toLowerCase() !== 'dpop+jwt') fail('DPoP proof "typ" must be "dpop+jwt"');
  // §4.3 step 5: asymmetric alg from the allow-list; never "none" or HMAC.
  const alg = header.alg;
  if (typeof alg !== 'string' || !options.algorithms.has(alg)) {
    fail(`DPoP proof "alg" must be one of ${[...options.algorithms].join(', ')}`);
  }
  // §4.3 step 7: public key only.
  let proofKey: ProofKey;
  if (known !== undefined) {
    proofKey = known.key;
  } else {
    try {
      proofKey = options.keys.resolve(header.jwk);
    } catch (error) {
      if (error instanceof ProofKeyError) return fail(`DPoP proof ${error.message}`);
      throw error;
    }
  }
  // §4.3 step 6: signature by the embedded key.
  if (!verifyJwsSignature(alg as string, proofKey.key, Buffer.from(segments.signingInput, 'ascii'), Buffer.from(segments.signature, 'base64url'))) {
    fail('DPoP proof signature does not verify with its "jwk" (or the key does not fit "alg")');
  }
  if (known === undefined) options.keys.rememberHeader(segments.header, header as Record<string, unknown>, proofKey);

  // §4.3 step 3: required claims.
  const { jti, htm, htu, iat } = payload;
  const maxJti = options.maxJtiLength ?? DEFAULTS.dpop.maxJtiLength;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > maxJti) fail(`DPoP proof "jti" must be a string of 1 to ${maxJti} characters`);
  if (typeof htm !== 'string') fail('DPoP proof is missing "htm"');
  if (typeof htu !== 'string') fail('DPoP proof is missing "htu"');
  if (typeof iat !== 'number' || !Number.isFinite(iat)) fail('DPoP proof "iat" must be a number');

  // §4.3 step 8: htm.
  if (htm !== options.method) fail(`DPoP proof "htm" does not match the request method ${options.method}`);
  // §4.3 step 9: htu, ignoring query and fragment, after RFC 3986 normalisation.
  if (htu !== options.htu && htuComparisonForm(htu as string) !== options.htu) {
    fail(`DPoP proof "htu" does not match ${options.htu}`);
  }
  // §4.3 step 11: iat within the window.
  const age = options.now - (iat as number);
  if (age > options.maxAgeSeconds + options.skewSeconds) fail(`DPoP proof is too old (iat more than ${options.maxAgeSeconds}s ago)`);
  if (age < -options.skewSeconds) fail('DPoP proof "iat" is in the future');

  // §4.3 step 12 / §7.1: ath when presented with an access token.
  if (options.accessToken !== undefined) {
    const ath = payload.ath;
    if (typeof ath !== 'string') fail('DPoP proof is missing "ath" (required with an access token)');
    const expected = Buffer.from(options.ath ?? accessTokenHash(options.accessToken), 'ascii');
    const got = Buffer.from(ath as string, 'ascii');
    if (expected.length === 0 || got.length !== expected.length || !timingSafeEqual(got, expected)) {
      fail('DPoP proof "ath" does not match the access token');
    }
  }

  // §4.3 step 10 / §9: server nonce.
  let nonceStale = false;
  if (options.nonce !== undefined) {
    const presented = payload.nonce;
    if (presented === undefined) {
      if (options.nonce.required) {
        throw new UseDpopNonceError('a DPoP nonce is required: retry with the nonce in the DPoP-Nonce header', options.nonce.manager.current(), { status });
      }
    } else {
      const state = typeof presented === 'string' ? options.nonce.manager.check(presented) : 'invalid';
      if (state === 'invalid') {
        throw new UseDpopNonceError('the DPoP nonce is invalid or expired: retry with the nonce in the DPoP-Nonce header', options.nonce.manager.current(), { status });
      }
      nonceStale = state === 'previous';
    }
  }

  return { jkt: proofKey.jkt, jti: jti as string, iat: iat as number, nonceStale };
}
