/**
 * `filterToolsList: true` in the library: the node adapter rewrites the application's own
 * `tools/list` answers — the official SDK server answering with JSON bodies and with SSE
 * streams — so the caller sees only the tools its scopes and the policy let it call; a hidden
 * tool's call is still refused (403). Driven by the official v1 SDK client.
 *
 * @see https://modelcontextprotocol.io/specification/2025-06-18/server/tools#listing-tools
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createResourceServer, type ResourceServer } from '../index.js';
import { createTestIssuer, type TestIssuer } from '../../../test/helpers/test-issuer.js';

const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

/** A stateless SDK server behind `rs.node`, answering POSTs with JSON or SSE. */
async function start(json: boolean, filterToolsList: boolean): Promise<{ url: string; issuer: TestIssuer }> {
  const issuer = await createTestIssuer({ audience: 'set-per-token' });
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  const rs: ResourceServer = createResourceServer({
    resource: url,
    trust: { issuer: issuer.issuer, jwks: issuer.jwks },
    scopes: { default: ['mcp:tools'], tools: { admin_reset: ['mcp:admin'] } },
    policy: { rules: [{ name: 'ops-only', tools: ['deploy'], allow: '"ops" in groups' }] },
    filterToolsList,
  });
  server.on(
    'request',
    rs.node(async (req, res) => {
      const mcp = new McpServer({ name: 'lib', version: '1.0.0' });
      for (const name of ['echo', 'admin_reset', 'deploy']) mcp.registerTool(name, { description: name }, () => ({ content: [{ type: 'text', text: name }] }));
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: json });
      res.on('close', () => void transport.close());
      await mcp.connect(transport);
      await transport.handleRequest(req, res, req.body);
    }),
  );
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await rs.close();
  });
  return { url, issuer };
}

async function listAs(target: { url: string; issuer: TestIssuer }, claims: Record<string, unknown>): Promise<{ names: string[]; client: Client }> {
  const token = await target.issuer.mint({ aud: target.url, jti: randomUUID(), ...claims });
  const client = new Client({ name: 'lib-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(target.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  const { tools } = await client.listTools();
  return { names: tools.map((t) => t.name).sort(), client };
}

describe('library tools/list filtering (filterToolsList: true, node adapter)', () => {
  for (const json of [true, false]) {
    it(`${json ? 'JSON bodies' : 'SSE streams'}: shown only what scopes and rules allow; a hidden tool is still refused`, async () => {
      const target = await start(json, true);
      const user = await listAs(target, { scope: 'mcp:tools', groups: ['dev'] });
      expect(user.names).toEqual(['echo']);
      await expect(user.client.callTool({ name: 'deploy', arguments: {} })).rejects.toThrow('refused by policy rule \\"ops-only\\"');
      await user.client.close();
      const admin = await listAs(target, { scope: 'mcp:tools mcp:admin', groups: ['ops'] });
      expect(admin.names).toEqual(['admin_reset', 'deploy', 'echo']);
      await admin.client.close();
    });
  }

  it('off by default: the application answers unchanged (step-up discovery keeps working)', async () => {
    const target = await start(true, false);
    const user = await listAs(target, { scope: 'mcp:tools', groups: ['dev'] });
    expect(user.names).toEqual(['admin_reset', 'deploy', 'echo']);
    await user.client.close();
  });
});
