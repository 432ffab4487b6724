import { randomUUID } from 'node:crypto';
import http, { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createConnection, createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { WardenAuthInfo } from '../resource-server/types.js';
import { StoreUnavailableError, type SessionStore } from '../stores/contracts.js';
import { MemorySessionStore } from '../stores/memory/session-store.js';
import { createGatewayProxy, type GatewayProxy, type GatewayProxyOptions } from './index.js';

const AUTH: WardenAuthInfo = {
  token: 'access-token-never-forwarded',
  clientId: 'client-abc',
  scopes: ['mcp:tools', 'mcp:admin'],
  expiresAt: 1_900_000_000,
  extra: { subject: 'alice', jkt: 'jkt-thumbprint', issuer: 'http://127.0.0.1', tokenType: 'DPoP' },
};

// ---- harness -------------------------------------------------------------------------------

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function listen(server: Server | NetServer): Promise<number> {
  // Track raw sockets too, so a plain net server (no closeAllConnections) can be shut promptly.
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  );
  return (server.address() as AddressInfo).port;
}

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** An upstream that records what it received and answers with a fixed JSON body. */
async function recordingUpstream(): Promise<{ port: number; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.writeHead(200, {
        'content-type': 'application/json',
        'mcp-session-id': 'sess-1',
        connection: 'keep-alive, x-upstream-hop',
        'x-upstream-hop': 'should not reach the client',
        'keep-alive': 'timeout=5',
        'proxy-authenticate': 'Basic realm="upstream-proxy"',
        'www-authenticate': 'Bearer realm="upstream"',
        'set-cookie': ['a=1', 'b=2'],
      });
      res.end('{"jsonrpc":"2.0","id":1,"result":{}}');
    });
  });
  return { port: await listen(server), received };
}

interface FrontOptions {
  auth?: WardenAuthInfo;
  /** Read the body first, like the auth layer does, and hand it to the proxy. */
  readBody?: boolean;
}

/** Stands in for the resource-server layer: attaches `req.auth`, optionally pre-reads the body. */
async function front(options: GatewayProxyOptions, front: FrontOptions = {}): Promise<{ port: number; proxy: GatewayProxy }> {
  const proxy = createGatewayProxy(options);
  cleanups.push(() => proxy.close());
  const server = createServer((req: IncomingMessage & { auth?: WardenAuthInfo }, res: ServerResponse) => {
    if (front.auth !== undefined) req.auth = front.auth;
    if (!front.readBody) {
      proxy(req, res);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => proxy(req, res, Buffer.concat(chunks)));
  });
  return { port: await listen(server), proxy };
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function send(
  port: number,
  init: { method?: string; path?: string; headers?: http.OutgoingHttpHeaders; body?: string | string[] },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: init.method ?? 'POST', path: init.path ?? '/mcp', headers: init.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    // An array is sent chunk by chunk (chunked transfer coding), exercising the piped path.
    for (const part of Array.isArray(init.body) ? init.body : init.body === undefined ? [] : [init.body]) req.write(part);
    req.end();
  });
}

/** Sends raw bytes (request targets `http.request` would refuse) and resolves with the whole answer. */
function rawRequest(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => socket.end(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
  });
}

