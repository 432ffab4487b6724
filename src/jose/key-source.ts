import type { KeyObject } from 'node:crypto';

/** A public verification key, imported once. */
export interface VerificationKey {
  kid?: string;
  /** `alg` member of the JWK, when the issuer pinned one. */
  alg?: string;
  kty: 'EC' | 'RSA' | 'OKP';
  crv?: string;
  key: KeyObject;
}

/**
 * Supplies an issuer's access-token signing keys to the verifier.
 * Never consulted with anything taken from a token's own `jku`/`x5u`/`jwk`/`x5c`.
 */
export interface KeySource {
  /**
   * Candidate keys for a token whose protected header names `kid` (all usable keys when the
   * header has no `kid`). Resolves `[]` when no key matches (→ `invalid_token`).
   * Rejects with `StoreUnavailableError` when no keys can be obtained at all (→ 503, fail closed).
   */
  resolve(kid: string | undefined): Promise<readonly VerificationKey[]>;
  close?(): void;
}
