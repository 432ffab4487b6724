import { InvalidRequestError } from '../../../oauth/errors.js';
import { authenticateClient } from '../../clients/client-auth.js';
import type { Endpoint } from '../../endpoint.js';
import { NO_STORE_HEADERS, readForm, sendJson } from '../../http.js';
import { AuthorizePageError, checkDpopJkt, checkPkce, checkRedirectUri, checkResource, checkResponseType, checkScope, checkState, type AuthorizationParams } from '../authorize/checks.js';
import { pushAuthorizationRequest } from './pushed-requests.js';

/** Client authentication parameters: they authenticate the push and are not part of the authorization request. */
const CLIENT_AUTH_PARAMS = new Set(['client_secret', 'client_assertion', 'client_assertion_type']);

/**
 * `POST /par` — pushed authorization requests (RFC 9126 §2), as an ordered list of checks:
 * 1. the form (single-valued parameters, size-capped); no `request_uri` in it (§2.1);
 * 2. client authentication as at the token endpoint (public clients identified by `client_id`;
 *    `client_secret_basic`, `client_secret_post`, `private_key_jwt`);
 * 3. the authorization request, checked as the authorization endpoint checks it (redirect URI
 *    registered, `response_type=code`, PKCE S256, `resource` registered, scope, `dpop_jkt`);
 * 4. parked under a single-use `request_uri` (`par.requestUriSeconds`, default 60 s):
 *    201 `{ request_uri, expires_in }`, `Cache-Control: no-store`.
 * Errors are JSON (400 `invalid_request`, `invalid_scope`, `invalid_target`, ...; 401 `invalid_client`).
 *
 * @see https://www.rfc-editor.org/rfc/rfc9126#section-2
 */
export const parEndpoint: Endpoint = async (ctx, req, res) => {
  for (const [name, value] of Object.entries(NO_STORE_HEADERS)) res.setHeader(name, value);
  const form = await readForm(req);
  if (form.request_uri !== undefined) throw new InvalidRequestError('request_uri must not be pushed (RFC 9126 §2.1)');
  const { client } = await authenticateClient(ctx, req, form, { allowPublic: true });
  const values: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, value] of Object.entries(form)) if (!CLIENT_AUTH_PARAMS.has(name)) values[name] = value;
  values.client_id = client.clientId;
  const params: AuthorizationParams = { values, duplicated: new Set() };
  try {
    checkRedirectUri(client, params);
    checkState(params);
    checkResponseType(client, params);
    checkPkce(params);
    const resource = checkResource(ctx, params);
    checkScope(client, resource, params);
    checkDpopJkt(params);
  } catch (error) {
    if (error instanceof AuthorizePageError) throw new InvalidRequestError(error.message);
    throw error;
  }
  const { requestUri, expiresIn } = await pushAuthorizationRequest(ctx, client.clientId, values);
  sendJson(res, 201, { request_uri: requestUri, expires_in: expiresIn }, NO_STORE_HEADERS);
};
