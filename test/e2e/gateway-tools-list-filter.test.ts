/**
 * tools/list filtering through the gateway, against a real upstream (the official v1 SDK
 * `McpServer`, stateful) answering in both Streamable HTTP response modes — SSE streams and
 * JSON bodies — driven by the official v1 SDK client. A caller is shown only the tools its
 * scopes (RFC 6750 §3.1) and the resource's CEL policy let it call; calling a hidden tool is
 * still refused by the gauntlet (403).
 *
 * @see https://modelcontextprotocol.io/specification/2025-06-18/server/tools#listing-tools
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createGatewayHandler, createGatewayProxy } from '../../src/gateway/index.js';
import { createResourceServer, type ResourceServer } from '../../src/resource-server/index.js';
import { startMcpUpstream, type McpUpstream } from '../helpers/mcp-upstream.js';
import { createTestIssuer, type TestIssuer } from '../helpers/test-issuer.js';

interface Gateway {
  url: string;
  upstream: McpUpstream;
  close(): Promise<void>;
}

let issuer: TestIssuer;
const gateways: Record<'sse' | 'json', Gateway> = {} as Record<'sse' | 'json', Gateway>;

async function startGateway(mode: 'sse' | 'json'): Promise<Gateway> {
  const upstream = await startMcpUpstream({ jsonResponse: mode === 'json' });
  let rs: ResourceServer | undefined;
  const server: Server = createServer((req, res) => void handler?.(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  rs = createResourceServer({
    resource: url,
    trust: { issuer: issuer.issuer, jwks: issuer.jwks },
    scopes: { default: ['mcp:tools'], tools: { admin_reset: ['mcp:admin'] } },
    policy: {
      rules: [
        { name: 'ops-whoami', tools: ['whoami'], allow: '"ops" in groups' },
        { name: 'no-forbidden-echo', tools: ['echo'], deny: 'has(arguments.text) && arguments.text == "forbidden"' },
      ],
    },
  });
  const proxy = createGatewayProxy({ upstream: upstream.url, mountPath: '/mcp' });
  const handler: ((req: Parameters<ReturnType<typeof createGatewayHandler>>[0], res: Parameters<ReturnType<typeof createGatewayHandler>>[1]) => Promise<void>) | undefined =
    createGatewayHandler(rs, proxy);
  return {
    url,
    upstream,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      proxy.close();
      await rs?.close();
      await upstream.close();
    },
  };
}

beforeAll(async () => {
  issuer = await createTestIssuer({ audience: 'set-per-token' });
  gateways.sse = await startGateway('sse');
  gateways.json = await startGateway('json');
});

afterAll(async () => {
  await Promise.all(Object.values(gateways).map((g) => g.close()));
});

async function connect(gateway: Gateway, claims: Record<string, unknown>): Promise<Client> {
  const token = await issuer.mint({ aud: gateway.url, ...claims });
  const client = new Client({ name: 'filter-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return client;
}

for (const mode of ['sse', 'json'] as const) {
  describe(`tools/list through the gateway, upstream answering with ${mode === 'sse' ? 'SSE streams' : 'JSON bodies'}`, () => {
    it('a caller without mcp:admin and outside "ops" is shown only echo (the same upstream shows an admin in "ops" all three, next test)', async () => {
      const client = await connect(gateways[mode], { scope: 'mcp:tools', groups: ['staff'] });
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(['echo']);
      // Schemas and descriptions of the shown tools pass untouched.
      expect(tools[0]?.description).toBe('Returns its text.');
      await client.close();
    });

    it('a caller with mcp:admin in "ops" is shown every tool', async () => {
      const client = await connect(gateways[mode], { scope: 'mcp:tools mcp:admin', groups: ['ops'] });
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(['admin_reset', 'echo', 'whoami']);
      await client.close();
    });

    it('calling a hidden tool is still refused: 403 by scope (insufficient_scope) and by rule (named)', async () => {
      const client = await connect(gateways[mode], { scope: 'mcp:tools', groups: ['staff'] });
      // The SDK shows the JSON-RPC body of the 403: the rule is named, its expression is not.
      await expect(client.callTool({ name: 'whoami', arguments: {} })).rejects.toThrow('{"code":-32003,"message":"refused by policy rule \\"ops-whoami\\""}');
      await expect(client.callTool({ name: 'admin_reset', arguments: {} })).rejects.toThrow(/insufficient_scope/);
      // A tool that is shown may still be refused for its arguments.
      await expect(client.callTool({ name: 'echo', arguments: { text: 'forbidden' } })).rejects.toThrow('refused by policy rule \\"no-forbidden-echo\\"');
      const ok = await client.callTool({ name: 'echo', arguments: { text: 'hello' } });
      expect(ok.content).toEqual([{ type: 'text', text: 'hello' }]);
      await client.close();
    });
  });
}

describe('tools/list filtering: what the wire carries', () => {
  it('a raw tools/list POST answered as SSE has its result rewritten and keeps the event id', async () => {
    const gateway = gateways.sse;
    const token = await issuer.mint({ aud: gateway.url, scope: 'mcp:tools' });
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const init = await fetch(gateway.url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
    });
    const session = init.headers.get('mcp-session-id') as string;
    await init.text();
    await (await fetch(gateway.url, { method: 'POST', headers: { ...headers, 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' }, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })).text();
    const list = await fetch(gateway.url, {
      method: 'POST',
      headers: { ...headers, 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'list-1', method: 'tools/list', params: {} }),
    });
    expect(list.status).toBe(200);
    expect(list.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(list.headers.get('content-length')).toBeNull();
    const text = await list.text();
    const data = text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)) as { id: string; result: { tools: Array<{ name: string }> } });
    expect(data).toHaveLength(1);
    expect(data[0]?.id).toBe('list-1');
    expect(data[0]?.result.tools.map((t) => t.name)).toEqual(['echo']);
  });
});
