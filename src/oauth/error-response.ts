/**
 * The one way an error becomes a response — for the resource server, the authorization server
 * and the gateway alike: status, `WWW-Authenticate` challenges (RFC 6750 §3, RFC 9449 §7.1,
 * RFC 9728 §5.1, RFC 6749 §5.2 `Basic`), `DPoP-Nonce`, `Retry-After`, `Cache-Control: no-store`,
 * and an OAuth JSON body or, for MCP requests, a JSON-RPC error whose `data` is that body.
 */
import { formatChallenge, oauthErrorBody, type ChallengeParams } from './challenge.js';
import { OAuthError, ServerError, StoreUnavailableError, TemporarilyUnavailableError } from './errors.js';

/** A response ready to write. */
export interface ErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** How the answer is shaped for where it is sent from. */
export interface ErrorAnswerOptions {
  /**
   * A protected resource's challenges, for 400/401/403: one per scheme, in order (`Bearer` first
   * in `allowed` mode — MCP SDK v1 clients read only the first), the error on the scheme the
   * client used (on `DPoP` for proof errors).
   */
  challenges?: {
    schemes: readonly ('Bearer' | 'DPoP')[];
    /** The scheme the client used, if any. */
    clientScheme: 'Bearer' | 'DPoP' | undefined;
    resourceMetadata: string;
    /** DPoP proof algorithms (`algs`). */
    algs: readonly string[];
    /** Scopes the request needs, unless the error names its own. */
    scope: readonly string[];
  };
  /** A fresh server nonce, sent with a 401 unless the error carries one (RFC 9449 §9). */
  nonce?: string;
  /** RFC 6749 §5.2: `WWW-Authenticate: Basic` with `invalid_client` after an Authorization-header attempt. */
  basicChallenge?: boolean;
  /** Token endpoint (RFC 9449 §5): a `DPoP` challenge with proof errors. */
  dpopChallenge?: boolean;
  /** Token responses add `Pragma: no-cache` (RFC 6749 §5.1). */
  pragma?: boolean;
  /** An MCP request: a JSON-RPC error body with this id. */
  jsonRpc?: { id: string | number | null };
}

/**
 * A wire error for anything thrown: Warden's own wire errors as they are; a store that cannot
 * answer as 503 with its `Retry-After`; anything else as 503 (`fail-closed`, where an unknown
 * failure must refuse) or 500 (`server-error`). Never carries the cause's message.
 */
export function toWireError(error: unknown, unknown: 'fail-closed' | 'server-error'): OAuthError {
  if (error instanceof OAuthError) return error;
  if (error instanceof StoreUnavailableError) {
    return new TemporarilyUnavailableError('a store this request needs is unreachable; retry shortly', { retryAfterSeconds: error.retryAfterSeconds, cause: error });
  }
  if (unknown === 'fail-closed') return new TemporarilyUnavailableError('the request could not be verified; retry shortly', { cause: error });
  return new ServerError(undefined, { cause: error });
}

/**
 * The response for `error`, or for "no credentials" (`undefined`: 401 with challenges and no
 * `error`, RFC 6750 §3.1).
 */
export function errorAnswer(error: OAuthError | undefined, options: ErrorAnswerOptions = {}): ErrorAnswer {
  const status = error?.status ?? 401;
  const headers: Record<string, string> = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' };
  if (options.pragma === true) headers['Pragma'] = 'no-cache';
  if (error !== undefined) Object.assign(headers, error.headers);

  const challengeable = error === undefined || error.challenge;
  const c = options.challenges;
  if (c !== undefined && challengeable && (status === 401 || status === 403 || status === 400)) {
    let errorScheme: 'Bearer' | 'DPoP' | undefined;
    if (error !== undefined) {
      const wanted = isProofError(error) ? 'DPoP' : c.clientScheme;
      errorScheme = wanted !== undefined && c.schemes.includes(wanted) ? wanted : c.schemes[0];
    }
    const scope = error?.scope ?? c.scope;
    headers['WWW-Authenticate'] = c.schemes
      .map((scheme) => {
        const params: ChallengeParams = { scheme, resourceMetadata: c.resourceMetadata, scope };
        if (scheme === 'DPoP') params.algs = c.algs;
        if (scheme === errorScheme && error !== undefined) {
          params.error = error.code;
          params.errorDescription = error.description;
        }
        return formatChallenge(params);
      })
      .join(', ');
    if (options.nonce !== undefined && headers['DPoP-Nonce'] === undefined && status === 401) headers['DPoP-Nonce'] = options.nonce;
  } else if (error !== undefined && challengeable) {
    if (error.code === 'invalid_client' && options.basicChallenge === true) headers['WWW-Authenticate'] = 'Basic realm="warden", charset="UTF-8"';
    if (isProofError(error) && options.dpopChallenge === true) {
      headers['WWW-Authenticate'] = formatChallenge({ scheme: 'DPoP', error: error.code, errorDescription: error.description });
    }
  }

  const oauth = error === undefined ? { error: 'unauthorized', error_description: 'authorization required: send an access token' } : oauthErrorBody(error);
  const body =
    options.jsonRpc === undefined
      ? oauth
      : error !== undefined && !error.challenge && error.rpcCode !== undefined
        ? { jsonrpc: '2.0', id: options.jsonRpc.id, error: { code: error.rpcCode, message: error.description } }
        : { jsonrpc: '2.0', id: options.jsonRpc.id, error: { code: error?.rpcCode ?? rpcErrorCode(status), message: `${oauth.error}: ${oauth.error_description}`, data: oauth } };
  return { status, headers, body: JSON.stringify(body) };
}

function isProofError(error: OAuthError): boolean {
  return error.code === 'invalid_dpop_proof' || error.code === 'use_dpop_nonce';
}

/** JSON-RPC error codes for HTTP failures (the implementation-defined range, JSON-RPC 2.0 §5.1). */
export function rpcErrorCode(status: number): number {
  if (status === 401) return -32001;
  if (status === 403) return -32003;
  if (status === 400) return -32600;
  if (status === 502) return -32603;
  return -32000;
}
