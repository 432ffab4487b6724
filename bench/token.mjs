// The token-endpoint benchmark (issue 3): Warden's authorization server next to node-oidc-provider
// on the same grant — `client_credentials`, client_secret_basic, one resource, one scope, ES256 JWT
// access tokens — with a fresh DPoP proof per request and without, measured side by side in one
// run and reported as ratios. `npm run bench` runs it after the resource-server table (run.mjs);
// `node bench/token.mjs` runs it alone. See bench/README.md.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createChildren, freePort } from './lib/processes.mjs';
import { ecThumbprint, generateEs256 } from './lib/jwt.mjs';
import { basicAuthorization, checkTokenVariant, tokenRequestBody } from './lib/token-correctness.mjs';
import { tokenMarkdownReport } from './lib/report.mjs';
import { fatal, roundOptions } from './lib/shared.mjs';

/** The same for both servers. */
const RESOURCE = 'https://mcp.example.com/mcp';
const SCOPE = 'mcp:tools';
const CLIENT_ID = 'bench';
const TOKEN_PATH = '/token';
const JWKS_PATH = '/jwks';
const MAX_PROOFS = 400_000;

/**
 * BENCH_WARDEN_DIST_B: a second Warden build (e.g. a design change) measured in the same rounds as
 * `dist/` — rows `token-warden-b-*`, so the two builds are compared side by side, not across runs.
 */
const DIST_B = process.env.BENCH_WARDEN_DIST_B;

