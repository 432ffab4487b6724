/**
 * The official MCP TypeScript SDK v1 (`@modelcontextprotocol/sdk`) as an upstream: `McpServer`
 * on `StreamableHTTPServerTransport`, stateful (one session per `initialize`, `Mcp-Session-Id`),
 * answering POSTs with SSE streams — the server most Node MCP deployments run.
 *
 * The raw body is read and recorded first, then handed to the SDK as `req.rawBody` (which the
 * SDK's `@hono/node-server` request conversion reads instead of the drained stream), so the SDK
 * decodes exactly the bytes that were recorded.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { DiffUpstream } from '../upstream.js';
import { readAll, UpstreamRecord } from './upstream-record.js';

function mcpServer(record: UpstreamRecord): McpServer {
  const server = new McpServer({ name: 'upstream-sdk-v1', version: '1.0.0' });
  for (const tool of ['echo', 'admin_delete']) {
    server.registerTool(tool, { description: `the ${tool} tool` }, () => {
      record.ran(tool);
      return { content: [{ type: 'text', text: `ran ${tool}` }] };
    });
  }
  return server;
}

/** Starts it on 127.0.0.1; the MCP endpoint is `/mcp` (every path is served, as catch-all mounts do). */
export async function startSdkV1StreamableUpstream(): Promise<DiffUpstream> {
  const record = new UpstreamRecord();
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const servers: McpServer[] = [];

  const http = createServer((req, res) => {
    void (async () => {
      const body = await readAll(req);
      record.request(req, body);
      (req as typeof req & { rawBody: Buffer }).rawBody = body;
      const sessionId = req.headers['mcp-session-id'];
      const existing = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
      if (existing !== undefined) return existing.handleRequest(req, res);
      if (req.method !== 'POST' || sessionId !== undefined) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }));
        return;
      }
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void sessions.set(id, transport),
        onsessionclosed: (id) => void sessions.delete(id),
      });
      const server = mcpServer(record);
      servers.push(server);
      await server.connect(transport);
      return transport.handleRequest(req, res);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;

  let closed: Promise<void> | undefined;
  return {
    name: 'sdk-v1',
    description: 'MCP TypeScript SDK v1 (@modelcontextprotocol/sdk), Streamable HTTP, stateful',
    url: `http://127.0.0.1:${port}/mcp`,
    transport: 'streamable-http',
    tools: ['echo', 'admin_delete'],
    cursor: () => record.cursor(),
    since: (cursor) => record.since(cursor),
    close() {
      closed ??= (async () => {
        for (const server of servers) await server.close().catch(() => undefined);
        http.closeAllConnections();
        await new Promise<void>((resolve) => http.close(() => resolve()));
      })();
      return closed;
    },
  };
}
