// `node bench/gauntlet-ab.mjs`: CPU per request of the resource-server gauntlet (`rs.verify`, no
// HTTP) for one build of Warden, or two side by side in one process — how to judge a change to the
// gauntlet on a machine shared with neighbours, where req/s over HTTP moves by tens of percent
// between rounds. Each request is what the node adapter hands the gauntlet for the benchmark's
// MCP call: a DPoP-bound ES256 access token (the verified-token cache on, as by default), a fresh
// ES256 proof with a unique `jti`, the tools/call body as bytes. Both builds verify the same
// proofs (each has its own replay store); the builds take turns every 50 requests; time is the process's
// user + system CPU time (process.cpuUsage), so time spent descheduled does not count.
//
// Options (env): GAUNTLET_A (a dist/ directory, default ./dist), GAUNTLET_B (optional second
// build), BENCH_AB_ROUNDS (9), BENCH_AB_N (requests per build per round, 3000).
// GAUNTLET_AUDIT=1 adds, for each build, the same gauntlet with the audit trail on (`A+audit`: a
// chained warden.audit/1 record per decision, JSON lines to a file, as `audit: { sink: file }`
// builds it); every server then yields to the event loop every 4 requests (a server's turn of
// the loop handles a few requests) and flushes its trail at the end of each turn of 50, inside
// the timed window, so every record's write is paid for (issue 12).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createProofSigner, ecThumbprint, generateEs256, jtiPrefix, mintAccessToken } from './lib/jwt.mjs';
import { ISSUER, MCP_PATH, SCOPES, toolsCallBody } from './lib/shared.mjs';

const ROUNDS = Math.max(1, Number(process.env.BENCH_AB_ROUNDS ?? 9));
const N = Math.max(100, Number(process.env.BENCH_AB_N ?? 3000));
const PUBLIC_URL = 'http://127.0.0.1:8080';
const RESOURCE = `${PUBLIC_URL}${MCP_PATH}`;

const builds = [['A', process.env.GAUNTLET_A ?? new URL('../dist/', import.meta.url).pathname]];
if (process.env.GAUNTLET_B) builds.push(['B', process.env.GAUNTLET_B]);

const issuerKey = generateEs256('bench-issuer-1');
const clientKey = generateEs256();
const token = mintAccessToken({ issuer: ISSUER, resource: RESOURCE, kid: issuerKey.publicJwk.kid, privateKey: issuerKey.privateKey, jkt: ecThumbprint(clientKey.publicJwk) });
const ath = (await import('./lib/jwt.mjs')).accessTokenHash(token);
const signProof = createProofSigner(clientKey.privateKey, clientKey.publicJwk);
const body = Buffer.from(toolsCallBody());

const AUDIT = process.env.GAUNTLET_AUDIT === '1';
const servers = [];
for (const [name, dir] of builds) {
  const { createResourceServer } = await import(pathToFileURL(`${resolve(dir)}/resource-server/index.js`).href);
  const options = { resource: RESOURCE, trust: { issuer: ISSUER, jwks: { keys: [issuerKey.publicJwk] } }, dpop: 'required', scopes: SCOPES };
  servers.push({ name, dir, rs: createResourceServer(options), cpuUs: [] });
  if (AUDIT) {
    const trail = await auditTrail(dir);
    servers.push({ name: `${name}+audit`, dir, trail, rs: createResourceServer({ ...options, onDecision: (d) => trail.emit(trail.decisionEvent(d, 'bench')) }), cpuUs: [] });
  }
}

/** The trail `audit: { sink: file }` opens, on build `dir`. */
async function auditTrail(dir) {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const load = (path) => import(pathToFileURL(`${resolve(dir)}/observability/${path}`).href);
  const [{ createAuditTrail }, { createJsonLinesSink }, { decisionEvent }] = await Promise.all([load('audit-trail.js'), load('json-lines-sink.js'), load('audit-events.js')]);
  const path = join(mkdtempSync(join(tmpdir(), 'warden-gauntlet-audit-')), 'audit.log');
  const trail = createAuditTrail({ instance: 'bench', sinks: [createJsonLinesSink({ kind: 'file', path, maxBytes: 10 * 1024 * 1024, keep: 2 })] });
  return Object.assign(trail, { decisionEvent });
}

/** The request as the node adapter builds it (`req.headersDistinct`, the body's bytes). */
const request = (proof) => ({
  method: 'POST',
  url: MCP_PATH,
  headers: {
    host: ['127.0.0.1:8080'],
    connection: ['keep-alive'],
    'content-type': ['application/json'],
    'content-length': [String(body.length)],
    authorization: [`DPoP ${token}`],
    dpop: [proof],
  },
  body,
});

async function run(server, proofs) {
  const start = process.cpuUsage();
  let n = 0;
  for (const proof of proofs) {
    const result = await server.rs.verify(request(proof));
    if (!result.ok) throw new Error(`${server.name}: ${result.status} ${result.headers['WWW-Authenticate'] ?? result.body}`);
    if (AUDIT && ++n % 4 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  await server.trail?.flush();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / proofs.length;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const prefix = jtiPrefix();
let seq = 0;
const CHUNK = 50;
for (let round = -1; round < ROUNDS; round++) {
  // Fresh proofs every round (iat = now); round -1 warms the JIT and the caches up. The builds take
  // turns every CHUNK requests, so both see the same neighbours.
  const proofs = Array.from({ length: N }, () => signProof('POST', RESOURCE, ath, `${prefix}-${++seq}`));
  const total = servers.map(() => 0);
  for (let i = 0, turn = 0; i < proofs.length; i += CHUNK, turn++) {
    const chunk = proofs.slice(i, i + CHUNK);
    for (let k = 0; k < servers.length; k++) {
      const j = (k + turn) % servers.length;
      total[j] += (await run(servers[j], chunk)) * chunk.length;
    }
  }
  if (round < 0) continue;
  servers.forEach((s, j) => s.cpuUs.push(total[j] / proofs.length));
  process.stderr.write(`gauntlet-ab: round ${round + 1}/${ROUNDS} ${servers.map((s) => `${s.name} ${s.cpuUs.at(-1).toFixed(1)} µs`).join(', ')}\n`);
}

const lines = ['| build | CPU µs/request (median) | per round |', '|---|---:|---|'];
for (const s of servers) lines.push(`| ${s.name} (${s.dir}) | ${median(s.cpuUs).toFixed(1)} | ${s.cpuUs.map((x) => x.toFixed(1)).join(' / ')} |`);
const paired = (a, b) => median(a.cpuUs.map((x, i) => b.cpuUs[i] / x));
if (servers.length === 2) {
  const [a, b] = servers;
  lines.push('', `B ÷ A CPU per request, median of per-round ratios: ${paired(a, b).toFixed(3)} (above 1: A is cheaper)`);
}
if (AUDIT) {
  lines.push('');
  for (let k = 0; k < servers.length; k += 2) {
    const [off, on] = [servers[k], servers[k + 1]];
    lines.push(`${on.name}: audit off ÷ on by CPU ${paired(on, off).toFixed(3)}, ${(median(on.cpuUs.map((x, i) => x - off.cpuUs[i]))).toFixed(1)} µs more per request (median of per-round differences)`);
  }
  if (servers.length === 4) lines.push(`B+audit ÷ A+audit CPU per request: ${paired(servers[1], servers[3]).toFixed(3)} (above 1: A is cheaper)`);
}
process.stdout.write(`${lines.join('\n')}\n`);
