/**
 * A real upstream MCP server for gateway tests: the official v1 SDK (`McpServer` +
 * `StreamableHTTPServerTransport`), stateful (session ids), answering POSTs with SSE streams,
 * on 127.0.0.1 — the kind of server an operator puts Warden in front of.
 *
 * Tools: `echo` (returns its text), `whoami` (reports the identity headers the gateway added and
 * whether any client credential reached it), `admin_reset` (the one a policy guards with an
 * extra scope). Every HTTP request's method and headers are logged for assertions.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import * as z from 'zod/v4';

/** What `whoami` answers: the identity Warden vouched for, and any credential that leaked. */
export interface UpstreamWhoami {
  clientId: string | null;
  subject: string | null;
  scopes: string | null;
  jkt: string | null;
  /** The `Authorization` header as received: must be null behind Warden (no token passthrough). */
  authorization: string | null;
  /** The `DPoP` header as received: must be null behind Warden. */
  dpop: string | null;
}

export interface McpUpstream {
  /** `http://127.0.0.1:<port>/mcp` */
  url: string;
  /** Every HTTP request received, in order. */
  requests: Array<{ method: string; url: string; headers: IncomingHttpHeaders }>;
  /** Number of MCP sessions initialized. */
  sessions(): number;
  close(): Promise<void>;
}

function header(headers: IncomingHttpHeaders, name: string): string | null {
  const value = headers[name];
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(', ') : value;
}

function createUpstreamMcpServer(): McpServer {
  const server = new McpServer({ name: 'e2e-upstream', version: '1.0.0' });
  server.registerTool('echo', { description: 'Returns its text.', inputSchema: { text: z.string() } }, ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  server.registerTool('whoami', { description: 'What the gateway told this server about the caller.' }, (extra) => {
    const headers = extra.requestInfo?.headers ?? {};
    const seen: UpstreamWhoami = {
      clientId: header(headers, 'x-warden-client-id'),
      subject: header(headers, 'x-warden-subject'),
      scopes: header(headers, 'x-warden-scopes'),
      jkt: header(headers, 'x-warden-jkt'),
      authorization: header(headers, 'authorization'),
      dpop: header(headers, 'dpop'),
    };
    return { content: [{ type: 'text', text: JSON.stringify(seen) }], isError: seen.authorization !== null || seen.dpop !== null };
  });
  server.registerTool('admin_reset', { description: 'Needs mcp:admin (enforced by the gateway).' }, () => ({
    content: [{ type: 'text', text: 'reset done' }],
  }));
  return server;
}

/**
 * Starts the upstream on 127.0.0.1, port chosen by the kernel. `jsonResponse: true` answers
 * POSTs with `application/json` instead of SSE streams (the SDK's `enableJsonResponse`).
 */
export async function startMcpUpstream(options: { jsonResponse?: boolean } = {}): Promise<McpUpstream> {
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const servers: McpServer[] = [];
  const requests: McpUpstream['requests'] = [];

  const http = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers } });
    const sessionId = header(req.headers, 'mcp-session-id');
    const existing = sessionId === null ? undefined : transports.get(sessionId);
    if (existing !== undefined) {
      void existing.handleRequest(req, res);
      return;
    }
    if (req.method !== 'POST' || sessionId !== null) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }));
      return;
    }
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: options.jsonResponse ?? false,
      onsessioninitialized: (id) => void transports.set(id, transport),
      onsessionclosed: (id) => void transports.delete(id),
    });
    const server = createUpstreamMcpServer();
    servers.push(server);
    void server.connect(transport).then(() => transport.handleRequest(req, res));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/mcp`,
    requests,
    sessions: () => servers.length,
    async close() {
      for (const server of servers) await server.close().catch(() => undefined);
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