/** Resolves when the next chunk arrives on a stream; the test decides what happens next. */
function nextChunk(stream: IncomingMessage): Promise<string> {
  return new Promise((resolve) => stream.once('data', (c: Buffer) => resolve(c.toString())));
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const JSON_RPC_CALL = '{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}';

// ---- (a) what crosses the gateway --------------------------------------------------------------

describe('request headers (MCP: no token passthrough; RFC 9110 §7.6.1 hop-by-hop)', () => {
  const hostile = {
    authorization: 'DPoP access-token-never-forwarded',
    dpop: 'eyJ0eXAiOiJkcG9wK2p3dCJ9.proof.sig',
    'x-warden-client-id': 'mallory',
    'x-warden-subject': 'root',
    'x-warden-scopes': 'mcp:admin',
    'x-warden-jkt': 'forged',
    'x-warden-anything': 'forged',
    'x-forwarded-user': 'root',
    'x-forwarded-email': 'root@example.com',
    'x-forwarded-preferred-username': 'root',
    'x-auth-request-user': 'root',
    'x-auth-request-email': 'root@example.com',
    'x-remote-user': 'root',
    'remote-user': 'root',
    'x-user': 'root',
    'x-user-id': '0',
    'x-client-id': 'mallory',
    forwarded: 'for=1.2.3.4;host=evil.example',
    'x-forwarded-host': 'evil.example',
    'x-forwarded-proto': 'https',
    'x-forwarded-for': '203.0.113.7',
    'x-forwarded-prefix': '/admin',
    'x-real-ip': '203.0.113.8',
    'x-original-url': '/admin/delete',
    'x-rewrite-url': '/admin/delete',
    'x-http-method-override': 'DELETE',
    'x-method-override': 'DELETE',
    'x-envoy-original-path': '/admin',
    'true-client-ip': '203.0.113.9',
    'content-encoding': 'identity',
    connection: 'keep-alive, x-custom-hop',
    'x-custom-hop': 'named in Connection',
    'keep-alive': 'timeout=30',
    'proxy-authorization': 'Basic cHJveHk6c2VjcmV0',
    te: 'trailers',
    upgrade: 'h2c',
    'accept-encoding': 'gzip, br',
    accept: 'application/json, text/event-stream',
    'content-type': 'application/json; charset=utf-8',
    'mcp-session-id': 'sess-1',
    'mcp-protocol-version': '2025-06-18',
    'mcp-method': 'tools/call',
    'mcp-name': ' echo ',
    'last-event-id': 'evt-9',
    'x-app-header': 'not on the allow-list',
    // Identity headers of other proxies an upstream may have learnt to trust.
    'x-amzn-oidc-identity': 'root',
    'x-goog-authenticated-user-email': 'accounts.google.com:root@example.com',
    'x-ms-client-principal-name': 'root',
    'cf-access-authenticated-user-email': 'root@example.com',
    'x-pomerium-claim-email': 'root@example.com',
    'x-ssl-client-s-dn': 'CN=root',
    'x-auth-request-groups': 'admins',
    'x-remote-group': 'system:masters',
    cookie: 'session=stolen',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    'mcp-param-region': 'eu',
  };

  it.each([
    ['pre-read body', true],
    ['piped body', false],
  ])('strips credentials, forged identity and hop-by-hop headers; adds trusted identity (%s)', async (_label, readBody) => {
    const upstream = await recordingUpstream();
    const { port } = await front({ upstream: `http://127.0.0.1:${upstream.port}/upstream/mcp`, mountPath: '/mcp' }, { auth: AUTH, readBody });
    const reply = await send(port, { path: '/mcp?a=1&b=two%20words', headers: hostile, body: JSON_RPC_CALL });
    expect(reply.status).toBe(200);

    const got = upstream.received[0];
    expect(got).toBeDefined();
    if (got === undefined) return;
    expect(got.method).toBe('POST');
    expect(got.url).toBe('/upstream/mcp?a=1&b=two%20words');
    expect(got.body).toBe(JSON_RPC_CALL);
    // The body is rebuilt and re-framed with an exact Content-Length, whether it was handed over or read here.
    expect(got.headers['content-length']).toBe(String(Buffer.byteLength(JSON_RPC_CALL)));
    expect(got.headers['transfer-encoding']).toBeUndefined();
    for (const name of [
      'authorization', 'dpop', 'x-warden-anything', 'x-forwarded-user', 'x-forwarded-email',
      'x-forwarded-preferred-username', 'x-auth-request-user', 'x-auth-request-email', 'x-remote-user',
      'remote-user', 'x-user', 'x-user-id', 'x-client-id', 'forwarded', 'x-custom-hop', 'keep-alive',
      'proxy-authorization', 'te', 'upgrade', 'x-forwarded-prefix', 'x-real-ip', 'x-original-url', 'x-rewrite-url',
      'x-http-method-override', 'x-method-override', 'x-envoy-original-path', 'true-client-ip', 'content-encoding',
      'x-app-header', 'x-amzn-oidc-identity', 'x-goog-authenticated-user-email', 'x-ms-client-principal-name',
      'cf-access-authenticated-user-email', 'x-pomerium-claim-email', 'x-ssl-client-s-dn', 'x-auth-request-groups', 'x-remote-group', 'cookie',
    ]) {
      expect(got.headers[name], name).toBeUndefined();
    }
    expect(JSON.stringify(got.headers)).not.toContain('access-token-never-forwarded');
    expect(got.headers['x-warden-client-id']).toBe('client-abc');
    expect(got.headers['x-warden-subject']).toBe('alice');
    expect(got.headers['x-warden-scopes']).toBe('mcp:tools mcp:admin');
    expect(got.headers['x-warden-jkt']).toBe('jkt-thumbprint');
    expect(got.headers.host).toBe(`127.0.0.1:${upstream.port}`);
    expect(got.headers['x-forwarded-host']).toBe(`127.0.0.1:${port}`);
    expect(got.headers['x-forwarded-proto']).toBe('http');
    // Only what Warden knows: the client's own chain is not repeated.
    expect(got.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(got.headers['accept-encoding']).toBe('identity');
    expect(got.headers.accept).toBe('application/json, text/event-stream');
    expect(got.headers['content-type']).toBe('application/json');
    // SEP-2243 headers re-encoded from the body.
    expect(got.headers['mcp-method']).toBe('tools/call');
    expect(got.headers['mcp-name']).toBe('echo');
    expect(got.headers['mcp-session-id']).toBe('sess-1');
    expect(got.headers['mcp-protocol-version']).toBe('2025-06-18');
    expect(got.headers['last-event-id']).toBe('evt-9');
    expect(got.headers.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    expect(got.headers['mcp-param-region']).toBe('eu');
  });

  it('streams a chunked request body through intact when the auth layer did not read it', async () => {
    const upstream = await recordingUpstream();
    const { port } = await front({ upstream: `http://127.0.0.1:${upstream.port}/mcp`, mountPath: '/mcp' }, { auth: AUTH });
    const parts = [JSON_RPC_CALL.slice(0, 10), JSON_RPC_CALL.slice(10, 50), JSON_RPC_CALL.slice(50)];
    await send(port, { headers: { 'content-type': 'application/json' }, body: parts });
    expect(upstream.received[0]?.body).toBe(JSON_RPC_CALL);
  });

  it('a POST whose body someone else drained is refused (400 parse error), never forwarded empty', async () => {
    const upstream = await recordingUpstream();
    const proxy = createGatewayProxy({ upstream: `http://127.0.0.1:${upstream.port}/mcp`, mountPath: '/mcp' });
    cleanups.push(() => proxy.close());
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => proxy(req, res));
    });
    const port = await listen(server);
    const reply = await send(port, { headers: { 'content-type': 'application/json' }, body: JSON_RPC_CALL });
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body)).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } });
    expect(upstream.received).toEqual([]);
  });

  it('adds no identity headers when identityHeaders is false, and still strips forged ones', async () => {
    const upstream = await recordingUpstream();
    const { port } = await front(
      { upstream: `http://127.0.0.1:${upstream.port}/mcp`, mountPath: '/mcp', identityHeaders: false },
      { auth: AUTH, readBody: true },
    );
    await send(port, { headers: { 'x-warden-client-id': 'mallory', 'x-user': 'root', 'content-type': 'application/json' }, body: JSON_RPC_CALL });
    const headers = upstream.received[0]?.headers ?? {};
    expect(Object.keys(headers).filter((h) => h.startsWith('x-warden-') || h === 'x-user')).toEqual([]);
  });

  it('drops underscore header names, which CGI-style upstreams would read as identity headers', async () => {
    const upstream = await recordingUpstream();
    const { port } = await front({ upstream: `http://127.0.0.1:${upstream.port}/mcp`, mountPath: '/mcp' }, { auth: AUTH, readBody: true });
    await send(port, { headers: { x_warden_subject: 'admin', remote_user: 'root', 'x-custom': 'kept', 'content-type': 'application/json' }, body: JSON_RPC_CALL });
    const headers = upstream.received[0]?.headers ?? {};
    expect(Object.keys(headers).filter((h) => h.includes('_'))).toEqual([]);
    expect(headers['x-custom']).toBeUndefined();
  });

  it('adds no identity headers without req.auth', async () => {
    const upstream = await recordingUpstream();
    const { port } = await front({ upstream: `http://127.0.0.1:${upstream.port}/mcp`, mountPath: '/mcp' });
    await send(port, { method: 'GET', headers: { 'x-warden-subject': 'root' } });
    expect(Object.keys(upstream.received[0]?.headers ?? {}).filter((h) => h.startsWith('x-warden-'))).toEqual([]);
  });

  it('omits X-Warden-Jkt and X-Warden-Subject when the token has none; percent-encodes non-ASCII values', async () => {
    const upstream = await recordingUpstream();
    const auth: WardenAuthInfo = { ...AUTH, clientId: 'café%1\r\nx-injected: 1', extra: { issuer: 'i', tokenType: 'Bearer' } };
    const { port } = await front({ upstream: `http://127.0.0.1:${upstream.port}/mcp`, mountPath: '/mcp' }, { auth, readBody: true });
    expect((await send(port, { headers: { 'content-type': 'application/json' }, body: JSON_RPC_CALL })).status).toBe(200);
    const headers = upstream.received[0]?.headers ?? {};
    expect(headers['x-warden-jkt']).toBeUndefined();
    expect(headers['x-warden-subject']).toBeUndefined();
    expect(headers['x-injected']).toBeUndefined();
    expect(decodeURIComponent(String(headers['x-warden-client-id']))).toBe(auth.clientId);
  });

  it('uses the configured public base URL for X-Forwarded-Proto/Host', async () => {
    const upstream = await recordingUpstream();
    const { port } = await front({
      upstream: `http://127.0.0.1:${upstream.port}/mcp`,
      mountPath: '/mcp',
      publicBaseUrl: 'https://mcp.example.com',
    });
    await send(port, { method: 'GET', headers: { host: 'attacker.example' } });
    expect(upstream.received[0]?.headers['x-forwarded-proto']).toBe('https');
    expect(upstream.received[0]?.headers['x-forwarded-host']).toBe('mcp.example.com');
  });
});

