/**
 * The checks of the authorization endpoint, in the order `/authorize` runs them. The first two
 * decide whether the client and its redirect URI can be trusted; until both pass, nothing may be
 * redirected (RFC 6749 §4.1.2.1, RFC 9700 §4.11), so they throw {@link AuthorizePageError}. Every
 * later check throws an {@link OAuthError} that is redirected to the client.
 */
import type { IncomingMessage } from 'node:http';
import {
  InvalidRequestError,
  InvalidScopeError,
  UnauthorizedClientError,
  UnsupportedResponseTypeError,
} from '../../../oauth/errors.js';
import { isScopeToken, missingScopes, parseScope } from '../../../oauth/scope.js';
import type { ClientRecord } from '../../../stores/authorization-server-contracts.js';
import { matchRedirectUri } from '../../../oauth/redirect-uri.js';
import { getClient } from '../../clients/get-client.js';
import type { AsContext } from '../../context.js';
import { readRaw } from '../../http.js';
import type { RegisteredResource } from '../../resource-registry.js';
import { MAX_STATE_CHARS } from './pending-authorization.js';
import { WardenError } from '../../../oauth/errors.js';

/**
 * Largest authorization request, query string or form body (bytes). Everything a legitimate
 * request carries fits with room to spare (client id URL and redirect URI ≤ 2 KB each, `state`
 * ≤ {@link MAX_STATE_CHARS}, fixed-size PKCE and DPoP values); anything larger is refused before
 * it is parsed.
 */
export const MAX_AUTHORIZATION_REQUEST_BYTES = 8 * 1024;

/** An error that must be shown to the user, never sent to an unverified redirect URI. */
export class AuthorizePageError extends WardenError {
  /** HTTP status of the error page. */
  readonly status: number;
  /** The RFC 6749 §4.1.2.1 error code the page names (it would have been redirected, had that been safe); also its `code`. */
  readonly error: string;
  constructor(message: string, status = 400, error = 'invalid_request') {
    super(error, message);
    this.status = status;
    this.error = error;
  }
}

const TOO_LARGE = `The authorization request is too large (at most ${MAX_AUTHORIZATION_REQUEST_BYTES} bytes).`;

/** Authorization request parameters: the single-valued ones, and the names sent more than once. */
export interface AuthorizationParams {
  values: Record<string, string>;
  /** RFC 6749 §3.1: "MUST NOT be included more than once"; refused once it is safe to say so. */
  duplicated: Set<string>;
}

/** base64url of 32 bytes: a SHA-256 PKCE challenge (RFC 7636 §4.2) or JWK thumbprint (RFC 7638). */
const SHA256_B64URL = /^[A-Za-z0-9_-]{43}$/;

/**
 * Reads the request parameters: the query for GET, the form body for POST (OAuth 2.1 §4.1.1 allows
 * both). Duplicates are collected rather than thrown, because until the redirect URI is verified
 * they must be reported on a page, and afterwards by redirect. A query or body over
 * {@link MAX_AUTHORIZATION_REQUEST_BYTES} is refused here, unparsed — so before any redirect URI
 * is verified: an `invalid_request` page.
 */
export async function readAuthorizationParams(req: IncomingMessage): Promise<AuthorizationParams> {
  let search: URLSearchParams;
  if (req.method === 'POST') {
    if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')) {
      throw new AuthorizePageError('The authorization request must be sent as a form (application/x-www-form-urlencoded).');
    }
    let body: Buffer;
    try {
      body = await readRaw(req, MAX_AUTHORIZATION_REQUEST_BYTES);
    } catch {
      throw new AuthorizePageError(TOO_LARGE);
    }
    search = new URLSearchParams(body.toString('utf8'));
  } else {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const query = q === -1 ? '' : url.slice(q + 1);
    if (Buffer.byteLength(query) > MAX_AUTHORIZATION_REQUEST_BYTES) throw new AuthorizePageError(TOO_LARGE);
    search = new URLSearchParams(query);
  }
  const values: Record<string, string> = Object.create(null) as Record<string, string>;
  const duplicated = new Set<string>();
  for (const [name, value] of search) {
    if (Object.hasOwn(values, name)) duplicated.add(name);
    else values[name] = value;
  }
  return { values, duplicated };
}

/** (a) `client_id` present, sent once, and known — else a page: with no client there is nowhere safe to redirect. */
export async function checkClient(ctx: AsContext, params: AuthorizationParams): Promise<ClientRecord> {
  if (params.duplicated.has('client_id')) throw new AuthorizePageError('The request names more than one client_id.');
  const clientId = params.values.client_id;
  if (clientId === undefined || clientId === '') throw new AuthorizePageError('The request does not say which application is asking (client_id is missing).');
  const client = await getClient(ctx, clientId);
  if (client === undefined) throw new AuthorizePageError('The application that sent you here is not registered with this server.');
  return client;
}

/**
 * (b) `redirect_uri` present, sent once, and registered by this client (exact match; loopback
 * port may differ, RFC 8252 §7.3) — else a page, never a redirect: an unverified redirect URI is
 * an open redirector and a code-theft channel (RFC 9700 §4.1). Required even when the client has
 * only one registered URI, so the token request can always bind to it.
 */
export function checkRedirectUri(client: ClientRecord, params: AuthorizationParams): string {
  if (params.duplicated.has('redirect_uri')) throw new AuthorizePageError('The request names more than one redirect_uri.');
  const redirectUri = params.values.redirect_uri;
  if (redirectUri === undefined || redirectUri === '') throw new AuthorizePageError('The request does not say where to return to (redirect_uri is missing).');
  if (!matchRedirectUri(client.redirectUris, redirectUri)) {
    throw new AuthorizePageError('The return address (redirect_uri) is not one this application registered, so you were not sent there.');
  }
  return redirectUri;
}

