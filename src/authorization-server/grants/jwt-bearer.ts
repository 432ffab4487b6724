import type { IncomingMessage } from 'node:http';
import { InvalidGrantError, InvalidRequestError, InvalidScopeError, InvalidTargetError, UnsupportedGrantTypeError } from '../../oauth/errors.js';
import { looksLikeIdJag, verifyIdJag, type VerifiedIdJag } from '../assertions/id-jag.js';
import { AssertionError, claimAssertionJti } from '../assertions/verify-assertion.js';
import { jwtBearerEnabled } from '../assertions/trusted-issuers.js';
import { verifyWorkload, type VerifiedWorkload } from '../assertions/workload-assertion.js';
import { authenticateClient, ClientAuthenticationError, type AuthenticatedClient } from '../clients/client-auth.js';
import { getClient } from '../clients/get-client.js';
import type { AsContext } from '../context.js';
import { issueAccessToken } from '../issue-access-token.js';
import { allowedScopes } from './client-credentials.js';
import { accessTokenBinding, buildTokenResponse, parseScopeParam, requireParam, requireSubset, type GrantHandler, type TokenRequest } from './token-response.js';

/** RFC 7523 §2.1: the grant type of a JWT used as an authorization grant. */
export const JWT_BEARER_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** A workload assertion verified while identifying the client, handed to the grant (same request). */
const workloadOf = new WeakMap<object, VerifiedWorkload>();

const invalidGrant = (error: unknown): never => {
  if (error instanceof AssertionError) throw new InvalidGrantError(error.message);
  throw error;
};

/** True when the request carries client credentials of any kind (RFC 6749 §2.3, RFC 7523 §2.2). */
function hasClientCredentials(req: IncomingMessage, form: Readonly<Record<string, string>>): boolean {
  return req.headers.authorization !== undefined || form.client_secret !== undefined || form.client_assertion !== undefined || form.client_assertion_type !== undefined;
}

/**
 * Who is asking, for the jwt-bearer grant. An ID-JAG needs an authenticated client (SEP-990: the
 * grant was issued to one). A workload token with no client credentials identifies its client
 * itself (SEP-1933: no secret anywhere): the trust domain's rules map its subject to a configured
 * client, and a `client_id` sent along must name that client. Client credentials, when present,
 * are checked as at every grant.
 */
export async function identifyJwtBearerClient(ctx: AsContext, req: IncomingMessage, form: Record<string, string>): Promise<AuthenticatedClient> {
  if (!jwtBearerEnabled(ctx)) throw new UnsupportedGrantTypeError('the jwt-bearer grant is not enabled: no enterprise identity provider or workload trust domain is configured');
  const assertion = requireParam(form, 'assertion');
  if (hasClientCredentials(req, form)) return authenticateClient(ctx, req, form, { allowPublic: false });
  if (looksLikeIdJag(assertion)) throw new ClientAuthenticationError('an ID-JAG is redeemed by its client, authenticated (SEP-990)', false);
  const workload = await verifyWorkload(ctx, assertion).catch(invalidGrant);
  if (form.client_id !== undefined && form.client_id !== workload.clientId) throw new InvalidGrantError('client_id does not name the client this workload maps to');
  const client = await getClient(ctx, workload.clientId);
  // A rule naming a client that does not exist is the operator's mistake, but the answer is the same.
  if (client === undefined || client.source !== 'configured') throw new InvalidGrantError('the client this workload maps to is not configured');
  workloadOf.set(form, workload);
  return { client, method: 'none' };
}

/** The resource of an ID-JAG request: the `resource` parameter, which must be one the ID-JAG names, or the ID-JAG's only one. */
function idJagResource(request: TokenRequest, idJag: VerifiedIdJag): string {
  const asked = request.form.resource;
  if (asked !== undefined && asked !== '') {
    const resource = request.ctx.resources.resolve(asked);
    if (idJag.resources !== undefined && !idJag.resources.some((r) => r === asked || r === resource.uri)) throw new InvalidTargetError('"resource" is not a resource the ID-JAG was issued for');
    return resource.uri;
  }
  if (idJag.resources === undefined || idJag.resources.length !== 1) throw new InvalidTargetError('name the resource: the "resource" parameter is required when the ID-JAG does not name exactly one (RFC 8707)');
  return idJag.resources[0] as string;
}

