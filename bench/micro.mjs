// `node bench/micro.mjs`: the primitives behind the RS gauntlet and the token endpoint, ops/s in one run (no HTTP).
// Each operation runs BENCH_MICRO_MS per round, rounds interleaved; the median is reported with
// its ratio to ES256 verify (stdout and bench/results/micro.md). Options (env): BENCH_MICRO_ROUNDS (3), BENCH_MICRO_MS (700).
import { createHash, createPublicKey, hash, randomBytes, scryptSync, sign, timingSafeEqual, verify } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { calculateJwkThumbprint, CompactSign, importJWK } from 'jose';
import { accessTokenHash, createProofSigner, ecThumbprint, generateEs256 } from './lib/jwt.mjs';
import { parseStrictJson, asciiJson } from '../dist/mcp/strict-json.js';
import { inspectMessages } from '../dist/mcp/json-rpc-messages.js';
import { verifyProof } from '../dist/dpop/verify-proof.js';
import { ProofKeyCache } from '../dist/dpop/proof-key-cache.js';
import { headerValues, withLowerCaseNames } from '../dist/resource-server/read-credentials.js';

const ROUNDS = Math.max(1, Number(process.env.BENCH_MICRO_ROUNDS ?? 3));
const MS = Math.max(50, Number(process.env.BENCH_MICRO_MS ?? 700));

