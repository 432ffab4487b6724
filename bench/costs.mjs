#!/usr/bin/env node
// What one request of each kind costs the shared stores: Redis commands (INFO commandstats) and
// PostgreSQL transactions and rows written (pg_stat_database), measured around N sequential
// requests of one kind against one `warden serve` on a PostgreSQL and a Redis this script starts.
// Also: Redis memory per live DPoP proof (INFO memory around 200,000 claims of the store's shape).
//
//   npm run build && node bench/costs.mjs     (~40 s; writes bench/results/costs.md)
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Redis } from 'ioredis';
import { createProofSigner, generateEs256 } from './lib/jwt.mjs';
import { createClient } from './soak/client.mjs';
import { cpuSeconds, createProcessGroup, freePort, missingComponents, startPostgres, startRedis, wardenCommand, wardenInstance } from './soak/services.mjs';
import { createTrafficContext } from './soak/traffic.mjs';

const ROOT = resolve(fileURLToPath(new URL('../', import.meta.url)));
const CLI = join(ROOT, 'dist/cli/main.js');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const missing = missingComponents().filter((m) => !m.startsWith('haproxy'));
if (missing.length > 0) {
  process.stderr.write(`costs: missing ${missing.join(', ')}\n`);
  process.exit(2);
}

const work = await mkdtemp(join(tmpdir(), 'warden-costs-'));
await chmod(work, 0o711);
const group = createProcessGroup();
const stops = [];
try {
  const postgres = await startPostgres(group, join(work, 'pg'));
  stops.push(() => postgres.stop());
  const redisServer = await startRedis(group, work);
  stops.push(() => redisServer.stop());
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const serviceSecret = randomBytes(32).toString('base64url');
  const configFile = join(work, 'warden.json');
  await writeFile(
    configFile,
    JSON.stringify({
      publicUrl: base,
      storage: { kind: 'postgres', url: postgres.url, schema: 'warden_costs' },
      replay: { kind: 'redis', url: redisServer.url },
      authorizationServer: {
        secret: randomBytes(48).toString('base64url'),
        clients: [
          { clientId: 'costs-cli', redirectUris: ['http://127.0.0.1/callback'] },
          { clientId: 'costs-service', clientSecret: serviceSecret, grantTypes: ['client_credentials'], scope: 'mcp:tools' },
        ],
      },
      resources: [{ name: 'demo', path: '/mcp', upstream: 'builtin:demo', dpop: 'required' }],
    }),
  );
  const password = randomBytes(18).toString('base64url');
  await wardenCommand(CLI, ['users', 'add', 'costs-user', '--password-stdin', '--config', configFile], { input: `${password}\n` });
  await mkdir(join(work, 'out'), { recursive: true });
  const instance = wardenInstance(group, { cli: CLI, configFile, port, dir: join(work, 'out'), name: 'warden' });
  await instance.start();
  stops.push(() => instance.stop());

  const redis = new Redis(redisServer.url);
  const db = new pg.Client({ connectionString: postgres.url });
  await db.connect();
  stops.push(async () => {
    redis.disconnect();
    await db.end();
  });

  const commandStats = async () => {
    const stats = {};
    for (const m of (await redis.info('commandstats')).matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) stats[m[1]] = Number(m[2]);
    return stats;
  };
  const pgStats = async () => {
    // Backends report their counters at most once a second while idle.
    await sleep(1500);
    await db.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await db.query("SELECT xact_commit::bigint AS x, (tup_inserted + tup_updated + tup_deleted)::bigint AS w FROM pg_stat_database WHERE datname = 'postgres'");
    return { transactions: Number(rows[0].x), rowsWritten: Number(rows[0].w) };
  };
  /** Runs `fn` n times; returns per-request Redis commands (by name) and PostgreSQL work. */
  const cpu = () => ({ warden: cpuSeconds(instance.pid), redis: cpuSeconds(redisServer.pid), postgres: cpuSeconds(postgres.pid, { children: true }) });
  async function measure(n, fn) {
    const r0 = await commandStats();
    const p0 = await pgStats();
    const c0 = cpu();
    for (let i = 0; i < n; i += 1) await fn();
    const c1 = cpu();
    const p1 = await pgStats();
    const r1 = await commandStats();
    // CPU milliseconds per request of each process (idle work such as key reloads included).
    const cpuMs = Object.fromEntries(Object.keys(c0).map((k) => [k, Math.round(((c1[k] - c0[k]) * 1000 * 100) / n) / 100]));
    // INFO itself, and this script's two stats transactions, are not the requests' doing.
    const redisPer = {};
    for (const [cmd, calls] of Object.entries(r1)) {
      const d = calls - (r0[cmd] ?? 0) - (cmd === 'info' ? 1 : 0);
      if (d > 0) redisPer[cmd] = Math.round((d / n) * 100) / 100;
    }
    return { n, cpuMs, redis: redisPer, pgTransactions: Math.round(((p1.transactions - p0.transactions - 2) / n) * 100) / 100, pgRowsWritten: Math.round(((p1.rowsWritten - p0.rowsWritten) / n) * 100) / 100 };
  }

  const metadata = await (await fetch(`${base}/.well-known/oauth-authorization-server`)).json();
  const ctx = createTrafficContext({ base, resource: `${base}/mcp`, tokenEndpoint: metadata.token_endpoint, authorizationEndpoint: metadata.authorization_endpoint });
  const client = createClient(ctx, { user: 'costs-user', password, clientId: 'costs-cli', redirectUri: 'http://127.0.0.1/callback' });
  await client.authorize(); // first sign-in: consent recorded once
  const rows = [];
  rows.push(['authorization-code flow (authorize, sign-in page and post, token; consent remembered)', await measure(10, () => client.authorize())]);
  rows.push(['tools/call (DPoP, fresh proof)', await measure(1000, () => client.callTool())]);
  rows.push(['refresh_token (rotation, DPoP)', await measure(300, () => client.refresh())]);
  const basic = `Basic ${Buffer.from(`costs-service:${serviceSecret}`).toString('base64')}`;
  const serviceKey = generateEs256();
  const signProof = createProofSigner(serviceKey.privateKey, serviceKey.publicJwk);
  rows.push([
    'client_credentials (DPoP; the resource requires it)',
    await measure(500, async () => {
      const dpop = signProof('POST', metadata.token_endpoint, undefined, randomBytes(12).toString('base64url'));
      const res = await fetch(metadata.token_endpoint, { method: 'POST', headers: { authorization: basic, dpop, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'client_credentials', resource: `${base}/mcp`, scope: 'mcp:tools' }) });
      if (res.status !== 200) throw new Error(`client_credentials: ${res.status}`);
      await res.text();
    }),
  ]);

  // Memory per live proof: the replay store's exact key shape (prefix + 22-character hash), value
  // "1", a TTL — in a fresh database of the same server.
  const mem = new Redis(`${redisServer.url}/1`);
  const used = async () => Number(/used_memory:(\d+)/.exec(await mem.info('memory'))[1]);
  const before = await used();
  const keys = 200_000;
  for (let i = 0; i < keys; i += 1000) {
    const batch = mem.pipeline();
    for (let j = 0; j < 1000; j += 1) batch.set(`warden:replay:${randomBytes(16).toString('base64url').slice(0, 22)}`, '1', 'PX', 120_000, 'NX');
    await batch.exec();
  }
  const bytesPerProof = Math.round((await used()) - before) / keys;
  mem.disconnect();

  const lines = ['# Store costs per request', '', `One \`warden serve\` (PostgreSQL storage, Redis replay), sequential requests; ${new Date().toISOString()}. Redis: commands per request from INFO commandstats; PostgreSQL: transactions (reads included) and rows written per request from pg_stat_database.`, '', '| request | n | Redis commands per request | PostgreSQL transactions | PostgreSQL rows written |', '| --- | ---: | --- | ---: | ---: |'];
  for (const [name, m] of rows) lines.push(`| ${name} | ${m.n} | ${Object.entries(m.redis).map(([c, v]) => `${c} ${v}`).join(', ') || '—'} | ${m.pgTransactions} | ${m.pgRowsWritten} |`);
  lines.push('', 'CPU time per request, each process (10 ms clock ticks over n requests; sequential, so no batching helps):', '', '| request | Warden ms | Redis ms | PostgreSQL ms (all backends) |', '| --- | ---: | ---: | ---: |');
  for (const [name, m] of rows) lines.push(`| ${name} | ${m.cpuMs.warden} | ${m.cpuMs.redis} | ${m.cpuMs.postgres} |`);
  lines.push('', `Redis memory per live DPoP proof (200,000 keys \`warden:replay:<22 chars>\`, value "1", PX TTL): **${bytesPerProof.toFixed(1)} bytes** → ${((bytesPerProof * 1e6) / 2 ** 20).toFixed(0)} MiB per million live proofs.`, '');
  const text = lines.join('\n');
  process.stdout.write(`${text}\n`);
  await mkdir(join(ROOT, 'bench/results'), { recursive: true });
  await writeFile(join(ROOT, 'bench/results/costs.md'), text);
} finally {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  group.dispose();
  await rm(work, { recursive: true, force: true }).catch(() => undefined);
}
