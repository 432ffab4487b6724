// The token-endpoint benchmark (issues 3 and 14): Warden's authorization server next to
// node-oidc-provider on the same grants — client_secret_basic, one resource, one scope, ES256 JWT
// access tokens: `client_credentials` with a fresh DPoP proof per request and without,
// `refresh_token` with rotation on every use, `authorization_code` with PKCE — Warden on its
// memory, SQLite and PostgreSQL stores, measured side by side in one run and reported as ratios.
// `npm run bench` runs it after the resource-server table (run.mjs); `node bench/token.mjs` runs
// it alone. See bench/README.md.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { cpuMs, createChildren, freePort, tcpReachable } from './lib/processes.mjs';
import { ecThumbprint, generateEs256 } from './lib/jwt.mjs';
import {
  basicAuthorization, checkGrantVariant, checkTokenVariant, codeRequestBody, refreshRequestPrefix, tokenRequestBody,
} from './lib/token-correctness.mjs';
import { tokenMarkdownReport } from './lib/report.mjs';
import { fatal, roundOptions } from './lib/shared.mjs';

/** The same for both servers. */
const RESOURCE = 'https://mcp.example.com/mcp';
const SCOPE = 'mcp:tools';
const CLIENT_ID = 'bench';
const TOKEN_PATH = '/token';
const JWKS_PATH = '/jwks';
const MAX_PROOFS = 400_000;
const MAX_CODES = 200_000;
const REDIRECT_URI = 'https://client.example/cb';
/** PostgreSQL for the `-postgres-` rows (each run in a schema of its own, dropped at the end). */
const POSTGRES_URL = process.env.WARDEN_BENCH_POSTGRES_URL ?? process.env.WARDEN_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** Enough entries for every code pool of a run (see servers/token-oidc-provider.mjs). */
const OIDC_LRU_SIZE = 5_000_000;

/**
 * BENCH_WARDEN_DIST_B: a second Warden build (e.g. a design change) measured in the same rounds as
 * `dist/` — rows `token-warden-b-*`, so the two builds are compared side by side, not across runs.
 */
const DIST_B = process.env.BENCH_WARDEN_DIST_B;

const CC = 'client_credentials';
const warden = (store, grant, dpop, extra = {}) => ({
  name: `token-warden-${store === 'memory' ? '' : `${store}-`}${grant === CC ? (dpop ? 'dpop' : 'bearer') : grant === 'refresh_token' ? 'refresh' : 'code'}`,
  impl: 'warden', script: 'token-warden', store, grant, dpop, ...extra,
});
const oidcProvider = (grant, dpop, extra = {}) => ({
  name: `token-oidc-provider-${grant === CC ? (dpop ? 'dpop' : 'bearer') : grant === 'refresh_token' ? 'refresh' : 'code'}`,
  impl: 'oidc-provider', script: 'token-oidc-provider', store: 'memory', grant, dpop, ...extra,
});

export const TOKEN_VARIANTS = [
  { ...warden('memory', CC, true), target: 2, note: 'Warden createAuthorizationServer, memory stores' },
  ...(DIST_B ? [{ name: 'token-warden-b-dpop', impl: 'warden', script: 'token-warden', store: 'memory', grant: CC, dpop: true, env: { BENCH_WARDEN_DIST: DIST_B }, note: `Warden build B (${DIST_B})` }] : []),
  { ...oidcProvider(CC, true), note: 'node-oidc-provider, features.dPoP, default memory adapter' },
  { ...warden('sqlite', CC, true), target: 1.5, note: 'Warden on SQLite (a file, WAL, synchronous FULL: `warden start`\'s default)' },
  { ...warden('postgres', CC, true), note: 'Warden on PostgreSQL (own schema)' },
  { ...warden('memory', CC, false), target: 2, note: 'Warden, no DPoP header' },
  ...(DIST_B ? [{ name: 'token-warden-b-bearer', impl: 'warden', script: 'token-warden', store: 'memory', grant: CC, dpop: false, env: { BENCH_WARDEN_DIST: DIST_B }, note: `Warden build B (${DIST_B}), no DPoP header` }] : []),
  { ...oidcProvider(CC, false), note: 'node-oidc-provider, no DPoP header (features.dPoP off)' },
  { ...warden('sqlite', CC, false), target: 1.5, note: 'Warden on SQLite, no DPoP header' },
  { ...warden('postgres', CC, false), note: 'Warden on PostgreSQL, no DPoP header' },
  { ...warden('memory', 'refresh_token', false), note: 'Warden, memory stores: rotation on every use' },
  { ...oidcProvider('refresh_token', false), note: 'node-oidc-provider, rotateRefreshToken: true, default memory adapter' },
  { ...warden('sqlite', 'refresh_token', false), note: 'Warden on SQLite: rotation on every use' },
  { ...warden('postgres', 'refresh_token', false), note: 'Warden on PostgreSQL: rotation on every use' },
  { ...warden('memory', 'authorization_code', false), note: 'Warden, memory stores: code + PKCE S256, first refresh token' },
  { ...oidcProvider('authorization_code', false), lruSize: OIDC_LRU_SIZE, note: `node-oidc-provider, memory adapter with its LRU enlarged to ${OIDC_LRU_SIZE.toLocaleString('en-US')} entries (the default 1,000 evicts a code pool)` },
  { ...warden('sqlite', 'authorization_code', false), note: 'Warden on SQLite: code + PKCE S256, first refresh token' },
  { ...warden('postgres', 'authorization_code', false), note: 'Warden on PostgreSQL: code + PKCE S256, first refresh token' },
];

