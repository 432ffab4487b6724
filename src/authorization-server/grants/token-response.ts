/**
 * What every grant shares: the request it receives, the response it builds, and the small checks
 * each of them would otherwise repeat (required parameters, scope syntax, DPoP binding policy).
 */
import type { ServerResponse } from 'node:http';
import { InvalidDpopProofError, InvalidRequestError, InvalidScopeError } from '../../oauth/errors.js';
import { isScopeToken, parseScope } from '../../oauth/scope.js';
import type { ClientRecord } from '../../stores/authorization-server-contracts.js';
import type { AsContext } from '../context.js';
import type { IssuedAccessToken } from '../issue-access-token.js';
import { NO_STORE_HEADERS, sendJson } from '../http.js';
import type { RegisteredResource } from '../resource-registry.js';

/** A token request that has passed the endpoint's checks: parsed, client authenticated, proof verified. */
export interface TokenRequest {
  ctx: AsContext;
  /** Single-valued form parameters (duplicates were refused). */
  form: Readonly<Record<string, string>>;
  /** The authenticated (or, for public clients, identified) client; it holds the grant type. */
  client: ClientRecord;
  /** RFC 7638 thumbprint of the request's verified DPoP proof key; undefined without a proof. */
  jkt: string | undefined;
  /**
   * Claims the DPoP proof's `jti` (RFC 9449 §11.1), rejecting a replay with 400
   * `invalid_dpop_proof`. A grant calls it once every check it can make without changing state
   * has passed, and before it rotates, creates or issues anything, so that a request failing a
   * check never consumes the proof. A no-op without a proof; only the first call claims.
   */
  claimProof(): Promise<void>;
}

/** A successful token response (RFC 6749 §5.1, RFC 9449 §5, RFC 8693 §2.2.1). */
export interface TokenResponseBody {
  access_token: string;
  token_type: 'DPoP' | 'Bearer';
  expires_in: number;
  scope: string;
  refresh_token?: string;
  issued_token_type?: string;
}

/** One grant type's handler: validates the grant and issues tokens, or throws an `OAuthError`. */
export type GrantHandler = (request: TokenRequest) => Promise<TokenResponseBody>;

/** Builds the response body from an issued access token. */
export function buildTokenResponse(issued: IssuedAccessToken, extras: { refreshToken?: string; issuedTokenType?: string } = {}): TokenResponseBody {
  const body: TokenResponseBody = {
    access_token: issued.accessToken,
    token_type: issued.tokenType,
    expires_in: issued.expiresIn,
    scope: issued.scope,
  };
  if (extras.refreshToken !== undefined) body.refresh_token = extras.refreshToken;
  if (extras.issuedTokenType !== undefined) body.issued_token_type = extras.issuedTokenType;
  return body;
}

/**
 * Sends a token response: 200, JSON, `Cache-Control: no-store`, `Pragma: no-cache`, and a fresh
 * `DPoP-Nonce` when nonces are required, so the client's next proof carries a current one
 * without an extra round trip (RFC 9449 §8.2).
 */
export function sendTokenResponse(ctx: AsContext, res: ServerResponse, body: TokenResponseBody): void {
  const headers: Record<string, string> = { ...NO_STORE_HEADERS };
  if (ctx.nonce.required) headers['DPoP-Nonce'] = ctx.nonce.manager.current();
  sendJson(res, 200, body, headers);
}

/** A required, non-empty parameter, or `invalid_request` naming it (RFC 6749 §5.2). */
export function requireParam(form: Readonly<Record<string, string>>, name: string): string {
  const value = form[name];
  if (value === undefined || value === '') throw new InvalidRequestError(`the "${name}" parameter is required`);
  return value;
}

/**
 * Parses a `scope` parameter (RFC 6749 §3.3). Undefined when absent; a present but empty or
 * malformed value is `invalid_scope`.
 */
export function parseScopeParam(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const scopes = parseScope(value);
  if (scopes.length === 0 || !scopes.every(isScopeToken)) throw new InvalidScopeError('"scope" must be a space-separated list of scope tokens (RFC 6749 §3.3)');
  return scopes;
}

/** Refuses any requested scope outside `allowed` with `invalid_scope`, naming the first one. */
export function requireSubset(requested: readonly string[], allowed: readonly string[], what: string): void {
  const have = new Set(allowed);
  const extra = requested.find((s) => !have.has(s));
  if (extra !== undefined) throw new InvalidScopeError(`scope "${extra}" is not within ${what}`);
}

/**
 * The key an access token for `resource` is bound to. A proof binds the token (RFC 9449 §5)
 * unless the resource has DPoP disabled, where a bound token would be refused, so a Bearer token
 * is issued instead (§5 lets the server decline binding; `token_type` tells the client). A
 * resource that requires DPoP gets no Bearer token it would refuse anyway.
 */
export function accessTokenBinding(resource: RegisteredResource, jkt: string | undefined): string | undefined {
  if (resource.dpop === 'disabled') return undefined;
  if (resource.dpop === 'required' && jkt === undefined) {
    throw new InvalidDpopProofError(`${resource.uri} accepts only DPoP-bound tokens: send a DPoP proof with the token request (RFC 9449 §5)`, { status: 400 });
  }
  return jkt;
}
