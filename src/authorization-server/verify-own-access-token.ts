import { SUPPORTED_ALGORITHMS } from '../jose/algorithms.js';
import { createLocalKeySource } from '../jose/local-key-source.js';
import type { KeySource } from '../jose/key-source.js';
import { verifyAccessToken, type AccessTokenClaims } from '../jose/verify-access-token.js';
import type { AsContext } from './context.js';
import type { Jwks } from './signing-keys.js';

/** Key source and algorithms by published JWKS object: `SigningKeys` replaces the object on every reload. */
const verifiers = new WeakMap<Jwks, { keys: KeySource; algorithms: ReadonlySet<string> }>();
const TOKEN_TYPES: ReadonlySet<string> = new Set(['at+jwt']);

/**
 * Verifies an access token this authorization server issued, with the resource server's own
 * verifier (RFC 9068 §4: `typ`, signature by a key in our JWKS, exact `iss`, `exp` with skew),
 * so the token endpoint, revocation and introspection accept exactly what a resource server would.
 * Does not check the audience or the deny-list: callers decide what those mean for them.
 * Throws `InvalidTokenError`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4
 */
export async function verifyOwnAccessToken(ctx: AsContext, token: string): Promise<AccessTokenClaims> {
  const jwks = await ctx.keys.jwks();
  let verifier = verifiers.get(jwks);
  if (verifier === undefined) {
    // Every published key's own `alg`: a retired key of another algorithm still verifies its tokens.
    const algorithms = new Set([...ctx.keys.algorithms, ...jwks.keys.map((k) => k.alg).filter((a): a is string => typeof a === 'string' && SUPPORTED_ALGORITHMS.includes(a))]);
    verifier = { keys: createLocalKeySource(jwks), algorithms };
    verifiers.set(jwks, verifier);
  }
  return verifyAccessToken(token, {
    keys: verifier.keys,
    issuer: ctx.issuer,
    algorithms: verifier.algorithms,
    tokenTypes: TOKEN_TYPES,
    skewSeconds: ctx.skew,
    now: ctx.now(),
  });
}
