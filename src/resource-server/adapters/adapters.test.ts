import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express from 'express';
import { Hono } from 'hono';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { McpServer as McpServerV2, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';
import { createResourceServer, type ResourceServer, type WardenHonoEnv } from '../index.js';
import { createDpopKey, createTestIssuer, parseChallenges, type TestIssuer } from '../../../test/helpers/test-issuer.js';

const servers: Server[] = [];
async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => { s.closeAllConnections(); s.close(r); })));
});

/** A resource server whose canonical URI is on the port it will listen on. */
async function protectedNodeServer(handler: Parameters<ResourceServer['node']>[0], dpop: 'allowed' | 'required' = 'allowed') {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = await createTestIssuer({ audience: `${base}/mcp` });
  const rs = createResourceServer({ resource: `${base}/mcp`, trust: { issuer: issuer.issuer, jwks: issuer.jwks }, dpop, scopes: { default: ['mcp:tools'] }, limits: { maxBodyBytes: 1024 } });
  server.on('request', rs.node(handler));
  return { base, issuer, rs };
}

function toolServerV1() {
  const mcp = new McpServer({ name: 'adapter-test', version: '1.0.0' });
  mcp.registerTool('whoami', { description: 'auth info' }, async (extra) => ({
    content: [{ type: 'text', text: JSON.stringify({ clientId: extra.authInfo?.clientId, scopes: extra.authInfo?.scopes, extra: extra.authInfo?.extra }) }],
  }));
  return mcp;
}