describe('path mapping', () => {
  it.each([
    ['/mcp', '/upstream/v1'],
    ['/mcp/', '/upstream/v1/'],
    ['/mcp/sub/x?y=1', '/upstream/v1/sub/x?y=1'],
  ])('%s → %s', async (path, expected) => {
    const upstream = await recordingUpstream();
    const { port } = await front({ upstream: `http://127.0.0.1:${upstream.port}/upstream/v1`, mountPath: '/mcp' });
    await send(port, { method: 'GET', path });
    expect(upstream.received[0]?.url).toBe(expected);
  });

  it('merges a query on the upstream URL with the request query', async () => {
    const upstream = await recordingUpstream();
    const { port } = await front({ upstream: `http://127.0.0.1:${upstream.port}/u?key=k1`, mountPath: '/mcp' });
    await send(port, { method: 'GET', path: '/mcp?x=2' });
    expect(upstream.received[0]?.url).toBe('/u?key=k1&x=2');
  });

  it('maps everything under a root mount', async () => {
    const upstream = await recordingUpstream();
    const { port } = await front({ upstream: `http://127.0.0.1:${upstream.port}/`, mountPath: '/' });
    await send(port, { method: 'GET', path: '/a/b' });
    expect(upstream.received[0]?.url).toBe('/a/b');
  });

  it.each(['/mcpx', '/other', '//evil.example/mcp', '/mcp;x'])('refuses %s (not under the mount) with 404 and never contacts the upstream', async (path) => {
    const upstream = await recordingUpstream();
    const { port } = await front({ upstream: `http://127.0.0.1:${upstream.port}/mcp`, mountPath: '/mcp' });
    const reply = await send(port, { method: 'GET', path });
    expect(reply.status).toBe(404);
    expect(JSON.parse(reply.body)).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32600 } });
    expect(upstream.received).toEqual([]);
  });

  it.each([
    '/mcp/../admin', '/mcp/./x', '/mcp/%2e%2e/admin', '/mcp/%2E%2E/admin', '/mcp/..%2Fadmin', '/mcp/a%5Cb', '/mcp/a\\b',
    '/mcp/..;/..;/actuator/env', '/mcp/%2e%2e;/x', '/mcp/x;jsessionid=1', '/mcp/%252e%252e/x', '/mcp/%2', '/mcp/%zz',
    '/mcp//x', '/mcp/a b', '/mcp/é', '/mcp/x#frag', '/mcp/%c0%ae%c0%ae/x', '/mcp/%u002e%u002e/x', '/mcp/a%00b', '/mcp/%e9',
  ])('refuses %s with 400 (RFC 3986 §3.3, §5.2.4: servers resolve it differently) and never contacts the upstream', async (path) => {
    const upstream = await recordingUpstream();
    const { port } = await front({ upstream: `http://127.0.0.1:${upstream.port}/mcp`, mountPath: '/mcp' });
    const reply = await rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    // Node's own parser refuses some of these (400) before the gateway sees them; either way, refused.
    expect(reply.split(' ')[1]).toBe('400');
    expect(upstream.received).toEqual([]);
  });
});

