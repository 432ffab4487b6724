// The assertion benchmark (issue 13): the token endpoint with private_key_jwt client_credentials,
// Warden next to node-oidc-provider on the same grant, and Warden's jwt-bearer grant (a workload
// token, SEP-1933) next to it — one run, interleaved rounds, reported as tokens/s and ratios.
// Every private_key_jwt request carries a fresh assertion (unique jti), signed beforehand, outside
// the measured window. The harness is token.mjs's: servers pinned to core 1, the shared load
// generator (load.mjs, each body sent once) on core 0, a correctness gate before timing.
// `npm run build` first; `node bench/assertion.mjs`. Options: BENCH_ROUNDS, BENCH_SECONDS,
// BENCH_CONCURRENCY, BENCH_WARMUP_SECONDS, BENCH_ONLY (names below). See bench/README.md.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { createChildren, freePort } from './lib/processes.mjs';
import { generateEs256, signEs256 } from './lib/jwt.mjs';
import { fatal, roundOptions } from './lib/shared.mjs';

const RESOURCE = 'https://mcp.example.com/mcp';
const SCOPE = 'mcp:tools';
const CLIENT_ID = 'bench';
const WORKLOAD_ISSUER = 'https://kubernetes.default.svc';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const MAX_BODIES = 300_000;
const HEADERS = { 'content-type': 'application/x-www-form-urlencoded' };

export const ASSERTION_VARIANTS = [
  { name: 'assertion-warden-cc', script: 'assertion-warden', grant: 'cc', note: 'Warden, private_key_jwt client_credentials, memory stores' },
  { name: 'assertion-oidc-provider-cc', script: 'assertion-oidc-provider', grant: 'cc', note: 'node-oidc-provider, private_key_jwt client_credentials, default memory adapter' },
  { name: 'assertion-warden-jwt-bearer', script: 'assertion-warden', grant: 'jwt-bearer', note: 'Warden, jwt-bearer grant with a workload token (SEP-1933), one token reused' },
];

const options = roundOptions();
const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
if (only) {
  const unknown = only.filter((n) => !ASSERTION_VARIANTS.some((v) => v.name === n));
  if (unknown.length) fatal(`BENCH_ONLY: unknown assertion variant(s) ${unknown.join(', ')}; known: ${ASSERTION_VARIANTS.map((v) => v.name).join(', ')}`);
}
const selected = ASSERTION_VARIANTS.filter((v) => !only || only.includes(v.name)).map((v) => ({ ...v, rates: [], issues: [] }));
const log = (msg) => process.stderr.write(`${msg}\n`);

const client = generateEs256('client-1');
const workload = generateEs256('k8s-1');
const signing = generateEs256('as-1');
const stranger = generateEs256('client-1');
const serverSecret = randomBytes(36).toString('base64url');

const now = () => Math.floor(Date.now() / 1000);

/** User + system CPU time of process `pid` so far, in ms (Linux /proc, USER_HZ 100; NaN elsewhere). */
function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}
/** RFC 7523 §3 claims, `aud` = the issuer identifier (what both servers accept). */
const clientAssertion = (issuer, key = client) =>
  signEs256({ alg: 'ES256', kid: 'client-1', typ: 'JWT' }, { iss: CLIENT_ID, sub: CLIENT_ID, aud: issuer, iat: now(), exp: now() + 300, jti: randomUUID() }, key.privateKey);
const ccBody = (issuer, key) => new URLSearchParams({ grant_type: 'client_credentials', resource: RESOURCE, scope: SCOPE, client_assertion_type: ASSERTION_TYPE, client_assertion: clientAssertion(issuer, key) }).toString();
const workloadBody = (issuer) => {
  const token = signEs256({ alg: 'ES256', kid: 'k8s-1', typ: 'JWT' }, { iss: WORKLOAD_ISSUER, sub: 'system:serviceaccount:bench:runner', aud: issuer, iat: now(), exp: now() + 3600 }, workload.privateKey);
  return new URLSearchParams({ grant_type: JWT_BEARER, assertion: token, resource: RESOURCE, scope: SCOPE }).toString();
};

async function post(v, body) {
  const r = await fetch(`${v.issuer}/token`, { method: 'POST', headers: HEADERS, body });
  return { status: r.status, body: await r.json().catch(() => ({})) };
}

