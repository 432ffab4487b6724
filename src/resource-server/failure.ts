import { errorAnswer } from '../oauth/error-response.js';
import type { OAuthError } from '../oauth/errors.js';
import type { RpcView } from './json-rpc.js';
import type { ResolvedOptions } from './options.js';
import type { VerifyResult } from './types.js';

/** What the gauntlet knew when it failed. */
export interface FailureContext {
  /** Scheme the client used, if any. */
  scheme: 'Bearer' | 'DPoP' | undefined;
  /** Scopes this request needs (advertised in the challenge). */
  scopes: readonly string[];
  rpc: RpcView;
}

/**
 * Turns an error (or "no credentials", `error === undefined`) into the response through the one
 * error path (`errorAnswer`): the `WWW-Authenticate` challenges for this resource's DPoP mode
 * (RFC 6750 §3, RFC 9449 §7.1, RFC 9728 §5.1) — `Bearer` first with DPoP `allowed`, since MCP SDK
 * v1 clients only read the first challenge's parameters — `DPoP-Nonce` when nonces are on, and a
 * JSON-RPC or OAuth JSON body. The result carries the wire `error` code, so no caller has to read
 * it back from a header.
 */
export function failure(options: Readonly<ResolvedOptions>, error: OAuthError | undefined, context: FailureContext): VerifyResult & { ok: false } {
  const schemes: Array<'Bearer' | 'DPoP'> = options.dpop === 'disabled' ? ['Bearer'] : options.dpop === 'required' ? ['DPoP'] : ['Bearer', 'DPoP'];
  const answer = errorAnswer(error, {
    challenges: { schemes, clientScheme: context.scheme, resourceMetadata: options.metadataUrl, algs: options.dpopAlgorithmList, scope: context.scopes },
    ...(options.nonce === undefined ? {} : { nonce: options.nonce.manager.current() }),
    // MCP requests, and every refused message (whatever its method), answer as JSON-RPC.
    ...(context.rpc.isJsonRpc || error?.challenge === false ? { jsonRpc: { id: context.rpc.id } } : {}),
  });
  return { ok: false, ...answer, error: error?.code ?? 'no_credentials' };
}