describe('response headers', () => {
  it('passes end-to-end headers (Mcp-Session-Id, Set-Cookie, WWW-Authenticate) and drops hop-by-hop ones', async () => {
    const upstream = await recordingUpstream();
    const { port } = await front({ upstream: `http://127.0.0.1:${upstream.port}/mcp`, mountPath: '/mcp' });
    const reply = await send(port, { method: 'GET' });
    expect(reply.headers['mcp-session-id']).toBe('sess-1');
    expect(reply.headers['content-type']).toBe('application/json');
    expect(reply.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(reply.headers['www-authenticate']).toBe('Bearer realm="upstream"');
    expect(reply.headers['x-upstream-hop']).toBeUndefined();
    expect(reply.headers['proxy-authenticate']).toBeUndefined();
    expect(reply.body).toBe('{"jsonrpc":"2.0","id":1,"result":{}}');
  });
});

// ---- (b) SSE streams unbuffered, (c) client abort reaches the upstream ----------------------------

describe('Server-Sent Events', () => {
  it('delivers the first event to the client before the upstream has finished (unbuffered)', async () => {
    const release = deferred();
    let upstreamFinished = false;
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write('event: message\ndata: {"n":1}\n\n');
      void release.promise.then(() => {
        res.end('event: message\ndata: {"n":2}\n\n');
        upstreamFinished = true;
      });
    });
    const upstreamPort = await listen(server);
    const { port } = await front({ upstream: `http://127.0.0.1:${upstreamPort}/mcp`, mountPath: '/mcp' }, { auth: AUTH });

    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/mcp', headers: { accept: 'text/event-stream' }, agent: false }, resolve).on('error', reject);
    });
    expect(res.headers['content-type']).toBe('text/event-stream');
    const first = await nextChunk(res);
    expect(first).toContain('data: {"n":1}');
    expect(upstreamFinished).toBe(false);

    let rest = '';
    res.on('data', (c: Buffer) => (rest += c.toString()));
    const ended = new Promise<void>((resolve) => res.on('end', resolve));
    release.resolve();
    await ended;
    expect(rest).toContain('data: {"n":2}');
  });

  it('aborts the upstream request when the client disconnects mid-stream', async () => {
    const upstreamClosed = deferred();
    const server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
      res.on('close', upstreamClosed.resolve);
      req.resume();
    });
    const upstreamPort = await listen(server);
    const { port } = await front({ upstream: `http://127.0.0.1:${upstreamPort}/mcp`, mountPath: '/mcp' });

    const clientReq = http.get({ host: '127.0.0.1', port, path: '/mcp', agent: false });
    clientReq.on('error', () => undefined);
    const res = await new Promise<IncomingMessage>((resolve) => clientReq.on('response', resolve));
    res.on('error', () => undefined);
    await nextChunk(res);
    clientReq.destroy();
    await upstreamClosed.promise;
  });

  it('aborts the upstream request when the client disconnects before the upstream answered', async () => {
    const upstreamGotRequest = deferred();
    const upstreamClosed = deferred();
    const server = createServer((req, res) => {
      res.on('close', upstreamClosed.resolve);
      req.resume();
      upstreamGotRequest.resolve();
    });
    const upstreamPort = await listen(server);
    const { port } = await front({ upstream: `http://127.0.0.1:${upstreamPort}/mcp`, mountPath: '/mcp' }, { readBody: true });

    const clientReq = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/mcp', agent: false, headers: { 'content-type': 'application/json' } });
    clientReq.on('error', () => undefined);
    clientReq.end(JSON_RPC_CALL);
    await upstreamGotRequest.promise;
    clientReq.destroy();
    await upstreamClosed.promise;
  });

  it('truncates (destroys) the client response when the upstream dies mid-stream', async () => {
    const server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
      setTimeout(() => req.socket.destroy(), 20);
    });
    const upstreamPort = await listen(server);
    const { port } = await front({ upstream: `http://127.0.0.1:${upstreamPort}/mcp`, mountPath: '/mcp' });

    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/mcp', agent: false }, resolve).on('error', reject);
    });
    res.on('error', () => undefined);
    res.resume();
    await new Promise<void>((resolve) => res.on('close', resolve));
    expect(res.complete).toBe(false);
  });
});

