// `npm run bench`: requests/second of the RS gauntlet (DPoP-bound JWT + a fresh proof per request)
// for several node:http servers, then tokens/second of the token endpoint (Warden vs
// node-oidc-provider, token.mjs), measured side by side in one run and reported as ratios.
// See bench/README.md. Options (env): BENCH_ROUNDS, BENCH_SECONDS, BENCH_CONCURRENCY, BENCH_ONLY,
// BENCH_WARMUP_SECONDS, WARDEN_BENCH_REDIS_URL.
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { checkVariant } from './lib/correctness.mjs';
import { cpuMs, createChildren, freePort, redisReachable } from './lib/processes.mjs';
import { ecThumbprint, generateEs256, mintAccessToken } from './lib/jwt.mjs';
import { fatal, ISSUER, MCP_PATH, roundOptions, toolsCallBody } from './lib/shared.mjs';
import { markdownReport, tokenMarkdownReport } from './lib/report.mjs';
import { pkgVersion, runTokenSuite, TOKEN_VARIANTS } from './token.mjs';

const options = {
  ...roundOptions(),
  redisUrl: process.env.WARDEN_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
};
const MAX_PROOFS = 600_000;

/** What each variant checks decides what the correctness gate expects of it. */
const VARIANTS = [
  { name: 'bare', checks: 'none', note: 'no checks (physical limit of this harness)' },
  { name: 'minimal', checks: 'full', note: 'node:crypto, keys cached by thumbprint' },
  {
    name: 'minimal-token-cache', script: 'minimal', config: { tokenCache: true }, checks: 'full',
    note: 'minimal + verified access tokens cached by token string (proof still verified every request)',
  },
  { name: 'jose-naive', checks: 'full', note: 'jose jwtVerify + EmbeddedJWK, no caching' },
  { name: 'oauth4webapi', checks: 'no-replay', note: 'validateJwtAccessToken; no replay store' },
  { name: 'warden-memory', checks: 'full', note: 'Warden node adapter, memory replay store, verified-token cache (default)' },
  {
    name: 'warden-memory-audit', script: 'warden-memory', config: { audit: true }, checks: 'full',
    note: 'warden-memory with the audit trail on: a hash-chained warden.audit/1 record per decision, JSON lines to a file (issue 12: ≥ 0.9× of warden-memory)',
  },
  { name: 'warden-memory-nocache', script: 'warden-memory', config: { tokenCache: false }, checks: 'full', note: 'Warden with tokenCache: false: both signatures every request' },
  { name: 'warden-redis', checks: 'full', note: 'Warden node adapter, Redis replay store', redis: true },
  // A second build measured in the same rounds: how to judge a change of Warden itself.
  ...(process.env.BENCH_WARDEN_DIST_B
    ? [
      { name: 'warden-memory-b', script: 'warden-memory', env: { BENCH_WARDEN_DIST: process.env.BENCH_WARDEN_DIST_B }, checks: 'full', note: `Warden build B (${process.env.BENCH_WARDEN_DIST_B}), memory replay store` },
      { name: 'warden-memory-audit-b', script: 'warden-memory', config: { audit: true }, env: { BENCH_WARDEN_DIST: process.env.BENCH_WARDEN_DIST_B }, checks: 'full', note: `warden-memory-audit on build B (${process.env.BENCH_WARDEN_DIST_B})` },
    ]
    : []),
];

const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
const ALL_NAMES = [...VARIANTS, ...TOKEN_VARIANTS].map((v) => v.name);
if (only) {
  const unknown = only.filter((n) => !ALL_NAMES.includes(n));
  if (unknown.length) fatal(`BENCH_ONLY: unknown variant(s) ${unknown.join(', ')}; known: ${ALL_NAMES.join(', ')}`);
}
const selected = VARIANTS.filter((v) => !only || only.includes(v.name)).map((v) => ({ ...v, rates: [], issues: [] }));

const log = (msg) => process.stderr.write(`${msg}\n`);
const children = createChildren();
const startedAt = performance.now();
const loadStart = os.loadavg()[0];

