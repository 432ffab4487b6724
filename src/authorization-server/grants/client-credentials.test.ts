import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectError, basic, callResource, RESOURCE, SECRETS, startHarness, type Harness } from '../../../test/helpers/as-harness.js';
import { createDpopKey } from '../../../test/helpers/test-issuer.js';


let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});



const machine = (form: Record<string, string> = {}): Record<string, string> => ({
  grant_type: 'client_credentials',
  client_id: 'machine',
  client_secret: SECRETS.machine,
  resource: RESOURCE,
  ...form,
});

describe('client_credentials grant (RFC 6749 §4.4)', () => {
  it('RFC 6749 §4.4.3: a confidential client gets a Bearer JWT for the resource, sub = client_id, no refresh token', async () => {
    const response = await h.post(h.tokenUrl, machine());
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('pragma')).toBe('no-cache');
    expect(response.body).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope: 'mcp:tools' });
    expect(response.body.refresh_token).toBeUndefined();
    const token = response.body.access_token as string;
    expect(decodeProtectedHeader(token).typ).toBe('at+jwt');
    expect(decodeJwt(token)).toMatchObject({ iss: h.issuer, sub: 'machine', client_id: 'machine', aud: RESOURCE });
    const verified = await callResource(await h.resourceServer(), token);
    expect(verified.ok && verified.auth.clientId).toBe('machine');
  });

  it('RFC 9449 §5: with a DPoP proof the token is bound (cnf.jkt) and passes the resource server only with that key', async () => {
    const key = await createDpopKey();
    const response = await h.post(h.tokenUrl, machine(), { DPoP: await h.proof(key) });
    expect(response.status).toBe(200);
    expect(response.body.token_type).toBe('DPoP');
    const token = response.body.access_token as string;
    expect(decodeJwt(token).cnf).toEqual({ jkt: key.jkt });
    const rs = await h.resourceServer('required');
    const verified = await callResource(rs, token, key);
    expect(verified.ok).toBe(true);
    if (verified.ok) expect(verified.auth.extra).toMatchObject({ jkt: key.jkt, tokenType: 'DPoP' });
    expect((await callResource(rs, token)).ok).toBe(false);
  });

  it('RFC 6749 §3.3: scope may include what the client is registered for at this resource', async () => {
    const response = await h.post(h.tokenUrl, machine({ scope: 'mcp:admin mcp:tools' }));
    expect(response.status).toBe(200);
    expect(response.body.scope).toBe('mcp:admin mcp:tools');
  });

  it('RFC 6749 §5.2: scope beyond the client\'s registration or the resource is invalid_scope', async () => {
    expectError(await h.post(h.tokenUrl, machine({ scope: 'mcp:tools files:write' })), 400, 'invalid_scope');
    // other-app has no registered scope: only the resource's default scopes.
    const other = { grant_type: 'client_credentials', resource: RESOURCE };
    expectError(await h.post(h.tokenUrl, { ...other, scope: 'mcp:admin' }, basic('other-app', SECRETS.other)), 400, 'invalid_scope');
    expect((await h.post(h.tokenUrl, other, basic('other-app', SECRETS.other))).body.scope).toBe('mcp:tools');
  });

  it('RFC 8707 §2: a missing, unregistered or fragment resource is invalid_target', async () => {
    const { resource: _omit, ...noResource } = machine();
    expectError(await h.post(h.tokenUrl, noResource), 400, 'invalid_target');
    expectError(await h.post(h.tokenUrl, machine({ resource: 'https://unknown.example.com/mcp' })), 400, 'invalid_target');
    expectError(await h.post(h.tokenUrl, machine({ resource: `${RESOURCE}#x` })), 400, 'invalid_target');
  });

  it('RFC 6749 §4.4: a public client cannot use client_credentials (invalid_client)', async () => {
    expectError(await h.post(h.tokenUrl, { grant_type: 'client_credentials', client_id: 'public-app', resource: RESOURCE }), 401, 'invalid_client');
  });

  it('RFC 6749 §5.2: a client not registered for client_credentials is unauthorized_client', async () => {
    expectError(await h.post(h.tokenUrl, { grant_type: 'client_credentials', resource: RESOURCE }, basic('conf-app', SECRETS.conf)), 400, 'unauthorized_client');
  });

  it.each(['registered', 'metadata-document'] as const)(
    'C1 / RFC 6749 §4.4 + RFC 7591 §2: a %s (self-declared) client whose stored record claims client_credentials is unauthorized_client, no token',
    async (source) => {
      const stored = await h.as.context.stores.clients.get('machine');
      await h.as.context.stores.clients.put({ ...stored!, source });
      const response = await h.post(h.tokenUrl, machine({ scope: 'mcp:admin' }));
      expectError(response, 400, 'unauthorized_client');
      expect(response.body.error_description).toContain('configured by the operator');
      expect(response.body.access_token).toBeUndefined();
      expect(h.audit.filter((e) => e.type === 'token.issued')).toHaveLength(0);
    },
  );

  it('RFC 6749 §2.3.1: a wrong secret is invalid_client', async () => {
    expectError(await h.post(h.tokenUrl, machine({ client_secret: 'wrong' })), 401, 'invalid_client');
  });

  it('audit: token.issued names client, grant type, resource, scopes and key; never the token', async () => {
    const key = await createDpopKey();
    const response = await h.post(h.tokenUrl, machine(), { DPoP: await h.proof(key) });
    expect(h.audit).toContainEqual(expect.objectContaining({ type: 'token.issued', clientId: 'machine', grantType: 'client_credentials', resource: RESOURCE, scopes: ['mcp:tools'], jkt: key.jkt }));
    expect(JSON.stringify(h.audit)).not.toContain(response.body.access_token as string);
  });
});
