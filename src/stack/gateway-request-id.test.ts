/**
 * The id a gateway request is recorded under is the one the client is answered and the upstream
 * is told: the stack's own `X-Request-Id`, never one the client chose. A client's `X-Request-Id`
 * crossed to the upstream, and an upstream that echoes the request's id (common request-id
 * middleware) then answered the client with the client's own string, which names no audit record
 * — or another client's. A failure the gateway answers itself (502) kept no id at all.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/load.js';
import { createLogger } from '../observability/logger.js';
import { startStack, type RunningStack } from './stack.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** An MCP-ish upstream with request-id middleware: it answers the request's X-Request-Id back. */
async function echoingUpstream(seen: IncomingMessage[]): Promise<string> {
  const server: Server = createServer((req, res) => {
    seen.push(req);
    req.resume();
    req.on('end', () => {
      const id = req.headers['x-request-id'];
      res.writeHead(200, { 'content-type': 'application/json', ...(typeof id === 'string' ? { 'x-request-id': id } : {}) });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { tools: [] } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
}

/** A stack with an audit trail: it answers every request's id in X-Request-Id (and records it). */
async function start(upstream: string): Promise<RunningStack> {
  const dir = await mkdtemp(join(tmpdir(), 'warden-gateway-request-id-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const config = resolveConfig(
    {
      storage: { kind: 'memory' },
      authorizationServer: { demo: true },
      resources: [{ name: 'up', path: '/up', upstream, scopes: { default: ['mcp:tools'] }, upstreamAuth: { kind: 'headers' } }],
      audit: { sink: 'file', path: join(dir, 'audit.log'), instance: 'rid' },
    },
    { env: {} },
  );
  const stack = await startStack(config, { port: 0, logger: createLogger({ write: () => {} }) });
  cleanup.push(() => stack.close());
  return stack;
}

async function token(stack: RunningStack): Promise<string> {
  const service = stack.info.clients.find((c) => c.client_id === 'demo-service')!;
  const res = await fetch(`${stack.url}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`demo-service:${service.client_secret!}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: `${stack.url}/up` }).toString(),
  });
  const body = (await res.json()) as { access_token: string };
  expect([res.status, body]).toEqual([200, expect.objectContaining({ token_type: 'Bearer' })]);
  return body.access_token;
}

function toolsList(stack: RunningStack, accessToken: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${stack.url}/up`, {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
}

describe('gateway X-Request-Id (the id of the audit record)', () => {
  it('a client\'s X-Request-Id is not forwarded: the upstream is told the stack\'s id, so an echoing upstream answers it, not the client\'s string', async () => {
    const seen: IncomingMessage[] = [];
    const stack = await start(await echoingUpstream(seen));
    const res = await toolsList(stack, await token(stack), { 'x-request-id': 'chosen-by-the-client' });
    expect(res.status).toBe(200);
    const answered = res.headers.get('x-request-id');
    expect(answered).toMatch(UUID);
    expect(seen.map((r) => r.headers['x-request-id'])).toEqual([answered]);
  });

  it('a failure the gateway answers itself (RFC 9110 §15.6.3 502, upstream down) still carries X-Request-Id', async () => {
    const dead = await echoingUpstream([]);
    await cleanup.pop()!();
    const stack = await start(dead);
    const res = await toolsList(stack, await token(stack));
    expect(res.status).toBe(502);
    expect(res.headers.get('x-request-id')).toMatch(UUID);
  });
});
