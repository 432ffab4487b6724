import { InvalidRequestError, UnauthorizedClientError, UnsupportedGrantTypeError } from '../../../oauth/errors.js';
import { authenticateClient } from '../../clients/client-auth.js';
import { verifyTokenEndpointProof } from '../../dpop.js';
import type { Endpoint } from '../../endpoint.js';
import { authorizationCodeGrant } from '../../grants/authorization-code.js';
import { clientCredentialsGrant } from '../../grants/client-credentials.js';
import { identifyJwtBearerClient, JWT_BEARER_GRANT_TYPE, jwtBearerGrant } from '../../grants/jwt-bearer.js';
import { DEVICE_CODE_GRANT_TYPE, deviceCodeGrant } from '../../grants/device-code.js';
import { refreshTokenGrant } from '../../grants/refresh-token.js';
import { TOKEN_EXCHANGE_GRANT_TYPE, tokenExchangeGrant } from '../../grants/token-exchange.js';
import { sendTokenResponse, type GrantHandler } from '../../grants/token-response.js';
import { NO_STORE_HEADERS } from '../../http.js';
import { readForm } from '../../http.js';
import { noteClientUsed } from '../register/limits.js';
import { limitTokenRequests } from './rate-limit.js';

interface GrantEntry {
  handle: GrantHandler;
  /** Public clients (`none`) may use it: only the user-facing grants, which PKCE or DPoP protect. */
  allowPublic: boolean;
  /** How the grant learns its client, when not by `authenticateClient` alone (a workload token names its client). */
  identify?: typeof identifyJwtBearerClient;
}

/** Grant types the token endpoint implements, one file each under `grants/`. */
const GRANTS: ReadonlyMap<string, GrantEntry> = new Map([
  ['authorization_code', { handle: authorizationCodeGrant, allowPublic: true }],
  ['refresh_token', { handle: refreshTokenGrant, allowPublic: true }],
  ['client_credentials', { handle: clientCredentialsGrant, allowPublic: false }],
  [TOKEN_EXCHANGE_GRANT_TYPE, { handle: tokenExchangeGrant, allowPublic: false }],
  [JWT_BEARER_GRANT_TYPE, { handle: jwtBearerGrant, allowPublic: false, identify: identifyJwtBearerClient }],
  // RFC 8628 §3.4: device clients are often public (a CLI, a TV); the device code is the secret.
  [DEVICE_CODE_GRANT_TYPE, { handle: deviceCodeGrant, allowPublic: true }],
]);

/**
 * The token endpoint (OAuth 2.1 §3.2), as an ordered list of checks:
 * 1. the form (single-valued parameters, RFC 6749 §3.1; size-capped);
 * 2. `grant_type` known (`unsupported_grant_type`);
 * 3. client authentication (RFC 6749 §2.3; public clients only for the code and refresh grants);
 * 4. the client is registered for the grant type (`unauthorized_client`), and within its rate
 *    limit when one is configured (429, RFC 6585 §4);
 * 5. the DPoP proof, if any (RFC 9449 §5: its key binds the tokens; nonces per §8), verified
 *    but its `jti` not yet claimed;
 * 6. the grant itself (`grants/*.ts`), which claims the proof's `jti` once its own checks have
 *    passed — so a request refused by any check never consumes a proof, as at the resource server.
 * Every response, errors included, carries `Cache-Control: no-store` and `Pragma: no-cache`.
 *
 * @see https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1#section-3.2
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-5
 */
export const tokenEndpoint: Endpoint = async (ctx, req, res) => {
  for (const [name, value] of Object.entries(NO_STORE_HEADERS)) res.setHeader(name, value);
  const form = await readForm(req);
  const grantType = form.grant_type;
  if (grantType === undefined || grantType === '') throw new InvalidRequestError('the "grant_type" parameter is required');
  const grant = GRANTS.get(grantType);
  if (grant === undefined) throw new UnsupportedGrantTypeError(`grant_type must be one of ${[...GRANTS.keys()].join(', ')}`);
  const { client } = grant.identify !== undefined ? await grant.identify(ctx, req, form) : await authenticateClient(ctx, req, form, { allowPublic: grant.allowPublic });
  if (!client.grantTypes.includes(grantType)) throw new UnauthorizedClientError(`this client is not registered for the ${grantType} grant`);
  await limitTokenRequests(ctx, client.clientId);
  const proof = await verifyTokenEndpointProof(ctx, req);
  const claimProof = proof === undefined ? async (): Promise<void> => {} : proof.claim;
  const body = await grant.handle({ ctx, form, client, jkt: proof?.jkt, claimProof });
  // Every grant claims before it issues; this only makes sure no response leaves unclaimed.
  await claimProof();
  await noteClientUsed(ctx, client);
  sendTokenResponse(ctx, res, body);
};
