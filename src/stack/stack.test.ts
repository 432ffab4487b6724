import { mintToken } from '../../test/helpers/mint-token.js';
import { generateKeyPairSync, randomBytes, type JsonWebKey, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { issueAccessToken } from '../authorization-server/issue-access-token.js';
import { verifySecret } from '../authorization-server/password.js';
import { resolveConfig } from '../config/load.js';
import { createProof } from '../dpop/create-proof.js';
import { jwkThumbprint } from '../jose/thumbprint.js';
import { createLogger } from '../observability/logger.js';
import { requireService, testService } from '../../test/helpers/services.js';
import { StackStartError, startStack, type RunningStack, type StartStackOptions } from './stack.js';

const postgres = await testService('postgres');
const demo = { name: 'demo', path: '/mcp', upstream: 'builtin:demo' };
const rpc = (method: string, params?: object) => JSON.stringify({ jsonrpc: '2.0', id: 1, method, ...(params ? { params } : {}) });
const mcpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

const running: Array<{ close(): unknown }> = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close()));
});

/** Starts a stack on a free port; storage defaults to memory so tests never write `.warden/` in the checkout. */
async function start(raw: object, options: StartStackOptions = {}): Promise<RunningStack & { logs: string[] }> {
  const logs: string[] = [];
  const config = resolveConfig({ storage: { kind: 'memory' }, ...raw }, { env: {} });
  const stack = await startStack(config, { port: 0, logger: createLogger({ write: (l) => logs.push(l) }), ...options });
  running.push(stack);
  return Object.assign(stack, { logs });
}

function callTool(url: string, token: string, name: string, args: object = {}, headers: Record<string, string> = {}) {
  return fetch(url, { method: 'POST', headers: { ...mcpHeaders, authorization: `Bearer ${token}`, ...headers }, body: rpc('tools/call', { name, arguments: args }) });
}

/** `Authorization: Basic` of the demo-service client, from what `stack.json` lists. */
function demoServiceAuth(stack: RunningStack): string {
  const service = stack.info.clients.find((c) => c.client_id === 'demo-service');
  if (service?.client_secret === undefined) throw new Error('no demo-service client with a secret in stack.json');
  return `Basic ${Buffer.from(`demo-service:${service.client_secret}`).toString('base64')}`;
}

interface DpopKey {
  privateKey: KeyObject;
  publicJwk: JsonWebKey;
  jkt: string;
}

function dpopKey(): DpopKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicJwk = publicKey.export({ format: 'jwk' });
  return { privateKey, publicJwk, jkt: jwkThumbprint(publicJwk) };
}

