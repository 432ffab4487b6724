/**
 * Upstreams for `upstreamAuth: { kind: token }` built on the two official MCP TypeScript SDKs,
 * each trusting no header and no network position, only tokens: every request is verified with
 * `createResourceServer` against the stack's issuer (its JWKS), with the upstream's own URL as the
 * audience (RFC 8707). The gateway's short-lived token for this upstream passes; the caller's own
 * token, or the gateway's token for another upstream, does not.
 *
 * - v1 (`@modelcontextprotocol/sdk`): `McpServer` on `StreamableHTTPServerTransport`, stateful,
 *   answering POSTs with SSE streams, behind `rs.node(...)`.
 * - v2 (`@modelcontextprotocol/server`): `McpServer` on `WebStandardStreamableHTTPServerTransport`,
 *   stateless with JSON bodies, behind the framework-neutral `rs.web()` gate.
 *
 * Both offer `whoami` (what the verified token says), `echo` (v1: returns its `text`) and `admin_delete`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer as McpServerV1 } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { McpServer as McpServerV2, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { createResourceServer, type ResourceServer } from '../../../src/resource-server/index.js';
import type { WardenAuthInfo } from '../../../src/resource-server/types.js';

/** What `whoami` answers: the identity the upstream verified and the token's `aud`, `act`, lifetime. */
export interface VerifiedWhoami {
  subject: string | null;
  clientId: string;
  scopes: string[];
  aud: unknown;
  act: unknown;
  lifetime: number;
}

export interface VerifyingUpstream {
  /** `http://127.0.0.1:<port>/mcp`: also its identifier (the only `aud` it accepts). */
  url: string;
  /** Every `Authorization` value received, in order (tests check the caller's own token never arrives). */
  authorizations: string[];
  /** Tools that ran, in order. */
  runs: string[];
  close(): Promise<void>;
}

function whoami(auth: WardenAuthInfo): VerifiedWhoami {
  const payload = JSON.parse(Buffer.from(auth.token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  return {
    subject: auth.extra.subject ?? null,
    clientId: auth.clientId,
    scopes: auth.scopes,
    aud: payload['aud'],
    act: payload['act'],
    lifetime: Number(payload['exp']) - Number(payload['iat']),
  };
}

/** The upstream side of token mode: these few lines (its own URL as the audience, the stack's issuer). */
function verifierFor(url: string, issuer: string): ResourceServer {
  return createResourceServer({ resource: url, trust: { issuer, jwksUri: `${issuer}/jwks` }, dpop: 'disabled' });
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ http: Server; url: string }> {
  const http = createServer(handler);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return { http, url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp` };
}

function closer(http: Server, rs: ResourceServer, before: () => Promise<void> = async () => undefined): () => Promise<void> {
  let closed: Promise<void> | undefined;
  return () =>
    (closed ??= (async () => {
      await before();
      await rs.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    })());
}

/** SDK v1, stateful, SSE answers, behind `rs.node(...)`. */
export async function startVerifyingV1Upstream(issuer: string): Promise<VerifyingUpstream> {
  const authorizations: string[] = [];
  const runs: string[] = [];
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const servers: McpServerV1[] = [];
  let handler: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | undefined;
  const { http, url } = await listen((req, res) => {
    authorizations.push(req.headers.authorization ?? '');
    void handler!(req, res);
  });
  const rs = verifierFor(url, issuer);
  handler = rs.node(async (req, res) => {
    const sessionId = req.headers['mcp-session-id'];
    const existing = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
    if (existing !== undefined) return existing.handleRequest(req, res, req.body);
    if (req.method !== 'POST' || sessionId !== undefined) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }));
      return;
    }
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => void sessions.set(id, transport),
      onsessionclosed: (id) => void sessions.delete(id),
    });
    const server = new McpServerV1({ name: 'verifying-sdk-v1', version: '1.0.0' });
    server.registerTool('whoami', { description: 'who the verified token says is calling' }, (extra) => {
      runs.push('whoami');
      return { content: [{ type: 'text', text: JSON.stringify(whoami(extra.authInfo as WardenAuthInfo)) }] };
    });
    server.registerTool('echo', { description: 'Returns its text.', inputSchema: { text: z.string() } }, ({ text }) => {
      runs.push('echo');
      return { content: [{ type: 'text', text }] };
    });
    server.registerTool('admin_delete', { description: 'the admin_delete tool' }, () => {
      runs.push('admin_delete');
      return { content: [{ type: 'text', text: 'ran admin_delete' }] };
    });
    servers.push(server);
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  return {
    url,
    authorizations,
    runs,
    close: closer(http, rs, async () => {
      for (const server of servers) await server.close().catch(() => undefined);
    }),
  };
}

/** SDK v2, stateless, JSON answers, behind the Web `Request` gate `rs.web()`. */
export async function startVerifyingV2Upstream(issuer: string): Promise<VerifyingUpstream> {
  const authorizations: string[] = [];
  const runs: string[] = [];
  let gate: ((request: Request) => Promise<WardenAuthInfo | Response>) | undefined;
  let origin = '';
  const serve = async (request: Request): Promise<Response> => {
    const auth = await gate!(request);
    if (auth instanceof Response) return auth;
    const server = new McpServerV2({ name: 'verifying-sdk-v2', version: '1.0.0' });
    server.registerTool('whoami', { description: 'who the verified token says is calling' }, () => {
      runs.push('whoami');
      return { content: [{ type: 'text', text: JSON.stringify(whoami(auth)) }] };
    });
    server.registerTool('echo', { description: 'Returns "echo".' }, () => {
      runs.push('echo');
      return { content: [{ type: 'text', text: 'echo' }] };
    });
    server.registerTool('admin_delete', { description: 'the admin_delete tool' }, () => {
      runs.push('admin_delete');
      return { content: [{ type: 'text', text: 'ran admin_delete' }] };
    });
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await server.connect(transport);
    try {
      return await transport.handleRequest(request, { authInfo: auth });
    } finally {
      void server.close();
    }
  };
  const { http, url } = await listen((req, res) => {
    authorizations.push(req.headers.authorization ?? '');
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(name, value);
      const method = req.method ?? 'GET';
      const request = new Request(origin + (req.url ?? '/'), { method, headers, ...(method === 'GET' || method === 'HEAD' ? {} : { body: Buffer.concat(chunks) }) });
      const response = await serve(request);
      const out = Buffer.from(await response.arrayBuffer());
      res.writeHead(response.status, Object.fromEntries(response.headers.entries()));
      res.end(out);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  origin = new URL(url).origin;
  const rs = verifierFor(url, issuer);
  gate = rs.web();
  return { url, authorizations, runs, close: closer(http, rs) };
}
