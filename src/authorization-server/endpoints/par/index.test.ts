import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { basic, expectError, REDIRECT_URI, RESOURCE, SECRETS, startHarness, type Harness } from '../../../../test/helpers/as-harness.js';
import type { AuthorizationServerOptions } from '../../options.js';
import { parsePendingAuthorization } from '../authorize/pending-authorization.js';

const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
const PAR_ONLY_SECRET = 'par-only-secret-0123456789abcdef';

let h: Harness;
afterEach(async () => {
  await h.close();
});

const start = async (overrides: Partial<AuthorizationServerOptions> = {}): Promise<void> => {
  h = await startHarness({
    clients: [{ clientId: 'par-only', clientSecret: PAR_ONLY_SECRET, redirectUris: [REDIRECT_URI], grantTypes: ['authorization_code'], tokenEndpointAuthMethod: 'client_secret_basic', requirePushedAuthorizationRequests: true }],
    ...overrides,
  });
};

const request = (extra: Record<string, string> = {}): Record<string, string> => ({
  response_type: 'code',
  redirect_uri: REDIRECT_URI,
  code_challenge: CHALLENGE,
  code_challenge_method: 'S256',
  resource: RESOURCE,
  scope: 'mcp:tools',
  state: 'st-1',
  ...extra,
});

const push = (form: Record<string, string>, headers: Record<string, string> = basic('conf-app', SECRETS.conf)) => h.post(`${h.issuer}/par`, form, headers);
const authorize = (query: Record<string, string>) => fetch(`${h.issuer}/authorize?${new URLSearchParams(query).toString()}`, { redirect: 'manual' });

async function expectErrorPage(response: Response, text: RegExp): Promise<void> {
  expect(response.status).toBe(400);
  expect(response.headers.get('location')).toBeNull();
  expect(await response.text()).toMatch(text);
}

describe('pushed authorization requests (RFC 9126)', () => {
  it('RFC 9126 §2.2, §4: a pushed request gets a single-use request_uri that /authorize exchanges for the pushed parameters', async () => {
    await start();
    const pushed = await push(request());
    expect(pushed.status).toBe(201);
    expect(pushed.headers.get('cache-control')).toBe('no-store');
    expect(pushed.body.expires_in).toBe(60);
    const requestUri = pushed.body.request_uri as string;
    expect(requestUri).toMatch(/^urn:ietf:params:oauth:request_uri:[A-Za-z0-9_-]{43}$/);
    // Front-channel parameters other than client_id and request_uri are ignored (§4).
    const first = await authorize({ client_id: 'conf-app', request_uri: requestUri, scope: 'mcp:admin', redirect_uri: 'https://attacker.example/cb' });
    expect(first.status).toBe(303);
    const location = first.headers.get('location') ?? '';
    const pending = parsePendingAuthorization(await h.as.context.stores.interactions.get(location.slice(location.lastIndexOf('/') + 1), h.now()));
    expect(pending).toMatchObject({ clientId: 'conf-app', redirectUri: REDIRECT_URI, scopes: ['mcp:tools'], codeChallenge: CHALLENGE, state: 'st-1' });
    await expectErrorPage(await authorize({ client_id: 'conf-app', request_uri: requestUri }), /expired or was already used/);
  });

  it('RFC 9126 §4: the request_uri is bound to its client, expires, and must be one the server issued', async () => {
    await start();
    const requestUri = (await push(request())).body.request_uri as string;
    await expectErrorPage(await authorize({ client_id: 'public-app', request_uri: requestUri }), /issued to another application/);
    const later = (await push(request())).body.request_uri as string;
    h.advance(61);
    await expectErrorPage(await authorize({ client_id: 'conf-app', request_uri: later }), /expired or was already used/);
    await expectErrorPage(await authorize({ client_id: 'conf-app', request_uri: 'https://attacker.example/request.jwt' }), /not one this server issued/);
  });

  it('RFC 9126 §2.1: a push carrying request_uri → 400 invalid_request; client authentication as at the token endpoint → 401 invalid_client', async () => {
    await start();
    expectError(await push(request({ request_uri: 'urn:ietf:params:oauth:request_uri:x' })), 400, 'invalid_request');
    expectError(await push(request(), basic('conf-app', 'wrong-secret-0123456789')), 401, 'invalid_client');
    expectError(await push(request({ client_id: 'conf-app' }), {}), 401, 'invalid_client');
  });

  it('RFC 9126 §2.1: the pushed request is checked as /authorize checks it, answered in JSON', async () => {
    await start();
    expectError(await push(request({ redirect_uri: 'https://attacker.example/cb' })), 400, 'invalid_request');
    expectError(await push(request({ code_challenge_method: 'plain' })), 400, 'invalid_request');
    expectError(await push(request({ response_type: 'token' })), 400, 'unsupported_response_type');
    expectError(await push(request({ scope: 'files:delete' })), 400, 'invalid_scope');
    expectError(await push(request({ resource: 'https://unregistered.example/mcp' })), 400, 'invalid_target');
  });

  it('RFC 9126 §2: a public client pushes with its client_id; private_key_jwt authenticates a push', async () => {
    await start();
    expect((await push(request({ client_id: 'public-app' }), {})).status).toBe(201);
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    await h.as.context.stores.clients.put({ clientId: 'signed-app', tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1' }] }, redirectUris: [REDIRECT_URI], grantTypes: ['authorization_code'], responseTypes: ['code'], source: 'registered', createdAt: h.now() });
    const assertion = await new SignJWT({ jti: randomUUID() }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer('signed-app').setSubject('signed-app').setAudience(h.issuer).setIssuedAt().setExpirationTime('1m').sign(privateKey);
    const pushed = await push(request({ client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }), {});
    expect(pushed.status).toBe(201);
    expect((await authorize({ client_id: 'signed-app', request_uri: pushed.body.request_uri as string })).status).toBe(303);
  });

  it('RFC 9126 §6: a client with require_pushed_authorization_requests must push; others need not', async () => {
    await start();
    await expectErrorPage(await authorize({ client_id: 'par-only', ...request() }), /must send its authorization request to the pushed authorization request endpoint/);
    const pushed = await push(request(), basic('par-only', PAR_ONLY_SECRET));
    expect((await authorize({ client_id: 'par-only', request_uri: pushed.body.request_uri as string })).status).toBe(303);
    expect((await authorize({ client_id: 'conf-app', ...request() })).status).toBe(303);
    expect(h.as.metadata()).toMatchObject({ pushed_authorization_request_endpoint: `${h.issuer}/par`, require_pushed_authorization_requests: false });
  });

  it('RFC 9126 §5: par.required makes every client push, and metadata says so', async () => {
    await start({ par: { required: true } });
    expect(h.as.metadata().require_pushed_authorization_requests).toBe(true);
    await expectErrorPage(await authorize({ client_id: 'conf-app', ...request() }), /pushed authorization request endpoint/);
    const pushed = await push(request());
    expect((await authorize({ client_id: 'conf-app', request_uri: pushed.body.request_uri as string })).status).toBe(303);
  });
});
