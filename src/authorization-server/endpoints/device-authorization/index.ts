import { randomBytes, randomUUID } from 'node:crypto';
import { UnauthorizedClientError } from '../../../oauth/errors.js';
import type { DeviceCodeRecord } from '../../../stores/authorization-server-contracts.js';
import { StoreConflictError } from '../../../stores/store-conflict-error.js';
import { authenticateClient } from '../../clients/client-auth.js';
import { deviceGrantSettings } from '../../device-grant/settings.js';
import { generateUserCode, normalizeUserCode, userCodeHash } from '../../device-grant/user-code.js';
import type { Endpoint } from '../../endpoint.js';
import { DEVICE_CODE_GRANT_TYPE } from '../../grants/device-code.js';
import { NO_STORE_HEADERS, readForm, sendJson } from '../../http.js';
import { sha256Base64url } from '../../pkce.js';
import { checkScope } from '../authorize/checks.js';

/** A fresh user code collides with a live one about once in 2^34.6 / live codes: a few tries always suffice. */
const MAX_USER_CODE_TRIES = 5;

/**
 * The device authorization endpoint (RFC 8628 §3.1-3.2), as an ordered list of checks:
 * 1. the form (single-valued parameters; size-capped);
 * 2. client authentication as at the token endpoint (RFC 8628 §3.1), public clients identified
 *    by `client_id`;
 * 3. the client is registered for the device grant (`unauthorized_client`);
 * 4. `resource` names a registered resource (RFC 8707 §2, `invalid_target`), and
 * 5. `scope` within what it accepts and the client may have (`invalid_scope`), as at `/authorize`.
 * Then a device code (256 random bits, stored as its SHA-256) and a user code (stored as an HMAC)
 * are issued with `verification_uri`, `verification_uri_complete`, `expires_in` and `interval`.
 * Errors are RFC 6749 §5.2 JSON; every response carries `Cache-Control: no-store`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8628#section-3.1
 * @see https://www.rfc-editor.org/rfc/rfc8628#section-3.2
 */
export const deviceAuthorizationEndpoint: Endpoint = async (ctx, req, res) => {
  for (const [name, value] of Object.entries(NO_STORE_HEADERS)) res.setHeader(name, value);
  const settings = deviceGrantSettings(ctx);
  const store = settings.store;
  const form = await readForm(req);
  const { client } = await authenticateClient(ctx, req, form, { allowPublic: true });
  if (store === undefined || !client.grantTypes.includes(DEVICE_CODE_GRANT_TYPE)) {
    throw new UnauthorizedClientError(`this client is not registered for the ${DEVICE_CODE_GRANT_TYPE} grant (RFC 8628 §3.1)`);
  }
  const resource = ctx.resources.resolve(form.resource);
  const scopes = checkScope(client, resource, { values: form, duplicated: new Set() });

  const now = ctx.now();
  const deviceCode = randomBytes(32).toString('base64url');
  const record: Omit<DeviceCodeRecord, 'userCodeHash'> = {
    deviceCodeHash: sha256Base64url(deviceCode),
    clientId: client.clientId,
    resource: resource.uri,
    scopes,
    interval: settings.intervalSeconds,
    status: 'pending',
    grantId: randomUUID(),
    expiresAt: now + settings.codeSeconds,
  };
  let userCode: string | undefined;
  for (let tries = 0; userCode === undefined; tries += 1) {
    const candidate = generateUserCode();
    try {
      await store.save({ ...record, userCodeHash: userCodeHash(ctx, normalizeUserCode(candidate) as string) });
      userCode = candidate;
    } catch (error) {
      if (!(error instanceof StoreConflictError) || tries + 1 >= MAX_USER_CODE_TRIES) throw error;
    }
  }
  ctx.audit({ type: 'device.requested', clientId: client.clientId, resource: resource.uri, scopes });
  const complete = new URL(settings.verificationUri);
  complete.searchParams.set('user_code', userCode);
  sendJson(
    res,
    200,
    {
      device_code: deviceCode,
      user_code: userCode,
      verification_uri: settings.verificationUri,
      verification_uri_complete: complete.href,
      expires_in: settings.codeSeconds,
      interval: settings.intervalSeconds,
    },
    { ...NO_STORE_HEADERS },
  );
};
