/**
 * Access tokens whose signature was verified, so a client that reuses its token (every MCP
 * client does, for minutes) costs one ES256 verification per request — its proof's — instead of
 * two. Keyed by a SHA-256 of the whole token, so nothing but the identical token hits; bounded
 * in entries; an entry never outlives the token's `exp`, nor `maxSeconds` (a key the issuer
 * withdraws stops vouching within that). Only the signature and the claims that never change are
 * remembered: the time claims are checked against the clock on every hit, and the audience,
 * binding, proof, scopes, revocation and replay checks run on every request as before.
 */
import { createHash } from 'node:crypto';
import type { AccessTokenClaims } from '../jose/verify-access-token.js';

interface Entry {
  claims: AccessTokenClaims;
  /** Seconds since epoch after which the entry is not used. */
  until: number;
}

/** A bounded cache of verified access tokens. */
export class VerifiedTokenCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #maxSeconds: number;

  constructor(maxEntries: number, maxSeconds: number) {
    this.#maxEntries = maxEntries;
    this.#maxSeconds = maxSeconds;
  }

  /** The digest a token is cached under. */
  static keyOf(token: string): string {
    return createHash('sha256').update(token).digest('base64url');
  }

  /**
   * The verified claims of `token` when cached and still valid at `now` (with `skew`): `exp`,
   * `nbf` and `iat` are checked again; an expired entry is dropped (and the caller's full
   * verification then says why the token fails).
   */
  get(key: string, now: number, skew: number): AccessTokenClaims | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    const { claims } = entry;
    const nbf = claims.payload.nbf;
    if (now >= entry.until || now - skew >= claims.exp || (typeof nbf === 'number' && nbf > now + skew) || (claims.iat !== undefined && claims.iat > now + skew)) {
      this.#entries.delete(key);
      return undefined;
    }
    return claims;
  }

  /** Remembers a token verified at `now`; the oldest entry goes when full. */
  set(key: string, claims: AccessTokenClaims, now: number): void {
    if (this.#maxEntries <= 0) return;
    if (this.#entries.size >= this.#maxEntries && !this.#entries.has(key)) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(key, { claims, until: Math.min(claims.exp, now + this.#maxSeconds) });
  }

  get size(): number {
    return this.#entries.size;
  }
}
