import { decodeJwt } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectError, BACKENDS, basic, callResource, RESOURCE, SECRETS, startHarness, type Harness } from '../../../../test/helpers/as-harness.js';


let h: Harness;

type Response = Awaited<ReturnType<Harness['post']>>;


function expectRevokeOk(response: Response): void {
  expect(response.status).toBe(200);
  expect(response.text).toBe('');
  expect(response.headers.get('cache-control')).toBe('no-store');
}

async function login(): Promise<Response> {
  const response = await h.redeem(await h.seedCode());
  expect(response.status).toBe(200);
  return response;
}

const denied = async (token: string): Promise<boolean> => h.as.context.stores.grants.isAccessTokenDenied(decodeJwt(token).jti as string, h.now());

describe.each(BACKENDS)('token revocation (RFC 7009) [%s stores]', (backend) => {
  const start = (overrides: Parameters<typeof startHarness>[0] = {}): Promise<Harness> => startHarness(overrides, { store: backend });
  beforeEach(async () => {
    h = await start();
  });
  afterEach(async () => {
    await h.close();
  });

  it('RFC 7009 §2.1: revoking a refresh token revokes its grant: the family and its access tokens', async () => {
    const tokens = await login();
    expectRevokeOk(await h.post(h.revokeUrl, { token: tokens.body.refresh_token as string, token_type_hint: 'refresh_token', client_id: 'public-app' }));
    expectError(await h.refresh(tokens.body.refresh_token as string), 400, 'invalid_grant');
    expect(await denied(tokens.body.access_token as string)).toBe(true);
    expect(h.audit).toContainEqual(expect.objectContaining({ type: 'grant.revoked', clientId: 'public-app' }));
  });

  it('RFC 7009 §2.1: revoking an access token puts it on the deny-list the resource server consults', async () => {
    const tokens = await login();
    const rs = await h.resourceServer();
    expect((await callResource(rs, tokens.body.access_token as string)).ok).toBe(true);
    expectRevokeOk(await h.post(h.revokeUrl, { token: tokens.body.access_token as string, client_id: 'public-app' }));
    expect(await denied(tokens.body.access_token as string)).toBe(true);
    expect((await callResource(rs, tokens.body.access_token as string)).ok).toBe(false);
    // The refresh token is another matter (RFC 7009 §2.1 "MAY"): it still works.
    expect((await h.refresh(tokens.body.refresh_token as string)).status).toBe(200);
  });

  it('RFC 7009 §2.1: token_type_hint is only a hint — a wrong hint still revokes', async () => {
    const tokens = await login();
    expectRevokeOk(await h.post(h.revokeUrl, { token: tokens.body.refresh_token as string, token_type_hint: 'access_token', client_id: 'public-app' }));
    expectError(await h.refresh(tokens.body.refresh_token as string), 400, 'invalid_grant');
    expectRevokeOk(await h.post(h.revokeUrl, { token: tokens.body.access_token as string, token_type_hint: 'something_else', client_id: 'public-app' }));
  });

  it('RFC 7009 §2.1: another client\'s tokens answer 200 but are not revoked', async () => {
    const tokens = await login();
    expectRevokeOk(await h.post(h.revokeUrl, { token: tokens.body.refresh_token as string }, basic('conf-app', SECRETS.conf)));
    expectRevokeOk(await h.post(h.revokeUrl, { token: tokens.body.access_token as string }, basic('conf-app', SECRETS.conf)));
    expectRevokeOk(await h.post(h.revokeUrl, { token: tokens.body.access_token as string, client_id: 'public-norefresh' }));
    expect(await denied(tokens.body.access_token as string)).toBe(false);
    expect((await h.refresh(tokens.body.refresh_token as string)).status).toBe(200);
  });

  it('RFC 7009 §2.2: unknown, invalid and forged tokens answer 200 with an empty body', async () => {
    for (const token of ['x'.repeat(43), 'a.b.c', 'eyJhbGciOiJub25lIn0.eyJqdGkiOiIxIn0.', '%00']) {
      expectRevokeOk(await h.post(h.revokeUrl, { token, client_id: 'public-app' }));
    }
  });

  it('RFC 7009 §2.1: a missing token is invalid_request', async () => {
    expectError(await h.post(h.revokeUrl, { client_id: 'public-app' }), 400, 'invalid_request');
  });

  it('RFC 7009 §2.1: unauthenticated revocation is 401 invalid_client; a wrong secret too', async () => {
    const tokens = await login();
    expectError(await h.post(h.revokeUrl, { token: tokens.body.refresh_token as string }), 401, 'invalid_client');
    expectError(await h.post(h.revokeUrl, { token: tokens.body.refresh_token as string }, basic('conf-app', 'wrong')), 401, 'invalid_client');
    expectError(await h.post(h.revokeUrl, { token: tokens.body.refresh_token as string, client_id: 'conf-app' }), 401, 'invalid_client');
    expect((await h.refresh(tokens.body.refresh_token as string)).status).toBe(200);
  });

  it('RFC 6749 §3.1: duplicated parameters and both auth methods are invalid_request', async () => {
    expectError(await h.post(h.revokeUrl, 'token=a&token=b&client_id=public-app'), 400, 'invalid_request');
    expectError(await h.post(h.revokeUrl, { token: 'a', client_secret: SECRETS.conf }, basic('conf-app', SECRETS.conf)), 400, 'invalid_request');
  });

  it('client_credentials tokens are revocable by their client', async () => {
    const issued = await h.post(h.tokenUrl, { grant_type: 'client_credentials', client_id: 'machine', client_secret: SECRETS.machine, resource: RESOURCE });
    expectRevokeOk(await h.post(h.revokeUrl, { token: issued.body.access_token as string, client_id: 'machine', client_secret: SECRETS.machine }));
    expect(await denied(issued.body.access_token as string)).toBe(true);
    expect(JSON.stringify(h.audit)).not.toContain(issued.body.access_token as string);
  });
});
