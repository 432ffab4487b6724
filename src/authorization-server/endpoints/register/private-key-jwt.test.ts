/**
 * Dynamic registration of `private_key_jwt` clients (RFC 7591 §2 `jwks` / `jwks_uri`, RFC 7523
 * §2.2) and what such a client can then do at the token endpoint — over HTTP, against a real
 * authorization server, with keys served by a real JWKS endpoint.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { RESOURCE, startAuthorizationServer, type TestAs } from '../../../../test/helpers/login-flow.js';
import type { AuthorizationServerOptions } from '../../options.js';
import { JWT_BEARER_ASSERTION_TYPE } from '../../clients/client-assertion.js';

interface ClientKey {
  privateKey: CryptoKey;
  publicJwk: JWK;
  privateJwk: JWK;
}

async function clientKey(kid = 'k1'): Promise<ClientKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }, privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'ES256' } };
}

let t: TestAs | undefined;
const servers: Array<Server | TcpServer> = [];

afterEach(async () => {
  await t?.close();
  t = undefined;
  for (const server of servers.splice(0)) await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function start(overrides: Partial<AuthorizationServerOptions> = {}): Promise<TestAs> {
  t = await startAuthorizationServer({ overrides });
  return t;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function register(as: TestAs, metadata: Record<string, unknown>): Promise<Answer> {
  const response = await fetch(`${as.base}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(metadata) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function assertion(as: TestAs, clientId: string, key: ClientKey): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: clientId, sub: clientId, aud: as.base, exp: now + 60, iat: now, jti: randomUUID() })
    .setProtectedHeader({ alg: 'ES256', kid: key.publicJwk.kid as string })
    .sign(key.privateKey);
}

async function clientCredentials(as: TestAs, clientId: string, key: ClientKey, extra: Record<string, string> = {}): Promise<Answer> {
  const body = new URLSearchParams({
    grant_type: 'client_credentials',
    resource: RESOURCE,
    client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
    client_assertion: await assertion(as, clientId, key),
    ...extra,
  });
  const response = await fetch(`${as.base}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** A JWKS endpoint on 127.0.0.1 that counts its requests. */
