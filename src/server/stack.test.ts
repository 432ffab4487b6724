import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/load.js';
import { createProof } from '../dpop/create-proof.js';
import { jwkThumbprint } from '../jose/thumbprint.js';
import { createLogger } from '../observability/logger.js';
import { StackStartError, startStack, type RunningStack, type StartStackOptions } from './stack.js';

const demo = { name: 'demo', path: '/mcp', upstream: 'builtin:demo' };
const rpc = (method: string, params?: object) => JSON.stringify({ jsonrpc: '2.0', id: 1, method, ...(params ? { params } : {}) });
const mcpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

const running: Array<{ close(): unknown }> = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close()));
});

async function start(raw: object, options: StartStackOptions = {}): Promise<RunningStack & { logs: string[] }> {
  const logs: string[] = [];
  const config = resolveConfig(raw, { env: {} });
  const stack = await startStack(config, { port: 0, logger: createLogger({ write: (l) => logs.push(l) }), ...options });
  running.push(stack);
  return Object.assign(stack, { logs });
}

function callTool(url: string, token: string, name: string, args: object = {}, headers: Record<string, string> = {}) {
  return fetch(url, { method: 'POST', headers: { ...mcpHeaders, authorization: `Bearer ${token}`, ...headers }, body: rpc('tools/call', { name, arguments: args }) });
}

describe('startStack: built-in demo resource', () => {
  it('serves health, JWKS, RFC 9728 metadata and 404 JSON', async () => {
    const stack = await start({ resources: [demo] });
    expect(stack.url).toMatch(/^http:\/\/localhost:\d+$/);
    expect(stack.url).not.toBe('http://localhost:0');

    const health = await fetch(`${stack.url}/healthz`);
    expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);

    const jwks = (await (await fetch(`${stack.url}/.well-known/jwks.json`)).json()) as { keys: Array<Record<string, unknown>> };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).not.toHaveProperty('d');

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
    const token = await stack.mintToken();
    const ok = await callTool(`${stack.url}/mcp`, token, 'echo', { text: 'hi' });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ result: { content: [{ type: 'text', text: 'hi' }] } });

    const admin = await callTool(`${stack.url}/mcp`, token, 'admin_reset');
    expect(admin.status).toBe(403);
    expect(admin.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect(admin.headers.get('www-authenticate')).toContain('scope="mcp:tools mcp:admin"');

    const adminToken = await stack.mintToken({ scope: 'mcp:tools mcp:admin' });
    expect((await callTool(`${stack.url}/mcp`, adminToken, 'admin_reset')).status).toBe(200);
  });

  it('RFC 8707: rejects a token minted for another audience', async () => {
    const stack = await start({ resources: [demo] });
    const token = await stack.mintToken({ resource: 'http://localhost:1/other' });
    const res = await callTool(`${stack.url}/mcp`, token, 'echo', { text: 'x' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('uses the configured scope policy instead of the demo default', async () => {
    const stack = await start({ resources: [{ ...demo, scopes: { default: ['custom:scope'] } }] });
    expect((await callTool(`${stack.url}/mcp`, await stack.mintToken(), 'echo', { text: 'x' })).status).toBe(403);
    expect((await callTool(`${stack.url}/mcp`, await stack.mintToken({ scope: 'custom:scope' }), 'echo', { text: 'x' })).status).toBe(200);
  });

  it('logs one JSON line per request with method, path, status, duration and reason — never the token', async () => {
    const stack = await start({ resources: [demo] });
    const token = await stack.mintToken();
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
    const token = await stack.mintToken({ jkt: jwkThumbprint(publicJwk) });
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
    expect((await callTool(`${local}/warden/mcp`, await stack.mintToken(), 'echo', { text: 'x' })).status).toBe(200);
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

  it('proxies authenticated requests with the body, without the client token', async () => {
    seen.length = 0;
    const target = await startUpstream();
    const stack = await start({ resources: [{ name: 'files', path: '/files', upstream: target, scopes: { default: ['mcp:tools'] } }] });
    const token = await stack.mintToken();
    const body = rpc('tools/call', { name: 'read', arguments: { path: 'a' } });
    const res = await fetch(`${stack.url}/files`, { method: 'POST', headers: { ...mcpHeaders, authorization: `Bearer ${token}` }, body });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ result: { upstream: true } });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.url).toBe('/upstream/mcp');
    expect(seen[0]!.body).toBe(body);
    expect(seen[0]!.headers.authorization).toBeUndefined();
    expect(seen[0]!.headers['x-warden-client-id']).toBe('demo-cli');

    const unauthenticated = await fetch(`${stack.url}/files`, { method: 'POST', headers: mcpHeaders, body });
    expect(unauthenticated.status).toBe(401);
    expect(seen).toHaveLength(1);
  });

  it('finishes in-flight requests on close, then refuses connections', async () => {
    const target = await startUpstream(300);
    const stack = await start({ resources: [{ name: 'slow', path: '/slow', upstream: target }] });
    const token = await stack.mintToken();
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
  it('writes stack.json after listening (issuer key 0600 beside it) and removes it on close', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'warden-stack-'));
    const stack = await start({ resources: [demo] }, { stateDir });
    const info = JSON.parse(await readFile(join(stateDir, 'stack.json'), 'utf8')) as unknown;
    expect(info).toEqual({
      issuer: stack.url,
      resources: [{ name: 'demo', url: `${stack.url}/mcp`, metadataUrl: `${stack.url}/.well-known/oauth-protected-resource/mcp` }],
      clients: [],
      users: [],
    });
    expect(existsSync(join(stateDir, 'issuer-key.json'))).toBe(true);
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

  it('trusts only the configured issuer when a resource names one', async () => {
    const idpKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
    const stack = await start({ resources: [{ ...demo, trust: { issuer: 'https://idp.example', jwks: { keys: [idpKey] } } }] });
    const metadata = (await (await fetch(`${stack.url}/.well-known/oauth-protected-resource/mcp`)).json()) as Record<string, unknown>;
    expect(metadata['authorization_servers']).toEqual(['https://idp.example']);
    // Our dev issuer's tokens are not trusted by this resource.
    const res = await callTool(`${stack.url}/mcp`, await stack.mintToken(), 'echo', { text: 'x' });
    expect(res.status).toBe(401);
  });
});
