import { formatChallenge, oauthErrorBody, type ChallengeParams } from '../oauth/challenge.js';
import type { OAuthError } from '../oauth/errors.js';
import { MessageRefusedError } from '../mcp/message-refused-error.js';
import { rpcErrorCode, type RpcView } from './json-rpc.js';
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
 * Turns an error (or "no credentials", `error === undefined`) into the response: status, the
 * `WWW-Authenticate` challenges for this resource's DPoP mode (RFC 6750 §3, RFC 9449 §7.1,
 * RFC 9728 §5.1), `DPoP-Nonce` when nonces are on, and a JSON-RPC or OAuth JSON body.
 *
 * With DPoP `allowed` the `Bearer` challenge comes first: MCP SDK v1 clients only read the
 * first challenge's parameters.
 */
export function failure(options: Readonly<ResolvedOptions>, error: OAuthError | undefined, context: FailureContext): VerifyResult & { ok: false } {
  const status = error?.status ?? 401;
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-store',
  };
  if (error !== undefined) Object.assign(headers, error.headers);

  // A refused message is not a credentials problem: no challenge, a JSON-RPC error with its own code.
  if (error instanceof MessageRefusedError) {
    const body = { jsonrpc: '2.0', id: context.rpc.id, error: { code: error.rpcCode, message: error.description } };
    return { ok: false, status, headers, body: JSON.stringify(body) };
  }

  if (status === 401 || status === 403 || status === 400) {
    const schemes: Array<'Bearer' | 'DPoP'> =
      options.dpop === 'disabled' ? ['Bearer'] : options.dpop === 'required' ? ['DPoP'] : ['Bearer', 'DPoP'];
    let errorScheme: 'Bearer' | 'DPoP' | undefined;
    if (error !== undefined) {
      const proofError = error.code === 'invalid_dpop_proof' || error.code === 'use_dpop_nonce';
      const wanted = proofError ? 'DPoP' : context.scheme;
      errorScheme = wanted !== undefined && schemes.includes(wanted) ? wanted : schemes[0];
    }
    const scope = error?.scope ?? context.scopes;
    const challenges = schemes.map((scheme) => {
      const params: ChallengeParams = { scheme, resourceMetadata: options.metadataUrl, scope };
      if (scheme === 'DPoP') params.algs = options.dpopAlgorithmList;
      if (scheme === errorScheme && error !== undefined) {
        params.error = error.code;
        params.errorDescription = error.description;
      }
      return formatChallenge(params);
    });
    headers['WWW-Authenticate'] = challenges.join(', ');
    if (options.nonce !== undefined && headers['DPoP-Nonce'] === undefined && status === 401) {
      headers['DPoP-Nonce'] = options.nonce.manager.current();
    }
  }

  const oauth = error === undefined ? { error: 'unauthorized', error_description: 'authorization required: send an access token' } : oauthErrorBody(error);
  const body = context.rpc.isJsonRpc
    ? { jsonrpc: '2.0', id: context.rpc.id, error: { code: rpcErrorCode(status), message: `${oauth.error}: ${oauth.error_description}`, data: oauth } }
    : oauth;
  return { ok: false, status, headers, body: JSON.stringify(body) };
}