describe('node:http adapter', () => {
  let ctx: Awaited<ReturnType<typeof protectedNodeServer>>;
  let seen: { auth?: unknown; body?: unknown } = {};
  beforeAll(async () => {
    ctx = await protectedNodeServer((req, res) => {
      seen = { auth: req.auth, body: req.body };
      res.end('ok');
    });
  });

  it('serves RFC 9728 metadata at the path-inserted and root well-known URLs (RFC 9728 §3.1)', async () => {
    for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
      const res = await fetch(`${ctx.base}${path}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ resource: `${ctx.base}/mcp`, authorization_servers: [ctx.issuer.issuer] });
    }
  });

  it('answers 401 with the challenge; passes auth and the parsed body to the handler', async () => {
    const denied = await fetch(`${ctx.base}/mcp`, { method: 'POST' });
    expect(denied.status).toBe(401);
    expect(parseChallenges(denied.headers.get('www-authenticate'))[0]?.params.resource_metadata).toBe(`${ctx.base}/.well-known/oauth-protected-resource/mcp`);
    const token = await ctx.issuer.mint({ aud: `${ctx.base}/mcp` });
    const body = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
    const ok = await fetch(`${ctx.base}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(ok.status).toBe(200);
    expect(seen.body).toEqual(body);
    expect(seen.auth).toMatchObject({ clientId: 'client-1', scopes: ['mcp:tools'] });
  });

  it('a DPoP request over a real socket: htu comes from the configured URL', async () => {
    const key = await createDpopKey();
    const token = await ctx.issuer.mint({ aud: `${ctx.base}/mcp`, cnf: { jkt: key.jkt } });
    const proof = await key.proof({ htm: 'GET', htu: `${ctx.base}/mcp`, accessToken: token });
    const res = await fetch(`${ctx.base}/mcp`, { headers: { authorization: `DPoP ${token}`, dpop: proof, host: 'spoofed.example' } });
    expect(res.status).toBe(200);
  });

  it('two Authorization header lines on the wire → 400 invalid_request (node would silently keep one)', async () => {
    const token = await ctx.issuer.mint({ aud: `${ctx.base}/mcp` });
    const url = new URL(ctx.base);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write(`GET /mcp HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${token}\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`);
      });
      let data = '';
      socket.on('data', (d) => (data += d.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(raw.startsWith('HTTP/1.1 400')).toBe(true);
    expect(raw).toMatch(/error="invalid_request"/);
  });

  it('a body over the cap → 413, nothing reaches the handler', async () => {
    seen = {};
    const token = await ctx.issuer.mint({ aud: `${ctx.base}/mcp` });
    const res = await fetch(`${ctx.base}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ x: 'y'.repeat(4000) }) });
    expect(res.status).toBe(413);
    expect(seen).toEqual({});
  });
});

describe('Express adapter', () => {
  it('sets req.auth; the v1 SDK transport hands it to tool handlers as extra.authInfo', async () => {
    const app = express();
    const server = createServer(app);
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const issuer: TestIssuer = await createTestIssuer({ audience: `${base}/mcp` });
    const rs = createResourceServer({ resource: `${base}/mcp`, trust: { issuer: issuer.issuer, jwks: issuer.jwks }, scopes: { default: ['mcp:tools'] } });
    // Mounted at /mcp: req.url is "/" inside, so the adapter must use originalUrl for htu.
    app.use('/mcp', rs.express(), async (req, res) => {
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      const mcp = toolServerV1();
      await mcp.connect(transport);
      res.on('close', () => void transport.close());
      await transport.handleRequest(req, res, req.body);
    });

    const key = await createDpopKey();
    const token = await issuer.mint({ cnf: { jkt: key.jkt }, sub: 'alice' });
    const dpopFetch: typeof fetch = async (input, init) => {
      const headers = new Headers(init?.headers);
      headers.set('authorization', `DPoP ${token}`);
      headers.set('dpop', await key.proof({ htm: init?.method ?? 'GET', htu: String(input), accessToken: token }));
      return fetch(input, { ...init, headers });
    };
    const client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { fetch: dpopFetch }));
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    const info = JSON.parse((result.content as Array<{ text: string }>)[0]?.text ?? '{}');
    expect(info).toMatchObject({ clientId: 'client-1', scopes: ['mcp:tools'], extra: { subject: 'alice', jkt: key.jkt, tokenType: 'DPoP' } });
    await client.close();
  });
});

describe('Hono adapter', () => {
  it('sets c.get("auth") and keeps the body readable; failures are the challenge Response', async () => {
    const resource = 'https://hono.example/mcp';
    const issuer = await createTestIssuer({ audience: resource });
    const rs = createResourceServer({ resource, trust: { issuer: issuer.issuer, jwks: issuer.jwks }, scopes: { default: ['mcp:tools'] } });
    const app = new Hono<WardenHonoEnv>();
    app.use('/mcp', rs.hono());
    app.post('/mcp', async (c) => c.json({ client: c.get('auth').clientId, body: await c.req.json() }));
    const denied = await app.request('https://hono.example/mcp', { method: 'POST' });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toMatch(/^Bearer /);
    const token = await issuer.mint();
    const ok = await app.request('https://hono.example/mcp', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ client: 'client-1', body: { jsonrpc: '2.0', id: 1, method: 'ping' } });
  });
});

describe('Web Request gate (MCP SDK v2 shape)', () => {
  it('resolves to auth info that the v2 SDK hands to tool handlers as ctx.http.authInfo, or to a Response', async () => {
    const resource = 'https://web.example/mcp';
    const issuer = await createTestIssuer({ audience: resource });
    const rs = createResourceServer({ resource, trust: { issuer: issuer.issuer, jwks: issuer.jwks }, scopes: { default: ['mcp:tools'] } });
    const gate = rs.web();
    const handle = async (request: Request): Promise<Response> => {
      const auth = await gate(request);
      if (auth instanceof Response) return auth;
      const mcp = new McpServerV2({ name: 'v2', version: '1.0.0' });
      mcp.registerTool('whoami', { description: 'auth info' }, async (ctx) => ({
        content: [{ type: 'text', text: JSON.stringify({ clientId: ctx.http?.authInfo?.clientId, subject: ctx.http?.authInfo?.extra?.subject }) }],
      }));
      const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      await mcp.connect(transport);
      return transport.handleRequest(request, { authInfo: auth });
    };
    const denied = await handle(new Request(resource, { method: 'POST', body: '{}' }));
    expect(denied.status).toBe(401);
    const token = await issuer.mint({ sub: 'bob' });
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };
    const init = await handle(new Request(resource, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }) }));
    expect(init.status).toBe(200);
    const res = await handle(new Request(resource, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'whoami', arguments: {} } }) }));
    const json = (await res.json()) as { result: { content: Array<{ text: string }> } };
    expect(JSON.parse(json.result.content[0]?.text ?? '{}')).toEqual({ clientId: 'client-1', subject: 'bob' });
  });
});
