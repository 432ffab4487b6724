import { importPublicJwk, UnusableJwkError } from './import-jwk.js';
import type { KeySource, VerificationKey } from './key-source.js';

/** Why one member of a JWKS was left out. */
export interface SkippedJwk {
  /** Position in the `keys` array. */
  index: number;
  kid?: string;
  reason: string;
}

/** A {@link KeySource} over a fixed JWKS, with the keys that were left out (for start-up logs). */
export interface LocalKeySource extends KeySource {
  /** Members of the JWKS that are not usable verification keys (encryption keys, RSA-1024, ...). */
  readonly skipped: readonly SkippedJwk[];
}

/** An immutable kid → keys index, shared with the remote source. */
export interface KeyIndex {
  readonly all: readonly VerificationKey[];
  readonly byKid: ReadonlyMap<string, readonly VerificationKey[]>;
  readonly skipped: readonly SkippedJwk[];
}

/**
 * Imports every usable key of a JWKS once and indexes it by `kid`. Unusable members are recorded
 * in `skipped`, not fatal: issuer key sets often mix in encryption keys.
 *
 * @throws {TypeError} When `jwks` is not `{ keys: [...] }`.
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-5
 */
export function indexJwks(jwks: unknown): KeyIndex {
  const keys = typeof jwks === 'object' && jwks !== null ? (jwks as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(keys)) throw new TypeError('JWKS must be an object with a "keys" array (RFC 7517 §5)');
  const all: VerificationKey[] = [];
  const byKid = new Map<string, VerificationKey[]>();
  const skipped: SkippedJwk[] = [];
  keys.forEach((jwk: unknown, index) => {
    try {
      const key = importPublicJwk(jwk);
      all.push(key);
      if (key.kid !== undefined) {
        const bucket = byKid.get(key.kid);
        if (bucket === undefined) byKid.set(key.kid, [key]);
        else bucket.push(key);
      }
    } catch (error) {
      if (!(error instanceof UnusableJwkError)) throw error;
      const kid = typeof jwk === 'object' && jwk !== null ? (jwk as { kid?: unknown }).kid : undefined;
      skipped.push(typeof kid === 'string' ? { index, kid, reason: error.message } : { index, reason: error.message });
    }
  });
  for (const bucket of byKid.values()) Object.freeze(bucket);
  return { all: Object.freeze(all), byKid, skipped: Object.freeze(skipped) };
}

/** Candidate keys for a token header's `kid`: every key when the header names none. */
export function lookup(index: KeyIndex, kid: string | undefined): readonly VerificationKey[] {
  if (kid === undefined) return index.all;
  return index.byKid.get(kid) ?? NO_KEYS;
}

const NO_KEYS: readonly VerificationKey[] = Object.freeze([]);

/**
 * A {@link KeySource} over keys configured in place (`trust.jwks`). Keys are imported once, here,
 * so that a misconfigured key set fails at start-up rather than on the first request.
 *
 * `resolve(kid)` answers from a map: the keys with that `kid` (`[]` when none), or all keys when
 * the token names no `kid`.
 *
 * @throws {TypeError} When the JWKS is malformed or holds no usable key; the message lists why
 *   each key was refused.
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-5
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4
 */
export function createLocalKeySource(jwks: { keys: readonly unknown[] }): LocalKeySource {
  const index = indexJwks(jwks);
  if (index.all.length === 0) {
    const reasons = index.skipped.map((s) => `  keys[${s.index}]${s.kid === undefined ? '' : ` (kid ${JSON.stringify(s.kid.slice(0, 64))})`}: ${s.reason}`);
    throw new TypeError(
      'trust.jwks holds no usable verification key; add a public EC (P-256/384/521), RSA (≥ 2048 bits) ' +
        `or Ed25519 key with use "sig" (or no use)${reasons.length === 0 ? ' — the "keys" array is empty' : `:\n${reasons.join('\n')}`}`,
    );
  }
  return Object.freeze({
    skipped: index.skipped,
    resolve: (kid: string | undefined) => Promise.resolve(lookup(index, kid)),
  });
}