export function pkgVersion(name) {
  try {
    return JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

/**
 * Starts, checks and warms up the selected token variants one at a time, then measures them in
 * interleaved rounds through the shared load generator `load`. Returns the variants with their
 * per-round rates (or `skipped` reasons); servers are killed before returning.
 */
export async function runTokenSuite({ children, load, options, log, only, postgresUrl = POSTGRES_URL }) {
  const selected = TOKEN_VARIANTS.filter((v) => !only || only.includes(v.name)).map((v) => ({ ...v, rates: [], issues: [] }));
  if (selected.length === 0) return selected;
  log(`bench: token endpoint: ${selected.length} variants × ${options.rounds} rounds × ${options.seconds} s`);

  const clientKey = generateEs256();
  const jkt = ecThumbprint(clientKey.publicJwk);
  const signing = generateEs256(`bench-as-${randomBytes(4).toString('hex')}`); // oidc-provider's key; Warden makes its own
  const clientSecret = randomBytes(32).toString('base64url');
  const serverSecret = randomBytes(36).toString('base64url'); // 48 characters
  const runId = `${process.pid}_${randomBytes(3).toString('hex')}`;
  const stateDirs = [];
  const schemas = [];
  // `postgresUrl: null` (a caller without PostgreSQL) skips the PostgreSQL rows.
  const postgresUp = postgresUrl !== null && selected.some((v) => v.store === 'postgres') && (await tcpReachable(postgresUrl, 5432));

  let seq = 0;
  const runLoad = async (v, seconds, extra) => {
    const cpu0 = cpuMs(v.server.child.pid);
    const loadCpu0 = cpuMs(load.child.pid);
    load.child.send({
      type: 'run', id: ++seq, port: v.port, path: TOKEN_PATH, htu: v.htu, body: v.body, headers: v.headers,
      seconds, concurrency: options.concurrency, proofs: 0, reuse: false,
      clientPrivateJwk: clientKey.privateJwk, clientPublicJwk: clientKey.publicJwk, ...extra,
    });
    const r = await load.next('result', seconds * 1000 + 120_000);
    // CPU the server spent per answered request: unlike the rate, neighbours on the machine
    // barely change it (time spent waiting, e.g. for fsync, is not in it).
    const cpu = cpuMs(v.server.child.pid) - cpu0;
    // The load generator's share too: if it, not the server, is what runs out of CPU, the rate says so here.
    const loadCpu = cpuMs(load.child.pid) - loadCpu0;
    return { ...r, rate: r.ok / (r.elapsedMs / 1000), cpuUs: r.counted > 0 ? (cpu * 1000) / r.counted : NaN, loadCpuUs: r.counted > 0 ? (loadCpu * 1000) / r.counted : NaN };
  };
  // Pools are sized from the best rate seen so far with a wide margin: a token endpoint warms up
  // slowly (the first rate is often half the steady one), and signing spare proofs is cheap.
  const poolFor = (v, seconds, max) => Math.min(max, Math.ceil(v.estimate * seconds * 2.5) + 4 * options.concurrency);
  /** `count` codes minted by the server, as [code, verifier] pairs. */
  const mint = async (v, count) => {
    const id = ++seq;
    v.server.child.send({ type: 'mint-codes', id, count });
    const reply = await v.server.next('codes', 300_000);
    if (reply.error) throw new Error(`${v.name}: minting codes failed: ${reply.error}`);
    return reply.codes;
  };
  /** Refresh chains: one per connection and a few spare, each started by redeeming a code. */
  const topUpChains = async (v) => {
    const want = options.concurrency + 8;
    if (v.chains.length >= want) return;
    const codes = await mint(v, want - v.chains.length);
    const bodies = codes.map(([code, verifier]) => codeRequestBody(v, code, verifier));
    const r = await runLoad(v, 600, { bodies, collect: true });
    for (const token of r.refreshTokens ?? []) v.chains.push(token);
    if (v.chains.length < options.concurrency) throw new Error(`${v.name}: only ${v.chains.length} refresh chains could be started`);
  };
  /** One timed run of `v`: the pool (proofs, codes or chains) prepared beforehand, outside the window. */
  const timed = async (v, seconds) => {
    const t0 = performance.now();
    if (v.grant === 'authorization_code') {
      const codes = await mint(v, poolFor(v, seconds, MAX_CODES));
      const bodies = codes.map(([code, verifier]) => codeRequestBody(v, code, verifier));
      const mintMs = performance.now() - t0;
      return { ...(await runLoad(v, seconds, { bodies })), pool: `${bodies.length} codes minted in ${Math.round(mintMs)} ms beforehand` };
    }
    if (v.grant === 'refresh_token') {
      await topUpChains(v);
      const r = await runLoad(v, seconds, { refresh: { prefix: refreshRequestPrefix(v), tokens: v.chains } });
      v.chains = r.refreshTokens;
      return { ...r, pool: `${options.concurrency + 8} rotation chains${r.deadChains ? `, ${r.deadChains} ended by a non-rotation` : ''}` };
    }
    const proofs = v.dpop ? poolFor(v, seconds, MAX_PROOFS) : 0;
    const r = await runLoad(v, seconds, { proofs });
    return { ...r, pool: v.dpop ? `${proofs} fresh proofs signed in ${Math.round(r.genMs)} ms beforehand` : 'no proof' };
  };

  for (const v of selected) {
    v.port = await freePort();
    v.issuer = `http://127.0.0.1:${v.port}`;
    v.htu = `${v.issuer}${TOKEN_PATH}`;
    Object.assign(v, { tokenPath: TOKEN_PATH, jwksPath: JWKS_PATH, resource: RESOURCE, scope: SCOPE, clientId: CLIENT_ID, clientSecret, redirectUri: REDIRECT_URI });
    v.body = tokenRequestBody(v);
    v.headers = { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuthorization(CLIENT_ID, clientSecret) };
    v.chains = [];
    const config = {
      port: v.port, issuer: v.issuer, resource: RESOURCE, scope: SCOPE, clientId: CLIENT_ID, clientSecret, serverSecret,
      redirectUri: REDIRECT_URI, dpop: v.dpop, store: v.store, lruSize: v.lruSize,
      signingJwk: { ...signing.privateJwk, kid: signing.publicJwk.kid, alg: 'ES256', use: 'sig' },
    };
    if (v.store === 'sqlite') {
      config.stateDir = await mkdtemp(join(os.tmpdir(), 'warden-bench-'));
      stateDirs.push(config.stateDir);
    }
    if (v.store === 'postgres') {
      if (!postgresUp) {
        v.skipped = postgresUrl === null ? 'no PostgreSQL given' : 'PostgreSQL unreachable (set WARDEN_BENCH_POSTGRES_URL or WARDEN_TEST_POSTGRES_URL)';
        log(`bench: ${v.name}: skipped — ${v.skipped}`);
        continue;
      }
      config.postgresUrl = postgresUrl;
      config.postgresSchema = `bench_${runId}_${schemas.length}`;
      schemas.push(config.postgresSchema);
    }
    const server = await children.spawn(v.name, `servers/${v.script}.mjs`, 1, { ...v.env, BENCH_SERVER_CONFIG: JSON.stringify(config) });
    const hello = await server.next(['ready', 'unavailable'], 30_000).catch((err) => ({ type: 'unavailable', reason: err.message }));
    if (hello.type !== 'ready') {
      v.skipped = hello.reason;
      log(`bench: ${v.name}: skipped — ${v.skipped}`);
      server.kill();
      continue;
    }
    v.server = server;
    const verdict = v.grant === CC ? await checkTokenVariant(v, { clientKey, jkt, lateReplay: options.lateReplay !== false }) : await checkGrantVariant(v, (n) => mint(v, n));
    v.correctness = verdict;
    if (!verdict.ok) {
      v.skipped = `failed correctness gate: ${verdict.failures.join('; ')}`;
      log(`bench: ${v.name}: EXCLUDED — ${v.skipped}`);
      server.kill();
      continue;
    }
    // Sizes the warm-up pool; measured rates take over from there. Codes start low: minting
    // writes each one to the store (a durable commit each on SQLite), and they expire in 60 s.
    v.estimate = v.grant === 'authorization_code' ? 300 : 8_000;
    const warm = await timed(v, options.warmupSeconds);
    v.estimate = warm.rate;
    log(`bench: ${v.name}: ready on :${v.port}, correctness ok (${verdict.summary}), warm-up ${Math.round(warm.rate)} tokens/s`);
  }

  const live = selected.filter((v) => !v.skipped);
  for (let round = 0; round < options.rounds; round++) {
    const order = live.map((_, i) => live[(i + round) % live.length]);
    for (const v of order) {
      const r = await timed(v, options.seconds);
      v.rates[round] = r.rate;
      (v.cpuUs ??= [])[round] = r.cpuUs;
      v.estimate = Math.max(v.estimate, r.rate);
      const bad = r.counted - r.ok;
      if (bad > 0) v.issues.push(`round ${round + 1}: ${bad} not counted (${JSON.stringify(r.statuses)}${r.noSuccessor ? `, ${r.noSuccessor} 200s without a new refresh token` : ''})`);
      if (r.errors > 0) v.issues.push(`round ${round + 1}: ${r.errors} socket errors (${r.firstError})`);
      if (r.deadChains > 0) v.issues.push(`round ${round + 1}: ${r.deadChains} refresh chains ended by an answer without a new refresh token`);
      if (r.exhausted && r.elapsedMs < options.seconds * 900) v.issues.push(`round ${round + 1}: pool ran out at ${(r.elapsedMs / 1000).toFixed(1)} s`);
      log(`bench: round ${round + 1}/${options.rounds} ${v.name.padEnd(32)} ${Math.round(r.rate).toString().padStart(7)} tokens/s` +
        `  ${Math.round(r.cpuUs).toString().padStart(6)} µs CPU/token (load generator ${Math.round(r.loadCpuUs)})  (${r.ok} ok in ${(r.elapsedMs / 1000).toFixed(2)} s; ${r.pool})`);
    }
  }
  for (const v of live) v.server.kill();
  await Promise.all(stateDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  if (schemas.length > 0) await dropSchemas(postgresUrl, schemas, log);
  return selected;
}

/** Drops the schemas the PostgreSQL rows used (their servers are gone). */
async function dropSchemas(url, schemas, log) {
  let client;
  try {
    const { default: pg } = await import('pg');
    client = new pg.Client({ connectionString: url });
    await client.connect();
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } catch (err) {
    log(`bench: could not drop the benchmark schemas ${schemas.join(', ')}: ${err.message}`);
  } finally {
    await client?.end().catch(() => {});
  }
}

// Standalone: `node bench/token.mjs` (the dist/ build must be current: `npm run build`).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const options = roundOptions();
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
  if (only) {
    const unknown = only.filter((n) => !TOKEN_VARIANTS.some((v) => v.name === n));
    if (unknown.length) fatal(`BENCH_ONLY: unknown token variant(s) ${unknown.join(', ')}; known: ${TOKEN_VARIANTS.map((v) => v.name).join(', ')}`);
  }
  const log = (msg) => process.stderr.write(`${msg}\n`);
  const children = createChildren();
  const shutdown = (code) => {
    children.killAll();
    process.exit(code);
  };
  process.on('SIGINT', () => shutdown(130));
  process.on('SIGTERM', () => shutdown(143));
  process.on('exit', () => children.killAll());
  const startedAt = performance.now();
  const loadStart = os.loadavg()[0];
  try {
    log(`bench: token endpoint alone` + (children.pinned ? ', servers on core 1, load on core 0' : ', taskset not found: not pinned'));
    const load = await children.spawn('load', 'load.mjs', 0, {});
    await load.next('ready', 10_000);
    const variants = await runTokenSuite({ children, load, options, log, only });
    const report = tokenMarkdownReport(variants, {
      ...options,
      standalone: true,
      node: process.version,
      openssl: process.versions.openssl,
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      pinned: children.pinned,
      oidcProvider: pkgVersion('oidc-provider'),
      totalSeconds: (performance.now() - startedAt) / 1000,
      loadStart,
      loadEnd: os.loadavg()[0],
    });
    process.stdout.write(`${report}\n`);
    const dir = new URL('./results/', import.meta.url);
    await mkdir(dir, { recursive: true });
    await writeFile(new URL('token.md', dir), `${report}\n`);
    log('bench: written to bench/results/token.md');
    shutdown(0);
  } catch (err) {
    log(`bench: failed: ${err?.stack ?? err}`);
    shutdown(1);
  }
}