async function serveJwks(keys: JWK[]): Promise<{ url: string; requests: () => number }> {
  let count = 0;
  const server = createServer((_req, res) => {
    count += 1;
    res.writeHead(200, { 'content-type': 'application/jwk-set+json' });
    res.end(JSON.stringify({ keys }));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`, requests: () => count };
}

const machine = (keys: Record<string, unknown>): Record<string, unknown> => ({
  client_name: 'Nightly job',
  grant_types: ['client_credentials'],
  token_endpoint_auth_method: 'private_key_jwt',
  ...keys,
});

describe('registering private_key_jwt clients (RFC 7591 §2, RFC 7523 §2.2)', () => {
  it('RFC 7591 §2 / RFC 7523 §2.2: a client registered with jwks gets no secret and authenticates with a signed assertion', async () => {
    const as = await start({ registration: { clientCredentials: true } });
    const key = await clientKey();
    const registered = await register(as, machine({ jwks: { keys: [key.publicJwk] } }));
    expect(registered.status).toBe(201);
    expect(registered.body).toMatchObject({ token_endpoint_auth_method: 'private_key_jwt', grant_types: ['client_credentials'], jwks: { keys: [key.publicJwk] } });
    expect(registered.body.client_secret).toBeUndefined();
    const clientId = registered.body.client_id as string;

    const token = await clientCredentials(as, clientId, key);
    expect(token.status).toBe(200);
    const claims = decodeJwt(token.body.access_token as string);
    expect(claims).toMatchObject({ sub: clientId, client_id: clientId, aud: RESOURCE });
    expect(token.body.scope).toBe('mcp:tools');
    expect(token.body.refresh_token).toBeUndefined();

    // RFC 7523 §3: an assertion signed by another key does not authenticate the client.
    const stranger = await clientKey();
    const forged = await clientCredentials(as, clientId, stranger);
    expect([forged.status, forged.body.error]).toEqual([401, 'invalid_client']);
  });

  it('RFC 6749 §3.3: a self-registered machine client gets the resource default scopes at most, whatever scope it registered', async () => {
    const as = await start({ registration: { clientCredentials: true } });
    const key = await clientKey();
    const registered = await register(as, machine({ jwks: { keys: [key.publicJwk] }, scope: 'mcp:tools mcp:admin' }));
    expect(registered.status).toBe(201);
    const clientId = registered.body.client_id as string;
    const admin = await clientCredentials(as, clientId, key, { scope: 'mcp:admin' });
    expect([admin.status, admin.body.error]).toEqual([400, 'invalid_scope']);
    const tools = await clientCredentials(as, clientId, key, { scope: 'mcp:tools' });
    expect([tools.status, tools.body.scope]).toEqual([200, 'mcp:tools']);
  });

  it('RFC 7591 §2 / RFC 7517 §5: a client registered with jwks_uri authenticates with the keys fetched from it', async () => {
    const as = await start({ registration: { clientCredentials: true }, clientMetadataDocuments: { allowPrivateNetworks: true } });
    const key = await clientKey();
    const jwks = await serveJwks([key.publicJwk]);
    const registered = await register(as, machine({ jwks_uri: jwks.url }));
    expect(registered.status).toBe(201);
    expect(registered.body.jwks_uri).toBe(jwks.url);
    expect(registered.body.jwks).toBeUndefined();
    // Registration is anonymous: it fetches nothing.
    expect(jwks.requests()).toBe(0);

    const token = await clientCredentials(as, registered.body.client_id as string, key);
    expect(token.status).toBe(200);
    expect(jwks.requests()).toBe(1);
    const again = await clientCredentials(as, registered.body.client_id as string, key);
    expect(again.status).toBe(200);
    expect(jwks.requests()).toBe(1);
  });

  it('RFC 7591 §5 / RFC 9700 §4: a registered jwks_uri naming a non-public address is never connected to; the client fails to authenticate (401 invalid_client)', async () => {
    const as = await start({ registration: { clientCredentials: true } });
    let connections = 0;
    const listener = createTcpServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    servers.push(listener);
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as AddressInfo).port;
    const key = await clientKey();
    // An https URL passes registration; the address check happens when the keys are fetched.
    for (const uri of [`https://127.0.0.1:${port}/jwks`, `https://localhost:${port}/jwks`]) {
      const registered = await register(as, machine({ jwks_uri: uri }));
      expect(registered.status).toBe(201);
      const token = await clientCredentials(as, registered.body.client_id as string, key);
      expect([token.status, token.body.error, token.body.error_description]).toEqual([401, 'invalid_client', "the client's jwks_uri could not be fetched"]);
    }
    expect(connections).toBe(0);
  });

  it('RFC 9700 §4 / RFC 7591 §5: fetches of registered jwks_uris share the metadata-document limits (per host per minute): beyond them, no fetch and 401 invalid_client', async () => {
    const as = await start({ registration: { clientCredentials: true }, clientMetadataDocuments: { allowPrivateNetworks: true, fetchesPerHostPerMinute: 1 } });
    const key = await clientKey();
    const jwks = await serveJwks([key.publicJwk]);
    const first = await register(as, machine({ jwks_uri: jwks.url }));
    const second = await register(as, machine({ jwks_uri: `${jwks.url}?second` }));
    expect((await clientCredentials(as, first.body.client_id as string, key)).status).toBe(200);
    const limited = await clientCredentials(as, second.body.client_id as string, key);
    expect([limited.status, limited.body.error, limited.body.error_description]).toEqual([401, 'invalid_client', "the client's jwks_uri could not be fetched"]);
    expect(jwks.requests()).toBe(1);
  });

  it.each([
    ['jwks and jwks_uri together (RFC 7591 §2: MUST NOT both be present)', { jwks: 'KEYS', jwks_uri: 'https://keys.example/jwks' }, 'jwks and jwks_uri must not both be present (RFC 7591 §2)'],
    ['neither jwks nor jwks_uri', {}, 'private_key_jwt needs the client\'s public keys in "jwks" or "jwks_uri" (RFC 7591 §2)'],
    ['a private key in jwks (RFC 7517 §4: "d")', { jwks: 'PRIVATE' }, 'jwks.keys[0] is not a usable public signature key: JWK carries the private or symmetric member "d"; publish public keys only'],
    ['a symmetric key in jwks', { jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0' }] } }, 'jwks.keys[0] is not a usable public signature key: JWK carries the private or symmetric member "k"; publish public keys only'],
    ['a key whose alg is not an asymmetric signature alg', { jwks: 'HS256' }, 'jwks.keys[0] is not a usable public signature key: JWK alg "HS256" is not an asymmetric signature algorithm'],
    ['jwks_uri over http', { jwks_uri: 'http://keys.example/jwks' }, 'jwks_uri must be an absolute https URL'],
    ['jwks_uri to a loopback host over http (development only)', { jwks_uri: 'http://127.0.0.1:9/jwks' }, 'jwks_uri must be an absolute https URL'],
    ['jwks_uri with userinfo', { jwks_uri: 'https://keys.example@evil.example/jwks' }, 'jwks_uri must not contain userinfo'],
    ['jwks_uri with a fragment', { jwks_uri: 'https://keys.example/jwks#x' }, 'jwks_uri must not contain a fragment'],
    ['jwks_uri that is not a URL', { jwks_uri: 'keys' }, 'jwks_uri must be an absolute https URL'],
    ['jwks_uri that is not a string', { jwks_uri: ['https://keys.example/jwks'] }, 'jwks_uri must be a string'],
  ])('RFC 7591 §3.2.2: refuses %s with invalid_client_metadata', async (_label, keys, description) => {
    const as = await start({ registration: { clientCredentials: true } });
    const key = await clientKey();
    const resolved: Record<string, unknown> = { ...keys };
    if (resolved.jwks === 'KEYS') resolved.jwks = { keys: [key.publicJwk] };
    if (resolved.jwks === 'PRIVATE') resolved.jwks = { keys: [key.privateJwk] };
    if (resolved.jwks === 'HS256') resolved.jwks = { keys: [{ ...key.publicJwk, alg: 'HS256' }] };
    const refused = await register(as, machine(resolved));
    expect(refused).toEqual({ status: 400, body: { error: 'invalid_client_metadata', error_description: description } });
    expect(as.audits.filter((e) => e.type === 'client.registered')).toEqual([]);
  });

  it('RFC 7591 §3.2.2 / RFC 7518 §3.1: a key the server would never verify with (alg not in assertions.algorithms, or no accepted alg fits it) is refused at registration', async () => {
    const as = await start({ registration: { clientCredentials: true }, assertions: { algorithms: ['ES256'] } });
    const es384 = await generateKeyPair('ES384', { extractable: true });
    const ed = await generateKeyPair('EdDSA', { extractable: true });
    const pinned = await register(as, machine({ jwks: { keys: [{ ...(await exportJWK(es384.publicKey)), alg: 'ES384' }] } }));
    expect(pinned).toEqual({ status: 400, body: { error: 'invalid_client_metadata', error_description: 'jwks.keys[0] alg "ES384" is not accepted for client assertions (accepted: ES256)' } });
    const unpinned = await register(as, machine({ jwks: { keys: [(await clientKey()).publicJwk, await exportJWK(ed.publicKey)] } }));
    expect(unpinned).toEqual({ status: 400, body: { error: 'invalid_client_metadata', error_description: 'jwks.keys[1] fits none of the algorithms accepted for client assertions (ES256)' } });
    const { alg: _alg, ...withoutAlg } = (await clientKey()).publicJwk;
    expect((await register(as, machine({ jwks: { keys: [withoutAlg] } }))).status).toBe(201);
  });

  it('RFC 7591 §3.2.2: without registration.clientCredentials, a self-registered client cannot ask for client_credentials, even with private_key_jwt', async () => {
    const as = await start();
    const key = await clientKey();
    const refused = await register(as, machine({ jwks: { keys: [key.publicJwk] } }));
    expect([refused.status, refused.body.error, refused.body.error_description]).toEqual([
      400,
      'invalid_client_metadata',
      'grant_types: "client_credentials" is not available to self-registered clients; machine clients must be configured by the operator',
    ]);
  });

  it('RFC 7591 §3.2.2: with registration.clientCredentials, client_credentials still needs private_key_jwt (no secret-based machine clients)', async () => {
    const as = await start({ registration: { clientCredentials: true } });
    const refused = await register(as, { grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic' });
    expect([refused.status, refused.body.error, refused.body.error_description]).toEqual([
      400,
      'invalid_client_metadata',
      'grant_types: "client_credentials" is not available to self-registered clients except with token_endpoint_auth_method "private_key_jwt"; machine clients must be configured by the operator',
    ]);
  });

  it('RFC 6749 §4.4 / §5.2: a registered client_credentials client stops working when the operator turns registration.clientCredentials off (unauthorized_client)', async () => {
    const key = await clientKey();
    const as = await start({ registration: { clientCredentials: true } });
    const registered = await register(as, machine({ jwks: { keys: [key.publicJwk] } }));
    const record = await as.server.context.stores.clients.get(registered.body.client_id as string);
    expect(record?.source).toBe('registered');
    await as.close();
    // A new server over the same client record, the switch off.
    t = await startAuthorizationServer({ overrides: {} });
    await t.server.context.stores.clients.put({ ...record!, usedAt: Math.floor(Date.now() / 1000) });
    const refused = await clientCredentials(t, record!.clientId, key);
    expect([refused.status, refused.body.error]).toEqual([400, 'unauthorized_client']);
  });
});