// ---- (d) upstream failures --------------------------------------------------------------------

describe('upstream failures answer 502 with a JSON-RPC error and leave the process healthy', () => {
  async function deadPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }

  it('connection refused → 502 carrying the request id, no internal details', async () => {
    const dead = await deadPort();
    const { port } = await front({ upstream: `http://127.0.0.1:${dead}/mcp`, mountPath: '/mcp' }, { auth: AUTH, readBody: true });
    const reply = await send(port, { headers: { 'content-type': 'application/json' }, body: JSON_RPC_CALL });
    expect(reply.status).toBe(502);
    expect(reply.headers['content-type']).toBe('application/json');
    expect(JSON.parse(reply.body)).toEqual({
      jsonrpc: '2.0',
      id: 42,
      error: { code: -32603, message: 'upstream MCP server unreachable' },
    });
    expect(reply.body).not.toContain(String(dead));
    expect(reply.body).not.toContain('ECONNREFUSED');

    // The server is still fine: a second request (no body → id null) is answered the same way.
    const again = await send(port, { method: 'GET' });
    expect(again.status).toBe(502);
    expect(JSON.parse(again.body)).toMatchObject({ id: null });
  });

  it('connect timeout (TLS handshake never completes) → 502, promptly', async () => {
    // The TCP connect succeeds but the peer never speaks TLS: the connect phase of an https
    // upstream includes the handshake, so the timeout must fire.
    const silent = createNetServer((socket) => socket.resume());
    const silentPort = await listen(silent);
    const { port } = await front({ upstream: `https://127.0.0.1:${silentPort}/mcp`, mountPath: '/mcp', connectTimeoutMs: 150 });
    const started = Date.now();
    const reply = await send(port, { method: 'GET' });
    expect(reply.status).toBe(502);
    expect(JSON.parse(reply.body)).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32603, message: 'upstream MCP server unreachable' },
    });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('an upstream that speaks garbage → 502', async () => {
    const garbage = createNetServer((socket) => socket.resume().end('this is not HTTP\r\n\r\n'));
    const upstreamPort = await listen(garbage);
    const { port } = await front({ upstream: `http://127.0.0.1:${upstreamPort}/mcp`, mountPath: '/mcp' }, { readBody: true });
    const reply = await send(port, { headers: { 'content-type': 'application/json' }, body: '[{"jsonrpc":"2.0","id":1,"method":"ping"}]' });
    expect(reply.status).toBe(502);
    expect(JSON.parse(reply.body)).toMatchObject({ id: null, error: { code: -32603 } });
  });
});

describe('options are validated at set-up', () => {
  it.each<[string, GatewayProxyOptions]>([
    ['relative upstream', { upstream: '/mcp', mountPath: '/mcp' }],
    ['non-http upstream', { upstream: 'ftp://example.com/mcp', mountPath: '/mcp' }],
    ['credentials in upstream', { upstream: 'http://user:pw@example.com/mcp', mountPath: '/mcp' }],
    ['fragment in upstream', { upstream: 'http://example.com/mcp#x', mountPath: '/mcp' }],
    ['relative mountPath', { upstream: 'http://example.com/mcp', mountPath: 'mcp' }],
    ['mountPath with query', { upstream: 'http://example.com/mcp', mountPath: '/mcp?x=1' }],
    ['mountPath with dot segments', { upstream: 'http://example.com/mcp', mountPath: '/a/../mcp' }],
    ['zero timeout', { upstream: 'http://example.com/mcp', mountPath: '/mcp', connectTimeoutMs: 0 }],
    ['bad publicBaseUrl', { upstream: 'http://example.com/mcp', mountPath: '/mcp', publicBaseUrl: 'example.com' }],
  ])('%s throws a TypeError', (_label, options) => {
    expect(() => createGatewayProxy(options)).toThrow(TypeError);
  });

  it('does not echo upstream credentials in the error', () => {
    expect(() => createGatewayProxy({ upstream: 'http://user:hunter2@example.com/', mountPath: '/' })).toThrow(
      /^(?!.*hunter2).*$/,
    );
  });
});

