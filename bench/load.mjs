// Load generator: a child of bench/run.mjs (pinned to its own core), driven over IPC.
// For each `run` it first signs a pool of fresh DPoP proofs (outside the timed window: signing
// on the hot path would starve this core), then keeps `concurrency` keep-alive connections busy
// with POST requests for `seconds`, one unused proof per request: by default MCP tools/call
// requests carrying `token` (proofs with `ath`); with `headers` given, those headers instead
// (the token endpoint: form body, client_secret_basic, proofs without `ath`). `proofs: 0` sends
// no DPoP header at all.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { accessTokenHash, createProofSigner, jtiPrefix, privateKeyFromJwk } from './lib/jwt.mjs';

process.on('disconnect', () => process.exit(0));

function makePool(job) {
  const sign = createProofSigner(privateKeyFromJwk(job.clientPrivateJwk), job.clientPublicJwk);
  const ath = job.token === undefined ? undefined : accessTokenHash(job.token); // undefined: no `ath` claim
  const prefix = jtiPrefix();
  const iat = Math.floor(Date.now() / 1000);
  const pool = new Array(job.proofs);
  for (let i = 0; i < job.proofs; i++) pool[i] = sign('POST', job.htu, ath, `${prefix}.${i}`, iat);
  return pool;
}

function runLoad(job, pool) {
  return new Promise((resolve) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: job.concurrency });
    // http.request copies the headers synchronously, so one object can be reused per request.
    const withProof = job.proofs > 0;
    const headers = job.headers
      ? { ...job.headers, 'content-length': Buffer.byteLength(job.body) }
      : {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `DPoP ${job.token}`,
        'content-length': Buffer.byteLength(job.body),
      };
    if (withProof) headers.dpop = '';
    const statuses = {};
    let next = 0;
    let counted = 0;
    let ok = 0;
    let errors = 0;
    let firstError;
    let exhausted = false;
    let active = job.concurrency;
    let lastCounted = 0;
    const start = performance.now();
    const deadline = start + job.seconds * 1000;

    const finish = () => {
      if (--active > 0) return;
      agent.destroy();
      // Only responses completed inside the window count; an exhausted pool ends the window early.
      const endTime = exhausted ? Math.min(lastCounted, deadline) : deadline;
      resolve({ ok, counted, statuses, errors, firstError, exhausted, proofsUsed: next, elapsedMs: endTime - start });
    };

    const worker = () => {
      let ended = false;
      const stop = () => {
        if (!ended) {
          ended = true;
          finish();
        }
      };
      const fire = () => {
        if (performance.now() >= deadline) return stop();
        if (!withProof) next++;
        else if (job.reuse) headers.dpop = pool[next++ % pool.length];
        else if (next < pool.length) headers.dpop = pool[next++];
        else {
          exhausted = true;
          return stop();
        }
        const options = { agent, host: '127.0.0.1', port: job.port, path: job.path, method: 'POST', headers };
        const req = http.request(options, (res) => {
          res.resume();
          res.on('end', () => {
            const t = performance.now();
            if (t < deadline) {
              counted++;
              lastCounted = t;
              statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
              if (res.statusCode === 200) ok++;
            }
            fire();
          });
        });
        req.on('error', (err) => {
          errors++;
          firstError ??= err.message;
          stop(); // a broken connection ends this worker rather than spinning on errors
        });
        req.end(job.body);
      };
      fire();
    };
    for (let i = 0; i < job.concurrency; i++) worker();
  });
}

process.on('message', async (job) => {
  if (job?.type !== 'run') return;
  const t0 = performance.now();
  const pool = job.proofs > 0 ? makePool(job) : [];
  const genMs = performance.now() - t0;
  const result = await runLoad(job, pool);
  process.send({ type: 'result', id: job.id, genMs, ...result });
});

process.send({ type: 'ready' });