/** client_credentials at the stack's token endpoint as demo-service (DPoP-bound when `key` is given). */
async function clientCredentials(stack: RunningStack, form: Record<string, string> = {}, key?: DpopKey): Promise<{ status: number; body: Record<string, unknown> }> {
  const tokenUrl = `${stack.url}/token`;
  const headers: Record<string, string> = { authorization: demoServiceAuth(stack), 'content-type': 'application/x-www-form-urlencoded' };
  if (key) headers['dpop'] = createProof({ privateKey: key.privateKey, publicJwk: key.publicJwk as Record<string, unknown>, alg: 'ES256', htm: 'POST', htu: tokenUrl });
  const res = await fetch(tokenUrl, {
    method: 'POST',
    headers,
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: stack.info.resources[0]!.url, ...form }).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('startStack: built-in demo resource', () => {
  it('serves health, RFC 8414 and RFC 9728 metadata, the JWKS and 404 JSON', async () => {
    const stack = await start({ resources: [demo] });
    expect(stack.url).toMatch(/^http:\/\/localhost:\d+$/);
    expect(stack.url).not.toBe('http://localhost:0');

    const health = await fetch(`${stack.url}/healthz`);
    expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);

    const asMetadata = await fetch(`${stack.url}/.well-known/oauth-authorization-server`);
    expect(asMetadata.status).toBe(200);
    const as = (await asMetadata.json()) as Record<string, unknown>;
    expect(as).toMatchObject({
      issuer: stack.url,
      token_endpoint: `${stack.url}/token`,
      authorization_endpoint: `${stack.url}/authorize`,
      registration_endpoint: `${stack.url}/register`,
      code_challenge_methods_supported: ['S256'],
      scopes_supported: expect.arrayContaining(['mcp:tools', 'mcp:admin']),
    });
    const jwks = (await (await fetch(as['jwks_uri'] as string)).json()) as { keys: Array<Record<string, unknown>> };
    // Current and next: the next key is published before it signs.
    expect(jwks.keys).toHaveLength(2);
    for (const key of jwks.keys) expect(key).not.toHaveProperty('d');
    // The development issuer's JWKS path is gone with it.
    expect((await fetch(`${stack.url}/.well-known/jwks.json`)).status).toBe(404);

    for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
      const res = await fetch(stack.url + path);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        resource: `${stack.url}/mcp`,
        authorization_servers: [stack.url],
        scopes_supported: expect.arrayContaining(['mcp:tools', 'mcp:admin']),
      });
    }

    const missing = await fetch(`${stack.url}/nope`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/json');
    expect(await missing.json()).toEqual({ error: 'not_found' });
  });

  it('RFC 6750 §3 / RFC 9728 §5.1: 401 without credentials carries resource_metadata and no error', async () => {
    const stack = await start({ resources: [demo] });
    const res = await fetch(`${stack.url}/mcp`, { method: 'POST', headers: mcpHeaders, body: rpc('tools/list') });
    expect(res.status).toBe(401);
    const challenge = res.headers.get('www-authenticate')!;
    expect(challenge).toContain(`resource_metadata="${stack.url}/.well-known/oauth-protected-resource/mcp"`);
    expect(challenge).not.toContain('error=');
  });

  it('lets a token of its own issuer call a tool, and applies the demo scope policy', async () => {
    const stack = await start({ resources: [demo] });
    const token = await mintToken(stack);
    const ok = await callTool(`${stack.url}/mcp`, token, 'echo', { text: 'hi' });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ result: { content: [{ type: 'text', text: 'hi' }] } });

    const admin = await callTool(`${stack.url}/mcp`, token, 'admin_reset');
    expect(admin.status).toBe(403);
    expect(admin.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect(admin.headers.get('www-authenticate')).toContain('scope="mcp:tools mcp:admin"');

    const adminToken = await mintToken(stack, { scope: 'mcp:tools mcp:admin' });
    expect((await callTool(`${stack.url}/mcp`, adminToken, 'admin_reset')).status).toBe(200);
  });

  it('RFC 8707: rejects a token minted for another audience', async () => {
    const stack = await start({ resources: [demo, { ...demo, name: 'other', path: '/other' }] });
    const token = await mintToken(stack, { resource: `${stack.url}/other` });
    const res = await callTool(`${stack.url}/mcp`, token, 'echo', { text: 'x' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('uses the configured scope policy instead of the demo default', async () => {
    const stack = await start({ resources: [{ ...demo, scopes: { default: ['custom:scope'] } }] });
    expect((await callTool(`${stack.url}/mcp`, await mintToken(stack), 'echo', { text: 'x' })).status).toBe(403);
    expect((await callTool(`${stack.url}/mcp`, await mintToken(stack, { scope: 'custom:scope' }), 'echo', { text: 'x' })).status).toBe(200);
  });

  it('logs one JSON line per request with method, path, status, duration and reason — never the token', async () => {
    const stack = await start({ resources: [demo] });
    const token = await mintToken(stack);
    await callTool(`${stack.url}/mcp?access_token=leak`, token, 'echo', { text: 'x' }, { cookie: 'session=s3cret' });
    await callTool(`${stack.url}/mcp`, `${token}x`, 'echo', { text: 'x' });
    await new Promise((r) => setTimeout(r, 50));
    const requests = stack.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r['msg'] === 'request');
    expect(requests).toHaveLength(2);
    expect(requests[1]).toMatchObject({ method: 'POST', path: '/mcp', status: 401, reason: 'invalid_token' });
    expect(typeof requests[1]!['durationMs']).toBe('number');
    const all = stack.logs.join('\n');
    expect(all).not.toContain(token.split('.')[2]);
    expect(all).not.toContain('leak');
    expect(all).not.toContain('s3cret');
  });
});

describe('startStack: DPoP through the stack (RFC 9449)', () => {
  it('§8: a nonce is required, then the bound token passes once; a replayed proof fails', async () => {
    const stack = await start({ nonce: { secret: 'n'.repeat(32) }, resources: [{ ...demo, dpop: 'required' }] });
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const publicJwk = publicKey.export({ format: 'jwk' });
    const token = await mintToken(stack, { jkt: jwkThumbprint(publicJwk) });
    const url = `${stack.url}/mcp`;
    const send = (proof: string) =>
      fetch(url, { method: 'POST', headers: { ...mcpHeaders, authorization: `DPoP ${token}`, dpop: proof }, body: rpc('tools/call', { name: 'whoami', arguments: {} }) });
    const proof = (nonce?: string) => createProof({ privateKey, publicJwk, alg: 'ES256', htm: 'POST', htu: url, accessToken: token, ...(nonce ? { nonce } : {}) });

    const first = await send(proof());
    expect(first.status).toBe(401);
    expect(first.headers.get('www-authenticate')).toContain('error="use_dpop_nonce"');
    const nonce = first.headers.get('dpop-nonce')!;
    const withNonce = proof(nonce);
    const ok = await send(withNonce);
    expect(ok.status).toBe(200);
    const replay = await send(withNonce);
    expect(replay.status).toBe(401);
    expect(replay.headers.get('www-authenticate')).toContain('error="invalid_dpop_proof"');
  });
});

describe('startStack: the authorization server in the stack', () => {
  it('client_credentials (demo-service from stack.json) → tools/call works; admin needs a scope the client cannot get', async () => {
    const stack = await start({ authorizationServer: { demo: true }, resources: [demo] });
    const issued = await clientCredentials(stack, { scope: 'mcp:tools' });
    expect(issued.status).toBe(200);
    expect(issued.body).toMatchObject({ token_type: 'Bearer', scope: 'mcp:tools', expires_in: 600 });
    const token = issued.body['access_token'] as string;
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ iss: stack.url, aud: `${stack.url}/mcp`, client_id: 'demo-service', sub: 'demo-service', scope: 'mcp:tools' });

    const ok = await callTool(`${stack.url}/mcp`, token, 'echo', { text: 'from the AS' });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ result: { content: [{ type: 'text', text: 'from the AS' }] } });
    expect((await callTool(`${stack.url}/mcp`, token, 'admin_reset')).status).toBe(403);

    const admin = await clientCredentials(stack, { scope: 'mcp:tools mcp:admin' });
    expect(admin.status).toBe(400);
    expect(admin.body['error']).toBe('invalid_scope');
  });

  it('RFC 9449: a DPoP-bound client_credentials token works with a proof and is refused as Bearer', async () => {
    const stack = await start({ authorizationServer: { demo: true }, resources: [demo] });
    const key = dpopKey();
    const issued = await clientCredentials(stack, {}, key);
    expect(issued.status).toBe(200);
    expect(issued.body['token_type']).toBe('DPoP');
    const token = issued.body['access_token'] as string;
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims['cnf']).toEqual({ jkt: key.jkt });

    const url = `${stack.url}/mcp`;
    const proof = createProof({ privateKey: key.privateKey, publicJwk: key.publicJwk as Record<string, unknown>, alg: 'ES256', htm: 'POST', htu: url, accessToken: token });
    const ok = await fetch(url, { method: 'POST', headers: { ...mcpHeaders, authorization: `DPoP ${token}`, dpop: proof }, body: rpc('tools/call', { name: 'whoami', arguments: {} }) });
    expect(ok.status).toBe(200);

    const asBearer = await callTool(url, token, 'whoami');
    expect(asBearer.status).toBe(401);
    expect(asBearer.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('RFC 7009: a revoked access token is refused by the resource (the deny-list is wired)', async () => {
    const stack = await start({ authorizationServer: { demo: true }, resources: [demo] });
    const token = (await clientCredentials(stack)).body['access_token'] as string;
    expect((await callTool(`${stack.url}/mcp`, token, 'echo', { text: 'x' })).status).toBe(200);
    const revoked = await fetch(`${stack.url}/revoke`, {
      method: 'POST',
      headers: { authorization: demoServiceAuth(stack), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString(),
    });
    expect(revoked.status).toBe(200);
    expect((await callTool(`${stack.url}/mcp`, token, 'echo', { text: 'x' })).status).toBe(401);
  });

  it('logs audit events as JSON lines, never the token or a client secret', async () => {
    const stack = await start({ authorizationServer: { demo: true }, resources: [demo] });
    const token = (await clientCredentials(stack)).body['access_token'] as string;
    await new Promise((r) => setTimeout(r, 20));
    const lines = stack.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l['msg'] === 'audit')).toMatchObject({ type: 'token.issued', clientId: 'demo-service', grantType: 'client_credentials', resource: `${stack.url}/mcp` });
    const all = stack.logs.join('\n');
    expect(all).not.toContain(token.split('.')[2]);
    expect(all).not.toContain(stack.info.clients[0]!.client_secret);
    expect(all).not.toContain(stack.info.users[0]!.password);
  });

  it('lists configured clients without their secrets, and no users, when demo is off', async () => {
    const stack = await start({
      authorizationServer: {
        clients: [
          { clientId: 'billing', clientSecret: 'b'.repeat(40), scope: 'mcp:tools' },
          { clientId: 'desktop', redirectUris: ['http://127.0.0.1/cb'] },
        ],
      },
      resources: [demo],
    });
    expect(stack.info.clients).toEqual([
      { client_id: 'billing', grant_types: ['client_credentials'] },
      { client_id: 'desktop', grant_types: ['authorization_code', 'refresh_token'] },
    ]);
    expect(stack.info.users).toEqual([]);
    // The configured secret works at the token endpoint.
    const res = await fetch(`${stack.url}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`billing:${'b'.repeat(40)}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: `${stack.url}/mcp` }).toString(),
    });
    expect(res.status).toBe(200);
  });

  it('keeps demo credentials, the secret, clients and keys in the state directory across restarts (SQLite)', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'warden-stack-'));
    const raw = { storage: { kind: 'sqlite', path: join(stateDir, 'warden.db') }, authorizationServer: { demo: true }, resources: [demo] };
    const first = await start(raw, { stateDir });
    expect(first.info.users).toEqual([{ username: 'demo', password: expect.stringMatching(/^[A-Za-z0-9_-]{24}$/) }]);
    expect(first.info.clients).toEqual([
      { client_id: 'demo-service', client_secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), grant_types: ['client_credentials'] },
      { client_id: 'demo-cli', grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'] },
    ]);
    expect((await stat(join(stateDir, 'demo-credentials.json'))).mode & 0o777).toBe(0o600);
    const secret = await readFile(join(stateDir, 'secret'), 'utf8');
    const token = (await clientCredentials(first)).body['access_token'] as string;
    const port = (first.server.address() as AddressInfo).port;
    await first.close();

    const second = await start(raw, { stateDir, port });
    expect(second.info.users).toEqual(first.info.users);
    expect(second.info.clients).toEqual(first.info.clients);
    expect(await readFile(join(stateDir, 'secret'), 'utf8')).toBe(secret);
    // Same signing keys: a token from before the restart still verifies.
    expect((await callTool(`${second.url}/mcp`, token, 'echo', { text: 'x' })).status).toBe(200);
    expect((await clientCredentials(second)).status).toBe(200);
    expect(await second.authorizationServer!.context.stores.users.list()).toEqual(['demo']);
    const demoHash = async (stack: RunningStack) => (await stack.authorizationServer!.context.stores.users.get('demo'))?.passwordHash;
    expect(await verifySecret(first.info.users[0]!.password, await demoHash(second))).toBe(true);
    await second.close();

    // Credentials file deleted, database kept: the new password is the one that works.
    await rm(join(stateDir, 'demo-credentials.json'));
    const third = await start(raw, { stateDir, port });
    expect(third.info.users[0]!.password).not.toBe(first.info.users[0]!.password);
    expect(await verifySecret(third.info.users[0]!.password, await demoHash(third))).toBe(true);
    expect((await clientCredentials(third)).status).toBe(200);
  });
});

