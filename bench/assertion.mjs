// The assertion benchmark (issue 13): the token endpoint with private_key_jwt client_credentials,
// Warden next to node-oidc-provider on the same grant, and Warden's jwt-bearer grant (a workload
// token, SEP-1933) next to it — one run, interleaved rounds, reported as tokens/s and ratios.
// Every private_key_jwt request carries a fresh assertion (unique jti, signed beforehand, outside
// the measured time). `npm run build` first; `node bench/assertion.mjs [seconds] [rounds]`.
import { fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

const SECONDS = Number(process.argv[2] ?? 4);
const ROUNDS = Number(process.argv[3] ?? 3);
const CONCURRENCY = 32;
const RESOURCE = 'https://mcp.example.com/mcp';
const SCOPE = 'mcp:tools';
const WORKLOAD_ISSUER = 'https://kubernetes.default.svc';

const freePort = () => new Promise((resolve) => { const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); }); });
async function keyPair(kid) {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }, privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' } };
}

const client = await keyPair('client-1');
const workload = await keyPair('k8s-1');
const signing = await keyPair('as-1');
const serverSecret = randomBytes(36).toString('base64url');

async function start(name, script) {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const config = { port, issuer, resource: RESOURCE, scope: SCOPE, clientId: 'bench', clientJwk: client.publicJwk, workloadIssuer: WORKLOAD_ISSUER, workloadJwk: workload.publicJwk, serverSecret, signingJwk: signing.privateJwk };
  const child = fork(new URL(`./servers/${script}`, import.meta.url), { env: { ...process.env, BENCH_SERVER_CONFIG: JSON.stringify(config) }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const hello = await new Promise((resolve) => child.once('message', resolve));
  if (hello.type !== 'ready') throw new Error(`${name}: ${hello.reason}`);
  return { name, child, issuer, url: `${issuer}/token` };
}

const clientAssertion = (issuer) => new SignJWT({ jti: randomUUID() }).setProtectedHeader({ alg: 'ES256', kid: 'client-1' }).setIssuer('bench').setSubject('bench').setAudience(issuer).setIssuedAt().setExpirationTime('5m').sign(client.privateKey);

/** Request bodies for one measurement, signed beforehand. */
async function bodies(variant, count) {
  if (variant.grant === 'jwt-bearer') {
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k8s-1' }).setIssuer(WORKLOAD_ISSUER).setSubject('system:serviceaccount:bench:runner').setAudience(variant.server.issuer).setIssuedAt().setExpirationTime('1h').sign(workload.privateKey);
    const body = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: token, resource: RESOURCE, scope: SCOPE }).toString();
    return { next: () => body };
  }
  const list = [];
  for (let i = 0; i < count; i++) {
    list.push(new URLSearchParams({ grant_type: 'client_credentials', resource: RESOURCE, scope: SCOPE, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: await clientAssertion(variant.server.issuer) }).toString());
  }
  let i = 0;
  return { next: () => list[i++] };
}

async function measure(variant, seconds, count) {
  const source = await bodies(variant, count);
  let ok = 0;
  let bad = 0;
  const until = performance.now() + seconds * 1000;
  const worker = async () => {
    for (;;) {
      if (performance.now() >= until) return;
      const body = source.next();
      if (body === undefined) return;
      const r = await fetch(variant.server.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
      await r.arrayBuffer();
      if (r.status === 200) ok++;
      else bad++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { rate: ok / ((performance.now() - t0) / 1000), bad };
}

const servers = { warden: await start('warden', 'assertion-warden.mjs'), oidc: await start('oidc-provider', 'assertion-oidc-provider.mjs') };
const variants = [
  { name: 'warden private_key_jwt client_credentials', server: servers.warden, grant: 'cc', rates: [], estimate: 3000 },
  { name: 'oidc-provider private_key_jwt client_credentials', server: servers.oidc, grant: 'cc', rates: [], estimate: 3000 },
  { name: 'warden jwt-bearer (workload token)', server: servers.warden, grant: 'jwt-bearer', rates: [], estimate: 3000 },
];
for (const v of variants) {
  const warm = await measure(v, 2, 20_000);
  if (warm.bad > 0) throw new Error(`${v.name}: ${warm.bad} non-200 answers in the warm-up (correctness first)`);
  v.estimate = warm.rate;
}
for (let round = 0; round < ROUNDS; round++) {
  for (const v of variants.map((_, i) => variants[(i + round) % variants.length])) {
    const r = await measure(v, SECONDS, Math.ceil(v.estimate * SECONDS * 2) + CONCURRENCY);
    if (r.bad > 0) throw new Error(`${v.name}: ${r.bad} non-200 answers`);
    v.rates.push(r.rate);
    v.estimate = Math.max(v.estimate, r.rate);
    process.stderr.write(`round ${round + 1} ${v.name}: ${Math.round(r.rate)} tokens/s\n`);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const [w, o, j] = variants.map((v) => median(v.rates));
console.log(`| variant | tokens/s (median of ${ROUNDS}) |\n| --- | --- |`);
for (const v of variants) console.log(`| ${v.name} | ${Math.round(median(v.rates))} |`);
console.log(`\nWarden / oidc-provider (private_key_jwt client_credentials): ${(w / o).toFixed(2)}×; jwt-bearer / client_credentials (Warden): ${(j / w).toFixed(2)}×`);
for (const s of Object.values(servers)) s.child.kill();
process.exit(0);
