// `node bench/policy.mjs` (dist/ built): what a CEL policy adds to each MCP request, in µs per call,
// next to the whole gauntlet's cost — measured in one run, no HTTP. Rows:
//   gauntlet: rs.verify of a DPoP-bound tools/call (fresh proof each), without and with a 4-rule policy;
//   the policy step alone (decide: the rules that apply to the call), one rule, and tools/list
//   visibility of 50 tools; and, when installed, the other CEL evaluators on the same rule.
// Options (env): BENCH_POLICY_ROUNDS (5), BENCH_POLICY_N (4000 gauntlet calls per round).
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { accessTokenHash, createProofSigner, ecThumbprint, generateEs256, signEs256 } from './lib/jwt.mjs';
import { createResourceServer } from '../dist/resource-server/index.js';
import { compilePolicy } from '../dist/resource-server/policy/compile-policy.js';
import { decide, subjectBindings } from '../dist/resource-server/policy/decide.js';
import { toolVisibility } from '../dist/resource-server/policy/tool-visibility.js';
import { NameSet } from '../dist/mcp/lookalike-names.js';

const ROUNDS = Math.max(1, Number(process.env.BENCH_POLICY_ROUNDS ?? 5));
const N = Math.max(100, Number(process.env.BENCH_POLICY_N ?? 4000));
const RESOURCE = 'https://mcp.example.com/mcp';
const ISSUER = 'https://issuer.example.com';
const RULE = '"admins" in groups';
const POLICY = {
  rules: [
    { name: 'no-ci-clients', deny: 'client_id.startsWith("ci-")' },
    { name: 'admins-delete', tools: ['delete_file'], allow: RULE },
    { name: 'no-etc', tools: ['search_files', 'delete_file'], deny: 'has(arguments.path) && arguments.path.startsWith("/etc/")' },
    { name: 'office-hours', tools: ['search_files'], allow: 'now.getHours() >= 0 && now.getHours() < 24' },
  ],
};

const issuerKey = generateEs256('k1');
const clientKey = generateEs256();
const jkt = ecThumbprint(clientKey.publicJwk);
const now = Math.floor(Date.now() / 1000);
const claims = { iss: ISSUER, aud: RESOURCE, sub: 'bench-user', client_id: 'bench-client', scope: 'mcp:tools', groups: ['staff', 'admins'], jti: randomBytes(9).toString('base64url'), iat: now, exp: now + 3600, cnf: { jkt } };
const token = signEs256({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' }, claims, issuerKey.privateKey);
const ath = accessTokenHash(token);
const signProof = createProofSigner(clientKey.privateKey, clientKey.publicJwk);
const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 17, method: 'tools/call', params: { name: 'search_files', arguments: { path: '/srv/data', pattern: '*.md', limit: 50 } } }));

const options = (policy) => ({ resource: RESOURCE, trust: { issuer: ISSUER, jwks: { keys: [issuerKey.publicJwk] } }, scopes: { default: ['mcp:tools'] }, ...(policy ? { policy } : {}) });
const plain = createResourceServer(options());
const withPolicy = createResourceServer(options(POLICY));
let serial = 0;
const requests = (count) =>
  Array.from({ length: count }, () => ({
    method: 'POST',
    url: '/mcp',
    headers: { authorization: `DPoP ${token}`, dpop: signProof('POST', RESOURCE, ath, `j${serial++}`), 'content-type': 'application/json' },
    body,
  }));

async function gauntlet(rs) {
  const batch = requests(N);
  const start = performance.now();
  for (const request of batch) {
    const result = await rs.verify(request);
    if (!result.ok) throw new Error(`gauntlet refused: ${result.body}`);
  }
  return ((performance.now() - start) * 1000) / N;
}

function loop(op, ms = 300) {
  let n = 0;
  let sink;
  const start = performance.now();
  const end = start + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) sink = op();
    n += 100;
  }
  if (sink === undefined) throw new Error('op returned nothing');
  return ((performance.now() - start) * 1000) / n;
}

