/**
 * Words every layer speaks — the resource server, the authorization server, the gateway and the
 * configuration — kept below all of them. (`AsymmetricAlg` lives with the one list of algorithm
 * names, in `jose/algorithms.ts`.)
 */

/**
 * DPoP enforcement per resource, for progressive rollout: `disabled` (Bearer only), `allowed`
 * (bound tokens must carry proofs; unbound bearer tokens still pass), `required` (RFC 9728
 * metadata says `dpop_bound_access_tokens_required`).
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7.1
 */
export type DpopMode = 'disabled' | 'allowed' | 'required';

/** A public JSON Web Key (RFC 7517). */
export interface PublicJwk {
  kty: string;
  kid?: string;
  alg?: string;
  use?: string;
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
  [member: string]: unknown;
}

/** Scope policy: default scopes for every request, plus per-tool requirements for `tools/call`. */
export interface ScopePolicy {
  default?: readonly string[];
  tools?: Readonly<Record<string, readonly string[]>>;
  /** Human words per scope (shown to people, never enforced). */
  descriptions?: Readonly<Record<string, string>>;
}