/** SEP-990: an ID-JAG for this client, resource and scopes; the user is `<idp id>:<sub>`. */
async function redeemIdJag(request: TokenRequest): Promise<{ subject: string; resourceUri: string; scopes: string[]; detail: string }> {
  const { ctx, form, client } = request;
  const idJag = await verifyIdJag(ctx, requireParam(form, 'assertion')).catch(invalidGrant);
  if (idJag.clientId !== client.clientId) throw new InvalidGrantError('the ID-JAG was issued to another client ("client_id")');
  const resource = ctx.resources.resolve(idJagResource(request, idJag));
  const requested = parseScopeParam(form.scope) ?? idJag.scopes ?? [...resource.defaultScopes];
  requireSubset(requested, resource.scopes, `what ${resource.uri} accepts`);
  if (idJag.scopes !== undefined) requireSubset(requested, idJag.scopes, 'what the ID-JAG grants');
  await claimAssertionJti(ctx.replay, `id-jag:${idJag.idp.id}`, idJag.assertion, idJag.rules).catch(invalidGrant);
  return { subject: `${idJag.idp.id}:${idJag.assertion.sub}`, resourceUri: resource.uri, scopes: requested, detail: `ID-JAG from ${idJag.idp.id}` };
}

/** SEP-1933: the workload acts as the client its rule names, with what that client may have. */
async function redeemWorkload(request: TokenRequest): Promise<{ subject: string; resourceUri: string; scopes: string[]; detail: string }> {
  const { ctx, form, client } = request;
  const workload = workloadOf.get(form) ?? (await verifyWorkload(ctx, requireParam(form, 'assertion')).catch(invalidGrant));
  if (workload.clientId !== client.clientId) throw new InvalidGrantError('this workload maps to another client than the one authenticated');
  const resource = ctx.resources.resolve(form.resource);
  const allowed = allowedScopes(client, resource);
  const requested = parseScopeParam(form.scope);
  if (requested !== undefined) requireSubset(requested, allowed, `what this client may obtain at ${resource.uri}`);
  const defaults = allowed.filter((s) => resource.defaultScopes.includes(s));
  const scopes = requested ?? (defaults.length > 0 ? defaults : allowed);
  return { subject: client.clientId, resourceUri: resource.uri, scopes, detail: `workload ${workload.assertion.sub} of ${workload.domain.id}` };
}

/**
 * `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` (RFC 7523 §2.1) with either assertion:
 * - an ID-JAG (`typ` oauth-id-jag+jwt; SEP-990 enterprise-managed authorization) from a
 *   configured enterprise IdP, issued to the authenticated client (`client_id` claim), for a
 *   registered resource (`resource` claim / parameter), scopes within the ID-JAG's and the
 *   resource's, `jti` single use;
 * - a workload token (SEP-1933) from a configured trust domain, mapped to a configured client.
 * DPoP-bound when a proof is sent; never a refresh token (the IdP or platform is asked again).
 * A refused assertion is `invalid_grant` (RFC 7523 §3.1).
 *
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-2.1
 * @see https://datatracker.ietf.org/doc/draft-ietf-oauth-identity-assertion-authz-grant/
 */
export const jwtBearerGrant: GrantHandler = async (request) => {
  const { ctx, form, client, jkt, claimProof } = request;
  const assertion = requireParam(form, 'assertion');
  if (assertion.includes(' ')) throw new InvalidRequestError('"assertion" must be a single JWT');
  const outcome = looksLikeIdJag(assertion) ? await redeemIdJag(request) : await redeemWorkload(request);
  if (outcome.scopes.length === 0) throw new InvalidScopeError(`no scope can be granted at ${outcome.resourceUri}`);
  const resource = ctx.resources.resolve(outcome.resourceUri);
  const tokenJkt = accessTokenBinding(resource, jkt);
  await claimProof();
  const issued = await issueAccessToken(ctx, { clientId: client.clientId, subject: outcome.subject, resource, scopes: outcome.scopes, ...(tokenJkt !== undefined && { jkt: tokenJkt }) });
  ctx.audit({ type: 'token.issued', clientId: client.clientId, subject: outcome.subject, grantType: JWT_BEARER_GRANT_TYPE, resource: resource.uri, scopes: outcome.scopes, detail: outcome.detail, ...(tokenJkt !== undefined && { jkt: tokenJkt }) });
  return buildTokenResponse(issued);
};