const compiled = compilePolicy(POLICY);
const oneRule = compilePolicy({ rules: [{ name: 'admins', allow: RULE }] });
const parsedClaims = { iss: ISSUER, sub: claims.sub, clientId: claims.client_id, scopes: ['mcp:tools'], aud: [RESOURCE], exp: claims.exp, payload: claims };
const call = { method: 'tools/call', tool: 'search_files', arguments: { path: '/srv/data', pattern: '*.md', limit: 50 } };
const tools = Array.from({ length: 50 }, (_, i) => (i === 0 ? 'delete_file' : `tool_${i}`));

const rows = [
  ['gauntlet (DPoP tools/call), no policy', () => gauntlet(plain), true],
  ['gauntlet (DPoP tools/call), 4-rule policy', () => gauntlet(withPolicy), true],
  ['policy step alone: bindings + the 3 rules that apply', () => loop(() => decide(compiled, subjectBindings(compiled, parsedClaims), call, new Date()))],
  [`one rule, @marcbachmann/cel-js (Warden): ${RULE}`, () => loop(() => decide(oneRule, subjectBindings(oneRule, parsedClaims), call, new Date()))],
  ['tools/list visibility of 50 tools (4-rule policy)', () => loop(() => tools.filter(toolVisibility({ policy: compiled, toolScopes: new Map(), toolNames: new NameSet([]), claims: parsedClaims, nowSeconds: now })).length, 300)],
];

// The candidates weighed against it, when installed (they are not Warden dependencies).
const context = { sub: 'bench-user', client_id: 'bench-client', iss: ISSUER, scope: ['mcp:tools'], groups: ['staff', 'admins'], claims, method: 'tools/call', tool: 'search_files', arguments: call.arguments };
try {
  const buf = await import('@bufbuild/cel');
  const { timestampFromMs } = await import('@bufbuild/protobuf/wkt');
  const env = buf.celEnv({});
  const run = buf.plan(env, buf.parse(RULE));
  rows.push([`one rule, @bufbuild/cel: ${RULE}`, () => loop(() => run({ ...context, now: timestampFromMs(Date.now()) }))]);
} catch (error) {
  process.stderr.write(`policy bench: @bufbuild/cel not installed, row skipped (${error.code ?? error.message})\n`);
}
try {
  const celjs = await import('cel-js');
  const cst = celjs.parse(RULE).cst;
  rows.push([`one rule, cel-js: ${RULE}`, () => loop(() => celjs.evaluate(cst, { ...context, now: new Date() }))]);
} catch (error) {
  process.stderr.write(`policy bench: cel-js not installed, row skipped (${error.code ?? error.message})\n`);
}

const results = rows.map(() => []);
for (let round = 0; round < ROUNDS; round++) {
  for (let i = 0; i < rows.length; i++) {
    const idx = (i + round) % rows.length;
    results[idx].push(await rows[idx][1]());
    process.stderr.write(`policy bench: round ${round + 1}/${ROUNDS} ${rows[idx][0]}\n`);
  }
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const medians = results.map(median);
const reference = medians[0];
const lines = [
  '# CEL policy cost per MCP call (no HTTP)',
  '',
  `Node ${process.version} · ${os.cpus()[0]?.model ?? 'unknown'} × ${os.cpus().length} cores · ${ROUNDS} rounds, median`,
  '',
  '| what | µs per call | vs the gauntlet without policy |',
  '|---|---:|---:|',
  ...rows.map(([name], i) => `| ${name} | ${medians[i].toFixed(2)} | ${(medians[i] / reference).toFixed(3)}× |`),
];
process.stdout.write(`${lines.join('\n')}\n`);
const dir = new URL('./results/', import.meta.url);
await mkdir(dir, { recursive: true });
await writeFile(new URL('policy.md', dir), `${lines.join('\n')}\n`);
await Promise.all([plain.close(), withPolicy.close()]);
