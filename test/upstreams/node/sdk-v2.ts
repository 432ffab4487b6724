/**
 * The official MCP TypeScript SDK v2 (`@modelcontextprotocol/server`) as an upstream: `McpServer`
 * on `WebStandardStreamableHTTPServerTransport`, stateless (a fresh server and transport per
 * request, JSON responses), behind a node:http server that turns the recorded request into a
 * Web `Request`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';
import type { DiffUpstream } from '../upstream.js';
import { readAll, UpstreamRecord } from './upstream-record.js';

/** Starts it on 127.0.0.1; the MCP endpoint is `/mcp` (every path is served, as catch-all mounts do). */
export async function startSdkV2Upstream(): Promise<DiffUpstream> {
  const record = new UpstreamRecord();
  let origin = '';

  const http = createServer((req, res) => {
    void (async () => {
      const body = await readAll(req);
      record.request(req, body);
      const headers = new Headers();
      for (const [name, values] of Object.entries(req.headersDistinct)) for (const value of values ?? []) headers.append(name, value);
      const method = req.method ?? 'GET';
      const request = new Request(origin + (req.url ?? '/'), {
        method,
        headers,
        ...(method === 'GET' || method === 'HEAD' ? {} : { body }),
      });
      const server = new McpServer({ name: 'upstream-sdk-v2', version: '1.0.0' });
      for (const tool of ['echo', 'admin_delete']) {
        server.registerTool(tool, { description: `the ${tool} tool` }, () => {
          record.ran(tool);
          return { content: [{ type: 'text', text: `ran ${tool}` }] };
        });
      }
      const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      await server.connect(transport);
      const response = await transport.handleRequest(request);
      const out = Buffer.from(await response.arrayBuffer());
      res.writeHead(response.status, Object.fromEntries(response.headers.entries()));
      res.end(out);
      await server.close();
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;

  let closed: Promise<void> | undefined;
  return {
    name: 'sdk-v2',
    description: 'MCP TypeScript SDK v2 (@modelcontextprotocol/server), Streamable HTTP, stateless',
    url: `${origin}/mcp`,
    transport: 'streamable-http',
    tools: ['echo', 'admin_delete'],
    cursor: () => record.cursor(),
    since: (cursor) => record.since(cursor),
    close() {
      closed ??= (async () => {
        http.closeAllConnections();
        await new Promise<void>((resolve) => http.close(() => resolve()));
      })();
      return closed;
    },
  };
}
