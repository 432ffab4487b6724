// `node bench/micro.mjs`: the primitives behind the RS gauntlet, ops/s in one run (no HTTP).
// Each operation runs BENCH_MICRO_MS per round, rounds interleaved; the median is reported with
// its ratio to ES256 verify (stdout and bench/results/micro.md). Options (env): BENCH_MICRO_ROUNDS (3), BENCH_MICRO_MS (700).
import { createHash, createPublicKey, verify } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { calculateJwkThumbprint, importJWK } from 'jose';
import { accessTokenHash, createProofSigner, ecThumbprint, generateEs256 } from './lib/jwt.mjs';

const ROUNDS = Math.max(1, Number(process.env.BENCH_MICRO_ROUNDS ?? 3));
const MS = Math.max(50, Number(process.env.BENCH_MICRO_MS ?? 700));

const key = generateEs256();
const proof = createProofSigner(key.privateKey, key.publicJwk)('POST', 'http://127.0.0.1:1/mcp', 'x', 'jti-1');
const dot = proof.lastIndexOf('.');
const signingInput = Buffer.from(proof.slice(0, dot));
const signature = Buffer.from(proof.slice(dot + 1), 'base64url');
const jwk = key.publicJwk;
const token = proof; // any ~600-byte compact JWS will do for the ath hash

/** [name, op, async?] — each op returns something so the work cannot be optimised away. */
const OPS = [
  ['ES256 verify (node:crypto, cached KeyObject)', () => verify('sha256', signingInput, { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, signature)],
  ['JWK import (createPublicKey jwk)', () => createPublicKey({ key: jwk, format: 'jwk' })],
  ['JWK thumbprint RFC 7638 (node:crypto sha256)', () => ecThumbprint(jwk)],
  ['JWK thumbprint (jose calculateJwkThumbprint)', () => calculateJwkThumbprint(jwk), true],
  ['JWK import (jose importJWK → CryptoKey)', () => importJWK(jwk, 'ES256'), true],
  ['ath = b64url(sha256(token))', () => accessTokenHash(token)],
  ['base64url decode + JSON.parse of a proof header', () => JSON.parse(Buffer.from(proof.slice(0, proof.indexOf('.')), 'base64url').toString())],
  ['sha256 of 100 bytes (reference)', () => createHash('sha256').update(signingInput.subarray(0, 100)).digest()],
];

async function measure(op, isAsync) {
  let n = 0;
  let sink;
  const end = performance.now() + MS;
  const start = performance.now();
  while (performance.now() < end) {
    // Batches keep the clock reads out of the measurement.
    for (let i = 0; i < 50; i++) sink = isAsync ? await op() : op();
    n += 50;
  }
  if (sink === undefined) throw new Error('op returned nothing');
  return n / ((performance.now() - start) / 1000);
}

const results = OPS.map(() => []);
for (let round = 0; round < ROUNDS; round++) {
  for (let i = 0; i < OPS.length; i++) {
    const [name, op, isAsync] = OPS[(i + round) % OPS.length];
    const idx = (i + round) % OPS.length;
    results[idx].push(await measure(op, isAsync));
    process.stderr.write(`micro: round ${round + 1}/${ROUNDS} ${name}\n`);
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const medians = results.map(median);
const lines = [
  '# Warden micro-benchmark (no HTTP)',
  '',
  `Node ${process.version} (OpenSSL ${process.versions.openssl}) · ${os.cpus()[0]?.model ?? 'unknown'} × ${os.cpus().length} cores · ${ROUNDS} rounds × ${MS} ms, median`,
  '',
  '| operation | ops/s | µs/op | vs ES256 verify |',
  '|---|---:|---:|---:|',
  ...OPS.map(([name], i) =>
    `| ${name} | ${Math.round(medians[i]).toLocaleString('en-US')} | ${(1e6 / medians[i]).toFixed(1)} | ${(medians[i] / medians[0]).toFixed(2)}× |`),
];
process.stdout.write(`${lines.join('\n')}\n`);
const dir = new URL('./results/', import.meta.url);
await mkdir(dir, { recursive: true });
await writeFile(new URL('micro.md', dir), `${lines.join('\n')}\n`);
