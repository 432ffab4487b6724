// `node bench/client.mjs` (after `npm run build`): what the client kit costs a client, in one run.
// Proofs per second from the kit's holder (non-extractable WebCrypto key), the v2 MCP client's
// DpopSession (jose over WebCrypto) and Warden's own node:crypto signer (an extractable KeyObject),
// and requests per second through createDpopFetch versus the same fetch without it (a fetch that
// answers at once, so only the wrapper is measured). Rounds are interleaved; medians are reported
// with ratios to the kit. Options (env): BENCH_CLIENT_ROUNDS (5), BENCH_CLIENT_MS (600).
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { DpopSession } from '@modelcontextprotocol/client';
import { createDpopFetch, generateDpopKey } from '../dist/client/index.js';
import { createProof } from '../dist/dpop/index.js';

const ROUNDS = Math.max(1, Number(process.env.BENCH_CLIENT_ROUNDS ?? 5));
const MS = Math.max(50, Number(process.env.BENCH_CLIENT_MS ?? 600));
const HTU = 'https://mcp.example.com/mcp';
const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.' + 'x'.repeat(600) + '.sig';

const kit = await generateDpopKey();
const session = await DpopSession.create({ keyPair: kit });
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const publicJwk = publicKey.export({ format: 'jwk' });
const answer = async () => new Response(null, { status: 204 });
const wrapped = createDpopFetch(answer, kit);
const init = { method: 'POST', headers: { authorization: `DPoP ${TOKEN}`, 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' };

/** [name, op]: each returns a promise or a value that depends on the work. */
const OPS = [
  ['proof: mcp-warden/client holder (WebCrypto, non-extractable)', () => kit.proof({ htm: 'POST', htu: HTU, accessToken: TOKEN })],
  ['proof: v2 client DpopSession (jose, same key)', () => session.buildProof({ htm: 'POST', htu: HTU, accessToken: TOKEN })],
  ['proof: mcp-warden/dpop createProof (node:crypto KeyObject)', () => createProof({ privateKey, publicJwk, alg: 'ES256', htm: 'POST', htu: HTU, accessToken: TOKEN })],
  ['request: fetch that answers at once', () => answer(HTU, init)],
  ['request: createDpopFetch around it', () => wrapped(HTU, init)],
];

async function rate(op) {
  const end = performance.now() + MS;
  let n = 0;
  while (performance.now() < end) {
    // 16 at a time: WebCrypto signs off the main thread, so a client making concurrent requests overlaps them.
    await Promise.all(Array.from({ length: 16 }, op));
    n += 16;
  }
  return (n / MS) * 1000;
}

const samples = OPS.map(() => []);
for (let round = 0; round < ROUNDS; round++) {
  for (let i = 0; i < OPS.length; i++) samples[i].push(await rate(OPS[i][1]));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const medians = samples.map(median);
const rows = OPS.map(([name], i) => `| ${name} | ${Math.round(medians[i]).toLocaleString('en-US')} | ${(1e6 / medians[i]).toFixed(1)} | ${(medians[i] / medians[0]).toFixed(2)}× |`);
const report = [
  `# Client kit (${new Date().toISOString()}, Node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, load ${os.loadavg()[0].toFixed(2)})`,
  '',
  `${ROUNDS} interleaved rounds × ${MS} ms, 16 concurrent operations; medians; ratios to the kit's holder (measured side by side).`,
  '',
  '| operation | per second | µs each | vs kit proof |',
  '| --- | ---: | ---: | ---: |',
  ...rows,
  '',
].join('\n');
process.stdout.write(report);
await mkdir(new URL('./results/', import.meta.url), { recursive: true });
await writeFile(new URL('./results/client.md', import.meta.url), report);