/** (h) No other parameter sent twice (RFC 6749 §3.1). */
export function checkNoDuplicates(params: AuthorizationParams): void {
  const [first] = params.duplicated;
  if (first !== undefined) throw new InvalidRequestError(`parameter "${first}" is included more than once (RFC 6749 §3.1)`);
}

/**
 * (h′) `state` at most {@link MAX_STATE_CHARS} characters (`invalid_request`, redirected: the
 * redirect URI is verified by now). It is opaque, but it is stored until the user finishes and
 * echoed back; a client needs no more than a CSRF token or a short reference in it.
 */
export function checkState(params: AuthorizationParams): void {
  const state = params.values.state;
  if (state !== undefined && [...state].length > MAX_STATE_CHARS) throw new InvalidRequestError(`state must be at most ${MAX_STATE_CHARS} characters`);
}

/**
 * (c) `response_type=code` only (OAuth 2.1 §4.1.1: the implicit grant is gone), the client allowed
 * the authorization-code grant, and responses only in the query (no fragment/form_post modes).
 */
export function checkResponseType(client: ClientRecord, params: AuthorizationParams): void {
  const responseType = params.values.response_type;
  if (responseType === undefined || responseType === '') throw new InvalidRequestError('response_type is required; use "code"');
  if (responseType !== 'code') throw new UnsupportedResponseTypeError('only response_type=code is supported (OAuth 2.1 §4.1.1)');
  if (!client.grantTypes.includes('authorization_code')) throw new UnauthorizedClientError('this client is not registered for the authorization_code grant');
  const mode = params.values.response_mode;
  if (mode !== undefined && mode !== 'query') throw new InvalidRequestError('only response_mode=query is supported');
}

/**
 * (d) PKCE (RFC 7636 §4.3, OAuth 2.1 §4.1.1): a challenge is mandatory, its method must be stated
 * and be S256 — Warden never falls back to `plain`, whose challenge is the verifier itself — and
 * it must look like a base64url SHA-256 digest. Returns the challenge.
 */
export function checkPkce(params: AuthorizationParams): string {
  const challenge = params.values.code_challenge;
  const method = params.values.code_challenge_method;
  if (challenge === undefined || challenge === '') throw new InvalidRequestError('code_challenge is required (PKCE, RFC 7636)');
  if (method === undefined || method === '') throw new InvalidRequestError('code_challenge_method is required and must be S256 (plain is not accepted)');
  if (method !== 'S256') throw new InvalidRequestError('code_challenge_method must be S256 (plain is not accepted)');
  if (!SHA256_B64URL.test(challenge)) throw new InvalidRequestError('code_challenge must be the base64url SHA-256 of the verifier: 43 characters of [A-Za-z0-9_-] (RFC 7636 §4.2)');
  return challenge;
}

/** (e) `resource` names a registered resource (RFC 8707 §2); its canonical URI becomes the token's `aud`. */
export function checkResource(ctx: AsContext, params: AuthorizationParams): RegisteredResource {
  return ctx.resources.resolve(params.values.resource);
}

/**
 * (f) Scopes (RFC 6749 §3.3): well-formed, accepted by the resource, and within the client's
 * `scope` when the operator configured it or the client's metadata document publishes it. None
 * requested → the resource's default scopes (those the client may have).
 *
 * The `scope` a client sent in an open registration (RFC 7591) is no ceiling: the client chose
 * it, so it limits nothing an attacker could not lift by registering again, and MCP clients
 * register with the scope of their first challenge — a ceiling would make step-up (MCP
 * 2026-07-28 authorization, "Step-Up Authorization Flow") impossible. The user's consent is what
 * guards these scopes. A metadata document's `scope` stays a ceiling: only the owner of its
 * domain can change it.
 */
export function checkScope(client: ClientRecord, resource: RegisteredResource, params: AuthorizationParams): string[] {
  const clientScopes = client.source === 'registered' || client.scope === undefined ? undefined : parseScope(client.scope);
  const raw = params.values.scope;
  if (raw === undefined || raw.trim() === '') {
    const defaults = clientScopes === undefined ? [...resource.defaultScopes] : resource.defaultScopes.filter((s) => clientScopes.includes(s));
    if (defaults.length === 0 && resource.defaultScopes.length > 0) throw new InvalidScopeError('this client may not have the default scopes of the resource; request a scope explicitly');
    return defaults;
  }
  const requested = parseScope(raw);
  const malformed = requested.find((s) => !isScopeToken(s));
  if (malformed !== undefined) throw new InvalidScopeError('scope contains a malformed scope token (RFC 6749 §3.3)');
  const unknown = missingScopes(resource.scopes, requested);
  if (unknown.length > 0) throw new InvalidScopeError(`the resource does not accept scope ${unknown.join(' ')}`);
  if (clientScopes !== undefined) {
    const notAllowed = missingScopes(clientScopes, requested);
    if (notAllowed.length > 0) throw new InvalidScopeError(`this client is not registered for scope ${notAllowed.join(' ')}`);
  }
  return requested;
}

/** (g) `dpop_jkt` (RFC 9449 §10), when sent, is an RFC 7638 SHA-256 thumbprint. */
export function checkDpopJkt(params: AuthorizationParams): string | undefined {
  const jkt = params.values.dpop_jkt;
  if (jkt === undefined) return undefined;
  if (!SHA256_B64URL.test(jkt)) throw new InvalidRequestError('dpop_jkt must be a base64url SHA-256 JWK thumbprint (RFC 9449 §10, RFC 7638)');
  return jkt;
}
