import { decodeJwt } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectError, BACKENDS, basic, RESOURCE, SECRETS, startHarness, type Harness } from '../../../../test/helpers/as-harness.js';
import { createDpopKey, createTestIssuer } from '../../../../test/helpers/test-issuer.js';
import { createMemoryAuthorizationServerStores } from '../../../stores/memory/authorization-server-stores.js';
import { createAuthorizationServer } from '../../create-authorization-server.js';


let h: Harness;

type Response = Awaited<ReturnType<Harness['post']>>;


/** Introspects as `other-app`, a confidential client playing the resource server. */
async function introspect(token: string, auth: Record<string, string> = basic('other-app', SECRETS.other)): Promise<Response> {
  const response = await h.post(h.introspectUrl, { token }, auth);
  expect(response.headers.get('cache-control')).toBe('no-store');
  return response;
}

describe.each(BACKENDS)('token introspection (RFC 7662) [%s stores]', (backend) => {
  const start = (overrides: Parameters<typeof startHarness>[0] = {}): Promise<Harness> => startHarness(overrides, { store: backend });
  beforeEach(async () => {
    h = await start();
  });
  afterEach(async () => {
    await h.close();
  });

  it('RFC 7662 §2.2: an active DPoP-bound access token reports its claims, token_type DPoP and cnf.jkt (RFC 9449 §6.2)', async () => {
    const key = await createDpopKey();
    const issued = await h.redeem(await h.seedCode(), { dpop: key });
    const response = await introspect(issued.body.access_token as string);
    expect(response.status).toBe(200);
    const claims = decodeJwt(issued.body.access_token as string);
    expect(response.body).toEqual({
      active: true,
      iss: h.issuer,
      sub: 'alice',
      aud: RESOURCE,
      client_id: 'public-app',
      scope: 'mcp:tools',
      exp: claims.exp,
      iat: claims.iat,
      jti: claims.jti,
      token_type: 'DPoP',
      cnf: { jkt: key.jkt },
    });
  });

  it('RFC 7662 §2.2: a Bearer token reports token_type Bearer and no cnf', async () => {
    const issued = await h.post(h.tokenUrl, { grant_type: 'client_credentials', client_id: 'machine', client_secret: SECRETS.machine, resource: RESOURCE });
    const response = await introspect(issued.body.access_token as string);
    expect(response.body).toMatchObject({ active: true, token_type: 'Bearer', client_id: 'machine', sub: 'machine' });
    expect(response.body.cnf).toBeUndefined();
  });

  it('RFC 7662 §2.2: revoked, expired, unknown and forged tokens are { active: false } and nothing else', async () => {
    const issued = await h.redeem(await h.seedCode());
    const token = issued.body.access_token as string;
    await h.post(h.revokeUrl, { token, client_id: 'public-app' });
    expect((await introspect(token)).body).toEqual({ active: false });

    const fresh = (await h.redeem(await h.seedCode())).body.access_token as string;
    h.advance(601);
    expect((await introspect(fresh)).body).toEqual({ active: false });

    const forger = await createTestIssuer({ issuer: h.issuer, audience: RESOURCE });
    for (const t of ['garbage', 'a.b.c', 'x'.repeat(43), await forger.mint()]) expect((await introspect(t)).body).toEqual({ active: false });
  });

  it('RFC 7662 §2.2: a refresh token is reported to its own client only, and not once rotated', async () => {
    const issued = await h.redeem(await h.seedCode({ clientId: 'conf-app' }), { auth: basic('conf-app', SECRETS.conf) });
    const refresh = issued.body.refresh_token as string;
    const own = await introspect(refresh, basic('conf-app', SECRETS.conf));
    expect(own.body).toMatchObject({ active: true, client_id: 'conf-app', sub: 'alice', scope: 'mcp:tools' });
    expect(typeof own.body.exp).toBe('number');
    expect((await introspect(refresh)).body).toEqual({ active: false });
    await h.refresh(refresh, { auth: basic('conf-app', SECRETS.conf) });
    expect((await introspect(refresh, basic('conf-app', SECRETS.conf))).body).toEqual({ active: false });
  });

  it('RFC 7517 §5: a token signed before a key rotation stays active (the retired key is still published)', async () => {
    const issued = await h.redeem(await h.seedCode());
    await h.as.rotateKeys();
    await h.as.rotateKeys();
    expect((await introspect(issued.body.access_token as string)).body).toMatchObject({ active: true, client_id: 'public-app' });
  });

  it('RFC 7662 §2.1: unauthenticated introspection is 401 invalid_client', async () => {
    const issued = await h.redeem(await h.seedCode());
    expectError(await h.post(h.introspectUrl, { token: issued.body.access_token as string }), 401, 'invalid_client');
    expectError(await h.post(h.introspectUrl, { token: issued.body.access_token as string }, basic('other-app', 'wrong')), 401, 'invalid_client');
  });

  it('RFC 7662 §2.1: a public client (client_id only) cannot introspect: 401 invalid_client', async () => {
    const issued = await h.redeem(await h.seedCode());
    expectError(await h.post(h.introspectUrl, { token: issued.body.access_token as string, client_id: 'public-app' }), 401, 'invalid_client');
  });

  it('RFC 7662 §2.1: a missing token, duplicated parameters or two auth methods are invalid_request', async () => {
    expectError(await h.post(h.introspectUrl, {}, basic('other-app', SECRETS.other)), 400, 'invalid_request');
    expectError(await h.post(h.introspectUrl, 'token=a&token=b', basic('other-app', SECRETS.other)), 400, 'invalid_request');
    expectError(await h.post(h.introspectUrl, { token: 'a', client_secret: SECRETS.other }, basic('other-app', SECRETS.other)), 400, 'invalid_request');
  });

  it('RFC 7662 §4: a client that is neither the token\'s own nor a resource server of its audience gets { active: false } and nothing else', async () => {
    const issued = await h.redeem(await h.seedCode());
    const token = issued.body.access_token as string;
    expect((await introspect(token, basic('conf-app', SECRETS.conf))).body).toEqual({ active: false });
    expect((await introspect(token, basic('exchanger', SECRETS.exchanger))).body).toEqual({ active: false });
    const machine = await h.post(h.introspectUrl, { token, client_id: 'machine', client_secret: SECRETS.machine });
    expect(machine.body).toEqual({ active: false });
    // The resource's registered server sees it.
    expect((await introspect(token)).body).toMatchObject({ active: true, client_id: 'public-app' });
  });

  it('RFC 7662 §4: a confidential client may introspect its own access token', async () => {
    const own = await h.post(h.tokenUrl, { grant_type: 'client_credentials', client_id: 'machine', client_secret: SECRETS.machine, resource: RESOURCE });
    const token = own.body.access_token as string;
    expect((await h.post(h.introspectUrl, { token, client_id: 'machine', client_secret: SECRETS.machine })).body).toMatchObject({ active: true, client_id: 'machine' });
    expect((await introspect(token, basic('conf-app', SECRETS.conf))).body).toEqual({ active: false });
  });

  it('RFC 7662 §4: a resource server learns only about tokens for its own resource', async () => {
    await h.close();
    h = await start({
      resources: [
        { uri: RESOURCE, name: 'demo', scopes: ['mcp:tools'], introspectionClients: ['other-app'] },
        { uri: 'https://billing.example.com/mcp', name: 'billing', scopes: ['mcp:tools'], introspectionClients: ['exchanger'] },
      ],
    });
    const billing = await h.redeem(await h.seedCode({ resource: 'https://billing.example.com/mcp' }));
    const token = billing.body.access_token as string;
    expect((await introspect(token)).body).toEqual({ active: false });
    expect((await introspect(token, basic('exchanger', SECRETS.exchanger))).body).toMatchObject({ active: true, aud: 'https://billing.example.com/mcp' });
    const demo = (await h.redeem(await h.seedCode())).body.access_token as string;
    expect((await introspect(demo, basic('exchanger', SECRETS.exchanger))).body).toEqual({ active: false });
  });

  it('RFC 7662 §4: only an operator-configured client can be a resource server, whatever its id', async () => {
    const token = (await h.redeem(await h.seedCode())).body.access_token as string;
    const stored = await h.as.context.stores.clients.get('other-app');
    await h.as.context.stores.clients.put({ ...stored!, source: 'registered' });
    expect((await introspect(token)).body).toEqual({ active: false });
  });

  it('RFC 7662 §4: introspectionClients must name client ids, refused at start otherwise', async () => {
    const options = { issuer: 'https://as.example.com', secret: 'a-test-secret-of-at-least-32-bytes-0123456789ab', stores: createMemoryAuthorizationServerStores() };
    await expect(createAuthorizationServer({ ...options, resources: [{ uri: RESOURCE, name: 'demo', scopes: ['mcp:tools'], introspectionClients: ['https://rs.example.com'] }] })).rejects.toThrow(
      'createAuthorizationServer: resources[0].introspectionClients must list client ids of configured clients (not URLs)',
    );
  });
});
