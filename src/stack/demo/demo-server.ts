/**
 * The `builtin:demo` MCP server: a handful of tools, one of which needs an extra scope, so
 * `warden start` has something real to protect and a client has something to call.
 *
 * It runs the official v1 SDK in stateless mode — a fresh `McpServer` and transport per HTTP
 * request, no session ids — so any number of Warden instances can serve it behind a load
 * balancer without sticky sessions. Authentication already happened in the resource-server
 * layer; tool handlers only read `extra.authInfo`.
 *
 * @see https://modelcontextprotocol.io/specification/2025-06-18/basic/transports#streamable-http
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod/v4';
import type { ScopePolicy } from '../../oauth/vocabulary.js';
import type { WardenAuthInfo } from '../../resource-server/types.js';

/** Names of the demo server's tools. */
export const DEMO_TOOL_NAMES = Object.freeze(['echo', 'add', 'whoami', 'admin_reset'] as const);

/** One of {@link DEMO_TOOL_NAMES}. */
export type DemoToolName = (typeof DEMO_TOOL_NAMES)[number];

/** Scope the `admin_reset` tool needs on top of the default `mcp:tools`. */
export const DEMO_ADMIN_SCOPE = 'mcp:admin';

/**
 * The scope policy the resource server enforces in front of the demo server: every request needs
 * `mcp:tools`, and `tools/call` of `admin_reset` needs `mcp:admin`.
 */
export const demoScopePolicy: ScopePolicy = Object.freeze({
  default: Object.freeze(['mcp:tools']),
  tools: Object.freeze({ admin_reset: Object.freeze([DEMO_ADMIN_SCOPE]) }),
  descriptions: Object.freeze({ 'mcp:tools': 'Use the demo tools: echo, add and whoami', [DEMO_ADMIN_SCOPE]: 'Reset the demo server (admin_reset)' }),
});

/** A request as the resource-server layer hands it over: authenticated, body already read. */
export type DemoMcpRequest = IncomingMessage & { auth?: WardenAuthInfo; body?: unknown };

/** Handler of {@link createDemoMcpHandler}. */
export type DemoMcpHandler = (req: DemoMcpRequest, res: ServerResponse) => Promise<void>;

/** What `whoami` reveals about the caller: everything useful, never the token itself. */
export interface DemoWhoami {
  clientId: string;
  scopes: string[];
  subject?: string;
  jkt?: string;
  resource?: string;
  expiresAt?: number;
  tokenType?: string;
}

const SERVER_INFO = { name: 'warden-demo', version: '0.1.0' } as const;

/**
 * Creates the node:http handler of the `builtin:demo` MCP server.
 *
 * POST carries JSON-RPC and is answered with JSON (`enableJsonResponse`); GET and DELETE answer
 * 405, as the SDK's stateless example does, because there is no session to stream or end.
 * The SDK forwards `req.auth` to tool handlers as `extra.authInfo`.
 */
export function createDemoMcpHandler(): DemoMcpHandler {
  return async (req, res) => {
    if (req.method !== 'POST') {
      sendJsonRpcError(res, 405, -32000, 'Method not allowed.', { Allow: 'POST' });
      return;
    }
    const parsed = parseBody(req.body);
    if (!parsed.ok) {
      sendJsonRpcError(res, 400, -32700, 'Parse error: Invalid JSON');
      return;
    }
    const server = createDemoMcpServer();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    // Registered before handling so a client that disconnects early still releases both.
    res.once('close', () => {
      void transport.close().catch(() => undefined);
      void server.close().catch(() => undefined);
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, parsed.value);
    } catch {
      // Internal details stay here; the client gets a generic JSON-RPC error.
      if (!res.headersSent) sendJsonRpcError(res, 500, -32603, 'Internal server error');
      else res.destroy();
    }
  };
}

/**
 * Builds one demo `McpServer` with its tools registered. Exported for embedding the demo tools
 * in another transport; {@link createDemoMcpHandler} makes one per request.
 */
export function createDemoMcpServer(): McpServer {
  const server = new McpServer(SERVER_INFO, { capabilities: { tools: {} } });

  server.registerTool(
    'echo',
    {
      description: 'Returns the text it is given.',
      inputSchema: { text: z.string() },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ text }) => textResult(text),
  );

  server.registerTool(
    'add',
    {
      description: 'Adds two numbers.',
      inputSchema: { a: z.number(), b: z.number() },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ a, b }) => textResult(String(a + b)),
  );

  server.registerTool(
    'whoami',
    {
      description: 'Describes the authenticated caller: client, subject, scopes, DPoP key thumbprint.',
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (extra) => {
      if (extra.authInfo === undefined) return errorResult('no authenticated caller');
      return textResult(JSON.stringify(describeCaller(extra.authInfo)));
    },
  );

  server.registerTool(
    'admin_reset',
    {
      description: `Resets the demo state. Requires the ${DEMO_ADMIN_SCOPE} scope.`,
      annotations: { destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    (extra) => {
      // Defence in depth: the resource server's policy already demands the scope, but a tool
      // that is mounted without that policy must still refuse.
      if (!extra.authInfo?.scopes.includes(DEMO_ADMIN_SCOPE)) {
        return errorResult(`insufficient scope: ${DEMO_ADMIN_SCOPE} required`);
      }
      return textResult('demo state reset');
    },
  );

  return server;
}

/** The caller as `whoami` shows it. `token` is deliberately not copied. */
export function describeCaller(auth: AuthInfo): DemoWhoami {
  const extra = auth.extra ?? {};
  const out: DemoWhoami = { clientId: auth.clientId, scopes: [...auth.scopes] };
  if (typeof extra['subject'] === 'string') out.subject = extra['subject'];
  if (typeof extra['jkt'] === 'string') out.jkt = extra['jkt'];
  if (auth.resource !== undefined) out.resource = auth.resource.href;
  if (auth.expiresAt !== undefined) out.expiresAt = auth.expiresAt;
  if (typeof extra['tokenType'] === 'string') out.tokenType = extra['tokenType'];
  return out;
}

function textResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }] };
}

function errorResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}

type ParsedBody = { ok: true; value: unknown } | { ok: false };

/**
 * The auth layer normally hands over parsed JSON; raw bytes or a string are parsed here so the
 * SDK never tries to read a request stream that has already been consumed.
 */
function parseBody(body: unknown): ParsedBody {
  if (typeof body === 'string' || body instanceof Uint8Array) {
    const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
    try {
      return { ok: true, value: JSON.parse(text) as unknown };
    } catch {
      return { ok: false };
    }
  }
  return { ok: true, value: body };
}

function sendJsonRpcError(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null });
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}
