/**
 * The Redis stores on a real Redis Cluster the test starts (three masters, three replicas): the
 * shared conformance suites, the key layout, and a master failover under load — requests answer
 * 503 during the failover at most, recover by themselves, and no proof is ever accepted twice.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResourceServer, type ResourceServer } from '../../resource-server/index.js';
import { createDpopKey, createTestIssuer, type TestDpopKey, type TestIssuer } from '../../../test/helpers/test-issuer.js';
import { hasRedisClusterBinaries, RedisCluster } from '../../../test/helpers/redis-cluster.js';
import { isCi } from '../../../test/helpers/services.js';
import { StoreUnavailableError, type ReplayStore } from '../contracts.js';
import { describeReplayStoreConformance } from '../conformance/replay-store.conformance.js';
import { describeSessionStoreConformance } from '../conformance/session-store.conformance.js';
import { clusterKey } from './cluster-key.js';
import { createRedisReplayStore } from './replay-store.js';
import { createRedisSessionStore } from './session-store.js';

const available = hasRedisClusterBinaries();
if (!available) {
  const message = 'Redis Cluster suites need /usr/bin/redis-server and /usr/bin/redis-cli (apt-get install redis-server)';
  if (isCi()) throw new Error(`${message}; CI is set, so this fails rather than skips`);
  console.info(`[warden tests] ${message}: skipped.`);
}
const skipNote = available ? '' : ' (skipped: redis-server / redis-cli missing)';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('Redis Cluster key layout (no server needed)', () => {
  it('hash tag: a DPoP proof key (no ":") is its own group — proofs spread over every master', () => {
    expect(clusterKey('warden:replay:', 'q5zv1Yc3bE2x0yJ8kLmN4w')).toBe('warden:replay:{q5zv1Yc3bE2x0yJ8kLmN4w}');
  });

  it('hash tag: keys that differ only in their last ":" segment share a slot (sign-in attempts of one interaction)', () => {
    expect(clusterKey('p:', 'warden:login:abc:1')).toBe('p:{warden:login:abc}:1');
    expect(clusterKey('p:', 'warden:login-account:h:42:20')).toBe('p:{warden:login-account:h:42}:20');
  });

  it('a group with braces or an empty group is hashed; braces in the prefix cannot open a tag', () => {
    expect(clusterKey('p:', 'a{b}:x')).toMatch(/^p:\{[A-Za-z0-9_-]{43}\}:x$/);
    expect(clusterKey('p:', ':x')).toMatch(/^p:\{[A-Za-z0-9_-]{43}\}:x$/);
    expect(clusterKey('{p}:', 'k:x')).toBe('_p_:{k}:x');
  });

  it('rejects url together with nodes, and nodes that are not redis URLs, without echoing them', async () => {
    await expect(createRedisReplayStore({ url: 'redis://127.0.0.1:1', nodes: ['redis://127.0.0.1:2'] })).rejects.toThrow(/not both/);
    await expect(createRedisReplayStore({ nodes: [] })).rejects.toThrow(TypeError);
    await expect(createRedisReplayStore({ nodes: ['http://user:hunter2@127.0.0.1:1'] })).rejects.not.toThrow(/hunter2/);
    await expect(createRedisReplayStore({ nodes: ['redis://127.0.0.1:1'], replicaAcks: -1 })).rejects.toThrow(TypeError);
  });
});

describe.skipIf(!available)(`Redis Cluster: three masters, three replicas${skipNote}`, () => {
  let cluster: RedisCluster | undefined;
  const keyPrefix = `warden:test:${randomUUID()}:`;
  beforeAll(async () => {
    cluster = await RedisCluster.start();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });
  const nodes = (): string[] => cluster?.urls ?? [];

  describeReplayStoreConformance('redis-cluster', () => createRedisReplayStore({ nodes: nodes(), keyPrefix }));
  describeSessionStoreConformance('redis-cluster', () => createRedisSessionStore({ nodes: nodes(), keyPrefix }));

  it('RFC 9449 §11.1: two instances × 25 concurrent claims of one key on the cluster, one true', async () => {
    const [a, b] = await Promise.all([createRedisReplayStore({ nodes: nodes(), keyPrefix }), createRedisReplayStore({ nodes: nodes(), keyPrefix })]);
    try {
      const key = `jkt-${randomUUID()}:jti`;
      const claims = Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).claim(key, 60));
      expect((await Promise.all(claims)).filter(Boolean)).toHaveLength(1);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('keys of one group land in one slot, keys of many groups spread over every master', async () => {
    const store = await createRedisReplayStore({ nodes: nodes(), keyPrefix });
    try {
      const groups = Array.from({ length: 30 }, () => `warden:login:${randomUUID()}`);
      for (const group of groups) for (let i = 1; i <= 3; i += 1) expect(await store.claim(`${group}:${i}`, 60)).toBe(true);
      const port = cluster!.ports[0]!;
      const slotOf = async (key: string) => Number((await cluster!.cli(port, 'cluster', 'keyslot', key)).trim());
      for (const group of groups.slice(0, 3)) {
        const slots = new Set(await Promise.all([1, 2, 3].map((i) => slotOf(clusterKey(keyPrefix, `${group}:${i}`)))));
        expect(slots.size).toBe(1);
      }
      const masters = (await cluster!.describe()).filter((n) => n.role === 'master');
      const counts = await Promise.all(masters.map(async (m) => Number((await cluster!.cli(m.port, 'dbsize')).trim())));
      expect(counts.every((n) => n > 0)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('DESIGN fail closed: a hung master (SIGSTOP) rejects its claims with StoreUnavailableError within the command timeout; other slots answer; nothing is accepted twice', async () => {
    const store = await createRedisReplayStore({ nodes: nodes(), keyPrefix, commandTimeoutMs: 150 });
    const master = (await cluster!.describe()).find((n) => n.role === 'master' && n.slots.length > 0)!;
    const keys = Array.from({ length: 30 }, () => randomUUID());
    const accepted = new Map<string, number>();
    const count = (key: string, won: boolean) => accepted.set(key, (accepted.get(key) ?? 0) + (won ? 1 : 0));
    try {
      // Shorter than cluster-node-timeout (1 s): a hang, not a failover.
      cluster!.pause(master.port);
      const during = await Promise.allSettled(keys.map((key) => store.claim(key, 60)));
      cluster!.resume(master.port);
      during.forEach((outcome, i) => {
        if (outcome.status === 'fulfilled') count(keys[i]!, outcome.value);
        else expect(outcome.reason).toBeInstanceOf(StoreUnavailableError);
      });
      expect(during.some((o) => o.status === 'rejected')).toBe(true);
      expect(during.some((o) => o.status === 'fulfilled' && o.value)).toBe(true);
      for (let round = 0; round < 2; round += 1) {
        for (const key of keys) {
          const won = await store.claim(key, 60).catch((error: unknown) => {
            expect(error).toBeInstanceOf(StoreUnavailableError);
            return false;
          });
          count(key, won);
        }
      }
      expect([...accepted.values()].every((n) => n <= 1)).toBe(true);
    } finally {
      cluster!.resume(master.port);
      await store.close();
    }
  });

  it('fails at start with StoreUnavailableError when no node answers', async () => {
    await expect(createRedisReplayStore({ nodes: ['redis://127.0.0.1:1'], connectTimeoutMs: 300 })).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  describe('master failover under load (RFC 9449 §11.1: never accepted twice)', () => {
    const RESOURCE = 'https://mcp.example.com/mcp';
    let issuer: TestIssuer;
    let key: TestDpopKey;
    let token: string;
    beforeAll(async () => {
      issuer = await createTestIssuer({ audience: RESOURCE });
      key = await createDpopKey();
      token = await issuer.mint({ aud: RESOURCE, cnf: { jkt: key.jkt } });
    });

    /** Two "instances": each its own cluster connection and resource server. */
    async function instances(): Promise<{ servers: ResourceServer[]; stores: ReplayStore[] }> {
      const stores = await Promise.all([0, 1].map(() => createRedisReplayStore({ nodes: nodes(), keyPrefix, commandTimeoutMs: 500 })));
      const servers = stores.map((replayStore) =>
        createResourceServer({ resource: RESOURCE, trust: { issuer: issuer.issuer, jwks: issuer.jwks }, dpop: 'required', replayStore, scopes: { default: ['mcp:tools'] } }),
      );
      return { servers, stores };
    }

    async function request(): Promise<{ method: string; url: string; headers: Record<string, string>; body: string }> {
      const proof = await key.proof({ htm: 'POST', htu: RESOURCE, accessToken: token });
      return { method: 'POST', url: RESOURCE, headers: { authorization: `DPoP ${token}`, dpop: proof, 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' };
    }

    /**
     * Sends fresh requests and replays of accepted ones, alternately to both instances, until
     * `stop()` says so; counts every outcome. A replay answered 200 is a replay accepted.
     */
    function load(servers: ResourceServer[]) {
      const counts = { fresh200: 0, fresh503: 0, replay401: 0, replay503: 0, replayAccepted: 0, other: [] as string[] };
      const accepted: Array<Awaited<ReturnType<typeof request>>> = [];
      let running = true;
      let sent = 0;
      const worker = async (w: number) => {
        while (running) {
          const server = servers[(sent += 1) % servers.length]!;
          const req = await request();
          const fresh = await server.verify(req);
          const status = fresh.ok ? 200 : fresh.status;
          if (status === 200) {
            counts.fresh200 += 1;
            accepted.push(req);
          } else if (status === 503) counts.fresh503 += 1;
          else counts.other.push(`fresh ${status}`);
          const earlier = accepted[(w * 7919 + sent) % Math.max(accepted.length, 1)];
          if (earlier !== undefined) {
            const replay = await servers[(sent + 1) % servers.length]!.verify(earlier);
            const replayStatus = replay.ok ? 200 : replay.status;
            if (replayStatus === 200) counts.replayAccepted += 1;
            else if (replayStatus === 401) counts.replay401 += 1;
            else if (replayStatus === 503) counts.replay503 += 1;
            else counts.other.push(`replay ${replayStatus}`);
          }
          if (status === 503) await sleep(20);
        }
      };
      const workers = Array.from({ length: 4 }, (_, w) => worker(w));
      return {
        counts,
        accepted,
        async stop() {
          running = false;
          await Promise.all(workers);
        },
      };
    }

    /** Polls until a fresh request is accepted by every instance (service came back by itself). */
    async function waitForRecovery(servers: ResourceServer[]): Promise<boolean> {
      const deadline = Date.now() + 20_000;
      const recovered = new Set<number>();
      while (recovered.size < servers.length && Date.now() < deadline) {
        for (const [i, server] of servers.entries()) {
          const result = await server.verify(await request());
          if (result.ok) recovered.add(i);
          else expect(result.status).toBe(503);
        }
        await sleep(50);
      }
      return recovered.size === servers.length;
    }

    /**
     * Every request accepted during the run, sent again to each instance until it gets an answer
     * other than 503 (at most 20 tries): the final answers, counted by status — all 401 expected.
     */
    async function replayAll(servers: ResourceServer[], accepted: Array<Awaited<ReturnType<typeof request>>>): Promise<Record<number, number>> {
      const statuses: Record<number, number> = {};
      for (const req of accepted) {
        for (const server of servers) {
          let status = 503;
          for (let attempt = 0; attempt < 20 && status === 503; attempt += 1) {
            if (attempt > 0) await sleep(50);
            const result = await server.verify(req);
            status = result.ok ? 200 : result.status;
          }
          statuses[status] = (statuses[status] ?? 0) + 1;
        }
      }
      return statuses;
    }

    it('SIGKILL of a master: 503 while its slots move, recovery without a restart, zero replays accepted', async () => {
      const { servers, stores } = await instances();
      try {
        const run = load(servers);
        await sleep(1000);
        const master = (await cluster!.describe()).find((n) => n.role === 'master' && n.slots.length > 0)!;
        await cluster!.kill(master.port);
        // The replica is promoted after cluster-node-timeout (1 s) plus an election.
        const promoted = Date.now() + 20_000;
        while (Date.now() < promoted) {
          const view = await cluster!.describe();
          const dead = view.find((n) => n.port === master.port);
          if (dead?.failing && view.some((n) => n.role === 'master' && n.slots.join() === master.slots.join() && n.port !== master.port)) break;
          await sleep(100);
        }
        await sleep(1000);
        // The crashed node comes back (as an orchestrator would restart it) and rejoins as a replica.
        await cluster!.restart(master.port);
        await cluster!.waitUntilHealthy();
        expect(await waitForRecovery(servers)).toBe(true);
        await sleep(500);
        await run.stop();
        const { counts } = run;
        console.info(`[redis-cluster failover: SIGKILL] ${JSON.stringify({ ...counts, other: counts.other.length })}`);
        expect(counts.other).toEqual([]);
        expect(counts.replayAccepted).toBe(0);
        expect(counts.fresh200).toBeGreaterThan(0);
        expect(counts.replay401).toBeGreaterThan(0);
        const after = await replayAll(servers, run.accepted);
        console.info(`[redis-cluster failover: SIGKILL] every accepted request replayed after recovery: ${JSON.stringify(after)}`);
        expect(after[200]).toBeUndefined();
        expect(Object.keys(after)).toEqual(['401']);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    }, 90_000);

    it('manual failover (CLUSTER FAILOVER on a replica): zero replays accepted, service goes on', async () => {
      const { servers, stores } = await instances();
      try {
        const run = load(servers);
        await sleep(1000);
        const view = await cluster!.describe();
        const replica = view.find((n) => n.role === 'replica' && view.some((m) => m.id === n.masterId && m.role === 'master'))!;
        await cluster!.cli(replica.port, 'cluster', 'failover');
        const deadline = Date.now() + 20_000;
        while (Date.now() < deadline && (await cluster!.describe()).find((n) => n.port === replica.port)?.role !== 'master') await sleep(100);
        await cluster!.waitUntilHealthy();
        expect(await waitForRecovery(servers)).toBe(true);
        await sleep(500);
        await run.stop();
        const { counts } = run;
        console.info(`[redis-cluster failover: manual] ${JSON.stringify({ ...counts, other: counts.other.length })}`);
        expect(counts.other).toEqual([]);
        expect(counts.replayAccepted).toBe(0);
        const after = await replayAll(servers, run.accepted);
        expect(Object.keys(after)).toEqual(['401']);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    }, 90_000);
  });
});
