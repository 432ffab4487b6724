import { tokenIdHash } from '../../oauth/token-id-hash.js';
import { InvalidScopeError, UnauthorizedClientError } from '../../oauth/errors.js';
import { parseScope } from '../../oauth/scope.js';
import type { ClientRecord } from '../../stores/authorization-server-contracts.js';
import { issueAccessToken } from '../issue-access-token.js';
import type { RegisteredResource } from '../resource-registry.js';
import { accessTokenBinding, buildTokenResponse, parseScopeParam, requireSubset, type GrantHandler } from './token-response.js';

/**
 * Scopes a machine client may obtain at a resource: those it is registered for (`scope`) that
 * the resource accepts. A client registered without a `scope` gets only the resource's default
 * scopes, so a privileged scope (e.g. `mcp:admin`) always takes an explicit registration — by the
 * operator: a self-registered client chose its own `scope`, so it gets the default scopes at most.
 */
export function allowedScopes(client: ClientRecord, resource: RegisteredResource): string[] {
  const ceiling = client.source === 'configured' ? resource.scopes : resource.defaultScopes;
  if (client.scope === undefined) return [...resource.defaultScopes];
  const registered = new Set(parseScope(client.scope));
  return ceiling.filter((s) => registered.has(s));
}

/** Who may use the grant: configured clients, and self-registered `private_key_jwt` clients when `registration.clientCredentials` is on. */
function mayUseGrant(client: ClientRecord, selfRegisteredAllowed: boolean): boolean {
  if (client.source === 'configured') return true;
  return client.source === 'registered' && selfRegisteredAllowed && client.tokenEndpointAuthMethod === 'private_key_jwt';
}

/**
 * `grant_type=client_credentials` (RFC 6749 §4.4) for machine-to-machine clients: confidential
 * clients configured by the operator (`source: 'configured'`), and self-registered
 * `private_key_jwt` clients only while `registration.clientCredentials` is on (any other
 * self-registered or metadata-document client is `unauthorized_client` even if its record claims
 * the grant; the endpoint does not admit public clients for this grant), `resource` required
 * (RFC 8707 §2), `sub` = `client_id`, no refresh token (§4.4.3), DPoP-bound when a proof is sent.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.4
 */
export const clientCredentialsGrant: GrantHandler = async ({ ctx, form, client, jkt, claimProof }) => {
  // Defence in depth: registration and metadata documents refuse this grant, but a stored record
  // (an older version's registration, a hand-edited store) might still claim it. A client that
  // chose its own metadata never gets user-less tokens.
  if (!mayUseGrant(client, ctx.registration.clientCredentials)) throw new UnauthorizedClientError('client_credentials is only for clients configured by the operator (RFC 6749 §4.4)');
  // Defence in depth: client authentication already refused public clients for this grant.
  if (client.tokenEndpointAuthMethod === 'none') throw new UnauthorizedClientError('client_credentials needs a confidential client (RFC 6749 §4.4)');
  const resource = ctx.resources.resolve(form.resource);
  const allowed = allowedScopes(client, resource);
  const requested = parseScopeParam(form.scope);
  let scopes: string[];
  if (requested !== undefined) {
    requireSubset(requested, allowed, `what this client may obtain at ${resource.uri}`);
    scopes = requested;
  } else {
    // RFC 6749 §3.3: without `scope`, a documented default: the resource's defaults this client may have.
    const defaults = allowed.filter((s) => resource.defaultScopes.includes(s));
    scopes = defaults.length > 0 ? defaults : allowed;
  }
  if (scopes.length === 0) throw new InvalidScopeError(`this client may obtain no scope at ${resource.uri}`);

  const tokenJkt = accessTokenBinding(resource, jkt);
  await claimProof();
  const issued = await issueAccessToken(ctx, { clientId: client.clientId, subject: client.clientId, resource, scopes, ...(tokenJkt !== undefined && { jkt: tokenJkt }) });
  ctx.audit({ type: 'token.issued', clientId: client.clientId, subject: client.clientId, grantType: 'client_credentials', resource: resource.uri, scopes, jtiHash: tokenIdHash(issued.jti), ...(tokenJkt !== undefined && { jkt: tokenJkt }) });
  return buildTokenResponse(issued);
};
