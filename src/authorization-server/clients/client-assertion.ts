import { InvalidRequestError, StoreUnavailableError } from '../../oauth/errors.js';
import type { ClientRecord } from '../../stores/authorization-server-contracts.js';
import { assertionRules } from '../assertions/assertion-rules.js';
import { AssertionError, claimAssertionJti, decodeAssertion, verifyAssertion } from '../assertions/verify-assertion.js';
import type { AsContext } from '../context.js';
import { ClientAuthenticationError } from './client-auth.js';
import { clientKeySource } from './client-keys.js';
import { getClient } from './get-client.js';

/** RFC 7523 §2.2: the `client_assertion_type` of a JWT client assertion. */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * `typ` values a client assertion may carry: none (RFC 7523), `JWT`, or the explicit type of
 * draft-ietf-oauth-rfc7523bis. Any other explicit type (`at+jwt`, `dpop+jwt`, `oauth-id-jag+jwt`)
 * is another kind of token and is refused.
 */
const CLIENT_ASSERTION_TYPES: ReadonlySet<string | undefined> = new Set([undefined, 'jwt', 'client-authentication+jwt']);

const fail = (description: string): never => {
  throw new ClientAuthenticationError(description, false);
};

/**
 * Authenticates a client by a JWT assertion (`private_key_jwt`, RFC 7523 §2.2, RFC 7521 §4.2):
 * 1. `client_assertion_type` is the jwt-bearer type (absent: `invalid_request`);
 * 2. the JWT decodes, its `alg` is allow-listed and its `typ` names a client assertion;
 * 3. `iss` = `sub` = the client id, and `client_id`, when sent, names the same client;
 * 4. the client exists and registered `private_key_jwt` with keys (`jwks` or `jwks_uri`);
 * 5. `aud` = this server's issuer identifier alone (rfc7523bis), `exp` present and at most
 *    `assertions.maxLifetimeSeconds` ahead, `nbf`/`iat` not in the future, `jti` present;
 * 6. the signature verifies with one of the client's keys;
 * 7. the `jti` is claimed: an assertion authenticates once.
 * Every refusal is 401 `invalid_client` (RFC 7521 §4.2.1) with a reason; a store outage, or a
 * configured client's JWKS unreachable, is 503 (fail closed). A self-registered client's
 * `jwks_uri` that cannot be fetched (the SSRF guard refused it, or it is down) is 401.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-2.2
 * @see https://www.rfc-editor.org/rfc/rfc7521#section-4.2
 */
export async function authenticateWithAssertion(ctx: AsContext, form: Record<string, string>): Promise<ClientRecord> {
  const type = form.client_assertion_type;
  const assertion = form.client_assertion;
  if (type === undefined || type === '') throw new InvalidRequestError('client_assertion requires client_assertion_type (RFC 7521 §4.2)');
  if (assertion === undefined || assertion === '') throw new InvalidRequestError('client_assertion_type requires client_assertion (RFC 7521 §4.2)');
  if (type !== JWT_BEARER_ASSERTION_TYPE) fail(`client_assertion_type must be ${JWT_BEARER_ASSERTION_TYPE}`);
  const rules = assertionRules(ctx, 'client assertion', CLIENT_ASSERTION_TYPES);
  try {
    const { payload } = decodeAssertion(assertion, rules);
    const sub = payload.sub;
    if (typeof sub !== 'string' || sub === '' || sub.length > 255) return fail('client assertion "sub" must be the client_id (RFC 7523 §3)');
    if (payload.iss !== sub) fail('client assertion "iss" and "sub" must both be the client_id (RFC 7523 §2.2)');
    if (form.client_id !== undefined && form.client_id !== sub) fail('client_id does not name the client of the assertion');
    // A URL client id is a metadata document: fetched (or served from cache) under the same
    // limits and SSRF guard as at /authorize; it authenticates this way only if it says private_key_jwt.
    const client = await getClient(ctx, sub);
    if (client === undefined) return fail('client authentication failed');
    if (client.tokenEndpointAuthMethod !== 'private_key_jwt') return fail(`this client is registered for ${client.tokenEndpointAuthMethod}`);
    const keys = clientKeySource(ctx, client);
    if (keys === undefined) return fail('this client has no usable registered keys (jwks or jwks_uri)');
    const verified = await verifyAssertion(assertion, keys, { ...rules, issuer: client.clientId }).catch((error: unknown) => {
      // A jwks_uri the client chose that cannot be fetched (refused by the SSRF guard, down) is the
      // client's failure to authenticate, not this server's outage; an operator's URL stays a 503.
      if (error instanceof StoreUnavailableError && client.source !== 'configured') return fail('the client\'s jwks_uri could not be fetched');
      throw error;
    });
    await claimAssertionJti(ctx.replay, 'client_assertion', verified, rules);
    return client;
  } catch (error) {
    if (error instanceof AssertionError) return fail(error.message);
    throw error;
  }
}
