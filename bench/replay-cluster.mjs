#!/usr/bin/env node
// DPoP claims per second through Warden's Redis replay store (`createRedisReplayStore` from dist/),
// 64 in flight from one process: one Redis; a Redis Cluster of three masters and three replicas
// without and with the replica acknowledgement (`replicaAcks`, WAIT 1 — the cluster default).
// Rounds interleaved; medians and ratios to the single Redis.
//
//   npm run build && node bench/replay-cluster.mjs    (~40 s; writes bench/results/replay-cluster.md)
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createProcessGroup, startRedis, startRedisCluster } from './soak/services.mjs';

const ROOT = resolve(fileURLToPath(new URL('../', import.meta.url)));
const { createRedisReplayStore } = await import(join(ROOT, 'dist/stores/index.js'));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const IN_FLIGHT = 64;

const work = await mkdtemp(join(tmpdir(), 'warden-replay-cluster-'));
const group = createProcessGroup();
const stores = [];
try {
  const single = await startRedis(group, join(work, 'single'));
  const cluster = await startRedisCluster(group, join(work, 'cluster'));
  const variants = {
    'one Redis (SET NX PX)': await createRedisReplayStore({ url: single.url }),
    'Redis Cluster, replicaAcks 0 (SET NX PX)': await createRedisReplayStore({ nodes: cluster.urls, replicaAcks: 0 }),
    'Redis Cluster, replicaAcks 1 (SET NX PX + WAIT 1, default)': await createRedisReplayStore({ nodes: cluster.urls }),
  };
  stores.push(...Object.values(variants));
  const prefix = randomBytes(6).toString('base64url');
  let counter = 0;
  async function round(store) {
    const end = performance.now() + SECONDS * 1000;
    let done = 0;
    const worker = async () => {
      while (performance.now() < end) {
        // The shape of a real proof key: 22 characters of a hash, so keys spread over every slot.
        if (!(await store.claim(`${prefix}${(counter += 1).toString(36).padStart(14, '0')}`, 120))) throw new Error('a fresh key was refused');
        done += 1;
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    return done / SECONDS;
  }
  const results = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (const [name, store] of Object.entries(variants)) await round(store); // warm-up
  for (let r = 0; r < ROUNDS; r += 1) {
    const names = Object.keys(variants);
    for (let i = 0; i < names.length; i += 1) {
      const name = names[(i + r) % names.length];
      results[name].push(await round(variants[name]));
      process.stderr.write(`round ${r + 1} ${name}: ${Math.round(results[name].at(-1))}/s\n`);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const base = median(Object.values(results)[0]);
  const lines = ['# Replay claims per second: one Redis vs a Redis Cluster', '', `${ROUNDS} rounds × ${SECONDS} s, ${IN_FLIGHT} claims in flight from one Node process, everything on 127.0.0.1 (${new Date().toISOString()}).`, '', '| store | claims/s (median) | vs one Redis |', '| --- | ---: | ---: |'];
  for (const [name, xs] of Object.entries(results)) lines.push(`| ${name} | ${Math.round(median(xs)).toLocaleString('en')} | ${(median(xs) / base).toFixed(2)}× |`);
  const text = `${lines.join('\n')}\n`;
  process.stdout.write(text);
  await mkdir(join(ROOT, 'bench/results'), { recursive: true });
  await writeFile(join(ROOT, 'bench/results/replay-cluster.md'), text);
  await Promise.all(stores.map((s) => s.close()));
  await single.stop();
  await cluster.stop();
} finally {
  group.dispose();
  await rm(work, { recursive: true, force: true }).catch(() => undefined);
}
