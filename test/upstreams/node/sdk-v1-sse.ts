/**
 * The official MCP TypeScript SDK v1 legacy HTTP+SSE transport (`SSEServerTransport`, protocol
 * revision 2024-11-05) as an upstream: `GET <base>/sse` opens the event stream and announces
 * `<base>/messages?sessionId=…`, where the client POSTs its messages; answers travel on the stream.
 *
 * This transport decodes a POST body with the charset its `Content-Type` names (raw-body and
 * iconv-lite), so `charset=utf-7` turns `"+AG4-ame"` into `"name"`. The recorded raw body is
 * replayed to it through a fresh stream, so it decodes exactly the recorded bytes.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import type { DiffUpstream } from '../upstream.js';
import { pathOf, readAll, UpstreamRecord } from './upstream-record.js';

/** The request again, its body served from `body` (the original stream is drained). */
function replay(req: IncomingMessage, body: Buffer): IncomingMessage {
  const stream = new Readable({ read() {} });
  stream.push(body);
  stream.push(null);
  return Object.assign(stream, { headers: req.headers, method: req.method, url: req.url, socket: req.socket }) as unknown as IncomingMessage;
}

/** Starts it on 127.0.0.1 under `base` (default `/legacy`): `<base>/sse` and `<base>/messages`. */
export async function startSdkV1SseUpstream(base = '/legacy'): Promise<DiffUpstream> {
  const record = new UpstreamRecord();
  const sessions = new Map<string, SSEServerTransport>();
  const servers: McpServer[] = [];
  // Requests the transport accepted (202) and has not answered on the stream yet.
  let pending = 0;
  const countRequests = (transport: SSEServerTransport): void => {
    const onmessage = transport.onmessage;
    transport.onmessage = (message, extra) => {
      if ('method' in message && 'id' in message) pending += 1;
      onmessage?.(message, extra);
    };
    const send = transport.send.bind(transport);
    transport.send = (message) => {
      if (!('method' in message) && 'id' in message) pending = Math.max(0, pending - 1);
      return send(message);
    };
  };

  const http = createServer((req, res) => {
    void (async () => {
      const body = await readAll(req);
      record.request(req, body);
      const path = pathOf(req.url ?? '/');
      if (req.method === 'GET' && path === `${base}/sse`) {
        const transport = new SSEServerTransport(`${base}/messages`, res);
        sessions.set(transport.sessionId, transport);
        res.once('close', () => sessions.delete(transport.sessionId));
        const server = new McpServer({ name: 'upstream-sdk-v1-sse', version: '1.0.0' });
        for (const tool of ['echo', 'admin_delete']) {
          server.registerTool(tool, { description: `the ${tool} tool` }, () => {
            record.ran(tool);
            return { content: [{ type: 'text', text: `ran ${tool}` }] };
          });
        }
        servers.push(server);
        await server.connect(transport);
        countRequests(transport);
        return;
      }
      if (req.method === 'POST' && path === `${base}/messages`) {
        const sessionId = new URL(req.url ?? '/', 'http://upstream.invalid').searchParams.get('sessionId');
        const transport = sessionId === null ? undefined : sessions.get(sessionId);
        if (transport === undefined) {
          res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }));
          return;
        }
        // No parsed body: the transport reads (and charset-decodes) the bytes itself.
        await transport.handlePostMessage(replay(req, body), res).catch(() => undefined);
        return;
      }
      res.writeHead(404).end();
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;

  let closed: Promise<void> | undefined;
  return {
    name: 'sdk-v1-sse',
    description: 'MCP TypeScript SDK v1 (@modelcontextprotocol/sdk), legacy HTTP+SSE transport',
    url: `http://127.0.0.1:${port}${base}`,
    transport: 'legacy-sse',
    tools: ['echo', 'admin_delete'],
    async idle() {
      for (let waited = 0; pending > 0 && waited < 2_000; waited += 5) await new Promise((r) => setTimeout(r, 5));
    },
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

