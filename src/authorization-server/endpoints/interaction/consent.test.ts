import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { basic, callResource, expectError, RESOURCE, SECRETS, startHarness, type Harness } from '../../../../test/helpers/as-harness.js';
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT_TYPE } from '../../grants/token-exchange.js';
import { revokeAuthorization, revokeConsent } from './consent.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

async function expectDeniedAtResource(token: string): Promise<void> {
  const result = await callResource(await h.resourceServer(), token);
  expect(result.ok).toBe(false);
  if (!result.ok) expect(result.status).toBe(401);
}

describe('withdrawing consent revokes what was issued under it (RFC 7009 §2.1)', () => {
  it('RFC 7009 §2.1: revokeConsent forgets the consent and revokes the grants: refresh fails, access and exchanged tokens are denied', async () => {
    await h.as.context.stores.consents.put({ subject: 'alice', clientId: 'public-app', resource: RESOURCE, scopes: ['mcp:tools'], grantedAt: h.now() });
    const first = await h.redeem(await h.seedCode());
    const second = await h.redeem(await h.seedCode());
    const exchanged = await h.post(
      h.tokenUrl,
      { grant_type: TOKEN_EXCHANGE_GRANT_TYPE, subject_token_type: ACCESS_TOKEN_TYPE, resource: RESOURCE, subject_token: first.body.access_token as string },
      basic('exchanger', SECRETS.exchanger),
    );
    expect(exchanged.status).toBe(200);
    const pending = await h.seedCode();
    const others = await h.redeem(await h.seedCode({ clientId: 'conf-app' }), { auth: basic('conf-app', SECRETS.conf) });

    expect(await revokeConsent(h.as.context, 'alice', 'public-app')).toBe(1);

    expect(await h.as.context.stores.consents.get('alice', 'public-app', RESOURCE)).toBeUndefined();
    for (const token of [first.body.access_token, second.body.access_token, exchanged.body.access_token]) await expectDeniedAtResource(token as string);
    expectError(await h.refresh(first.body.refresh_token as string), 400, 'invalid_grant');
    expectError(await h.refresh(second.body.refresh_token as string), 400, 'invalid_grant');
    // A code issued before the withdrawal and not yet redeemed is void.
    expectError(await h.redeem(pending), 400, 'invalid_grant');
    // Another client's grant for the same user is untouched.
    expect((await callResource(await h.resourceServer(), others.body.access_token as string)).ok).toBe(true);
    expect(h.audit.some((e) => e.type === 'grant.revoked' && e.subject === 'alice' && e.clientId === 'public-app' && /2 grant\(s\) revoked/.test(e.detail ?? ''))).toBe(true);
  });

  it('RFC 7009 §2.1: grants are revoked even when no consent was remembered; counts both', async () => {
    await h.redeem(await h.seedCode());
    expect(await revokeAuthorization(h.as.context, 'alice', 'public-app')).toEqual({ consents: 0, grants: 1 });
    expect(await revokeAuthorization(h.as.context, 'alice', 'public-app')).toEqual({ consents: 0, grants: 0 });
  });
});