// ---- (e) end to end with the official SDK on both sides ---------------------------------------------

describe('end to end: v1 SDK client → gateway → stateful v1 SDK McpServer (SSE responses)', () => {
  it('initializes, calls a tool, receives on the GET stream, and terminates the session', async () => {
    const seen: Array<{ method: string; sessionId: string | undefined }> = [];
    const transports = new Map<string, StreamableHTTPServerTransport>();
    const mcpServers: McpServer[] = [];
    const getStreamOpen = deferred();

    const upstream = createServer((req, res) => {
      const sessionId = typeof req.headers['mcp-session-id'] === 'string' ? req.headers['mcp-session-id'] : undefined;
      seen.push({ method: req.method ?? '', sessionId });
      const existing = sessionId === undefined ? undefined : transports.get(sessionId);
      if (existing !== undefined) {
        void existing.handleRequest(req, res);
        if (req.method === 'GET') getStreamOpen.resolve();
        return;
      }
      if (req.method !== 'POST' || sessionId !== undefined) {
        res.writeHead(404).end();
        return;
      }
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableJsonResponse: false,
        onsessioninitialized: (id) => void transports.set(id, transport),
      });
      const server = new McpServer({ name: 'upstream', version: '1.0.0' });
      mcpServers.push(server);
      server.registerTool('identity', { description: 'Shows what the gateway told us' }, (extra) => ({
        content: [
          {
            type: 'text',
            text: JSON.stringify({
              clientId: extra.requestInfo?.headers['x-warden-client-id'],
              scopes: extra.requestInfo?.headers['x-warden-scopes'],
              authorization: extra.requestInfo?.headers['authorization'] ?? null,
            }),
          },
        ],
      }));
      void server.connect(transport).then(() => transport.handleRequest(req, res));
    });
    const upstreamPort = await listen(upstream);
    cleanups.push(async () => {
      for (const s of mcpServers) await s.close();
    });
    const { port } = await front({ upstream: `http://127.0.0.1:${upstreamPort}/mcp`, mountPath: '/mcp' }, { auth: AUTH, readBody: true });

    const client = new Client({ name: 'e2e', version: '1.0.0' });
    const listChanged = deferred();
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => listChanged.resolve());
    const transport = new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`), {
      requestInit: { headers: { authorization: 'Bearer access-token-never-forwarded' } },
    });
    await client.connect(transport);
    const sessionId = transport.sessionId;
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);

    const result = await client.callTool({ name: 'identity', arguments: {} });
    const content = result.content as Array<{ type: string; text: string }>;
    expect(JSON.parse(content[0]?.text ?? '')).toEqual({
      clientId: 'client-abc',
      scopes: 'mcp:tools mcp:admin',
      authorization: null,
    });

    // The standalone GET stream flows through the gateway: a server notification arrives on it.
    // Notifications sent before the stream is registered are dropped, so repeat until one lands.
    await getStreamOpen.promise;
    const resend = setInterval(() => mcpServers[0]?.sendToolListChanged(), 50);
    mcpServers[0]?.sendToolListChanged();
    await listChanged.promise.finally(() => clearInterval(resend));

    await transport.terminateSession();
    expect(transport.sessionId).toBeUndefined();
    await client.close();

    expect(seen.some((s) => s.method === 'GET' && s.sessionId === sessionId)).toBe(true);
    expect(seen.some((s) => s.method === 'DELETE' && s.sessionId === sessionId)).toBe(true);
    expect(seen.filter((s) => s.method === 'POST' && s.sessionId === sessionId).length).toBeGreaterThanOrEqual(2);
  });
});

describe('sessions belong to the principal that opened them (MCP security best practices: session hijacking)', () => {
  const BOB: WardenAuthInfo = { ...AUTH, clientId: 'client-bob', extra: { ...AUTH.extra, subject: 'bob' } };

  async function sessionFront(store: SessionStore) {
    const upstream = await recordingUpstream();
    const proxy = createGatewayProxy({ upstream: `http://127.0.0.1:${upstream.port}/mcp`, mountPath: '/mcp', sessions: store });
    cleanups.push(() => proxy.close());
    const server = createServer((req: IncomingMessage & { auth?: WardenAuthInfo }, res: ServerResponse) => {
      req.auth = req.headers['x-test-principal'] === 'bob' ? BOB : AUTH;
      proxy(req, res);
    });
    return { port: await listen(server), upstream };
  }
  const as = (who: string, sessionId?: string) => ({ 'x-test-principal': who, 'content-type': 'application/json', ...(sessionId ? { 'mcp-session-id': sessionId } : {}) });

  it('a session id the upstream issues is bound to its opener; another principal gets 404 and the upstream hears nothing; DELETE forgets it', async () => {
    const { port, upstream } = await sessionFront(new MemorySessionStore());
    const opened = await send(port, { headers: as('alice'), body: JSON_RPC_CALL });
    expect(opened.headers['mcp-session-id']).toBe('sess-1');

    const hijack = await send(port, { headers: as('bob', 'sess-1'), body: JSON_RPC_CALL });
    expect(hijack.status).toBe(404);
    expect(JSON.parse(hijack.body)).toMatchObject({ jsonrpc: '2.0', id: 42, error: { code: -32001 } });
    expect(upstream.received).toHaveLength(1);

    expect((await send(port, { method: 'GET', headers: as('alice', 'sess-1') })).status).toBe(200);
    expect((await send(port, { method: 'GET', headers: as('alice', 'never-issued') })).status).toBe(404);

    expect((await send(port, { method: 'DELETE', headers: as('alice', 'sess-1') })).status).toBe(200);
    expect((await send(port, { method: 'GET', headers: as('alice', 'sess-1') })).status).toBe(404);
    expect(upstream.received.map((r) => r.method)).toEqual(['POST', 'GET', 'DELETE']);
  });

  it('an upstream that hands out an id another principal holds is answered 502, the id withheld', async () => {
    const store = new MemorySessionStore();
    const { port } = await sessionFront(store);
    expect((await send(port, { headers: as('alice'), body: JSON_RPC_CALL })).status).toBe(200);
    // The recording upstream issues "sess-1" again, now to bob.
    const reply = await send(port, { headers: as('bob'), body: JSON_RPC_CALL });
    expect(reply.status).toBe(502);
    expect(reply.headers['mcp-session-id']).toBeUndefined();
  });

  it('a session store that cannot answer fails closed: 503 with Retry-After, nothing forwarded', async () => {
    const down: SessionStore = {
      bind: async () => { throw new StoreUnavailableError('down'); },
      owner: async () => { throw new StoreUnavailableError('down'); },
      forget: async () => { throw new StoreUnavailableError('down'); },
      close: async () => undefined,
    };
    const { port, upstream } = await sessionFront(down);
    const reply = await send(port, { method: 'GET', headers: as('alice', 'sess-1') });
    expect(reply.status).toBe(503);
    expect(reply.headers['retry-after']).toBe('1');
    expect(upstream.received).toEqual([]);
    // A new session cannot be bound either: the id never reaches the client.
    const opened = await send(port, { headers: as('alice'), body: JSON_RPC_CALL });
    expect(opened.status).toBe(503);
    expect(opened.headers['mcp-session-id']).toBeUndefined();
  });
});

