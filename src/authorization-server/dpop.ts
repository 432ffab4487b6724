import type { IncomingMessage } from 'node:http';
import { replayKey } from '../dpop/replay-key.js';
import { verifyProof } from '../dpop/verify-proof.js';
import { InvalidDpopProofError } from '../oauth/errors.js';
import type { AsContext } from './context.js';

/**
 * Verifies the DPoP proof of a token request (RFC 9449 §5): the same §4.3 checks as the resource
 * server, with `htu` = the token endpoint, errors as 400 `invalid_dpop_proof`, server nonces when
 * configured (§8), and the `jti` claimed in the shared replay store. Returns the key thumbprint,
 * or undefined when the request carries no DPoP header.
 */
export async function verifyTokenEndpointProof(ctx: AsContext, req: IncomingMessage): Promise<string | undefined> {
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
  if (!(await ctx.replay.claim(replayKey(verified.jkt, verified.jti), ctx.proofMaxAge + 2 * ctx.skew))) {
    throw new InvalidDpopProofError('DPoP proof has already been used (replay); sign a fresh proof for every request', { status: 400 });
  }
  return verified.jkt;
}
