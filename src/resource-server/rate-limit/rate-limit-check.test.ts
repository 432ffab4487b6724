/**
 * Rate limits in the resource-server gauntlet, on the memory store and a real Redis: 429 with
 * `Retry-After` (RFC 6585 §4) and the draft-ietf-httpapi-ratelimit-headers fields, a JSON-RPC
 * body for MCP; per client and per subject; the store down → 503 with `Retry-After` (fail closed).
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createResourceServer, type ResourceServer } from '../index.js';
import { createTestIssuer, type TestIssuer } from '../../../test/helpers/test-issuer.js';
import { requireService, testService } from '../../../test/helpers/services.js';
import { MemoryRateLimitStore } from '../../stores/memory/rate-limit-store.js';
import { createRedisRateLimitStore } from '../../stores/redis/rate-limit-store.js';
import type { RateLimitStore } from '../../stores/rate-limit.js';
import { createRateLimitCheck } from './rate-limit-check.js';

const RESOURCE = 'https://mcp.example.com/mcp';
const redis = await testService('redis');
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

const call = { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'echo', arguments: {} } };

async function setup(store: RateLimitStore, limits: { perClient?: { rate: number; burst: number }; perSubject?: { rate: number; burst: number } }) {
  const issuer = await createTestIssuer({ audience: RESOURCE });
  const rs = createResourceServer({
    resource: RESOURCE,
    trust: { issuer: issuer.issuer, jwks: issuer.jwks },
    dpop: 'disabled',
    checks: [createRateLimitCheck({ store, scope: `${RESOURCE}#${randomUUID()}`, ...limits })],
  });
  closers.push(() => rs.close(), () => store.close());
  return { issuer, rs };
}

async function send(rs: ResourceServer, issuer: TestIssuer, claims: Record<string, unknown> = {}) {
  const token = await issuer.mint(claims);
  return rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: call });
}

function backends(): Array<[string, () => Promise<RateLimitStore>]> {
  const list: Array<[string, () => Promise<RateLimitStore>]> = [['memory', async () => new MemoryRateLimitStore()]];
  if (!redis.skip) list.push(['redis', async () => createRedisRateLimitStore({ url: await requireService(redis), keyPrefix: `warden:test:rl:${randomUUID()}:` })]);
  return list;
}

for (const [name, open] of backends()) {
  describe(`rate limits in the gauntlet (${name})`, () => {
    it('RFC 6585 §4: past the per-client burst → 429, Retry-After, RateLimit-Policy and RateLimit fields, JSON-RPC body', async () => {
      const { issuer, rs } = await setup(await open(), { perClient: { rate: 0.05, burst: 2 } });
      const first = await send(rs, issuer);
      const second = await send(rs, issuer);
      expect([first.ok, second.ok]).toEqual([true, true]);
      const third = await send(rs, issuer);
      expect(third.ok).toBe(false);
      if (third.ok) return;
      expect(third.status).toBe(429);
      expect(third.error).toBe('temporarily_unavailable');
      expect(third.headers['WWW-Authenticate']).toBeUndefined();
      const retryAfter = Number(third.headers['Retry-After']);
      expect(retryAfter).toBeGreaterThanOrEqual(19);
      expect(retryAfter).toBeLessThanOrEqual(20);
      expect(third.headers['RateLimit-Policy']).toBe('"per-client";q=2;w=40');
      expect(third.headers['RateLimit']).toMatch(/^"per-client";r=0;t=(39|40)$/);
      const body = JSON.parse(third.body) as { jsonrpc: string; id: unknown; error: { code: number; message: string } };
      expect(body.jsonrpc).toBe('2.0');
      expect(body.id).toBe(9);
      expect(body.error.message).toMatch(/too many requests from this client/);
      // Another client has its own bucket.
      expect((await send(rs, issuer, { client_id: 'client-2' })).ok).toBe(true);
    });

    it('per subject: one user across two clients shares a bucket; a token without sub skips it', async () => {
      const { issuer, rs } = await setup(await open(), { perSubject: { rate: 0.05, burst: 1 } });
      expect((await send(rs, issuer, { sub: 'alice', client_id: 'a' })).ok).toBe(true);
      const again = await send(rs, issuer, { sub: 'alice', client_id: 'b' });
      expect(again.ok).toBe(false);
      if (!again.ok) {
        expect(again.status).toBe(429);
        expect(again.headers['RateLimit-Policy']).toBe('"per-subject";q=1;w=20');
      }
      expect((await send(rs, issuer, { sub: 'bob', client_id: 'b' })).ok).toBe(true);
      expect((await send(rs, issuer, { sub: undefined, client_id: 'service' })).ok).toBe(true);
      expect((await send(rs, issuer, { sub: undefined, client_id: 'service' })).ok).toBe(true);
    });
  });
}

describe('rate limits when the store cannot answer', () => {
  it.skipIf(redis.skip)(`fails closed: a Redis that does not answer → 503 with Retry-After, never an unlimited pass${redis.note}`, async () => {
    const store = await createRedisRateLimitStore({ url: await requireService(redis), keyPrefix: `warden:test:rl:${randomUUID()}:` });
    await store.close(); // the connection is gone: every take rejects with StoreUnavailableError
    const { issuer, rs } = await setup(store, { perClient: { rate: 1, burst: 5 } });
    const result = await send(rs, issuer);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.status).toBe(503);
    expect(result.error).toBe('temporarily_unavailable');
    expect(Number(result.headers['Retry-After'])).toBeGreaterThanOrEqual(1);
  });

  it('refuses at set-up a bucket that is not { rate > 0, burst ≥ 1 }', () => {
    const store = new MemoryRateLimitStore();
    expect(() => createRateLimitCheck({ store, scope: 's', perClient: { rate: 0, burst: 1 } })).toThrow(/rateLimit.perClient.rate/);
    expect(() => createRateLimitCheck({ store, scope: 's' })).toThrow(/perClient and\/or perSubject/);
  });
});
