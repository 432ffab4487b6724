/**
 * Servers routed by host (`url: http://files.localhost:<port>/`) beside path-routed ones: the
 * canonical URI is the server's own (RFC 8707 audience, RFC 9728 metadata at its host's root),
 * a request reaches it only under its Host, and a token for it is refused elsewhere.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../config/load.js';
import { createLogger } from '../../observability/logger.js';
import { freePort } from '../../../test/helpers/free-port.js';
import { startMcpUpstream, type McpUpstream } from '../../../test/helpers/mcp-upstream.js';
import { mintToken } from '../../../test/helpers/mint-token.js';
import { startStack, type RunningStack } from '../stack.js';

let stack: RunningStack;
let upstream: McpUpstream;
let port = 0;

beforeAll(async () => {
  port = await freePort();
  upstream = await startMcpUpstream();
  const config = resolveConfig(
    {
      publicUrl: `http://127.0.0.1:${port}`,
      storage: { kind: 'memory' },
      resources: [
        { name: 'demo', path: '/mcp', upstream: 'builtin:demo' },
        { name: 'files', url: `http://files.localhost:${port}/`, upstream: 'builtin:demo' },
        { name: 'gw', url: `http://gw.localhost:${port}/`, upstream: upstream.url },
      ],
    },
    { env: {}, port },
  );
  stack = await startStack(config, { logger: createLogger({ write: () => {} }), registryPollMs: 0 });
});
afterAll(async () => {
  await stack?.close();
  await upstream?.close();
});

function send(host: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { host, ...headers, ...(body ? { 'content-length': Buffer.byteLength(body) } : {}) } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const mcp = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const echo = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } });

describe('routing by host (RFC 8707 canonical URI of the server itself)', () => {
  it('a request under the server host reaches it with a token for its own URI; that token is refused by a path-routed server', async () => {
    const token = await mintToken(stack, { resource: `http://files.localhost:${port}`, scope: 'mcp:tools' });
    const ok = await send(`files.localhost:${port}`, 'POST', '/', { ...mcp, authorization: `Bearer ${token}` }, echo);
    expect(ok.status, ok.text).toBe(200);
    const elsewhere = await send(`127.0.0.1:${port}`, 'POST', '/mcp', { ...mcp, authorization: `Bearer ${token}` }, echo);
    expect(elsewhere.status).toBe(401);
    expect(String(elsewhere.headers['www-authenticate'])).toMatch(/invalid_token/);
  });

  it('RFC 9728 §3.1: its metadata is at its own host\'s root well-known path; the challenge points there', async () => {
    const prm = await send(`files.localhost:${port}`, 'GET', '/.well-known/oauth-protected-resource');
    expect(prm.status).toBe(200);
    expect((JSON.parse(prm.text) as { resource: string }).resource).toBe(`http://files.localhost:${port}`);
    const challenge = await send(`files.localhost:${port}`, 'POST', '/', mcp, echo);
    expect(challenge.status).toBe(401);
    expect(String(challenge.headers['www-authenticate'])).toContain(`resource_metadata="http://files.localhost:${port}/.well-known/oauth-protected-resource"`);
  });

  it('another Host does not reach it (404), and the gateway forwards a host-routed server to its upstream', async () => {
    expect((await send(`127.0.0.1:${port}`, 'POST', '/', mcp, echo)).status).toBe(404);
    expect((await send(`other.localhost:${port}`, 'POST', '/', mcp, echo)).status).toBe(404);
    const token = await mintToken(stack, { resource: `http://gw.localhost:${port}`, scope: 'mcp:tools' });
    const init = await send(
      `gw.localhost:${port}`,
      'POST',
      '/',
      { ...mcp, authorization: `Bearer ${token}` },
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
    );
    expect(init.status, init.text).toBe(200);
    expect(upstream.requests.at(-1)?.url).toBe('/mcp');
  });

  it('a configuration gives path or url, not both; two servers on one host and path are refused', () => {
    expect(() => resolveConfig({ storage: { kind: 'memory' }, resources: [{ name: 'a', path: '/a', url: 'http://a.localhost/', upstream: 'builtin:demo' }] }, { env: {} })).toThrow(/resources\[0\]\.path: give path or url, not both/);
    expect(() => resolveConfig({ storage: { kind: 'memory' }, resources: [{ name: 'a', upstream: 'builtin:demo' }] }, { env: {} })).toThrow(/resources\[0\]\.path: required/);
    expect(() =>
      resolveConfig({ storage: { kind: 'memory' }, resources: [{ name: 'a', url: 'http://a.localhost/', upstream: 'builtin:demo' }, { name: 'b', url: 'http://a.localhost/x', upstream: 'builtin:demo' }] }, { env: {} }),
    ).toThrow(/resources\[1\]\.url: .* overlaps resources\[0\]\.url/);
  });
});