async function main() {
  if (selected.length > 0) log(`bench: resource server: ${selected.length} variants × ${options.rounds} rounds × ${options.seconds} s, concurrency ${options.concurrency}` +
    (children.pinned ? ', servers on core 1, load on core 0' : ', taskset not found: not pinned'));

  // One issuer key and one client (DPoP) key per run; servers receive public keys only.
  const issuerKey = generateEs256('bench-issuer-1');
  const clientKey = generateEs256();
  const jkt = ecThumbprint(clientKey.publicJwk);
  const jwks = { keys: [issuerKey.publicJwk] };

  const load = await children.spawn('load', 'load.mjs', 0, {});
  await load.next('ready', 10_000);

  let seq = 0;
  const runLoad = async (v, seconds, proofs, reuse) => {
    load.child.send({
      type: 'run', id: ++seq, port: v.port, path: MCP_PATH, htu: v.resource, token: v.token,
      body: toolsCallBody(), seconds, concurrency: options.concurrency, proofs, reuse,
      clientPrivateJwk: clientKey.privateJwk, clientPublicJwk: clientKey.publicJwk,
    });
    // The server's CPU per answered request: neighbours on a shared machine move it far less than the rate.
    const cpu0 = cpuMs(v.server.child.pid);
    const r = await load.next('result', seconds * 1000 + 120_000);
    const cpu = cpuMs(v.server.child.pid) - cpu0;
    return { ...r, rate: r.ok / (r.elapsedMs / 1000), cpuUs: r.counted > 0 ? (cpu * 1000) / r.counted : NaN };
  };

  // Start, check and warm up the servers one at a time; they then idle while others run.
  for (const v of selected) {
    if (v.redis && !(await redisReachable(options.redisUrl))) {
      v.skipped = `Redis unreachable at ${options.redisUrl} (set WARDEN_BENCH_REDIS_URL)`;
      log(`bench: ${v.name}: skipped — ${v.skipped}`);
      continue;
    }
    v.port = await freePort();
    v.resource = `http://127.0.0.1:${v.port}${MCP_PATH}`;
    v.token = mintAccessToken({ issuer: ISSUER, resource: v.resource, kid: issuerKey.publicJwk.kid, privateKey: issuerKey.privateKey, jkt });
    const config = { port: v.port, publicUrl: `http://127.0.0.1:${v.port}`, resource: v.resource, issuer: ISSUER, jwks, redisUrl: options.redisUrl };
    Object.assign(config, v.config);
    const server = await children.spawn(v.name, `servers/${v.script ?? v.name}.mjs`, 1, { BENCH_SERVER_CONFIG: JSON.stringify(config), ...v.env });
    const hello = await server.next(['ready', 'unavailable'], 30_000).catch((err) => ({ type: 'unavailable', reason: err.message }));
    if (hello.type !== 'ready') {
      v.skipped = hello.reason;
      log(`bench: ${v.name}: skipped — ${v.skipped}`);
      server.kill();
      continue;
    }
    v.server = server;
    const verdict = await checkVariant(v, { issuerKey, clientKey, jkt, jwks });
    v.correctness = verdict;
    if (!verdict.ok) {
      v.skipped = `failed correctness gate: ${verdict.failures.join('; ')}`;
      log(`bench: ${v.name}: EXCLUDED — ${v.skipped}`);
      server.kill();
      continue;
    }
    const warm = await runLoad(v, options.warmupSeconds, v.checks === 'none' ? 2_000 : 40_000, v.checks === 'none');
    v.estimate = warm.rate;
    log(`bench: ${v.name}: ready on :${v.port}, correctness ok (${verdict.summary}), warm-up ${Math.round(warm.rate)} req/s`);
  }

  const live = selected.filter((v) => !v.skipped);
  for (let round = 0; round < options.rounds; round++) {
    // Rotate the order each round so no variant always runs first or last.
    const order = live.map((_, i) => live[(i + round) % live.length]);
    for (const v of order) {
      const reuse = v.checks === 'none';
      // Pools are sized from the best rate seen so far, with room for a faster round (JIT, neighbours).
      const proofs = reuse ? 2_000 : Math.min(MAX_PROOFS, Math.ceil(v.estimate * options.seconds * 1.6) + 4 * options.concurrency);
      const r = await runLoad(v, options.seconds, proofs, reuse);
      v.rates[round] = r.rate;
      (v.cpuUs ??= [])[round] = r.cpuUs;
      v.estimate = Math.max(v.estimate, r.rate);
      const bad = r.counted - r.ok;
      if (bad > 0) v.issues.push(`round ${round + 1}: ${bad} non-200 (${JSON.stringify(r.statuses)})`);
      if (r.errors > 0) v.issues.push(`round ${round + 1}: ${r.errors} socket errors (${r.firstError})`);
      if (r.exhausted && r.elapsedMs < options.seconds * 900) v.issues.push(`round ${round + 1}: proof pool ran out at ${(r.elapsedMs / 1000).toFixed(1)} s`);
      log(`bench: round ${round + 1}/${options.rounds} ${v.name.padEnd(14)} ${Math.round(r.rate).toString().padStart(7)} req/s ${Math.round(r.cpuUs).toString().padStart(5)} µs CPU/req` +
        `  (${r.ok} ok in ${(r.elapsedMs / 1000).toFixed(2)} s; ` +
        (reuse ? `one ${proofs}-proof pool reused: no checks)` : `${proofs} fresh proofs signed in ${Math.round(r.genMs)} ms beforehand)`));
    }
  }

  // The resource servers are done: stop them before the token endpoint is measured.
  for (const v of live) v.server.kill();
  const tokenVariants = await runTokenSuite({ children, load, options, log, only });

  const meta = {
    ...options,
    node: process.version,
    openssl: process.versions.openssl,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    pinned: children.pinned,
    versions: { jose: pkgVersion('jose'), oauth4webapi: pkgVersion('oauth4webapi') },
    oidcProvider: pkgVersion('oidc-provider'),
    totalSeconds: (performance.now() - startedAt) / 1000,
    loadStart,
    loadEnd: os.loadavg()[0],
  };
  const parts = [];
  if (selected.length > 0) parts.push(markdownReport(selected, meta));
  if (tokenVariants.length > 0) parts.push(tokenMarkdownReport(tokenVariants, { ...meta, standalone: selected.length === 0 }));
  const report = parts.join('\n');
  process.stdout.write(`${report}\n`);
  const dir = new URL('./results/', import.meta.url);
  await mkdir(dir, { recursive: true });
  await writeFile(new URL('latest.md', dir), `${report}\n`);
  log(`bench: written to bench/results/latest.md`);
}

const shutdown = (code) => {
  children.killAll();
  process.exit(code);
};
process.on('SIGINT', () => shutdown(130));
process.on('SIGTERM', () => shutdown(143));
process.on('exit', () => children.killAll());

main().then(
  () => shutdown(0),
  (err) => {
    log(`bench: failed: ${err?.stack ?? err}`);
    shutdown(1);
  },
);
