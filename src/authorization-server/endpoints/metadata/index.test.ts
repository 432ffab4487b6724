import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createAuthorizationServer, type AuthorizationServer } from '../../create-authorization-server.js';
import { createMemoryAuthorizationServerStores } from '../../../stores/index.js';
import { startHarness, SECRETS, type Harness } from '../../../../test/helpers/as-harness.js';


const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** An AS whose issuer has a path, on a real socket. */
async function startWithIssuerPath(path: string): Promise<{ base: string; as: AuthorizationServer }> {
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const as = await createAuthorizationServer({
    issuer: `${base}${path}`,
    stores: createMemoryAuthorizationServerStores(),
    secret: 's'.repeat(48),
    resources: [{ uri: 'https://mcp.example.com/mcp', name: 'demo', scopes: ['mcp:tools', 'mcp:admin'] }],
  });
  server.on('request', (req, res) => {
    void as.handle(req, res).then((handled) => {
      if (!handled) {
        res.writeHead(404);
        res.end();
      }
    });
  });
  cleanup.push(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await as.close();
  });
  return { base, as };
}

describe('RFC 8414 authorization server metadata', () => {
  it('is served at the well-known URL with the issuer byte-exact and every MCP/DPoP member', async () => {
    const h = await startHarness();
    cleanup.push(() => h.close());
    const res = await fetch(`${h.issuer}/.well-known/oauth-authorization-server`);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const doc = (await res.json()) as Record<string, unknown>;
    expect(doc).toMatchObject({
      issuer: h.issuer,
      authorization_endpoint: `${h.issuer}/authorize`,
      token_endpoint: `${h.issuer}/token`,
      jwks_uri: `${h.issuer}/jwks`,
      registration_endpoint: `${h.issuer}/register`,
      revocation_endpoint: `${h.issuer}/revoke`,
      introspection_endpoint: `${h.issuer}/introspect`,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      client_id_metadata_document_supported: true,
      token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['ES256', 'ES384', 'ES512', 'EdDSA', 'RS256', 'PS256'],
    });
    expect(doc.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange']));
    const algs = doc.dpop_signing_alg_values_supported as string[];
    expect(algs).toContain('ES256');
    expect(algs.some((a) => a === 'none' || a.startsWith('HS'))).toBe(false);
    // The OpenID discovery fallback MCP clients try serves the same document.
    expect(await (await fetch(`${h.issuer}/.well-known/openid-configuration`)).json()).toEqual(doc);
  });

  it('RFC 8414 §3.1: an issuer with a path is served with path insertion (and the OpenID appended form)', async () => {
    const { base, as } = await startWithIssuerPath('/tenant-a');
    for (const path of ['/.well-known/oauth-authorization-server/tenant-a', '/.well-known/openid-configuration/tenant-a', '/tenant-a/.well-known/openid-configuration']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(200);
      expect(((await res.json()) as { issuer: string }).issuer).toBe(`${base}/tenant-a`);
    }
    expect((await fetch(`${base}/.well-known/oauth-authorization-server`)).status).toBe(404);
    expect(as.metadata().token_endpoint).toBe(`${base}/tenant-a/token`);
  });

  it('unsupported methods get 405 with Allow; CORS preflight is answered for browser clients', async () => {
    const h = await startHarness();
    cleanup.push(() => h.close());
    const post = await fetch(`${h.issuer}/.well-known/oauth-authorization-server`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const preflight = await fetch(`${h.issuer}/token`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/DPoP/);
  });
});

describe('JWKS and key rotation without a failed request', () => {
  async function machineToken(h: Harness): Promise<string> {
    const res = await h.post(h.tokenUrl, { grant_type: 'client_credentials', resource: 'https://mcp.example.com/mcp', scope: 'mcp:tools', client_id: 'machine', client_secret: SECRETS.machine });
    if (res.status !== 200) throw new Error(`token request failed: ${res.text}`);
    return res.body.access_token as string;
  }

  it('publishes the next key before it signs, and keeps the retired key until its tokens expire', async () => {
    const h = await startHarness();
    cleanup.push(() => h.close());
    const jwks1 = (await (await fetch(`${h.issuer}/jwks`)).json()) as { keys: Array<{ kid: string; d?: string }> };
    expect(jwks1.keys).toHaveLength(2); // current + next
    expect(jwks1.keys.every((k) => k.d === undefined)).toBe(true);
    const rs = await h.resourceServer();
    const before = await machineToken(h);
    const kidOf = (t: string) => (JSON.parse(Buffer.from(t.split('.')[0] as string, 'base64url').toString()) as { kid: string }).kid;

    await h.as.rotateKeys();
    const jwks2 = (await (await fetch(`${h.issuer}/jwks`)).json()) as { keys: Array<{ kid: string }> };
    const after = await machineToken(h);
    // The new signing key was already in the first JWKS: a verifier with a cached JWKS accepts it.
    expect(jwks1.keys.map((k) => k.kid)).toContain(kidOf(after));
    expect(kidOf(after)).not.toBe(kidOf(before));
    // The retired key is still published, so tokens it signed keep working.
    expect(jwks2.keys.map((k) => k.kid)).toContain(kidOf(before));
    expect(jwks2.keys).toHaveLength(3);
    for (const token of [before, after]) {
      const r = await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${token}` }, body: { jsonrpc: '2.0', id: 1, method: 'tools/list' } });
      expect(r.ok).toBe(true);
    }
    // Once every token the retired key signed has expired, it leaves the JWKS.
    h.advance(3600);
    const jwks3 = (await (await fetch(`${h.issuer}/jwks`)).json()) as { keys: Array<{ kid: string }> };
    expect(jwks3.keys.map((k) => k.kid)).not.toContain(kidOf(before));
  });
});

describe('creation-time validation', () => {
  it.each([
    [{ issuer: 'not a url' }, /issuer/],
    [{ issuer: 'https://as.example/?x=1' }, /query or fragment/],
    [{ secret: 'short' }, /secret/],
    [{ clients: [{ clientId: 'c', clientSecret: 'too-short' }] }, /at least 32/],
  ])('%j fails at start with a message that says what to fix', async (override, message) => {
    await expect(
      createAuthorizationServer({
        issuer: 'https://as.example',
        stores: createMemoryAuthorizationServerStores(),
        secret: 's'.repeat(48),
        resources: [{ uri: 'https://mcp.example.com/mcp', name: 'demo', scopes: ['mcp:tools'] }],
        ...(override as object),
      }),
    ).rejects.toThrow(message);
  });
});

describe('housekeeping', () => {
  it('purgeExpired removes expired interactions and codes (they would otherwise pile up)', async () => {
    const h = await startHarness();
    cleanup.push(() => h.close());
    const stores = h.as.context.stores;
    await stores.interactions.put('i-1', { x: 1 }, h.now() + 60);
    const seeded = await h.seedCode();
    h.advance(3600);
    await h.as.purgeExpired();
    h.advance(-3600);
    expect(await stores.interactions.get('i-1', h.now())).toBeUndefined();
    expect((await stores.codes.consume(createHash('sha256').update(seeded.code).digest('base64url'), h.now())).state).toBe('unknown');
  });
});