/** Before timing: a valid request gets a token for the resource; a replayed or foreign assertion does not. */
async function gate(v) {
  const failures = [];
  if (v.grant === 'jwt-bearer') {
    const ok = await post(v, workloadBody(v.issuer));
    if (ok.status !== 200) failures.push(`workload token → ${ok.status} ${ok.body.error ?? ''}`);
    return failures;
  }
  const body = ccBody(v.issuer);
  const ok = await post(v, body);
  if (ok.status !== 200 || typeof ok.body.access_token !== 'string') failures.push(`valid assertion → ${ok.status} ${ok.body.error ?? ''}`);
  else if (JSON.parse(Buffer.from(ok.body.access_token.split('.')[1], 'base64url')).aud !== RESOURCE) failures.push('token aud is not the resource');
  const replay = await post(v, body);
  if (replay.status !== 401) failures.push(`replayed assertion (RFC 7523 §3 jti) → ${replay.status}, expected 401`);
  const foreign = await post(v, ccBody(v.issuer, stranger));
  if (foreign.status !== 401) failures.push(`assertion signed by another key → ${foreign.status}, expected 401`);
  return failures;
}

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
  if (selected.length === 0) fatal('BENCH_ONLY selects no assertion variant');
  log(`bench: assertions: ${selected.length} variants × ${options.rounds} rounds × ${options.seconds} s, concurrency ${options.concurrency}` +
    (children.pinned ? ', servers on core 1, load on core 0' : ', taskset not found: not pinned'));
  const load = await children.spawn('load', 'load.mjs', 0, {});
  await load.next('ready', 10_000);

  // One server per implementation; the two Warden rows share it.
  const servers = new Map();
  for (const v of selected) {
    if (!servers.has(v.script)) {
      const port = await freePort();
      const issuer = `http://127.0.0.1:${port}`;
      const config = { port, issuer, resource: RESOURCE, scope: SCOPE, clientId: CLIENT_ID, clientJwk: { ...client.publicJwk, kid: 'client-1', alg: 'ES256', use: 'sig' }, workloadIssuer: WORKLOAD_ISSUER, workloadJwk: { ...workload.publicJwk, kid: 'k8s-1', alg: 'ES256', use: 'sig' }, serverSecret, signingJwk: { ...signing.privateJwk, kid: 'as-1', alg: 'ES256', use: 'sig' } };
      const server = await children.spawn(v.script, `servers/${v.script}.mjs`, 1, { BENCH_SERVER_CONFIG: JSON.stringify(config) });
      const hello = await server.next(['ready', 'unavailable'], 30_000).catch((err) => ({ type: 'unavailable', reason: err.message }));
      servers.set(v.script, hello.type === 'ready' ? { server, port, issuer } : { skipped: hello.reason });
    }
    const s = servers.get(v.script);
    if (s.skipped) {
      v.skipped = s.skipped;
      log(`bench: ${v.name}: skipped — ${v.skipped}`);
      continue;
    }
    Object.assign(v, { port: s.port, issuer: s.issuer, server: s.server });
    const failures = await gate(v);
    if (failures.length > 0) {
      v.skipped = `failed correctness gate: ${failures.join('; ')}`;
      log(`bench: ${v.name}: EXCLUDED — ${v.skipped}`);
    }
  }

  let seq = 0;
  const timed = async (v, seconds) => {
    let extra;
    let pool;
    if (v.grant === 'cc') {
      // A wide margin: on a shared machine one round's rate can be several times the previous one's.
      const count = Math.min(MAX_BODIES, Math.ceil(v.estimate * seconds * 4) + 4 * options.concurrency);
      const t0 = performance.now();
      const bodies = Array.from({ length: count }, () => ccBody(v.issuer));
      pool = `${count} fresh assertions signed in ${Math.round(performance.now() - t0)} ms beforehand`;
      extra = { bodies };
    } else {
      extra = { body: workloadBody(v.issuer) };
      pool = 'one workload token';
    }
    const cpu0 = cpuMs(v.server.child.pid);
    load.child.send({
      type: 'run', id: ++seq, port: v.port, path: '/token', htu: `${v.issuer}/token`, body: '', headers: HEADERS,
      seconds, concurrency: options.concurrency, proofs: 0, reuse: false,
      clientPrivateJwk: client.privateJwk, clientPublicJwk: client.publicJwk, ...extra,
    });
    const r = await load.next('result', seconds * 1000 + 120_000);
    // Server CPU per answered request: unlike the rate, neighbours on the machine barely change it.
    const cpuUs = r.counted > 0 ? ((cpuMs(v.server.child.pid) - cpu0) * 1000) / r.counted : NaN;
    return { ...r, rate: r.ok / (r.elapsedMs / 1000), cpuUs, pool };
  };

  const live = selected.filter((v) => !v.skipped);
  for (const v of live) {
    v.estimate = 3_000;
    v.estimate = (await timed(v, options.warmupSeconds)).rate;
    log(`bench: ${v.name}: correctness ok, warm-up ${Math.round(v.estimate)} tokens/s`);
  }
  for (let round = 0; round < options.rounds; round++) {
    for (const v of live.map((_, i) => live[(i + round) % live.length])) {
      const r = await timed(v, options.seconds);
      v.rates[round] = r.rate;
      (v.cpuUs ??= [])[round] = r.cpuUs;
      v.estimate = Math.max(v.estimate, r.rate);
      const bad = r.counted - r.ok;
      if (bad > 0) v.issues.push(`round ${round + 1}: ${bad} not 200 (${JSON.stringify(r.statuses)})`);
      if (r.errors > 0) v.issues.push(`round ${round + 1}: ${r.errors} socket errors (${r.firstError})`);
      if (r.exhausted && r.elapsedMs < options.seconds * 900) v.issues.push(`round ${round + 1}: pool ran out at ${(r.elapsedMs / 1000).toFixed(1)} s`);
      log(`bench: round ${round + 1}/${options.rounds} ${v.name.padEnd(30)} ${Math.round(r.rate).toString().padStart(7)} tokens/s  ${Math.round(r.cpuUs).toString().padStart(6)} µs server CPU/token  (${r.ok} ok in ${(r.elapsedMs / 1000).toFixed(2)} s; ${r.pool})`);
    }
  }

  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const stat = (name, key) => {
    const v = live.find((x) => x.name === name);
    return v ? median(v[key]) : undefined;
  };
  const lines = [`| variant | tokens/s (median of ${options.rounds} × ${options.seconds} s) | server CPU µs/token (median) | note |`, '| --- | ---: | ---: | --- |'];
  for (const v of selected) {
    lines.push(v.skipped ? `| ${v.name} | skipped: ${v.skipped} | | ${v.note} |` : `| ${v.name} | ${Math.round(median(v.rates))} | ${Math.round(median(v.cpuUs))} | ${v.note}${v.issues.length ? `; ${v.issues.join('; ')}` : ''} |`);
  }
  const ratio = (a, b, key, inverse = false) => {
    const x = stat(a, key);
    const y = stat(b, key);
    return x && y ? (inverse ? y / x : x / y).toFixed(2) : undefined;
  };
  lines.push('');
  const wo = ratio('assertion-warden-cc', 'assertion-oidc-provider-cc', 'rates');
  if (wo) lines.push(`Warden / oidc-provider, private_key_jwt client_credentials: **${wo}×** tokens/s, ${ratio('assertion-warden-cc', 'assertion-oidc-provider-cc', 'cpuUs', true)}× by server CPU per token (target ≥ 2×)`);
  const jw = ratio('assertion-warden-jwt-bearer', 'assertion-warden-cc', 'rates');
  if (jw) lines.push(`Warden jwt-bearer / Warden private_key_jwt client_credentials: ${jw}× tokens/s, ${ratio('assertion-warden-jwt-bearer', 'assertion-warden-cc', 'cpuUs', true)}× by server CPU per token`);
  lines.push('', `Node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${children.pinned ? 'pinned' : 'not pinned'}; ` +
    `load average ${loadStart.toFixed(1)} → ${os.loadavg()[0].toFixed(1)}; ${((performance.now() - startedAt) / 1000).toFixed(0)} s in all.`);
  const report = lines.join('\n');
  process.stdout.write(`${report}\n`);
  const dir = new URL('./results/', import.meta.url);
  await mkdir(dir, { recursive: true });
  await writeFile(new URL('assertion.md', dir), `${report}\n`);
  log('bench: written to bench/results/assertion.md');
  shutdown(0);
} catch (err) {
  log(`bench: failed: ${err?.stack ?? err}`);
  shutdown(1);
}