describe('legacy HTTP+SSE sessions (MCP 2024-11-05): the client gets a Warden token, never the upstream session id', () => {
  const BOB: WardenAuthInfo = { ...AUTH, clientId: 'client-bob', extra: { ...AUTH.extra, subject: 'bob' } };

  async function legacy(firstBytes: string, options: Partial<GatewayProxyOptions> = {}) {
    const posts: string[] = [];
    const server = createServer((req, res) => {
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(firstBytes);
        return;
      }
      req.resume();
      posts.push(req.url ?? '');
      res.writeHead(202).end();
    });
    const upstreamPort = await listen(server);
    const proxy = createGatewayProxy({ upstream: `http://127.0.0.1:${upstreamPort}/mcp`, mountPath: '/mcp', sessions: new MemorySessionStore(), ...options });
    cleanups.push(() => proxy.close());
    const front = createServer((req: IncomingMessage & { auth?: WardenAuthInfo }, res: ServerResponse) => {
      req.auth = req.headers['x-test-principal'] === 'bob' ? BOB : AUTH;
      proxy(req, res);
    });
    const port = await listen(front);
    const stream = await new Promise<IncomingMessage>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/mcp/sse', agent: false, headers: { 'x-test-principal': 'alice' } }, resolve).on('error', reject);
    });
    cleanups.push(() => void stream.destroy());
    let announced = '';
    while (!announced.includes('event: endpoint')) announced += await nextChunk(stream);
    const post = async (path: string, who: string) =>
      (await send(port, { path, headers: { 'x-test-principal': who, 'content-type': 'application/json' }, body: JSON_RPC_CALL })).status;
    return { announced, posts, post, stream };
  }

  it('the endpoint event is rewritten to the mount and an opaque token bound to the opener; only the opener reaches the upstream endpoint', async () => {
    const { announced, posts, post } = await legacy('event: endpoint\ndata: /mcp/messages?sessionId=abc-123\n\n');
    expect(announced).not.toContain('abc-123');
    const endpoint = /data: (\S+)/.exec(announced)?.[1] ?? '';
    expect(endpoint).toMatch(/^\/mcp\?warden_session=[A-Za-z0-9_-]{32}$/);
    expect(await post(endpoint, 'bob')).toBe(404);
    expect(await post(`${endpoint}x`, 'alice')).toBe(404);
    expect(posts).toEqual([]);
    expect(await post(endpoint, 'alice')).toBe(202);
    expect(posts).toEqual(['/mcp/messages?sessionId=abc-123']);
  });

  it('an endpoint announced after a comment or retry field is rewritten all the same (the review\'s bypass 3)', async () => {
    const { announced } = await legacy(': connected\n\nretry: 1000\n\nevent: endpoint\ndata: /mcp/messages/?session_id=a3f1c2d4e5f60718293a4b5c6d7e8f90\n\n');
    expect(announced).toContain(': connected');
    expect(announced).not.toContain('a3f1c2d4');
    expect(announced).toMatch(/data: \/mcp\?warden_session=/);
  });

  it('the binding lives while the stream is open and dies with it (the review\'s bypass 4)', async () => {
    const { announced, post, stream } = await legacy('event: endpoint\ndata: /mcp/messages?sessionId=s1\n\n', { sessionIdleSeconds: 1 });
    const endpoint = /data: (\S+)/.exec(announced)?.[1] ?? '';
    await new Promise((r) => setTimeout(r, 1300));
    expect(await post(endpoint, 'alice')).toBe(202);
    stream.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect(await post(endpoint, 'alice')).toBe(404);
  });

  it('an endpoint on another origin is never announced: the stream is cut', async () => {
    const server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: endpoint\ndata: https://evil.example/messages?sessionId=x\n\n');
    });
    const upstreamPort = await listen(server);
    const proxy = createGatewayProxy({ upstream: `http://127.0.0.1:${upstreamPort}/mcp`, mountPath: '/mcp', sessions: new MemorySessionStore() });
    cleanups.push(() => proxy.close());
    const front = createServer((req: IncomingMessage & { auth?: WardenAuthInfo }, res: ServerResponse) => {
      req.auth = AUTH;
      proxy(req, res);
    });
    const port = await listen(front);
    const body = await new Promise<string>((resolve) => {
      http.get({ host: '127.0.0.1', port, path: '/mcp/sse', agent: false }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('close', () => resolve(text));
        res.on('error', () => resolve(text));
      }).on('error', () => resolve(''));
    });
    expect(body).not.toContain('evil.example');
  });
});

