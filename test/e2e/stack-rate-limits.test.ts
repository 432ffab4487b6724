/**
 * `resources[].rateLimit` through `warden serve`'s stack (in process), in front of a real MCP
 * upstream (official v1 SDK): per-client token buckets answered 429 with `Retry-After` (RFC 6585
 * §4) and the draft-ietf-httpapi-ratelimit-headers fields as JSON-RPC errors; with Redis replay
 * the buckets are in Redis, so two instances behind one public URL share them.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/observability/logger.js';
import { startStack, type RunningStack } from '../../src/stack/stack.js';
import { startMcpUpstream, type McpUpstream } from '../helpers/mcp-upstream.js';
import { requireService, testService } from '../helpers/services.js';
import { createTestIssuer, type TestIssuer } from '../helpers/test-issuer.js';

const redis = await testService('redis');
const quiet = createLogger({ write: () => undefined });
const stacks: RunningStack[] = [];
let upstream: McpUpstream;
let issuer: TestIssuer;

beforeAll(async () => {
  upstream = await startMcpUpstream({ jsonResponse: true });
  issuer = await createTestIssuer({ issuer: 'https://idp.example.com', audience: 'set-per-token' });
});

afterAll(async () => {
  await Promise.all(stacks.splice(0).map((s) => s.close()));
  await upstream.close();
});

/** A stack whose one gateway resource allows each client a burst of 2, refilled every 100 s. */
async function start(publicUrl: string, replay: Record<string, unknown>): Promise<{ stack: RunningStack; url: string }> {
  const config = resolveConfig(
    {
      publicUrl,
      storage: { kind: 'memory' },
      replay,
      authorizationServer: { enabled: false },
      resources: [
        {
          name: 'files',
          path: '/files',
          upstream: upstream.url,
          dpop: 'allowed',
          trust: { issuer: issuer.issuer, jwks: issuer.jwks },
          rateLimit: { perClient: { rate: 0.01, burst: 2 } },
        },
      ],
    },
    { env: {} },
  );
  const stack = await startStack(config, { port: 0, logger: quiet, shutdownGraceMs: 100 });
  stacks.push(stack);
  return { stack, url: `http://127.0.0.1:${(stack.server.address() as AddressInfo).port}/files` };
}

const initialize = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'rl', version: '1' } } });

async function post(url: string, token: string): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: initialize });
}

describe('resources[].rateLimit through the stack (memory)', () => {
  it('RFC 6585 §4: the third request of a client in a burst of 2 → 429, Retry-After, RateLimit fields, JSON-RPC error; another client passes', async () => {
    const publicUrl = `https://mcp-${randomUUID().slice(0, 8)}.example.com`;
    const { url } = await start(publicUrl, { kind: 'memory' });
    const token = await issuer.mint({ aud: `${publicUrl}/files`, client_id: 'agent-1' });
    expect((await post(url, token)).status).toBe(200);
    expect((await post(url, token)).status).toBe(200);
    const limited = await post(url, token);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(99);
    expect(limited.headers.get('ratelimit-policy')).toBe('"per-client";q=2;w=200');
    expect(limited.headers.get('ratelimit')).toMatch(/^"per-client";r=0;t=\d+$/);
    expect(await limited.json()).toMatchObject({ jsonrpc: '2.0', id: 1, error: { code: -32000 } });
    const other = await issuer.mint({ aud: `${publicUrl}/files`, client_id: 'agent-2' });
    expect((await post(url, other)).status).toBe(200);
  });
});

describe.skipIf(redis.skip)(`resources[].rateLimit with Redis replay: shared by instances (WARDEN_TEST_REDIS_URL)${redis.note}`, () => {
  it('two instances behind one public URL share a client\'s bucket', async () => {
    const redisUrl = await requireService(redis);
    const publicUrl = `https://mcp-${randomUUID().slice(0, 8)}.example.com`;
    const a = await start(publicUrl, { kind: 'redis', url: redisUrl });
    const b = await start(publicUrl, { kind: 'redis', url: redisUrl });
    const token = await issuer.mint({ aud: `${publicUrl}/files`, client_id: 'agent-shared' });
    expect((await post(a.url, token)).status).toBe(200);
    expect((await post(b.url, token)).status).toBe(200);
    const limited = await post(a.url, token);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).not.toBeNull();
  });
});

describe('authorizationServer.rateLimit.tokenEndpoint.perClient (RFC 6585 §4 at the token endpoint)', () => {
  it('the third token request of a client in a burst of 2 → 429 with Retry-After and RateLimit fields; a wrong secret spends nothing', async () => {
    const secret = randomUUID() + randomUUID();
    const config = resolveConfig(
      {
        storage: { kind: 'memory' },
        replay: { kind: 'memory' },
        authorizationServer: {
          enabled: true,
          secret: randomUUID() + randomUUID(),
          clients: [{ clientId: 'svc', clientSecret: secret, grantTypes: ['client_credentials'], scope: 'mcp:tools' }],
          rateLimit: { tokenEndpoint: { perClient: { rate: 0.01, burst: 2 } } },
        },
        resources: [{ name: 'demo', path: '/mcp', upstream: 'builtin:demo' }],
      },
      { env: {} },
    );
    const stack = await startStack(config, { port: 0, logger: quiet, shutdownGraceMs: 100 });
    stacks.push(stack);
    const tokenUrl = `${stack.url}/token`;
    const request = (password: string) =>
      fetch(tokenUrl, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`svc:${password}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource: `${stack.url}/mcp` }),
      });
    expect((await request('wrong-secret-wrong-secret-wrong-secret')).status).toBe(401);
    expect((await request(secret)).status).toBe(200);
    expect((await request(secret)).status).toBe(200);
    const limited = await request(secret);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(99);
    expect(limited.headers.get('ratelimit-policy')).toBe('"token-per-client";q=2;w=200');
    expect(limited.headers.get('ratelimit')).toMatch(/^"token-per-client";r=0;t=\d+$/);
    expect(limited.headers.get('cache-control')).toBe('no-store');
    expect(await limited.json()).toMatchObject({ error: 'temporarily_unavailable' });
  });
});