describe('startStack: routing', () => {
  it('serves a resource under the publicUrl path prefix', async () => {
    const stack = await start({ publicUrl: 'https://public.example/warden', resources: [demo] });
    const local = `http://127.0.0.1:${(stack.server.address() as AddressInfo).port}`;
    expect(stack.info.resources[0]).toEqual({
      name: 'demo',
      url: 'https://public.example/warden/mcp',
      metadataUrl: 'https://public.example/.well-known/oauth-protected-resource/warden/mcp',
    });
    expect((await fetch(`${local}/.well-known/oauth-protected-resource/warden/mcp`)).status).toBe(200);
    // RFC 8414 §3.1: the issuer has a path, so its metadata path is inserted.
    const as = (await (await fetch(`${local}/.well-known/oauth-authorization-server/warden`)).json()) as Record<string, unknown>;
    expect(as).toMatchObject({ issuer: 'https://public.example/warden', token_endpoint: 'https://public.example/warden/token' });
    expect((await fetch(`${local}/warden/token`, { method: 'POST' })).status).toBe(400);
    expect((await callTool(`${local}/warden/mcp`, await mintToken(stack), 'echo', { text: 'x' })).status).toBe(200);
    expect((await fetch(`${local}/mcp`)).status).toBe(404);
  });

  it('serves only path-inserted metadata when several resources share the root well-known path', async () => {
    const stack = await start({ resources: [demo, { ...demo, name: 'second', path: '/second' }] });
    expect((await fetch(`${stack.url}/.well-known/oauth-protected-resource/mcp`)).status).toBe(200);
    expect((await fetch(`${stack.url}/.well-known/oauth-protected-resource/second`)).status).toBe(200);
    expect((await fetch(`${stack.url}/.well-known/oauth-protected-resource`)).status).toBe(404);
  });

  it('routes sub-paths, not look-alike prefixes', async () => {
    const stack = await start({ resources: [demo] });
    expect((await fetch(`${stack.url}/mcp/x`, { method: 'POST', headers: mcpHeaders, body: '{}' })).status).toBe(401);
    expect((await fetch(`${stack.url}/mcpx`)).status).toBe(404);
  });
});

