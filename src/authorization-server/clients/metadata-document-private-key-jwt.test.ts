/**
 * A Client ID Metadata Document client that authenticates with `private_key_jwt` (RFC 7523 §2.2)
 * using the keys its document names (`jwks_uri`), at a real authorization server, with the
 * document and the keys served by a real HTTP server on loopback (development setting).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RESOURCE, startAuthorizationServer, type TestAs } from '../../../test/helpers/login-flow.js';
import { JWT_BEARER_ASSERTION_TYPE } from './client-assertion.js';

const REDIRECT = 'http://127.0.0.1/callback';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

interface ClientKey {
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function clientKey(): Promise<ClientKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' } };
}

let t: TestAs;
let host: Server;
let origin: string;
const documents = new Map<string, unknown>();
const hits: string[] = [];

beforeEach(async () => {
  t = await startAuthorizationServer({ overrides: { clientMetadataDocuments: { enabled: true, allowPrivateNetworks: true } } });
  host = createServer((req, res) => {
    hits.push(req.url ?? '');
    const body = documents.get(req.url ?? '');
    if (body === undefined) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(host.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await t.close();
  await new Promise<void>((resolve) => host.close(() => resolve()));
  documents.clear();
  hits.length = 0;
});

/** Publishes a metadata document (and its key set) and returns the client id. */
function publish(name: string, extra: Record<string, unknown>, keys?: JWK[]): string {
  const clientId = `${origin}/${name}.json`;
  documents.set(`/${name}.json`, { client_id: clientId, client_name: 'Document client', redirect_uris: [REDIRECT], ...extra });
  if (keys !== undefined) documents.set(`/${name}-jwks.json`, { keys });
  return clientId;
}

async function assertion(clientId: string, key: ClientKey): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: clientId, sub: clientId, aud: t.base, exp: now + 60, iat: now, jti: randomUUID() }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(key.privateKey);
}

async function push(clientId: string, key: ClientKey): Promise<{ status: number; body: Record<string, unknown> }> {
  const form = new URLSearchParams({
    response_type: 'code',
    redirect_uri: REDIRECT,
    code_challenge: CHALLENGE,
    code_challenge_method: 'S256',
    resource: RESOURCE,
    client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
    client_assertion: await assertion(clientId, key),
  });
  const response = await fetch(`${t.base}/par`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('Client ID Metadata Documents with private_key_jwt (draft-ietf-oauth-client-id-metadata-document, RFC 7523 §2.2)', () => {
  it('RFC 7523 §2.2 / RFC 9126 §2.1: a document naming private_key_jwt and a jwks_uri authenticates at /par with an assertion signed by that key', async () => {
    const key = await clientKey();
    const clientId = publish('signed', { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: `${origin}/signed-jwks.json` }, [key.publicJwk]);
    const pushed = await push(clientId, key);
    expect(pushed.status).toBe(201);
    expect(pushed.body.request_uri).toMatch(/^urn:ietf:params:oauth:request_uri:/);
    expect(hits).toEqual(['/signed.json', '/signed-jwks.json']);

    // RFC 7523 §3: another key does not authenticate the document's client.
    const forged = await push(clientId, await clientKey());
    expect([forged.status, forged.body.error]).toEqual([401, 'invalid_client']);
  });

  it('RFC 6749 §2.3: a document that says "none" cannot authenticate with an assertion (401 invalid_client)', async () => {
    const key = await clientKey();
    const clientId = publish('public', { token_endpoint_auth_method: 'none' });
    const refused = await push(clientId, key);
    expect([refused.status, refused.body.error, refused.body.error_description]).toEqual([401, 'invalid_client', 'this client is registered for none']);
  });

  it('RFC 7591 §2: a document with both jwks and jwks_uri is refused: the client is unknown (401 invalid_client)', async () => {
    const key = await clientKey();
    const clientId = publish('both', { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] }, jwks_uri: `${origin}/both-jwks.json` }, [key.publicJwk]);
    const refused = await push(clientId, key);
    expect([refused.status, refused.body.error]).toEqual([401, 'invalid_client']);
    expect(hits).toEqual(['/both.json']);
  });

  it('RFC 6749 §4.4: a document client cannot claim client_credentials, even with private_key_jwt (the document is refused)', async () => {
    const key = await clientKey();
    const clientId = publish('machine', { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] }, grant_types: ['client_credentials'], redirect_uris: [] });
    const form = new URLSearchParams({ grant_type: 'client_credentials', resource: RESOURCE, client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_assertion: await assertion(clientId, key) });
    const response = await fetch(`${t.base}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
    expect([response.status, ((await response.json()) as { error: string }).error]).toEqual([401, 'invalid_client']);
  });
});
