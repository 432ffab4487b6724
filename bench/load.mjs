// Load generator: a child of bench/run.mjs (pinned to its own core), driven over IPC.
// For each `run` it first signs a pool of fresh DPoP proofs (outside the timed window: signing
// on the hot path would starve this core), then keeps `concurrency` keep-alive connections busy
// with POST requests for `seconds`, one unused proof per request: by default MCP tools/call
// requests carrying `token` (proofs with `ath`); with `headers` given, those headers instead
// (the token endpoint: form body, client_secret_basic, proofs without `ath`). `proofs: 0` sends
// no DPoP header at all. Grants whose requests differ: `bodies` (authorization codes) sends each
// body once, in order, and ends the window when they run out; `refresh` ({ prefix, tokens })
// keeps a chain per token: each 200 must carry a new `refresh_token`, which the next request of
// that chain presents (each token exactly once); the chains' current tokens come back in
// `refreshTokens`, so the next round goes on with them.
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
    const bodies = job.bodies;
    const refresh = job.refresh;
    /** Chains' current refresh tokens not in flight. */
    const idle = refresh ? [...refresh.tokens] : [];
    let deadChains = 0;
    let noSuccessor = 0;
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
      resolve({
        ok, counted, statuses, errors, firstError, exhausted, proofsUsed: next, elapsedMs: endTime - start,
        ...((refresh || job.collect) && { refreshTokens: idle, deadChains, noSuccessor }),
      });
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
        let body = job.body;
        let presented;
        if (bodies) {
          if (next >= bodies.length) {
            exhausted = true;
            return stop();
          }
          body = bodies[next++];
        } else if (refresh) {
          presented = idle.pop();
          if (presented === undefined) {
            exhausted = true; // every chain is in flight elsewhere or dead
            return stop();
          }
          body = refresh.prefix + encodeURIComponent(presented);
        }
        if (bodies || refresh) headers['content-length'] = Buffer.byteLength(body);
        if (!withProof) {
          if (!bodies) next++; // counts requests sent (bodies counted their own)
        } else if (job.reuse) headers.dpop = pool[next++ % pool.length];
        else if (next < pool.length) headers.dpop = pool[next++];
        else {
          exhausted = true;
          if (presented !== undefined) idle.push(presented);
          return stop();
        }
        const options = { agent, host: '127.0.0.1', port: job.port, path: job.path, method: 'POST', headers };
        const req = http.request(options, (res) => {
          const chunks = [];
          if (refresh || job.collect) res.on('data', (c) => chunks.push(c));
          else res.resume();
          res.on('end', () => {
            const t = performance.now();
            let good = res.statusCode === 200;
            if (job.collect && good) {
              // Code redemptions starting refresh chains: keep each first refresh token.
              try {
                const first = JSON.parse(Buffer.concat(chunks).toString('utf8')).refresh_token;
                if (typeof first === 'string') idle.push(first);
              } catch {
                // not counted as a chain
              }
            }
            if (refresh) {
              // The successor is kept whether or not the response came inside the window: the
              // chain goes on next round. A 200 without a new refresh token is not a rotation.
              let successor;
              if (good) {
                try {
                  successor = JSON.parse(Buffer.concat(chunks).toString('utf8')).refresh_token;
                } catch {
                  successor = undefined;
                }
              }
              if (typeof successor === 'string' && successor !== presented) idle.push(successor);
              else {
                if (good) noSuccessor++;
                good = false;
                deadChains++;
              }
            }
            if (t < deadline) {
              counted++;
              lastCounted = t;
              statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
              if (good) ok++;
            }
            fire();
          });
        });
        req.on('error', (err) => {
          errors++;
          firstError ??= err.message;
          stop(); // a broken connection ends this worker rather than spinning on errors
        });
        req.end(body);
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