describe('one principal cannot fill the session store (the review\'s M4)', () => {
  it('beyond maxPerOwner live sessions a new one is 429 with Retry-After; others are unaffected', async () => {
    const store = new MemorySessionStore({ maxPerOwner: 2 });
    let n = 0;
    const server = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': `s-${++n}` }).end('{"jsonrpc":"2.0","id":42,"result":{}}');
    });
    const upstreamPort = await listen(server);
    const proxy = createGatewayProxy({ upstream: `http://127.0.0.1:${upstreamPort}/mcp`, mountPath: '/mcp', sessions: store });
    cleanups.push(() => proxy.close());
    const BOB: WardenAuthInfo = { ...AUTH, clientId: 'client-bob', extra: { ...AUTH.extra, subject: 'bob' } };
    const front = createServer((req: IncomingMessage & { auth?: WardenAuthInfo }, res: ServerResponse) => {
      req.auth = req.headers['x-test-principal'] === 'bob' ? BOB : AUTH;
      proxy(req, res);
    });
    const port = await listen(front);
    const open = (who: string) => send(port, { headers: { 'x-test-principal': who, 'content-type': 'application/json' }, body: JSON_RPC_CALL });
    expect((await open('alice')).status).toBe(200);
    expect((await open('alice')).status).toBe(200);
    const third = await open('alice');
    expect(third.status).toBe(429);
    expect(third.headers['retry-after']).toBe('60');
    expect(third.headers['mcp-session-id']).toBeUndefined();
    expect((await open('bob')).status).toBe(200);
  });
});

describe('forwardHeaders: operators may add headers, never credentials or Warden\'s own', () => {
  it('a named header passes; authorization, x-warden-*, x-forwarded-* and underscores are refused at set-up', async () => {
    const upstream = await recordingUpstream();
    const { port } = await front({ upstream: `http://127.0.0.1:${upstream.port}/mcp`, mountPath: '/mcp', forwardHeaders: ['x-tenant'] }, { auth: AUTH });
    await send(port, { headers: { 'x-tenant': 'acme', 'x-other': 'no', 'content-type': 'application/json' }, body: JSON_RPC_CALL });
    expect(upstream.received[0]?.headers['x-tenant']).toBe('acme');
    expect(upstream.received[0]?.headers['x-other']).toBeUndefined();
    for (const name of ['authorization', 'dpop', 'x-warden-subject', 'x-forwarded-user', 'X-Tenant', 'x_tenant', 'connection', 'host']) {
      expect(() => createGatewayProxy({ upstream: 'http://127.0.0.1:1/mcp', mountPath: '/mcp', forwardHeaders: [name] }), name).toThrow(TypeError);
    }
  });
});
