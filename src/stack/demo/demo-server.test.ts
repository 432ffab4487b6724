import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { WardenAuthInfo } from '../../resource-server/types.js';
import { createDemoMcpHandler, DEMO_TOOL_NAMES, demoScopePolicy } from './demo-server.js';

const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.secret-access-token.sig';

function authInfo(scopes: string[]): WardenAuthInfo {
  return {
    token: TOKEN,
    clientId: 'client-123',
    scopes,
    expiresAt: 1_900_000_000,
    resource: new URL('http://127.0.0.1/mcp'),
    extra: {
      subject: 'alice',
      jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs',
      issuer: 'http://127.0.0.1',
      jti: 'at-1',
      tokenType: 'DPoP',
    },
  };
}

/** Stands in for the resource-server layer: no checks, just a fixed identity and a parsed body. */
let currentAuth: WardenAuthInfo | undefined;
let server: Server;
let url: URL;

beforeAll(async () => {
  const handler = createDemoMcpHandler();
  server = createServer((req: IncomingMessage & { auth?: WardenAuthInfo; body?: unknown }, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (currentAuth !== undefined) req.auth = currentAuth;
      if (chunks.length > 0) req.body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
      void handler(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`);
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function connect(): Promise<Client> {
  const client = new Client({ name: 'demo-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(url));
  return client;
}

function text(result: Awaited<ReturnType<Client['callTool']>>): string {
  const content = result.content as Array<{ type: string; text?: string }>;
  return content.map((c) => c.text ?? '').join('');
}

describe('builtin:demo MCP server (stateless, v1 SDK)', () => {
  it('lists exactly the demo tools to an unmodified SDK client', async () => {
    currentAuth = authInfo(['mcp:tools']);
    const client = await connect();
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([...DEMO_TOOL_NAMES].sort());
    await client.close();
  });

  it('echo returns its text and add returns the sum', async () => {
    currentAuth = authInfo(['mcp:tools']);
    const client = await connect();
    expect(text(await client.callTool({ name: 'echo', arguments: { text: 'hello, warden' } }))).toBe('hello, warden');
    expect(text(await client.callTool({ name: 'add', arguments: { a: 2, b: 40.5 } }))).toBe('42.5');
    const bad = await client.callTool({ name: 'add', arguments: { a: 'x', b: 1 } });
    expect(bad.isError).toBe(true);
    await client.close();
  });

  it('whoami reflects req.auth (passed by the SDK as extra.authInfo) without the token', async () => {
    currentAuth = authInfo(['mcp:tools', 'profile']);
    const client = await connect();
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    const raw = text(result);
    expect(raw).not.toContain(TOKEN);
    expect(raw).not.toContain('secret-access-token');
    expect(JSON.parse(raw)).toEqual({
      clientId: 'client-123',
      scopes: ['mcp:tools', 'profile'],
      subject: 'alice',
      jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs',
      resource: 'http://127.0.0.1/mcp',
      expiresAt: 1_900_000_000,
      tokenType: 'DPoP',
    });
    await client.close();
  });

  it('whoami without any auth info is a tool error, not a crash', async () => {
    currentAuth = undefined;
    const client = await connect();
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    expect(result.isError).toBe(true);
    await client.close();
  });

  it('admin_reset refuses a caller without mcp:admin (defence in depth)', async () => {
    currentAuth = authInfo(['mcp:tools']);
    const client = await connect();
    const result = await client.callTool({ name: 'admin_reset', arguments: {} });
    expect(result.isError).toBe(true);
    expect(text(result)).toContain('mcp:admin');
    await client.close();
  });

  it('admin_reset succeeds with mcp:admin', async () => {
    currentAuth = authInfo(['mcp:tools', 'mcp:admin']);
    const client = await connect();
    const result = await client.callTool({ name: 'admin_reset', arguments: {} });
    expect(result.isError).toBeFalsy();
    expect(text(result)).toBe('demo state reset');
    await client.close();
  });

  it.each(['GET', 'DELETE', 'PUT'])('%s on the stateless endpoint answers 405 with a JSON-RPC error', async (method) => {
    const res = await fetch(url, { method, headers: { accept: 'application/json, text/event-stream' } });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(await res.json()).toEqual({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null });
  });

  it('answers with JSON, not SSE, and no session id (any instance can serve any request)', async () => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { accept: 'application/json, text/event-stream', 'content-type': 'application/json' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 7,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('mcp-session-id')).toBeNull();
    const body = (await res.json()) as { id: number; result: { serverInfo: { name: string } } };
    expect(body.id).toBe(7);
    expect(body.result.serverInfo.name).toBe('warden-demo');
  });

  it('accepts a raw (unparsed) body from the auth layer, and answers 400 to one that is not JSON', async () => {
    const handler = createDemoMcpHandler();
    const raw = createServer((req: IncomingMessage & { body?: unknown }, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        req.body = Buffer.concat(chunks);
        void handler(req, res);
      });
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    const rawUrl = `http://127.0.0.1:${(raw.address() as AddressInfo).port}/mcp`;
    try {
      const headers = { accept: 'application/json, text/event-stream', 'content-type': 'application/json' };
      const ok = await fetch(rawUrl, { method: 'POST', headers, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ jsonrpc: '2.0', id: 1, result: {} });
      const bad = await fetch(rawUrl, { method: 'POST', headers, body: '{not json' });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toEqual({ jsonrpc: '2.0', error: { code: -32700, message: 'Parse error: Invalid JSON' }, id: null });
    } finally {
      raw.closeAllConnections();
      await new Promise<void>((resolve) => raw.close(() => resolve()));
    }
  });

  it('exports the scope policy the resource server enforces', () => {
    expect(demoScopePolicy).toEqual({
      default: ['mcp:tools'],
      tools: { admin_reset: ['mcp:admin'] },
      descriptions: { 'mcp:tools': 'Use the demo tools: echo, add and whoami', 'mcp:admin': 'Reset the demo server (admin_reset)' },
    });
    expect(Object.isFrozen(demoScopePolicy)).toBe(true);
  });
});
