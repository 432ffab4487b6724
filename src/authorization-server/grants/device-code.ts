import { AccessDeniedError, InvalidGrantError, InvalidTargetError, UnauthorizedClientError } from '../../oauth/errors.js';
import { AuthorizationPendingError, ExpiredTokenError, SlowDownError } from '../../oauth/device-grant-errors.js';
import type { GrantRecord } from '../../stores/authorization-server-contracts.js';
import { deviceGrantSettings } from '../device-grant/settings.js';
import { issueAccessToken } from '../issue-access-token.js';
import { sha256Base64url } from '../pkce.js';
import { issueRefreshToken } from './refresh-token.js';
import { accessTokenBinding, buildTokenResponse, requireParam, type GrantHandler } from './token-response.js';

/** The grant type of RFC 8628 §3.4. */
export const DEVICE_CODE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:device_code';

/**
 * `grant_type=urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4-3.5). One atomic poll
 * of the device code decides the answer:
 * - unknown → `invalid_grant`; expired → `expired_token`; denied by the user → `access_denied`;
 * - pending → `authorization_pending`, or `slow_down` when polled sooner than the interval after
 *   the previous poll — and from then on the interval is 5 s longer (§3.5);
 * - approved → redeemed by this poll (exactly one concurrent poll wins; a later one is
 *   `invalid_grant`), then checked: issued to this client, `resource` (if sent) the one approved
 *   (RFC 8707 §2.2). The DPoP proof's `jti` is claimed once those pass, and a grant, a
 *   (DPoP-bound) access token for the resource and, for a client registered for
 *   `refresh_token`, a refresh token are issued.
 * As with authorization codes, an approved code that fails a check after redemption stays spent.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8628#section-3.4
 * @see https://www.rfc-editor.org/rfc/rfc8628#section-3.5
 */
export const deviceCodeGrant: GrantHandler = async ({ ctx, form, client, jkt, claimProof }) => {
  const store = deviceGrantSettings(ctx).store;
  if (store === undefined) throw new UnauthorizedClientError('the device authorization grant is not enabled');
  const deviceCode = requireParam(form, 'device_code');
  const now = ctx.now();
  const polled = await store.poll(sha256Base64url(deviceCode), now);
  switch (polled.state) {
    case 'unknown':
      throw new InvalidGrantError('the device code is invalid (RFC 8628 §3.5)');
    case 'expired':
      throw new ExpiredTokenError('the device code has expired; start a new device authorization request (RFC 8628 §3.5)');
    case 'denied':
      throw new AccessDeniedError('the user denied the request (RFC 8628 §3.5)');
    case 'redeemed':
      throw new InvalidGrantError('the device code has already been used (RFC 8628 §3.5)');
    case 'slow_down':
      throw new SlowDownError(`polling too fast: wait at least ${polled.interval} seconds between requests from now on (RFC 8628 §3.5)`);
    case 'pending':
      throw new AuthorizationPendingError('the user has not yet completed the authorization; poll again after the interval (RFC 8628 §3.5)');
    case 'approved':
      break;
  }
  const record = polled.record;
  // RFC 6749 §5.2: invalid_grant covers a grant issued to another client.
  if (record.clientId !== client.clientId) throw new InvalidGrantError('the device code was issued to another client');
  if (record.subject === undefined) throw new InvalidGrantError('the device code is invalid (RFC 8628 §3.5)');
  const resource = ctx.resources.resolve(record.resource);
  if (form.resource !== undefined && ctx.resources.resolve(form.resource).uri !== resource.uri) {
    throw new InvalidTargetError('"resource" must name the resource of the device authorization request (RFC 8707 §2.2)');
  }
  const tokenJkt = accessTokenBinding(resource, jkt);
  await claimProof();

  const scopes = record.scopes.filter((s) => resource.scopes.includes(s));
  const grant: GrantRecord = { grantId: record.grantId, clientId: client.clientId, subject: record.subject, scopes, resources: [resource.uri], createdAt: now };
  // RFC 9449 §5: a public client's refresh tokens are bound to its proof key.
  if (client.tokenEndpointAuthMethod === 'none' && jkt !== undefined) grant.jkt = jkt;
  await ctx.stores.grants.createGrant(grant);
  const issued = await issueAccessToken(ctx, {
    clientId: client.clientId,
    subject: record.subject,
    resource,
    scopes,
    grantId: grant.grantId,
    ...(record.authTime !== undefined && { authTime: record.authTime }),
    ...(tokenJkt !== undefined && { jkt: tokenJkt }),
  });
  const refreshToken = client.grantTypes.includes('refresh_token') ? await issueRefreshToken(ctx, grant) : undefined;
  ctx.audit({ type: 'token.issued', clientId: client.clientId, subject: record.subject, grantId: grant.grantId, grantType: DEVICE_CODE_GRANT_TYPE, resource: resource.uri, scopes, ...(tokenJkt !== undefined && { jkt: tokenJkt }) });
  return buildTokenResponse(issued, refreshToken === undefined ? {} : { refreshToken });
};
