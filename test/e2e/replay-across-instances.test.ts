/**
 * Many instances, one replay store: a DPoP proof accepted by one instance is refused by every
 * other (RFC 9449 §11.1), and an unreachable store fails closed (503), then recovers by itself.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResourceServer, type ResourceServer } from '../../src/resource-server/index.js';
import { createRedisReplayStore } from '../../src/stores/index.js';
import type { ReplayStore } from '../../src/stores/contracts.js';
import { createDpopKey, createTestIssuer, parseChallenges, type TestDpopKey, type TestIssuer } from '../helpers/test-issuer.js';
import { hasRedisServerBinary, RedisServerProcess } from '../helpers/redis-server.js';
import { requireService, testService } from '../helpers/services.js';

const PUBLIC = 'https://mcp.example.com';
const RESOURCE = `${PUBLIC}/mcp`;
const redis = await testService('redis');
const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn().catch(() => {});
});

/** One "instance": its own replay-store connection, resource server and node:http server. */
async function startInstance(issuer: TestIssuer, store: ReplayStore): Promise<{ url: string; rs: ResourceServer }> {
  const rs = createResourceServer({ resource: RESOURCE, trust: { issuer: issuer.issuer, jwks: issuer.jwks }, dpop: 'required', replayStore: store, scopes: { default: ['mcp:tools'] } });
  const server: Server = createServer(rs.node((_req, res) => res.end('ok')));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup.push(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await store.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`, rs };
}

async function signedRequest(issuer: TestIssuer, key: TestDpopKey) {
  const token = await issuer.mint({ aud: RESOURCE, cnf: { jkt: key.jkt } });
  // Behind a load balancer every instance has the same public URL: that is the htu.
  const proof = await key.proof({ htm: 'POST', htu: RESOURCE, accessToken: token });
  return { method: 'POST', headers: { authorization: `DPoP ${token}`, dpop: proof, 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' };
}

describe.skipIf(redis.skip)(`two instances sharing one real Redis (WARDEN_TEST_REDIS_URL)${redis.note}`, () => {
  let a: { url: string };
  let b: { url: string };
  let issuer: TestIssuer;
  let key: TestDpopKey;
  beforeAll(async () => {
    const url = await requireService(redis);
    const keyPrefix = `warden:e2e:${randomUUID()}:`;
    issuer = await createTestIssuer({ audience: RESOURCE });
    key = await createDpopKey();
    a = await startInstance(issuer, await createRedisReplayStore({ url, keyPrefix }));
    b = await startInstance(issuer, await createRedisReplayStore({ url, keyPrefix }));
  });

  it('RFC 9449 §11.1: a proof accepted by instance A is refused by instance B as a replay', async () => {
    const req = await signedRequest(issuer, key);
    expect((await fetch(a.url, req)).status).toBe(200);
    const replay = await fetch(b.url, req);
    expect(replay.status).toBe(401);
    const challenge = parseChallenges(replay.headers.get('www-authenticate')).find((c) => c.scheme === 'DPoP');
    expect(challenge?.params.error).toBe('invalid_dpop_proof');
    expect(challenge?.params.error_description).toMatch(/already been used/);
  });

  it('20 instances-worth of concurrent sends of one proof: exactly one is accepted', async () => {
    const req = await signedRequest(issuer, key);
    const statuses = await Promise.all(Array.from({ length: 20 }, (_, i) => fetch(i % 2 === 0 ? a.url : b.url, req).then((r) => r.status)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 401)).toHaveLength(19);
  });
});

describe.skipIf(!hasRedisServerBinary())('Redis outage: fail closed, recover without a restart', () => {
  let redisProcess: RedisServerProcess;
  let a: { url: string };
  let b: { url: string };
  let issuer: TestIssuer;
  let key: TestDpopKey;
  beforeAll(async () => {
    redisProcess = await RedisServerProcess.start();
    cleanup.push(() => redisProcess.kill());
    issuer = await createTestIssuer({ audience: RESOURCE });
    key = await createDpopKey();
    a = await startInstance(issuer, await createRedisReplayStore({ url: redisProcess.url, commandTimeoutMs: 300 }));
    b = await startInstance(issuer, await createRedisReplayStore({ url: redisProcess.url, commandTimeoutMs: 300 }));
  });

  it('Redis stopped → every request answers 503 with Retry-After and none is accepted; Redis back → service resumes', async () => {
    expect((await fetch(a.url, await signedRequest(issuer, key))).status).toBe(200);
    await redisProcess.kill();

    const during = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const res = await fetch(i % 2 === 0 ? a.url : b.url, await signedRequest(issuer, key));
        return { status: res.status, retryAfter: res.headers.get('retry-after') };
      }),
    );
    for (const r of during) {
      expect(r.status).toBe(503);
      expect(Number(r.retryAfter)).toBeGreaterThan(0);
    }

    await redisProcess.start();
    // Reconnection is the client's own backoff; poll (bounded) until both instances answer again.
    const deadline = Date.now() + 15_000;
    const recovered = new Set<string>();
    while (recovered.size < 2 && Date.now() < deadline) {
      for (const url of [a.url, b.url]) {
        if (recovered.has(url)) continue;
        const status = (await fetch(url, await signedRequest(issuer, key))).status;
        if (status === 200) recovered.add(url);
        else expect(status).toBe(503);
      }
      if (recovered.size < 2) await new Promise((r) => setTimeout(r, 100));
    }
    expect(recovered.size).toBe(2);

    // And replay protection is back too.
    const req = await signedRequest(issuer, key);
    expect((await fetch(a.url, req)).status).toBe(200);
    expect((await fetch(b.url, req)).status).toBe(401);
  });
});