const key = generateEs256();
const proof = createProofSigner(key.privateKey, key.publicJwk)('POST', 'http://127.0.0.1:1/mcp', 'x', 'jti-1');
const dot = proof.lastIndexOf('.');
const signingInput = Buffer.from(proof.slice(0, dot));
const signature = Buffer.from(proof.slice(dot + 1), 'base64url');
const jwk = key.publicJwk;
const token = proof; // any ~600-byte compact JWS will do for the ath hash
// A typical MCP request body, as bytes off the wire.
const toolCall = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 17, method: 'tools/call', params: { name: 'search_files', arguments: { path: '/srv/data', pattern: '*.md', limit: 50, recursive: true }, _meta: { progressToken: 'p-17' } } }));
// The gauntlet's proof check (RFC 9449 §4.3, no replay claim) with its key cache warm: every proof
// of a client carries the same header, which the cache remembers by its exact text (decoded, key
// resolved) — versus the same proofs with the header text made unique, so each is decoded anew.
const PROOF_HTU = 'http://127.0.0.1:1/mcp';
const signProof = createProofSigner(key.privateKey, key.publicJwk);
const nowSeconds = Math.floor(Date.now() / 1000);
const sameHeader = Array.from({ length: 64 }, (_, i) => signProof('POST', PROOF_HTU, accessTokenHash(token), `jti-${i}`, nowSeconds));
const freshHeaders = Array.from({ length: 64 }, (_, i) => {
  const header = Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, n: i })).toString('base64url');
  const input = `${header}.${Buffer.from(JSON.stringify({ jti: `jti-${i}`, htm: 'POST', htu: PROOF_HTU, iat: nowSeconds, ath: accessTokenHash(token) })).toString('base64url')}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
});
const proofOptions = { method: 'POST', htu: PROOF_HTU, accessToken: token, ath: accessTokenHash(token), algorithms: new Set(['ES256']), maxAgeSeconds: 3600, skewSeconds: 30, now: nowSeconds };
const warmKeys = new ProofKeyCache();
// Room for one header: the 64 rotating headers always miss, while their one key stays cached.
const oneHeader = new ProofKeyCache(1);
let proofTurn = 0;
// Node's request headers as the adapter hands them, scanned for every spelling vs looked up directly.
const nodeHeaders = () => ({ host: '127.0.0.1:1', connection: 'keep-alive', 'content-type': 'application/json', 'content-length': '180', authorization: `DPoP ${token}`, dpop: proof });
const GAUNTLET_READS = ['content-type', 'content-encoding', 'mcp-method', 'mcp-name', 'authorization', 'dpop', 'content-type'];
const readAll = (headers) => GAUNTLET_READS.reduce((n, name) => n + headerValues(headers, name).length, 0);
const joseSigningKey = await importJWK({ ...key.privateJwk, alg: 'ES256' }, 'ES256');

// Client-secret checks at the token endpoint: SHA-256 of a high-entropy secret compared in
// constant time (Warden since 172bc88), versus scrypt N=16384 r=8 p=1 (user passwords; client
// secrets before that), which dominated the token endpoint when it ran on every request.
const clientSecret = randomBytes(32).toString('base64url');
const secretDigest = createHash('sha256').update(clientSecret).digest();
const scryptSalt = randomBytes(16);
const SCRYPT = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

/** [name, op, async?, batch?] — each op returns something so the work cannot be optimised away. */
const OPS = [
  ['ES256 sign (node:crypto, cached KeyObject)', () => sign('sha256', signingInput, { key: key.privateKey, dsaEncoding: 'ieee-p1363' })],
  ['ES256 JWS sign (jose CompactSign, async WebCrypto)', () => new CompactSign(signingInput).setProtectedHeader({ alg: 'ES256' }).sign(joseSigningKey), true],
  ['client secret: SHA-256 + timingSafeEqual', () => timingSafeEqual(createHash('sha256').update(clientSecret).digest(), secretDigest)],
  ['client secret: scrypt N=16384 r=8 p=1 (sync)', () => scryptSync(clientSecret, scryptSalt, 32, SCRYPT), false, 1],
  ['ES256 verify (node:crypto, cached KeyObject)', () => verify('sha256', signingInput, { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, signature)],
  ['JWK import (createPublicKey jwk)', () => createPublicKey({ key: jwk, format: 'jwk' })],
  ['JWK thumbprint RFC 7638 (node:crypto sha256)', () => ecThumbprint(jwk)],
  ['JWK thumbprint (jose calculateJwkThumbprint)', () => calculateJwkThumbprint(jwk), true],
  ['JWK import (jose importJWK → CryptoKey)', () => importJWK(jwk, 'ES256'), true],
  ['ath = b64url(sha256(token))', () => accessTokenHash(token)],
  ['ath with createHash (a Hash object per call)', () => createHash('sha256').update(token, 'ascii').digest('base64url')],
  ['ath with one-shot crypto.hash (Warden since issue 14)', () => hash('sha256', token, 'base64url')],
  ['replay key with createHash: sha256(jkt NUL jti), 3 updates', () => createHash('sha256').update(jwk.x).update('\0').update('jti-0123456789').digest('base64url').slice(0, 22)],
  ['replay key with one-shot crypto.hash (Warden since issue 14)', () => hash('sha256', `${jwk.x}\0jti-0123456789`, 'base64url').slice(0, 22)],
  ['verifyProof, header seen before (warm header cache)', () => verifyProof(sameHeader[proofTurn++ & 63], { ...proofOptions, keys: warmKeys })],
  ['verifyProof, header new each time (decode + jwk resolve; key cached)', () => verifyProof(freshHeaders[proofTurn++ & 63], { ...proofOptions, keys: oneHeader })],
  ['7 header reads, names scanned (a plain record)', () => readAll(nodeHeaders())],
  ['7 header reads, node\'s lower-case record looked up directly', () => readAll(withLowerCaseNames(nodeHeaders()))],
  ['base64url decode + JSON.parse of a proof header', () => JSON.parse(Buffer.from(proof.slice(0, proof.indexOf('.')), 'base64url').toString())],
  ['JSON.parse of a tools/call body (200 B)', () => JSON.parse(toolCall.toString())],
  ['strict I-JSON parse of the same bytes (Warden)', () => parseStrictJson(toolCall)],
  ['strict parse + inspectMessages (the gauntlet\'s body check)', () => inspectMessages(parseStrictJson(toolCall).value)],
  ['strict parse + inspect + ASCII rebuild (the gateway)', () => asciiJson(inspectMessages(parseStrictJson(toolCall).value).messages[0])],
  ['sha256 of 100 bytes (reference)', () => createHash('sha256').update(signingInput.subarray(0, 100)).digest()],
];

async function measure(op, isAsync, batch = 50) {
  let n = 0;
  let sink;
  const end = performance.now() + MS;
  const start = performance.now();
  while (performance.now() < end) {
    // Batches keep the clock reads out of the measurement (slow ops use a batch of 1).
    for (let i = 0; i < batch; i++) sink = isAsync ? await op() : op();
    n += batch;
  }
  if (sink === undefined) throw new Error('op returned nothing');
  return n / ((performance.now() - start) / 1000);
}

const results = OPS.map(() => []);
for (let round = 0; round < ROUNDS; round++) {
  for (let i = 0; i < OPS.length; i++) {
    const [name, op, isAsync, batch] = OPS[(i + round) % OPS.length];
    const idx = (i + round) % OPS.length;
    results[idx].push(await measure(op, isAsync, batch));
    process.stderr.write(`micro: round ${round + 1}/${ROUNDS} ${name}\n`);
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const medians = results.map(median);
const fmtRatio = (x) => (x >= 0.01 ? x.toFixed(2) : x.toPrecision(2));
const reference = medians[OPS.findIndex(([name]) => name.startsWith('ES256 verify'))];
const lines = [
  '# Warden micro-benchmark (no HTTP)',
  '',
  `Node ${process.version} (OpenSSL ${process.versions.openssl}) · ${os.cpus()[0]?.model ?? 'unknown'} × ${os.cpus().length} cores · ${ROUNDS} rounds × ${MS} ms, median`,
  '',
  '| operation | ops/s | µs/op | vs ES256 verify |',
  '|---|---:|---:|---:|',
  ...OPS.map(([name], i) =>
    `| ${name} | ${Math.round(medians[i]).toLocaleString('en-US')} | ${(1e6 / medians[i]).toFixed(1)} | ${fmtRatio(medians[i] / reference)}× |`),
];
process.stdout.write(`${lines.join('\n')}\n`);
const dir = new URL('./results/', import.meta.url);
await mkdir(dir, { recursive: true });
await writeFile(new URL('micro.md', dir), `${lines.join('\n')}\n`);
