import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isOAuthError, ServerError } from '../../../oauth/errors.js';
import { createMemoryAuthorizationServerStores } from '../../../stores/index.js';
import { createContext, type AsContext } from '../../context.js';
import { sendOAuthError } from '../../http.js';
import type { AuditEvent } from '../../options.js';
import { verifyClientSecret } from '../../password.js';
import { registerEndpoint } from './index.js';

const NOW = 1_760_000_000;
const REDIRECT = 'http://127.0.0.1/callback';

let server: Server;
let url: string;
let ctx: AsContext;
const audits: AuditEvent[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    // The router's error mapping, minus routing: OAuth errors as RFC 6749 §5.2 JSON, anything else a bare server_error.
    registerEndpoint(ctx, req, res).catch((error: unknown) => sendOAuthError(res, isOAuthError(error) ? error : new ServerError()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  url = `http://127.0.0.1:${port}/register`;
  ctx = createContext({
    issuer: `http://127.0.0.1:${port}`,
    secret: 'x'.repeat(48),
    resources: [{ uri: 'https://mcp.example.com/mcp', name: 'demo', scopes: ['mcp:tools'] }],
    stores: createMemoryAuthorizationServerStores(),
    now: () => NOW,
    audit: (event) => audits.push(event),
    // Every test here registers from 127.0.0.1 at one instant: the throttle has its own tests (limits.test.ts).
    registration: { throttle: { free: 1000 } },
  });
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await ctx.stores.close();
});

async function register(body: unknown, headers: Record<string, string> = { 'Content-Type': 'application/json' }) {
  const res = await fetch(url, { method: 'POST', headers, body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: JSON.parse(text) as Record<string, unknown> };
}

const expectError = (result: Awaited<ReturnType<typeof register>>, status: number, error: string, description?: string) => {
  expect(result.status).toBe(status);
  expect(result.body.error).toBe(error);
  if (description !== undefined) expect(result.body.error_description).toBe(description);
  expect(result.headers.get('cache-control')).toBe('no-store');
};

describe('POST /register: successful registration (RFC 7591 §3.2.1)', () => {
  it('registers a public MCP client: 201, no secret, metadata echoed, Cache-Control no-store', async () => {
    const result = await register({
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      client_name: 'Inspector',
      scope: 'mcp:tools',
      tos_uri: 'https://example.com/tos',
    });
    expect(result.status).toBe(201);
    expect(result.headers.get('cache-control')).toBe('no-store');
    expect(result.headers.get('content-type')).toBe('application/json');
    const id = result.body.client_id as string;
    expect(id).toMatch(/^[A-Za-z0-9_-]{22,}$/);
    expect(result.body).toEqual({
      client_id: id,
      client_id_issued_at: NOW,
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      client_name: 'Inspector',
      scope: 'mcp:tools',
    });
    expect(await ctx.stores.clients.get(id)).toEqual({
      clientId: id,
      tokenEndpointAuthMethod: 'none',
      redirectUris: [REDIRECT],
      grantTypes: ['authorization_code', 'refresh_token'],
      responseTypes: ['code'],
      clientName: 'Inspector',
      scope: 'mcp:tools',
      source: 'registered',
      createdAt: NOW,
    });
    expect(audits.at(-1)).toEqual({ type: 'client.registered', clientId: id, detail: 'token_endpoint_auth_method=none grant_types=authorization_code,refresh_token' });
  });

  it('gives a confidential client a 256-bit secret that never expires, and stores only its SHA-256 hash (RFC 7591 §3.2.1)', async () => {
    const result = await register({ redirect_uris: [REDIRECT], client_name: 'Backend' });
    expect(result.status).toBe(201);
    // RFC 7591 §2: token_endpoint_auth_method defaults to client_secret_basic.
    expect(result.body.token_endpoint_auth_method).toBe('client_secret_basic');
    const secret = result.body.client_secret as string;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(result.body.client_secret_expires_at).toBe(0);
    const stored = await ctx.stores.clients.get(result.body.client_id as string);
    expect(stored?.secretHash).toMatch(/^sha256\$[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(stored)).not.toContain(secret);
    expect(await verifyClientSecret(secret, stored?.secretHash)).toBe(true);
    expect(await verifyClientSecret(`${secret}x`, stored?.secretHash)).toBe(false);
    expect(JSON.stringify(audits)).not.toContain(secret);
  });

  it('C1 / RFC 7591 §3.2.2: client_credentials is refused (400 invalid_client_metadata): machine clients are configured by the operator', async () => {
    const registered = audits.length;
    for (const body of [
      { grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_post', scope: 'mcp:admin' },
      { grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic' },
      { redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token', 'client_credentials'], scope: 'mcp:admin' },
    ]) {
      const result = await register(body);
      expectError(result, 400, 'invalid_client_metadata', 'grant_types: "client_credentials" is not available to self-registered clients; machine clients must be configured by the operator');
      expect(result.body.client_id).toBeUndefined();
      expect(result.body.client_secret).toBeUndefined();
    }
    expect(audits.length).toBe(registered);
  });

  it('C1 / RFC 7591 §3.2.2 + RFC 8693 §2.1: the token-exchange grant is refused (400 invalid_client_metadata)', async () => {
    const grant = 'urn:ietf:params:oauth:grant-type:token-exchange';
    const result = await register({ redirect_uris: [REDIRECT], grant_types: ['authorization_code', grant], token_endpoint_auth_method: 'client_secret_basic' });
    expectError(result, 400, 'invalid_client_metadata', `grant_types: "${grant}" is not available to self-registered clients; machine clients must be configured by the operator`);
  });

  it('ignores a client-chosen client_id, client_secret and client_id_issued_at (RFC 7591 §3.2.1: the server assigns them)', async () => {
    const result = await register({
      redirect_uris: [REDIRECT],
      client_id: 'admin',
      client_secret: 'chosen-secret-chosen-secret',
      client_id_issued_at: 1,
      client_secret_expires_at: 1,
    });
    expect(result.status).toBe(201);
    expect(result.body.client_id).not.toBe('admin');
    expect(result.body.client_secret).not.toBe('chosen-secret-chosen-secret');
    expect(result.body.client_id_issued_at).toBe(NOW);
    expect(result.body.client_secret_expires_at).toBe(0);
    expect(await ctx.stores.clients.get('admin')).toBeUndefined();
  });

  it('assigns a different client_id to every registration', async () => {
    const ids = new Set<unknown>();
    for (let i = 0; i < 5; i++) ids.add((await register({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' })).body.client_id);
    expect(ids.size).toBe(5);
  });

  it('tolerates a leading byte order mark (RFC 8259 §8.1: parsers MAY ignore it)', async () => {
    const result = await register(`\uFEFF${JSON.stringify({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' })}`);
    expect(result.status).toBe(201);
  });

  it('accepts application/json with a UTF-8 charset parameter', async () => {
    const result = await register({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' }, { 'Content-Type': 'Application/JSON; charset=UTF-8' });
    expect(result.status).toBe(201);
  });
});

describe('POST /register: hostile requests (RFC 7591 §3.2.2)', () => {
  it('refuses a __proto__ member with invalid_client_metadata and pollutes nothing', async () => {
    const result = await register(`{"redirect_uris":["${REDIRECT}"],"token_endpoint_auth_method":"none","__proto__":{"isAdmin":true}}`);
    expectError(result, 400, 'invalid_client_metadata', 'the member name "__proto__" is not allowed');
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it('refuses a nested constructor.prototype member with invalid_client_metadata', async () => {
    const result = await register(`{"redirect_uris":["${REDIRECT}"],"client_name#en":{"constructor":{"prototype":{"isAdmin":true}}}}`);
    expectError(result, 400, 'invalid_client_metadata', 'the member name "constructor" is not allowed');
  });

  it('refuses a deeply nested body with invalid_client_metadata', async () => {
    const result = await register(`{"tos_uri":${'['.repeat(4000)}${']'.repeat(4000)}}`);
    expectError(result, 400, 'invalid_client_metadata', 'the client metadata is nested more than 5 levels deep');
  });

  it('refuses a 1 MB body with 400 invalid_request before reading it', async () => {
    const result = await register({ redirect_uris: [REDIRECT], client_name: 'x', tos_uri: 'a'.repeat(1024 * 1024) });
    expectError(result, 400, 'invalid_request', 'request body exceeds 16384 bytes');
  });

  it('refuses an oversize body sent without Content-Length (chunked) with 400 invalid_request', async () => {
    const result = await new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
      const req = request(url, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
      });
      req.on('error', reject);
      req.write(`{"tos_uri":"${'a'.repeat(10_000)}`);
      req.end(`${'a'.repeat(10_000)}"}`);
    });
    expect(result).toEqual({ status: 400, body: { error: 'invalid_request', error_description: 'request body exceeds 16384 bytes' } });
  });

  it.each([
    ['text/plain', { 'Content-Type': 'text/plain' }],
    ['a form', { 'Content-Type': 'application/x-www-form-urlencoded' }],
    ['application/jsonp', { 'Content-Type': 'application/jsonp' }],
    ['application/json-seq', { 'Content-Type': 'application/json-seq' }],
  ])('refuses a %s body with 400 invalid_request (RFC 7591 §3.1)', async (_label, headers) => {
    const result = await register({ redirect_uris: [REDIRECT] }, headers);
    expectError(result, 400, 'invalid_request', 'the registration request must be application/json (RFC 7591 §3.1)');
  });

  it('refuses a body without Content-Type with 400 invalid_request', async () => {
    const result = await register(new TextEncoder().encode(JSON.stringify({ redirect_uris: [REDIRECT] })), {});
    expectError(result, 400, 'invalid_request', 'the registration request must be application/json (RFC 7591 §3.1)');
  });

  it('refuses a non-UTF-8 charset with 400 invalid_request (RFC 8259 §8.1)', async () => {
    const result = await register({ redirect_uris: [REDIRECT] }, { 'Content-Type': 'application/json; charset=iso-8859-1' });
    expectError(result, 400, 'invalid_request', 'the registration request must be UTF-8 JSON');
  });

  it('refuses invalid UTF-8 bytes with invalid_client_metadata', async () => {
    const body = new Uint8Array([...new TextEncoder().encode('{"client_name":"'), 0xff, 0xfe, ...new TextEncoder().encode('"}')]);
    expectError(await register(body), 400, 'invalid_client_metadata', 'the client metadata is not valid UTF-8');
  });

  it.each([
    ['malformed JSON', '{"redirect_uris": [', 'the client metadata is not valid JSON'],
    ['a JSON array', '[]', 'the client metadata must be a JSON object'],
    ['an empty body', '', 'the client metadata is not valid JSON'],
  ])('refuses %s with invalid_client_metadata', async (_label, body, description) => {
    expectError(await register(body), 400, 'invalid_client_metadata', description);
  });

  it('RFC 7591 §2: refuses jwks_uri without private_key_jwt with invalid_client_metadata', async () => {
    expectError(await register({ redirect_uris: [REDIRECT], jwks_uri: 'https://evil.example/jwks' }), 400, 'invalid_client_metadata', 'jwks_uri is only for token_endpoint_auth_method "private_key_jwt"');
  });

  it('refuses an unknown member with invalid_client_metadata', async () => {
    expectError(await register({ redirect_uris: [REDIRECT], is_admin: true }), 400, 'invalid_client_metadata', 'unknown client metadata member "is_admin"');
  });

  it.each([
    ['javascript:', 'javascript:alert(document.cookie)', 'redirect URI must not use the javascript: scheme'],
    ['data:', 'data:text/html;base64,PHNjcmlwdD4=', 'redirect URI must not use the data: scheme'],
    ['file:', 'file:///etc/passwd', 'redirect URI must not use the file: scheme'],
    ['a fragment', 'https://app.example.com/cb#x', 'redirect URI must not contain a fragment'],
    ['a wildcard', 'https://*.example.com/cb', 'redirect URI must not contain wildcards'],
    ['a relative URI', '/cb', 'redirect URI must be an absolute URI'],
    ['http on a public host', 'http://app.example.com/cb', 'redirect URI must use https (http is allowed only for 127.0.0.1, [::1] and localhost, RFC 8252 §7.3)'],
  ])('refuses a %s redirect URI with invalid_redirect_uri (RFC 7591 §3.2.2)', async (_label, uri, description) => {
    expectError(await register({ redirect_uris: [uri], token_endpoint_auth_method: 'none' }), 400, 'invalid_redirect_uri', description);
  });

  it('never echoes a client-sent secret in an error', async () => {
    const result = await register({ redirect_uris: ['javascript:x'], client_secret: 'hunter2-hunter2-hunter2' });
    expect(result.status).toBe(400);
    expect(result.text).not.toContain('hunter2');
  });

  it('stores nothing when registration is refused', async () => {
    const before = audits.length;
    await register({ redirect_uris: [REDIRECT], jwks: { keys: [] } });
    expect(audits.length).toBe(before);
  });
});
