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
import { assertBase64url, decodeCompactJws, decodeJwsObject, splitCompactJws } from '../dist/jose/compact-jws.js';
import { ProofKeyCache } from '../dist/dpop/proof-key-cache.js';
import { createAuditTrail } from '../dist/observability/audit-trail.js';
import { decisionEvent } from '../dist/observability/audit-events.js';
import { createJsonLinesSink } from '../dist/observability/json-lines-sink.js';

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
// Decoding a DPoP proof before its signature check: a client's proofs all carry one header, which
// the proof-key cache now remembers by its exact text (decoded, key resolved), versus decoding the
// header and resolving its jwk on every proof (key import cached either way).
const proofKeys = new ProofKeyCache();
proofKeys.resolve(decodeCompactJws(proof).header.jwk);
{
  const { header } = splitCompactJws(proof);
  proofKeys.rememberHeader(header, decodeJwsObject(header, 'header'), proofKeys.resolve(decodeCompactJws(proof).header.jwk));
}
const decodeProofNow = () => {
  const parts = splitCompactJws(proof);
  const known = proofKeys.knownHeader(parts.header);
  assertBase64url(parts.payload, parts.signature);
  const payload = decodeJwsObject(parts.payload, 'payload');
  return [known.key, payload, Buffer.from(parts.signingInput, 'ascii'), Buffer.from(parts.signature, 'base64url')];
};
const decodeProofBefore = () => {
  const decoded = decodeCompactJws(proof);
  return [proofKeys.resolve(decoded.header.jwk), decoded];
};
const joseSigningKey = await importJWK({ ...key.privateJwk, alg: 'ES256' }, 'ES256');

// Client-secret checks at the token endpoint: SHA-256 of a high-entropy secret compared in
// constant time (Warden since 172bc88), versus scrypt N=16384 r=8 p=1 (user passwords; client
// secrets before that), which dominated the token endpoint when it ran on every request.
const clientSecret = randomBytes(32).toString('base64url');
const secretDigest = createHash('sha256').update(clientSecret).digest();
const scryptSalt = randomBytes(16);
const SCRYPT = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

// One audit record (issue 12): an allowed DPoP tools/call decision as the gauntlet hands it over,
// turned into a chained warden.audit/1 line. "before" is the trail as it was: the whole record
// stringified, a Hash object per line, a Date per record.
const started = performance.now();
const auditDecision = {
  outcome: 'allow', reason: 'ok', status: 200, resource: 'http://127.0.0.1:8080/mcp', methods: ['tools/call'], tools: ['search_files'],
  clientId: 'bench-client', subject: 'alice', jkt: ecThumbprint(jwk), jti: 'at-0123456789abcdef', scheme: 'DPoP',
  steps: [['shape', started + 0.01], ['token', started + 0.02], ['audience', started + 0.03], ['proof', started + 0.08], ['binding', started + 0.09], ['scope', started + 0.1], ['replay', started + 0.11]],
  startedAt: started, context: { requestId: 'req-1', sourceAddress: '127.0.0.1' },
};
const nullTrail = createAuditTrail({ instance: 'bench', sinks: [{ write() {} }] });
const { mkdtempSync } = await import('node:fs');
const { join } = await import('node:path');
const auditFile = join(mkdtempSync(join(os.tmpdir(), 'warden-micro-audit-')), 'audit.log');
const fileTrail = createAuditTrail({ instance: 'bench', sinks: [createJsonLinesSink({ kind: 'file', path: auditFile, maxBytes: 10 * 1024 * 1024, keep: 1 })] });
let beforeSeq = 0;
let beforePrev = '0'.repeat(64);
const auditRecordBefore = () => {
  const record = { schema: 'warden.audit/1', instance: 'bench', run: '0123456789abcdef', seq: beforeSeq, time: new Date(Date.now()).toISOString(), ...decisionEvent(auditDecision, 'bench'), prev: beforePrev };
  record.schema = 'warden.audit/1';
  record.seq = beforeSeq++;
  const line = JSON.stringify(record);
  beforePrev = createHash('sha256').update(line).digest('hex');
  return line;
};

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
  ['DPoP proof decode: header and jwk every time (before)', decodeProofBefore],
  ['DPoP proof decode: header known by its text (Warden since issue 14)', decodeProofNow],
  ['base64url decode + JSON.parse of a proof header', () => JSON.parse(Buffer.from(proof.slice(0, proof.indexOf('.')), 'base64url').toString())],
  ['JSON.parse of a tools/call body (200 B)', () => JSON.parse(toolCall.toString())],
  ['strict I-JSON parse of the same bytes (Warden)', () => parseStrictJson(toolCall)],
  ['strict parse + inspectMessages (the gauntlet\'s body check)', () => inspectMessages(parseStrictJson(toolCall).value)],
  ['strict parse + inspect + ASCII rebuild (the gateway)', () => asciiJson(inspectMessages(parseStrictJson(toolCall).value).messages[0])],
  ['audit record, before: stringify whole record + createHash + Date (no sink)', auditRecordBefore],
  ['audit record: decisionEvent + trail.emit (chained line, one-shot SHA-256; no sink)', () => nullTrail.emit(decisionEvent(auditDecision, 'bench'))],
  ['audit record into the JSON-lines file sink (batched writes, rotation)', () => fileTrail.emit(decisionEvent(auditDecision, 'bench'))],
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