export const TOKEN_VARIANTS = [
  { name: 'token-warden-dpop', impl: 'warden', script: 'token-warden', dpop: true, note: 'Warden createAuthorizationServer, memory stores' },
  ...(DIST_B ? [{ name: 'token-warden-b-dpop', impl: 'warden', script: 'token-warden', dpop: true, env: { BENCH_WARDEN_DIST: DIST_B }, note: `Warden build B (${DIST_B})` }] : []),
  { name: 'token-oidc-provider-dpop', impl: 'oidc-provider', script: 'token-oidc-provider', dpop: true, note: 'node-oidc-provider, features.dPoP, default memory adapter' },
  { name: 'token-warden-bearer', impl: 'warden', script: 'token-warden', dpop: false, note: 'Warden, no DPoP header' },
  ...(DIST_B ? [{ name: 'token-warden-b-bearer', impl: 'warden', script: 'token-warden', dpop: false, env: { BENCH_WARDEN_DIST: DIST_B }, note: `Warden build B (${DIST_B}), no DPoP header` }] : []),
  { name: 'token-oidc-provider-bearer', impl: 'oidc-provider', script: 'token-oidc-provider', dpop: false, note: 'node-oidc-provider, no DPoP header (features.dPoP off)' },
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
export async function runTokenSuite({ children, load, options, log, only }) {
  const selected = TOKEN_VARIANTS.filter((v) => !only || only.includes(v.name)).map((v) => ({ ...v, rates: [], issues: [] }));
  if (selected.length === 0) return selected;
  log(`bench: token endpoint: ${selected.length} variants × ${options.rounds} rounds × ${options.seconds} s`);

  const clientKey = generateEs256();
  const jkt = ecThumbprint(clientKey.publicJwk);
  const signing = generateEs256(`bench-as-${randomBytes(4).toString('hex')}`); // oidc-provider's key; Warden makes its own
  const clientSecret = randomBytes(32).toString('base64url');
  const serverSecret = randomBytes(36).toString('base64url'); // 48 characters

  let seq = 0;
  const runLoad = async (v, seconds, proofs) => {
    load.child.send({
      type: 'run', id: ++seq, port: v.port, path: TOKEN_PATH, htu: v.htu, body: v.body, headers: v.headers,
      seconds, concurrency: options.concurrency, proofs, reuse: false,
      clientPrivateJwk: clientKey.privateJwk, clientPublicJwk: clientKey.publicJwk,
    });
    const r = await load.next('result', seconds * 1000 + 120_000);
    return { ...r, rate: r.ok / (r.elapsedMs / 1000) };
  };
  // Pools are sized from the best rate seen so far with a wide margin: a token endpoint warms up
  // slowly (the first rate is often half the steady one), and signing spare proofs is cheap.
  const poolFor = (v, seconds) => (v.dpop ? Math.min(MAX_PROOFS, Math.ceil(v.estimate * seconds * 2.5) + 4 * options.concurrency) : 0);

  for (const v of selected) {
    v.port = await freePort();
    v.issuer = `http://127.0.0.1:${v.port}`;
    v.htu = `${v.issuer}${TOKEN_PATH}`;
    Object.assign(v, { tokenPath: TOKEN_PATH, jwksPath: JWKS_PATH, resource: RESOURCE, scope: SCOPE, clientId: CLIENT_ID, clientSecret });
    v.body = tokenRequestBody(v);
    v.headers = { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuthorization(CLIENT_ID, clientSecret) };
    const config = {
      port: v.port, issuer: v.issuer, resource: RESOURCE, scope: SCOPE, clientId: CLIENT_ID, clientSecret, serverSecret,
      dpop: v.dpop, signingJwk: { ...signing.privateJwk, kid: signing.publicJwk.kid, alg: 'ES256', use: 'sig' },
    };
    const server = await children.spawn(v.name, `servers/${v.script}.mjs`, 1, { ...v.env, BENCH_SERVER_CONFIG: JSON.stringify(config) });
    const hello = await server.next(['ready', 'unavailable'], 30_000).catch((err) => ({ type: 'unavailable', reason: err.message }));
    if (hello.type !== 'ready') {
      v.skipped = hello.reason;
      log(`bench: ${v.name}: skipped — ${v.skipped}`);
      server.kill();
      continue;
    }
    v.server = server;
    const verdict = await checkTokenVariant(v, { clientKey, jkt });
    v.correctness = verdict;
    if (!verdict.ok) {
      v.skipped = `failed correctness gate: ${verdict.failures.join('; ')}`;
      log(`bench: ${v.name}: EXCLUDED — ${v.skipped}`);
      server.kill();
      continue;
    }
    v.estimate = 8_000; // sizes the warm-up pool; measured rates take over from there
    const warm = await runLoad(v, options.warmupSeconds, poolFor(v, options.warmupSeconds));
    v.estimate = warm.rate;
    log(`bench: ${v.name}: ready on :${v.port}, correctness ok (${verdict.summary}), warm-up ${Math.round(warm.rate)} tokens/s`);
  }

  const live = selected.filter((v) => !v.skipped);
  for (let round = 0; round < options.rounds; round++) {
    const order = live.map((_, i) => live[(i + round) % live.length]);
    for (const v of order) {
      const proofs = poolFor(v, options.seconds);
      const r = await runLoad(v, options.seconds, proofs);
      v.rates[round] = r.rate;
      v.estimate = Math.max(v.estimate, r.rate);
      const bad = r.counted - r.ok;
      if (bad > 0) v.issues.push(`round ${round + 1}: ${bad} non-200 (${JSON.stringify(r.statuses)})`);
      if (r.errors > 0) v.issues.push(`round ${round + 1}: ${r.errors} socket errors (${r.firstError})`);
      if (r.exhausted && r.elapsedMs < options.seconds * 900) v.issues.push(`round ${round + 1}: proof pool ran out at ${(r.elapsedMs / 1000).toFixed(1)} s`);
      log(`bench: round ${round + 1}/${options.rounds} ${v.name.padEnd(26)} ${Math.round(r.rate).toString().padStart(7)} tokens/s` +
        `  (${r.ok} ok in ${(r.elapsedMs / 1000).toFixed(2)} s; ` +
        (v.dpop ? `${proofs} fresh proofs signed in ${Math.round(r.genMs)} ms beforehand)` : 'no proof)'));
    }
  }
  for (const v of live) v.server.kill();
  return selected;
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