describe('startStack: gateway resource', () => {
  let upstream: Server;
  const seen: Array<{ url: string; headers: IncomingHttpHeaders; body: string }> = [];

  async function startUpstream(delayMs = 0): Promise<string> {
    upstream = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { upstream: true } }));
        }, delayMs);
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    running.push({ close: () => new Promise((r) => upstream.close(r)) });
    return `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/upstream/mcp`;
  }

  it('proxies authenticated requests with the body; the upstream gets its own token (RFC 8693, the default with the stack AS), never the client token', async () => {
    seen.length = 0;
    const target = await startUpstream();
    const stack = await start({ resources: [{ name: 'files', path: '/files', upstream: target, scopes: { default: ['mcp:tools'] } }] });
    const token = await mintToken(stack);
    const body = rpc('tools/call', { name: 'read', arguments: { path: 'a' } });
    const res = await fetch(`${stack.url}/files`, { method: 'POST', headers: { ...mcpHeaders, authorization: `Bearer ${token}` }, body });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ result: { upstream: true } });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.url).toBe('/upstream/mcp');
    expect(seen[0]!.body).toBe(body);
    const presented = seen[0]!.headers.authorization ?? '';
    expect(presented).toMatch(/^Bearer /);
    expect(presented).not.toContain(token);
    expect(seen[0]!.headers['x-warden-client-id']).toBeUndefined();
    const { jwks_uri: jwksUri } = (await (await fetch(`${stack.url}/.well-known/oauth-authorization-server`)).json()) as { jwks_uri: string };
    const { payload } = await jwtVerify(presented.slice('Bearer '.length), createRemoteJWKSet(new URL(jwksUri)), { issuer: stack.url, audience: target, typ: 'at+jwt' });
    expect(payload).toMatchObject({ client_id: 'demo-cli', sub: 'demo-user', scope: 'mcp:tools', act: { sub: `${stack.url}/files` } });

    const unauthenticated = await fetch(`${stack.url}/files`, { method: 'POST', headers: mcpHeaders, body });
    expect(unauthenticated.status).toBe(401);
    expect(seen).toHaveLength(1);
  });

  it('finishes in-flight requests on close, then refuses connections', async () => {
    const target = await startUpstream(300);
    const stack = await start({ resources: [{ name: 'slow', path: '/slow', upstream: target }] });
    const token = await mintToken(stack);
    const inFlight = fetch(`${stack.url}/slow`, { method: 'POST', headers: { ...mcpHeaders, authorization: `Bearer ${token}` }, body: rpc('ping') });
    await new Promise((r) => setTimeout(r, 100));
    const closed = stack.close();
    const res = await inFlight;
    expect(res.status).toBe(200);
    await closed;
    await expect(fetch(`${stack.url}/healthz`)).rejects.toThrow();
  });
});

