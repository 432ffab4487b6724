import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { basic, expectError, REDIRECT_URI, RESOURCE, SECRETS, startHarness, type Harness } from '../../../test/helpers/as-harness.js';
import { StoreUnavailableError } from '../../oauth/errors.js';
import type { ClientRecord } from '../../stores/authorization-server-contracts.js';
import { JWT_BEARER_ASSERTION_TYPE } from './client-assertion.js';

interface ClientKey {
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function clientKey(alg = 'ES256', kid = 'k1'): Promise<ClientKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

let h: Harness;
let key: ClientKey;
let jwksServer: Server | undefined;

/** A configured machine client that authenticates with private_key_jwt. */
async function seed(clientId: string, keys: Partial<Pick<ClientRecord, 'jwks' | 'jwksUri'>>): Promise<void> {
  await h.as.context.stores.clients.put({
    clientId,
    tokenEndpointAuthMethod: 'private_key_jwt',
    redirectUris: [],
    grantTypes: ['client_credentials'],
    responseTypes: [],
    scope: 'mcp:tools',
    source: 'configured',
    createdAt: h.now(),
    ...keys,
  });
}

beforeEach(async () => {
  h = await startHarness();
  key = await clientKey();
  await seed('signer', { jwks: { keys: [key.publicJwk] } });
});
afterEach(async () => {
  await h.close();
  if (jwksServer !== undefined) await new Promise<void>((resolve) => jwksServer?.close(() => resolve()));
  jwksServer = undefined;
});

/** A client assertion: RFC 7523 §3 claims for `signer`, overridable; `header` merges into the protected header. */
async function assertion(claims: JWTPayload = {}, options: { header?: Record<string, unknown>; signWith?: ClientKey; alg?: string } = {}): Promise<string> {
  const now = h.now();
  const payload: JWTPayload = { iss: 'signer', sub: 'signer', aud: h.issuer, exp: now + 60, iat: now, jti: randomUUID(), ...claims };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
  const signer = options.signWith ?? key;
  return new SignJWT(payload).setProtectedHeader({ alg: options.alg ?? 'ES256', kid: signer.publicJwk.kid as string, ...options.header }).sign(signer.privateKey);
}

const grant = (clientAssertion: string, extra: Record<string, string> = {}): Record<string, string> => ({
  grant_type: 'client_credentials',
  resource: RESOURCE,
  client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
  client_assertion: clientAssertion,
  ...extra,
});

describe('private_key_jwt client authentication (RFC 7523 §2.2)', () => {
  it('RFC 7523 §2.2: a client_credentials request authenticated by a signed assertion gets a token for the client', async () => {
    const response = await h.post(h.tokenUrl, grant(await assertion()));
    expect(response.status).toBe(200);
    expect(decodeJwt(response.body.access_token as string)).toMatchObject({ sub: 'signer', client_id: 'signer', aud: RESOURCE, scope: 'mcp:tools' });
    expect(response.headers.get('www-authenticate')).toBeNull();
  });

  it('draft-ietf-oauth-rfc7523bis: the explicit typ client-authentication+jwt and a one-element aud array are accepted', async () => {
    expect((await h.post(h.tokenUrl, grant(await assertion({}, { header: { typ: 'client-authentication+jwt' } })))).status).toBe(200);
    expect((await h.post(h.tokenUrl, grant(await assertion({ aud: [h.issuer] })))).status).toBe(200);
  });

  it('RFC 7523 §3 item 7: an assertion authenticates once — the replayed jti is invalid_client', async () => {
    const once = await assertion();
    expect((await h.post(h.tokenUrl, grant(once))).status).toBe(200);
    const again = await h.post(h.tokenUrl, grant(once));
    expectError(again, 401, 'invalid_client');
    expect(again.body.error_description).toMatch(/already been used/);
  });

  it('RFC 7523 §3: a refused assertion does not consume its jti', async () => {
    const jti = randomUUID();
    expectError(await h.post(h.tokenUrl, grant(await assertion({ jti }, { signWith: await clientKey() }))), 401, 'invalid_client');
    expect((await h.post(h.tokenUrl, grant(await assertion({ jti })))).status).toBe(200);
  });

  it.each([
    ['aud = the token endpoint URL (rfc7523bis: the issuer identifier only)', (): JWTPayload => ({ aud: `${h.issuer}/token` })],
    ['aud naming the issuer and another audience', (): JWTPayload => ({ aud: [h.issuer, 'https://other.example'] })],
    ['aud of another server', (): JWTPayload => ({ aud: 'https://as.other.example' })],
    ['no aud', (): JWTPayload => ({ aud: undefined })],
    ['no exp', (): JWTPayload => ({ exp: undefined })],
    ['exp past (beyond the skew)', (): JWTPayload => ({ exp: h.now() - 31 })],
    ['exp an hour ahead (beyond the 300 s cap)', (): JWTPayload => ({ exp: h.now() + 3600 })],
    ['nbf in the future', (): JWTPayload => ({ nbf: h.now() + 120 })],
    ['iat in the future', (): JWTPayload => ({ iat: h.now() + 120 })],
    ['no jti', (): JWTPayload => ({ jti: undefined })],
    ['iss other than the client', (): JWTPayload => ({ iss: 'machine' })],
    ['sub other than the client', (): JWTPayload => ({ sub: 'machine' })],
    ['sub of an unknown client', (): JWTPayload => ({ iss: 'nobody', sub: 'nobody' })],
  ])('RFC 7523 §3: %s → 401 invalid_client', async (_name, claims) => {
    expectError(await h.post(h.tokenUrl, grant(await assertion(claims()))), 401, 'invalid_client');
  });

  it('RFC 7523 §3 item 9: a signature by a key the client did not register → 401 invalid_client', async () => {
    expectError(await h.post(h.tokenUrl, grant(await assertion({}, { signWith: await clientKey('ES256', 'k1') }))), 401, 'invalid_client');
  });

  it('RFC 8725 §3.1: alg none and HMAC (keyed with the public key) are refused → 401 invalid_client', async () => {
    const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
    const claims = { iss: 'signer', sub: 'signer', aud: h.issuer, exp: h.now() + 60, jti: randomUUID() };
    expectError(await h.post(h.tokenUrl, grant(`${b64({ alg: 'none' })}.${b64(claims)}.`)), 401, 'invalid_client');
    const hmac = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).sign(new TextEncoder().encode(JSON.stringify(key.publicJwk)));
    expectError(await h.post(h.tokenUrl, grant(hmac)), 401, 'invalid_client');
    expectError(await h.post(h.tokenUrl, grant('not-a-jwt')), 401, 'invalid_client');
  });

  it('RFC 8725 §3.11: a JWT typed as another kind of token (at+jwt, dpop+jwt, oauth-id-jag+jwt) is not a client assertion', async () => {
    for (const typ of ['at+jwt', 'dpop+jwt', 'oauth-id-jag+jwt']) {
      expectError(await h.post(h.tokenUrl, grant(await assertion({}, { header: { typ } }))), 401, 'invalid_client');
    }
  });

  it('RFC 7523 §3: the key named in the header (jwk, jku) is never used', async () => {
    const attacker = await clientKey('ES256', 'k1');
    const forged = await assertion({}, { signWith: attacker, header: { jwk: attacker.publicJwk, jku: 'https://attacker.example/jwks' } });
    expectError(await h.post(h.tokenUrl, grant(forged)), 401, 'invalid_client');
  });

  it('RFC 6749 §2.3: a client registered for a secret cannot switch to an assertion, nor a private_key_jwt client to a secret', async () => {
    const forMachine = await assertion({ iss: 'machine', sub: 'machine' });
    expectError(await h.post(h.tokenUrl, grant(forMachine)), 401, 'invalid_client');
    expectError(await h.post(h.tokenUrl, { grant_type: 'client_credentials', resource: RESOURCE, client_id: 'signer', client_secret: SECRETS.machine }), 401, 'invalid_client');
  });

  it('RFC 7521 §4.2: client_assertion_type missing → 400 invalid_request; another type → 401 invalid_client', async () => {
    const jwt = await assertion();
    expectError(await h.post(h.tokenUrl, { grant_type: 'client_credentials', resource: RESOURCE, client_assertion: jwt }), 400, 'invalid_request');
    expectError(await h.post(h.tokenUrl, grant(jwt, { client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer' })), 401, 'invalid_client');
    expectError(await h.post(h.tokenUrl, { grant_type: 'client_credentials', resource: RESOURCE, client_assertion_type: JWT_BEARER_ASSERTION_TYPE }), 400, 'invalid_request');
  });

  it('RFC 6749 §2.3: an assertion together with a secret (post or Basic) is invalid_request', async () => {
    expectError(await h.post(h.tokenUrl, grant(await assertion(), { client_id: 'signer', client_secret: 'x'.repeat(32) })), 400, 'invalid_request');
    expectError(await h.post(h.tokenUrl, grant(await assertion()), basic('signer', 'x'.repeat(32))), 400, 'invalid_request');
  });

  it('RFC 7521 §4.2: a client_id naming another client than the assertion → 401 invalid_client', async () => {
    expectError(await h.post(h.tokenUrl, grant(await assertion(), { client_id: 'machine' })), 401, 'invalid_client');
    expect((await h.post(h.tokenUrl, grant(await assertion(), { client_id: 'signer' }))).status).toBe(200);
  });

  it('RFC 7009 §2.1, RFC 7662 §2.1: revocation and introspection accept private_key_jwt', async () => {
    const token = (await h.post(h.tokenUrl, grant(await assertion()))).body.access_token as string;
    const auth = { client_assertion_type: JWT_BEARER_ASSERTION_TYPE };
    const introspected = await h.post(h.introspectUrl, { token, ...auth, client_assertion: await assertion() });
    expect(introspected.status).toBe(200);
    expect(introspected.body).toMatchObject({ active: true, client_id: 'signer' });
    expect((await h.post(h.revokeUrl, { token, ...auth, client_assertion: await assertion() })).status).toBe(200);
    const after = await h.post(h.introspectUrl, { token, ...auth, client_assertion: await assertion() });
    expect(after.body).toEqual({ active: false });
    expectError(await h.post(h.revokeUrl, { token, ...auth, client_assertion: await assertion({ aud: `${h.issuer}/revoke` }) }), 401, 'invalid_client');
  });

  it('RFC 7591 jwks_uri: keys are fetched from the client\'s URL; unreachable keys fail closed with 503 and Retry-After', async () => {
    let served: JWK[] = [key.publicJwk];
    jwksServer = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: served }));
    });
    await new Promise<void>((resolve) => jwksServer?.listen(0, '127.0.0.1', resolve));
    const uri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`;
    await seed('remote', { jwksUri: uri });
    const remote = async (): Promise<string> => assertion({ iss: 'remote', sub: 'remote' });
    expect((await h.post(h.tokenUrl, grant(await remote()))).status).toBe(200);
    // A rotated-in key with a new kid is picked up by the refetch an unknown kid triggers (at most one per 30 s).
    const next = await clientKey('ES256', 'k2');
    served = [key.publicJwk, next.publicJwk];
    h.advance(31);
    expect((await h.post(h.tokenUrl, grant(await assertion({ iss: 'remote', sub: 'remote' }, { signWith: next })))).status).toBe(200);

    await seed('unreachable', { jwksUri: 'http://127.0.0.1:9/jwks' });
    const down = await h.post(h.tokenUrl, grant(await assertion({ iss: 'unreachable', sub: 'unreachable' })));
    expectError(down, 503, 'temporarily_unavailable');
    expect(Number(down.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('RFC 7591 §2: a client registers private_key_jwt with its jwks (no secret issued) and redeems a code with an assertion', async () => {
    const register = (body: unknown) => fetch(`${h.issuer}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const response = await register({ redirect_uris: [REDIRECT_URI], grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
    expect(response.status).toBe(201);
    const info = (await response.json()) as Record<string, unknown>;
    expect(info).toMatchObject({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
    expect(info.client_secret).toBeUndefined();
    const clientId = info.client_id as string;
    const seeded = await h.seedCode({ clientId });
    const redeemed = await h.redeem(seeded, { auth: {}, form: { client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_assertion: await assertion({ iss: clientId, sub: clientId }) } });
    expect(redeemed.status).toBe(200);
    expect(typeof redeemed.body.refresh_token).toBe('string');

    const { d: _d, ...publicOnly } = (await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey)) as JWK & { d: string };
    const withPrivate = { ...publicOnly, d: _d };
    for (const jwks of [{ keys: [withPrivate] }, { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }, { keys: [] }, []]) {
      const refused = await register({ redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'private_key_jwt', jwks });
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { error: string }).error).toBe('invalid_client_metadata');
    }
  });

  it('fails closed: a replay store that is down answers 503 temporarily_unavailable with Retry-After, and issues nothing', async () => {
    await h.close();
    h = await startHarness({ replayStore: { claim: () => Promise.reject(new StoreUnavailableError('replay store down', { retryAfterSeconds: 2 })) } as never });
    await seed('signer', { jwks: { keys: [key.publicJwk] } });
    const response = await h.post(h.tokenUrl, grant(await assertion()));
    expectError(response, 503, 'temporarily_unavailable');
    expect(response.headers.get('retry-after')).toBe('2');
    expect(response.body.access_token).toBeUndefined();
  });
});
