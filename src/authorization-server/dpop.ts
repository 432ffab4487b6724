import type { IncomingMessage } from 'node:http';
import { replayKey } from '../dpop/replay-key.js';
import { verifyProof } from '../dpop/verify-proof.js';
import { InvalidDpopProofError } from '../oauth/errors.js';
import type { AsContext } from './context.js';

/** A token request's DPoP proof that passed the RFC 9449 §4.3 checks, its `jti` not yet claimed. */
export interface TokenEndpointProof {
  /** RFC 7638 thumbprint of the proof key. */
  jkt: string;
  /**
   * Claims the proof's `jti` in the replay store (RFC 9449 §11.1); rejects with 400
   * `invalid_dpop_proof` when it was used before. Idempotent: only the first call claims.
   */
  claim(): Promise<void>;
}

/**
 * Verifies the DPoP proof of a token request (RFC 9449 §5): the same §4.3 checks as the resource
 * server, with `htu` = the token endpoint, errors as 400 `invalid_dpop_proof`, server nonces when
 * configured (§8). Returns the key thumbprint and a `claim` for the `jti`, or undefined when the
 * request carries no DPoP header.
 *
 * The `jti` is not claimed here: the caller claims it once client authentication and the grant's
 * own checks have passed, as the resource server does last, so that a request failing any check
 * never consumes a proof (an intercepted proof sent with a wrong code cannot burn it for its owner).
 */
export async function verifyTokenEndpointProof(ctx: AsContext, req: IncomingMessage): Promise<TokenEndpointProof | undefined> {
  const values = req.headersDistinct.dpop;
  if (values === undefined || values.length === 0) {
    return undefined;
  }
  if (values.length > 1 || (values[0] as string).includes(',')) throw new InvalidDpopProofError('more than one DPoP header (RFC 9449 §4.3 step 1)', { status: 400 });
  const proof = (values[0] as string).trim();
  if (proof.length > 8192) throw new InvalidDpopProofError('DPoP header too large', { status: 400 });
  const verified = verifyProof(proof, {
    method: 'POST',
    htu: ctx.endpoints.token,
    algorithms: ctx.dpopAlgorithms,
    maxAgeSeconds: ctx.proofMaxAge,
    skewSeconds: ctx.skew,
    now: ctx.now(),
    nonce: ctx.nonce,
    keys: ctx.proofKeys,
    errorStatus: 400,
  });
  let claimed: Promise<void> | undefined;
  const claim = async (): Promise<void> => {
    if (!(await ctx.replay.claim(replayKey(verified.jkt, verified.jti), ctx.proofMaxAge + 2 * ctx.skew))) {
      throw new InvalidDpopProofError('DPoP proof has already been used (replay); sign a fresh proof for every request', { status: 400 });
    }
  };
  return { jkt: verified.jkt, claim: () => (claimed ??= claim()) };
}