describe('startStack: state directory and start-up failures', () => {
  it('writes stack.json after listening (server secret 0600 beside it) and removes it on close', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'warden-stack-'));
    const stack = await start({ resources: [demo] }, { stateDir });
    const info = JSON.parse(await readFile(join(stateDir, 'stack.json'), 'utf8')) as unknown;
    expect(info).toEqual({
      issuer: stack.url,
      resources: [{ name: 'demo', url: `${stack.url}/mcp`, metadataUrl: `${stack.url}/.well-known/oauth-protected-resource/mcp` }],
      clients: [],
      users: [],
    });
    expect((await stat(join(stateDir, 'stack.json'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(stateDir, 'secret'))).mode & 0o777).toBe(0o600);
    expect((await readFile(join(stateDir, 'secret'), 'utf8')).trim()).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(existsSync(join(stateDir, 'demo-credentials.json'))).toBe(false);
    await stack.close();
    expect(existsSync(join(stateDir, 'stack.json'))).toBe(false);
  });

  it('reports a port in use as a StackStartError that says what to do', async () => {
    const first = await start({ resources: [demo] });
    const port = (first.server.address() as AddressInfo).port;
    const error = await startStack(resolveConfig({ resources: [demo] }, { env: {} }), { port, logger: createLogger({ write: () => {} }) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StackStartError);
    expect((error as Error).message).toMatch(new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
  });

  it('trusts only the configured issuer when a resource names one, and does not issue tokens for it', async () => {
    const idpKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
    const stack = await start({ resources: [demo, { ...demo, name: 'foreign', path: '/foreign', trust: { issuer: 'https://idp.example', jwks: { keys: [idpKey] } } }] });
    const metadata = (await (await fetch(`${stack.url}/.well-known/oauth-protected-resource/foreign`)).json()) as Record<string, unknown>;
    expect(metadata['authorization_servers']).toEqual(['https://idp.example']);
    const own = (await (await fetch(`${stack.url}/.well-known/oauth-protected-resource/mcp`)).json()) as Record<string, unknown>;
    expect(own['authorization_servers']).toEqual([stack.url]);
    // Not in our resource registry (RFC 8707): our authorization server issues nothing for it.
    await expect(mintToken(stack, { resource: `${stack.url}/foreign` })).rejects.toThrow(/not a resource registered/);
    // A token our keys signed with that audience anyway is still not trusted there.
    const ctx = stack.authorizationServer!.context;
    const forged = await issueAccessToken(ctx, {
      clientId: 'demo-cli',
      subject: 'demo-user',
      scopes: ['mcp:tools'],
      resource: { uri: `${stack.url}/foreign`, name: 'foreign', scopes: ['mcp:tools'], defaultScopes: ['mcp:tools'], dpop: 'allowed', accessTokenLifetimeSeconds: 60 },
    });
    expect((await callTool(`${stack.url}/foreign`, forged.accessToken, 'echo', { text: 'x' })).status).toBe(401);
  });

  it('refuses a resource without trust when the authorization server is disabled', async () => {
    const error = await start({ authorizationServer: { enabled: false }, resources: [demo] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StackStartError);
    expect((error as Error).message).toBe(
      'resource "demo" has no trust and the authorization server is disabled: add trust (the issuer whose tokens it accepts) to resources[0], or enable the authorization server (authorizationServer.enabled: true)',
    );
  });

  it.skipIf(postgres.skip)(`runs on PostgreSQL storage: client_credentials → tools/call${postgres.note}`, async () => {
    const url = await requireService(postgres);
    // A schema of its own: the database is shared with other test runs (and other versions of Warden).
    const schema = `warden_test_${randomBytes(6).toString('hex')}`;
    try {
      const stack = await start({ storage: { kind: 'postgres', url, schema }, authorizationServer: { demo: true }, resources: [demo] });
      const issued = await clientCredentials(stack, { scope: 'mcp:tools' });
      expect(issued.status).toBe(200);
      const ok = await callTool(`${stack.url}/mcp`, issued.body['access_token'] as string, 'echo', { text: 'via PostgreSQL' });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ result: { content: [{ type: 'text', text: 'via PostgreSQL' }] } });
      await stack.close();
    } finally {
      const { default: pg } = await import('pg');
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    }
  });

  it('says which store could not be opened when PostgreSQL is unreachable, without the URL or password', async () => {
    const error = await start({ storage: { kind: 'postgres', url: 'postgres://u:hunter2-pw@127.0.0.1:1/warden' }, resources: [demo] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StackStartError);
    expect((error as Error).message).toMatch(/^cannot open the PostgreSQL store \(storage\.url\): PostgreSQL store cannot answer/);
    expect((error as Error).message).not.toContain('hunter2-pw');
    expect((error as Error).message).not.toContain('127.0.0.1:1/warden');
  });

  it('refuses a resource path the authorization server answers', async () => {
    const error = await start({ resources: [{ ...demo, path: '/token' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StackStartError);
    expect((error as Error).message).toMatch(/^resources\[0\]\.path: \/token is taken by the authorization server's endpoint \/token/);
  });

  it('without a state directory or configured secret, warns that sessions and refresh tokens will not survive a restart', async () => {
    const stack = await start({ resources: [demo] });
    const warning = stack.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['level'] === 'warn');
    expect(warning?.['msg']).toMatch(/random secret for this process only.*will not survive a restart/);
    const configured = await start({ authorizationServer: { secret: 's'.repeat(40) }, resources: [demo] });
    expect(configured.logs.some((l) => l.includes('"level":"warn"'))).toBe(false);
  });
});

describe('startStack: Prometheus metrics', () => {
  /** GET /metrics once the earlier responses have closed (counts are taken when a response ends). */
  async function scrape(stack: RunningStack, path = '/metrics'): Promise<{ res: Response; text: string }> {
    await new Promise((r) => setTimeout(r, 50));
    const res = await fetch(`${stack.url}${path}`);
    return { res, text: await res.text() };
  }

  it('counts outcomes by route and reason, issuance by grant, and leaks no token, secret, id or path', async () => {
    const stack = await start({ authorizationServer: { demo: true }, resources: [demo] });
    const anonymous = await fetch(`${stack.url}/mcp`, { method: 'POST', headers: mcpHeaders, body: rpc('tools/list') });
    expect(anonymous.status).toBe(401);
    await anonymous.arrayBuffer();
    const token = (await clientCredentials(stack, { scope: 'mcp:tools' })).body['access_token'] as string;
    const ok = await callTool(`${stack.url}/mcp`, token, 'echo', { text: 'x' });
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
    const admin = await callTool(`${stack.url}/mcp`, token, 'admin_reset');
    expect(admin.status).toBe(403);
    await admin.arrayBuffer();
    expect((await fetch(`${stack.url}/users/userid-secret-path`)).status).toBe(404);

    const { res, text } = await scrape(stack);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const lines = text.split('\n');
    for (const line of [
      'warden_http_requests_total{route="resource",status="401"} 1',
      'warden_http_requests_total{route="authorization_server",status="200"} 1',
      'warden_http_requests_total{route="resource",status="200"} 1',
      'warden_http_requests_total{route="resource",status="403"} 1',
      'warden_http_requests_total{route="not_found",status="404"} 1',
      'warden_http_request_duration_seconds_count{route="resource"} 3',
      'warden_http_request_duration_seconds_bucket{route="resource",le="+Inf"} 3',
      'warden_auth_failures_total{reason="no_credentials"} 1',
      'warden_auth_failures_total{reason="insufficient_scope"} 1',
      'warden_tokens_issued_total{grant_type="client_credentials"} 1',
      'warden_dpop_replays_total 0',
      'warden_refresh_reuse_total 0',
      '# TYPE warden_http_request_duration_seconds histogram',
    ]) {
      expect(lines).toContain(line);
    }
    // The 200 is no failure; only resource refusals count.
    expect(text.match(/^warden_auth_failures_total/gm)).toHaveLength(2);
    for (const secret of [token, token.split('.')[2]!, stack.info.clients[0]!.client_secret!, stack.info.users[0]!.password, 'demo-service', 'demo-cli', '/mcp', 'userid-secret-path', 'admin_reset', 'echo', stack.url]) {
      expect(text).not.toContain(secret);
    }

    // The scrape itself is counted once it has been answered.
    expect((await scrape(stack)).text.split('\n')).toContain('warden_http_requests_total{route="metrics",status="200"} 1');
  });

  it('counts a replayed DPoP proof at a resource, and the nonce challenge by its error code', async () => {
    const stack = await start({ nonce: { secret: 'n'.repeat(32) }, resources: [{ ...demo, dpop: 'required' }] });
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const publicJwk = publicKey.export({ format: 'jwk' });
    const token = await mintToken(stack, { jkt: jwkThumbprint(publicJwk) });
    const url = `${stack.url}/mcp`;
    const send = async (proof: string) => {
      const res = await fetch(url, { method: 'POST', headers: { ...mcpHeaders, authorization: `DPoP ${token}`, dpop: proof }, body: rpc('tools/call', { name: 'whoami', arguments: {} }) });
      await res.arrayBuffer();
      return res;
    };
    const proof = (nonce?: string) => createProof({ privateKey, publicJwk, alg: 'ES256', htm: 'POST', htu: url, accessToken: token, ...(nonce ? { nonce } : {}) });
    const first = await send(proof());
    const withNonce = proof(first.headers.get('dpop-nonce')!);
    expect((await send(withNonce)).status).toBe(200);
    expect((await send(withNonce)).status).toBe(401);

    const lines = (await scrape(stack)).text.split('\n');
    expect(lines).toContain('warden_dpop_replays_total 1');
    expect(lines).toContain('warden_auth_failures_total{reason="use_dpop_nonce"} 1');
    expect(lines).toContain('warden_auth_failures_total{reason="invalid_dpop_proof"} 1');
    expect(lines).toContain('warden_http_requests_total{route="resource",status="401"} 2');
  });

  it('serves at metrics.path, only GET and HEAD; is absent when disabled', async () => {
    const custom = await start({ resources: [demo], metrics: { path: '/internal/metrics' } });
    expect((await scrape(custom, '/internal/metrics')).res.status).toBe(200);
    expect((await fetch(`${custom.url}/metrics`)).status).toBe(404);
    const post = await fetch(`${custom.url}/internal/metrics`, { method: 'POST' });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);

    const off = await start({ resources: [demo], metrics: { enabled: false } });
    expect(off.metrics).toBeUndefined();
    expect((await fetch(`${off.url}/metrics`)).status).toBe(404);
  });

  it('refuses a metrics path a resource under the publicUrl prefix or an authorization-server endpoint answers', async () => {
    const prefixed = await start({ publicUrl: 'http://localhost:4999/p', resources: [demo], metrics: { path: '/p/mcp' } }).catch((e: unknown) => e);
    expect(prefixed).toBeInstanceOf(StackStartError);
    expect((prefixed as Error).message).toBe('metrics.path: /p/mcp collides with resource "demo" at /p/mcp: choose another metrics path');
    const token = await start({ resources: [demo], metrics: { path: '/token' } }).catch((e: unknown) => e);
    expect(token).toBeInstanceOf(StackStartError);
    expect((token as Error).message).toMatch(/^metrics\.path: \/token collides with the authorization server's endpoint \/token/);
  });
});
