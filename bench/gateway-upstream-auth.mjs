#!/usr/bin/env node
/**
 * Gateway upstream identity: `upstreamAuth: { kind: token }` (a token minted by the AS's token
 * exchange, cached per caller token and scope) next to `kind: headers` (X-Warden-* headers), in
 * one `warden serve` child process, the same upstream (a bare node:http server answering a fixed
 * JSON-RPC result, so only the gateway's work differs), Bearer tokens reused across requests,
 * variants interleaved over rounds, and the same upstream called directly (no gateway, no token):
 * what the gateway's gauntlet and forwarding cost. Reported as medians of per-round ratios (issue
 * 10 target: token ≥ 0.8× headers). The upstream runs in this process, beside the load generator,
 * in every variant.
 *
 *   node bench/gateway-upstream-auth.mjs   (dist/ must be built; BENCH_ROUNDS, BENCH_SECONDS, BENCH_CONCURRENCY)
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname;

const freePort = () => new Promise((resolve) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); }); });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const reply = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'ok' }] } });
let sawAuthorization = 0;
const upstream = http.createServer((req, res) => {
  if (req.headers.authorization?.startsWith('Bearer ')) sawAuthorization++;
  req.resume();
  req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(reply) }); res.end(reply); });
});
await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
const upstreamUrl = `http://127.0.0.1:${upstream.address().port}/mcp`;

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const dir = mkdtempSync(join(tmpdir(), 'warden-bench-gw-'));
const secret = randomBytes(24).toString('hex');
const scopes = { default: ['mcp:tools'] };
writeFileSync(join(dir, 'warden.json'), JSON.stringify({
  publicUrl: base, storage: { kind: 'memory' }, metrics: { enabled: false },
  authorizationServer: { clients: [{ clientId: 'bench', clientSecret: secret, grantTypes: ['client_credentials'], scope: 'mcp:tools' }] },
  resources: [
    { name: 'headers', path: '/headers', upstream: upstreamUrl, scopes, upstreamAuth: { kind: 'headers' } },
    { name: 'token', path: '/token-mode', upstream: upstreamUrl, scopes, upstreamAuth: { kind: 'token' } },
  ],
}));
const child = spawn(process.execPath, [CLI, 'serve', '--config', join(dir, 'warden.json'), '--port', String(port), '--state-dir', join(dir, 'state')], { stdio: ['ignore', 'ignore', 'inherit'] });
const cleanup = () => { child.kill('SIGTERM'); upstream.close(); rmSync(dir, { recursive: true, force: true }); };
try {
  for (let i = 0; i < 300 && !existsSync(join(dir, 'state', 'stack.json')); i++) await sleep(50);
  JSON.parse(readFileSync(join(dir, 'state', 'stack.json'), 'utf8'));

  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const upstreamPort = upstream.address().port;
  const send = (path, headers, body, to = port) => new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: to, path, method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
    req.on('error', reject);
    req.end(body);
  });
  const token = async (resource) => {
    const res = await fetch(`${base}/token`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`bench:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'client_credentials', resource }) });
    return (await res.json()).access_token;
  };
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } });
  const variants = {
    direct: { path: '/mcp', port: upstreamPort, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' } },
    headers: { path: '/headers', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${await token(`${base}/headers`)}` } },
    token: { path: '/token-mode', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${await token(`${base}/token-mode`)}` } },
  };
  // Correctness gate: both answer 200, and token mode sends the upstream a Bearer token.
  for (const [name, v] of Object.entries(variants)) {
    const status = await send(v.path, v.headers, body, v.port);
    if (status !== 200) throw new Error(`${name}: expected 200, got ${status}`);
  }
  if (sawAuthorization !== 1) throw new Error(`token mode should have sent exactly one Authorization upstream, saw ${sawAuthorization}`);

  const run = async (v, seconds) => {
    let done = 0;
    const until = performance.now() + seconds * 1000;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) { if ((await send(v.path, v.headers, body, v.port)) === 200) done++; }
    }));
    return done / seconds;
  };
  for (const v of Object.values(variants)) await run(v, 1);
  const rates = { direct: [], headers: [], token: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of round % 2 === 0 ? ['direct', 'headers', 'token'] : ['token', 'headers', 'direct']) {
      rates[name].push(await run(variants[name], SECONDS));
      process.stderr.write(`round ${round + 1} ${name}: ${Math.round(rates[name].at(-1))} req/s\n`);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const ratios = rates.token.map((t, i) => t / rates.headers[i]);
  const vsDirect = (name) => median(rates[name].map((r, i) => r / rates.direct[i])).toFixed(2);
  const lines = [
    '| variant | req/s (median) | vs headers | vs direct |',
    '| --- | ---: | ---: | ---: |',
    `| the upstream called directly (no gateway) | ${Math.round(median(rates.direct))} | — | 1.00× |`,
    `| gateway, \`upstreamAuth: headers\` | ${Math.round(median(rates.headers))} | 1.00× | ${vsDirect('headers')}× |`,
    `| gateway, \`upstreamAuth: token\` (cached exchange) | ${Math.round(median(rates.token))} | ${median(ratios).toFixed(2)}× | ${vsDirect('token')}× |`,
  ];
  process.stdout.write(`${lines.join('\n')}\n(${ROUNDS} rounds × ${SECONDS} s, concurrency ${CONCURRENCY}; per-round ratios ${ratios.map((r) => r.toFixed(2)).join(', ')})\n`);
} finally {
  cleanup();
}
